"""Smoke test of the dedup benchmark at a tiny size: it runs, builds the index through the real
path and writes its figures. Counts only — timings are reported by ``make bench``, never asserted."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from bench.corpus import make_page


def test_dedup_benchmark_runs_on_a_tiny_index(tmp_path: Path) -> None:
    from bench import dedup

    corpus = tmp_path / "corpus"
    (corpus / "pages").mkdir(parents=True)
    for i in range(12):
        (corpus / "pages" / f"p{i:02d}.html.gz").write_bytes(gzip.compress(make_page(i).html.encode()))
    out = tmp_path / "results"
    data = dedup.run(workdir=tmp_path / "work", corpus=corpus, index=700, pages=12, batch=5, singles=3,
                     results_dir=out)
    saved = json.loads((out / "dedup.json").read_text(encoding="utf-8"))
    assert saved["benchmark"] == "dedup" and saved["index_articles"] == 700
    assert data["pages"] == 12 and 0 < data["new_articles"] <= 12
    # every indexed article long enough to compare has 48 band keys
    assert 0 < data["band_rows"] <= 700 * 48 and data["band_rows"] % 48 == 0
    # a third of the texts have a copy in the index: those new articles join its story
    assert data["new_joined_existing_groups"] >= data["new_articles"] // 3
    assert not (tmp_path / "work" / "dedup.duckdb").exists()


def test_dedup_benchmark_skips_without_corpus(tmp_path: Path) -> None:
    from bench import dedup

    data = dedup.run(workdir=tmp_path / "work", corpus=tmp_path / "none", results_dir=tmp_path / "r")
    assert data["skipped"] is True
