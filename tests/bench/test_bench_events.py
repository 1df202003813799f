"""The event-enrichment benchmark runs on a tiny corpus and skips without one."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from bench.corpus import make_page


def test_events_benchmark_runs_and_skips_without_corpus(tmp_path: Path) -> None:
    from bench import events

    corpus = tmp_path / "corpus"
    (corpus / "pages").mkdir(parents=True)
    for i in range(3):
        (corpus / "pages" / f"p{i}.html.gz").write_bytes(gzip.compress(make_page(i).html.encode()))
    out = tmp_path / "results"
    data = events.run(corpus=corpus, limit=None, results_dir=out)
    assert data["pages"] == 3
    assert data["ms_per_page"]["extract"] > 0 and data["ms_per_page"]["enrich"] > 0
    assert data["ratio_enrich_extract"] > 0 and data["budget"] == 0.30
    assert json.loads((out / "events.json").read_text())["benchmark"] == "events"
    assert events.run(corpus=tmp_path / "missing", results_dir=out)["skipped"] is True
