"""Benchmark: CPU cost of event enrichment (extractors.events.enrich) against trafilatura's
extraction of the same pages, side by side in one run.

For every page of the trafilatura evaluation set (a spread sample), two calls are timed back to
back in alternating order, single process, ``time.process_time``:

* ``extract``: ``trafilatura.extract(html_str)`` on the decoded page;
* ``enrich``: ``enrich(text, article_id=…, published_at=…)`` on the text that extraction returned.

Target (issue 10): summed enrichment CPU ≤ 30% of summed extraction CPU.
"""

from __future__ import annotations

import gc
import gzip
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import ratio, save_result, say
from bench.extraction import DEFAULT_CORPUS, corpus_pages

BUDGET = 0.30
WARMUP = 5
PUB = datetime(2021, 9, 22, 12, tzinfo=UTC)


def run(*, corpus: Path = DEFAULT_CORPUS, limit: int | None = 300, results_dir: Path | None = None) -> dict[str, Any]:
    files = corpus_pages(corpus, limit)
    if not files:
        msg = f"events: skipped, no pages under {corpus / 'pages'}"
        say(msg)
        skipped: dict[str, Any] = {"skipped": True, "reason": msg}
        save_result("events", skipped, results_dir)
        return skipped

    import trafilatura

    from extractors.events import enrich

    # both sides get the same decoded string; charset detection is not what is measured here
    pages = [(f.name, gzip.decompress(f.read_bytes()).decode("utf-8", errors="replace")) for f in files]
    texts = {name: trafilatura.extract(html) or "" for name, html in pages}
    for name, html in pages[:WARMUP]:
        trafilatura.extract(html)
        enrich(texts[name], article_id=name, published_at=PUB)

    t_extract: list[float] = []
    t_enrich: list[float] = []
    events = quotes = words = 0
    clock = time.process_time
    gc.collect()
    t_wall = time.perf_counter()
    for i, (name, html) in enumerate(pages):
        text = texts[name]
        steps = ("extract", "enrich") if i % 2 == 0 else ("enrich", "extract")
        for step in steps:
            t0 = clock()
            if step == "extract":
                trafilatura.extract(html)
                t_extract.append(clock() - t0)
            else:
                result = enrich(text, article_id=name, published_at=PUB)
                t_enrich.append(clock() - t0)
                events += len(result.events)
                quotes += len(result.quotes)
        words += len(text.split())
    wall = time.perf_counter() - t_wall

    ext, enr = sum(t_extract), sum(t_enrich)
    n = len(pages)
    data: dict[str, Any] = {
        "pages": n,
        "words_per_page": round(words / n, 1),
        "events": events,
        "quotes": quotes,
        "ms_per_page": {"extract": round(1000 * ext / n, 2), "enrich": round(1000 * enr / n, 2)},
        "enrich_ms_per_1000_words": round(1000 * enr / max(words, 1) * 1000, 2),
        "enrich_ms_p90": round(1000 * statistics.quantiles(t_enrich, n=10)[-1], 2) if n >= 10 else None,
        "ratio_enrich_extract": ratio(enr, ext),
        "budget": BUDGET,
        "met": bool(ext) and enr / ext <= BUDGET,
        "wall_s": round(wall, 1),
        "corpus": str(corpus),
    }
    save_result("events", data, results_dir)
    say(f"events: {n} pages, extract {data['ms_per_page']['extract']} ms/page, enrich "
        f"{data['ms_per_page']['enrich']} ms/page, ratio {data['ratio_enrich_extract']} (budget <= {BUDGET})")
    return data
