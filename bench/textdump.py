"""Benchmark: CPU per text dump of the text path, and what the line model adds (issue 12).

Dumps are made from trafilatura's evaluation pages the way a naive scraper saves them
(``tests.support.dumpgen``); without the corpus, from the benchmark's generated pages. Each
dump is timed, single process, ``time.process_time``, alternating the order:

* ``rules``: ``extract_text_dump`` with the line-model step replaced by "keep every line"
  (today's text path before issue 12);
* ``full``: ``extract_text_dump`` as the pipeline runs it (rules + line model).

Target: the model adds ≤ 3 ms per dump.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import save_result, say
from bench.extraction import DEFAULT_CORPUS

BUDGET_MS = 3.0
WARMUP = 5


def _dumps(corpus: Path, limit: int | None) -> tuple[list[str], str]:
    from tests.support.dumpgen import eval_pages, html_to_dump, read_page_html

    if (corpus / "evaldata.json").is_file():
        pages = list(eval_pages(corpus))
        if limit:
            step = max(1, len(pages) // limit)
            pages = pages[::step][:limit]
        return [html_to_dump(read_page_html(p.html_path)) for p in pages], str(corpus)
    from bench.corpus import make_page

    return [html_to_dump(make_page(i).html) for i in range(limit or 300)], "generated pages"


def run(*, corpus: Path = DEFAULT_CORPUS, limit: int | None = 500, results_dir: Path | None = None) -> dict[str, Any]:
    import extractors.content.textdump as textdump

    dumps, source = _dumps(corpus, limit)
    with_model = textdump.refine

    def without_model(verdicts: Any, **_: Any) -> Any:
        return list(verdicts)

    def timed(dump: str, refine: Any) -> float:
        textdump.refine = refine
        try:
            t0 = time.process_time()
            textdump.extract_text_dump(dump, tolerance_hours=24.0)
            return time.process_time() - t0
        finally:
            textdump.refine = with_model

    for dump in dumps[:WARMUP]:
        timed(dump, with_model)
        timed(dump, without_model)
    gc.collect()
    t_rules: list[float] = []
    t_full: list[float] = []
    lines = 0
    for i, dump in enumerate(dumps):
        order = (
            ((without_model, t_rules), (with_model, t_full))
            if i % 2 == 0
            else ((with_model, t_full), (without_model, t_rules))
        )
        for which, sink in order:
            sink.append(timed(dump, which))
        lines += dump.count("\n")
    n = len(dumps)
    rules_ms, full_ms = 1000 * sum(t_rules) / n, 1000 * sum(t_full) / n
    data: dict[str, Any] = {
        "dumps": n,
        "lines_per_dump": round(lines / n, 1),
        "ms_per_dump": {"rules": round(rules_ms, 3), "full": round(full_ms, 3)},
        "model_ms_per_dump": round(full_ms - rules_ms, 3),
        "full_ms_p90": round(1000 * statistics.quantiles(t_full, n=10)[-1], 3) if n >= 10 else None,
        "budget_ms": BUDGET_MS,
        "met": full_ms - rules_ms <= BUDGET_MS,
        "source": source,
    }
    save_result("textdump", data, results_dir)
    say(f"textdump: {n} dumps ({data['lines_per_dump']} lines), rules {rules_ms:.2f} ms, full {full_ms:.2f} ms, "
        f"model adds {full_ms - rules_ms:.2f} ms per dump (budget <= {BUDGET_MS})")
    return data
