"""Benchmark 1: CPU cost of our per-page path against a bare ``trafilatura.extract``.

Single process, CPU time (``time.process_time``) per call, on the real-world pages of the
trafilatura evaluation set. For every page three calls are timed back to back, in an order
that rotates from page to page so neither side profits from warm caches:

* ``raw``: ``trafilatura.extract(html_str)`` on the page decoded once beforehand;
* ``ours``: ``run_job(PageJob(html=<bytes>))``, our whole per-page path (charset decoding,
  parse, trafilatura, metadata, block detection, cleaner, language, normalisation, record
  validation);
* ``ours_str``: the same path handed the already decoded string, i.e. like for like with raw.

Target: ours / raw ≤ 1.15 (summed CPU time).
"""

from __future__ import annotations

import gc
import gzip
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import ratio, save_result, say

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "trafilatura-eval"
TARGET = 1.15
WARMUP = 8


def corpus_pages(corpus: Path, limit: int | None) -> list[Path]:
    files = sorted((corpus / "pages").glob("*.gz"))
    if limit and 0 < limit < len(files):
        step = len(files) / limit  # spread the sample over the whole (sorted) set
        files = [files[int(i * step)] for i in range(limit)]
    return files


def _page_url(name: str) -> str:
    return f"https://bench.example.org/{name.removesuffix('.gz')}"


def run(*, corpus: Path = DEFAULT_CORPUS, limit: int | None = None, profile: bool = False,
        results_dir: Path | None = None) -> dict[str, Any]:
    files = corpus_pages(corpus, limit)
    if not files:
        msg = f"extraction: skipped, no pages under {corpus / 'pages'}"
        say(msg)
        skipped: dict[str, Any] = {"skipped": True, "reason": msg}
        save_result("extraction", skipped, results_dir)
        return skipped

    import trafilatura

    from extractors.normalize.text import decode_bytes
    from flows.jobs import PageJob, run_job

    pages: list[tuple[str, bytes, str]] = []
    for f in files:
        body = gzip.decompress(f.read_bytes())
        pages.append((_page_url(f.name), body, decode_bytes(body, None)))

    def job(url: str, html: bytes | str) -> PageJob:
        return PageJob(key=url, url=url, origin="archive", run_id="bench", html=html, tolerance_hours=24.0)  # type: ignore[arg-type]

    calls = {
        "raw": lambda url, body, text: trafilatura.extract(text),
        "ours": lambda url, body, text: run_job(job(url, body)),
        "ours_str": lambda url, body, text: run_job(job(url, text)),
        "decode": lambda url, body, text: decode_bytes(body, None),
    }
    order = ("raw", "ours", "ours_str", "decode")
    for url, body, text in pages[:WARMUP]:
        for name in order:
            calls[name](url, body, text)

    times: dict[str, list[float]] = {name: [] for name in order}
    articles = 0
    gc.collect()
    clock = time.process_time
    t_wall = time.perf_counter()
    for i, (url, body, text) in enumerate(pages):
        k = i % len(order)
        for name in order[k:] + order[:k]:
            t0 = clock()
            out = calls[name](url, body, text)
            times[name].append(clock() - t0)
            if name == "ours" and getattr(out, "article", None) is not None:
                articles += 1
    wall = time.perf_counter() - t_wall

    tot = {name: sum(v) for name, v in times.items()}
    per_page = [o / r for o, r in zip(times["ours"], times["raw"], strict=True) if r > 0]
    data: dict[str, Any] = {
        "pages": len(pages),
        "articles": articles,
        "cpu_s": {name: round(v, 3) for name, v in tot.items()},
        "ms_per_page": {name: round(1000 * v / len(pages), 2) for name, v in tot.items()},
        "ratio_ours_raw": ratio(tot["ours"], tot["raw"]),
        "ratio_ours_str_raw": ratio(tot["ours_str"], tot["raw"]),
        "ratio_ours_minus_decode_raw": ratio(tot["ours"] - tot["decode"], tot["raw"]),
        "per_page_ratio_median": round(statistics.median(per_page), 3) if per_page else None,
        "per_page_ratio_p90": round(statistics.quantiles(per_page, n=10)[-1], 3) if len(per_page) >= 10 else None,
        "target": TARGET,
        "met": bool(tot["raw"]) and tot["ours"] / tot["raw"] <= TARGET,
        "wall_s": round(wall, 1),
        "corpus": str(corpus),
    }
    sample = pages[:: max(1, len(pages) // 200)]
    data["stages_ms_per_page"] = stage_breakdown(sample)
    if profile:
        data["profile"] = str(_profile(sample, calls["ours"], results_dir))
    save_result("extraction", data, results_dir)
    say(f"extraction: {len(pages)} pages, raw {data['ms_per_page']['raw']} ms/page, ours "
        f"{data['ms_per_page']['ours']} ms/page (decode {data['ms_per_page']['decode']}), ratio ours/raw "
        f"{data['ratio_ours_raw']} (on decoded str {data['ratio_ours_str_raw']}), target <= {TARGET}")
    return data


# Stages of our path timed on their own: (label, module, attribute looked up at call time).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("decode_bytes", "extractors.content.html_extract", "decode_bytes"),
    ("parse (trafilatura load_html)", "trafilatura.utils", "load_html"),
    ("metadata (_read_meta)", "extractors.content.html_extract", "_read_meta"),
    ("trafilatura.bare_extraction", "trafilatura", "bare_extraction"),
    ("cleaner.clean_text", "extractors.content.html_extract", "clean_text"),
    ("language (detect_language)", "extractors.content.html_extract", "detect_language"),
    ("block detection", "extractors.content.html_extract", "detect_block"),
    ("date (_parse_published)", "extractors.content.html_extract", "_parse_published"),
    ("normalize.build_article", "flows.jobs", "build_article"),
    # stages added after issue 5 (dedup: issue 9, events: issue 10), run by the same workers
    ("dedup sketch (sketch_for)", "flows.jobs", "sketch_for"),
    ("events (enrich_article)", "flows.jobs", "enrich_article"),
    ("run_job total", "bench.extraction", "_run_job"),
)

# The text-dump path on dumps of the same pages (what a backfill of text archives runs).
TEXT_STAGES: tuple[tuple[str, str, str], ...] = (
    ("text dump: rules (cleaner.classify)", "extractors.content.textdump", "classify"),
    ("text dump: line model (refine)", "extractors.content.textdump", "refine"),
    ("text dump: language (detect_language)", "extractors.content.textdump", "detect_language"),
    ("text dump: extract_text_dump", "extractors.content.textdump", "extract_text_dump"),
    ("text dump: normalize.build_article", "flows.jobs", "build_article"),
    ("text dump: dedup sketch (sketch_for)", "flows.jobs", "sketch_for"),
    ("text dump: events (enrich_article)", "flows.jobs", "enrich_article"),
    ("text dump: run_job total", "bench.extraction", "_run_job"),
)


def _run_job(job: Any) -> Any:
    from flows.jobs import run_job

    return run_job(job)


def stage_breakdown(pages: list[tuple[str, bytes, str]]) -> dict[str, float]:
    """CPU ms per page in each stage of our path: each stage function is wrapped with a
    process-time stopwatch for one pass (a few microseconds of overhead per call, unlike a
    deterministic profiler, which inflates call-heavy code several times). Then the same for
    the text-dump path on each page dumped as a naive scraper saves it."""
    from flows.jobs import PageJob

    html_jobs = [PageJob(key=url, url=url, origin="archive", run_id="bench", html=body, tolerance_hours=24.0)
                 for url, body, _text in pages]
    out = _timed_pass(STAGES, html_jobs)
    try:
        from tests.support.dumpgen import html_to_dump
    except ImportError:  # the test helpers are not installed: no text-dump pass
        return out
    text_jobs = [PageJob(key=url, url=url, origin="archive", run_id="bench", text=html_to_dump(text),
                         tolerance_hours=24.0) for url, _body, text in pages]
    return out | _timed_pass(TEXT_STAGES, text_jobs)


def _timed_pass(stages: tuple[tuple[str, str, str], ...], jobs: list[Any]) -> dict[str, float]:
    import importlib

    spent: dict[str, float] = {}
    patched: list[tuple[Any, str, Any]] = []

    def wrap(label: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - t0
        return timed

    for label, module, attr in stages:
        mod = importlib.import_module(module)
        fn = getattr(mod, attr, None)
        if fn is None:
            continue
        patched.append((mod, attr, fn))
        setattr(mod, attr, wrap(label, fn))
    try:
        this = importlib.import_module(__name__)
        for job in jobs:
            this._run_job(job)
    finally:
        for mod, attr, fn in reversed(patched):
            setattr(mod, attr, fn)
    return {label: round(1000 * spent[label] / len(jobs), 2) for label, _m, _a in stages if label in spent}


def _profile(pages: list[tuple[str, bytes, str]], fn: Any, results_dir: Path | None) -> Path:
    """pyinstrument over our path: the call tree says where the time goes."""
    from pyinstrument import Profiler

    from bench.common import RESULTS_DIR

    prof = Profiler(interval=0.0005)
    prof.start()
    for url, body, text in pages:
        fn(url, body, text)
    prof.stop()
    out = (results_dir or RESULTS_DIR) / "profile_extraction.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(prof.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    return out
