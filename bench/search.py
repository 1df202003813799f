"""Benchmark 7: full-text search with the tantivy index vs scanning the warehouse with regexp_matches.

* Corpus: ``rows`` synthetic articles (default 1,000,000, ~2.5 KB of text each) generated in SQL
  by the warehouse benchmark's ``build_big``; the index is built from it with ``rebuild``.
* Queries, side by side: a keyword count with ``regexp_matches`` (word boundaries, case-insensitive)
  on a fresh read-only connection, the same count from the index, and a ranked top-10 with
  snippets. Cold = first call in the process, warm = median of three. Target < 0.2 s per query.
* Upkeep: twenty 500-article batches loaded with ``load_batch`` into the big database and queued
  for the index as the flows do (commits of 5,000 in the background, the last one waited for);
  the index's share of the load time, and the same with synchronous commits. Target < 10 %.
* Small run: five 500-article loads (one commit, below the 5,000 of a background flush), its commit
  waited for right after the loads vs started in the background while the run's report is written,
  as the ingest flow does. Target < 10 % of the load time.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import save_result, say

QUERY_TARGET_S = 0.2
UPKEEP_TARGET = 0.10
# one rare place, two common words, a phrase, a boolean query: (index query, [(regexp, negated)])
KEYWORDS: dict[str, tuple[str, list[tuple[str, bool]]]] = {
    "rare word": ("tromso", [(r"(?i)\btromso\b", False)]),
    "two words": ("wind farm", [(r"(?i)\bwind\b", False), (r"(?i)\bfarm\b", False)]),
    "phrase": ('"wind farm"', [(r"(?i)\bwind\s+farm\b", False)]),
    "boolean": ("tromso AND NOT budget", [(r"(?i)\btromso\b", False), (r"(?i)\bbudget\b", True)]),
}


def _time(fn: Any, repeats: int = 3) -> tuple[Any, float, float]:
    t0 = time.perf_counter()
    value = fn()
    cold = time.perf_counter() - t0
    warm = [cold]
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t0)
    return value, cold, statistics.median(warm)


def bench_queries(db: Path, index: Path) -> dict[str, Any]:
    from warehouse import search as ws
    from warehouse.db import connect_read

    out: dict[str, Any] = {}
    for name, (query, patterns) in KEYWORDS.items():
        where = " AND ".join(("NOT " if neg else "") + "regexp_matches(title || ' ' || text, ?)"
                             for _, neg in patterns)

        def scan(where: str = where, params: list[str] = [p for p, _ in patterns]) -> int:  # noqa: B006
            conn = connect_read(db)
            try:
                return int(conn.execute(f"SELECT count(*) FROM articles WHERE {where}", params).fetchone()[0])  # type: ignore[index]
            finally:
                conn.close()

        scan_n, scan_cold, scan_warm = _time(scan, repeats=1)
        # the cheapest scan, as analysts write it: the text column only, no word boundaries (it may
        # over-count: "farm" in "farmers"), for the first positive word of the query
        simple_word = next(p for p, neg in patterns if not neg).replace(r"\b", "").replace(r"\s+", " ")

        def simple_scan(pattern: str = simple_word) -> int:
            conn = connect_read(db)
            try:
                return int(conn.execute("SELECT count(*) FROM articles WHERE regexp_matches(text, ?)",
                                        [pattern]).fetchone()[0])  # type: ignore[index]
            finally:
                conn.close()

        simple_n, simple_cold, _ = _time(simple_scan, repeats=0)
        idx_n, idx_cold, idx_warm = _time(lambda q=query: ws.count(index, q))
        top, top_cold, top_warm = _time(lambda q=query: ws.search(index, q, limit=10))
        out[name] = {
            "query": query, "regexp": [p for p, _ in patterns],
            "regexp_count": scan_n, "regexp_cold_s": _r(scan_cold), "regexp_warm_s": _r(scan_warm),
            "simple_regexp": simple_word, "simple_regexp_count": simple_n, "simple_regexp_s": _r(simple_cold),
            "index_count": idx_n, "index_cold_s": _r(idx_cold), "index_warm_s": _r(idx_warm),
            "top10_snippets_cold_s": _r(top_cold), "top10_snippets_warm_s": _r(top_warm),
            "hits_with_snippet": sum(1 for h in top.hits if "«" in h.snippet),
            "met": max(idx_cold, top_cold) < QUERY_TARGET_S,
        }
    return out


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def bench_upkeep(db: Path, index: Path, batches: int = 20, batch: int = 500) -> dict[str, Any]:
    """A backfill's worth of loads (``batches`` × ``batch`` articles) and the index upkeep they cost.

    As the flows do it (flows.shared.index_articles): each load's articles are queued; every
    INDEX_FLUSH_DOCS a commit starts in a background thread, overlapping the next loads; the closing
    flush waits for the last one. ``index_s`` is the time the load path spends on the index
    (queueing, waiting, the closing commit); background commits show up as slower loads, since they
    share the cores. Then, for comparison, the same articles committed synchronously (``sync_index_s``,
    the whole commit on the load path) and one ``batch``-article upsert alone.
    """
    from bench.warehouse import synthetic_articles
    from flows import shared
    from schemas.settings import Settings
    from warehouse import search as ws
    from warehouse.batch import Batch
    from warehouse.load import load_batch

    settings = Settings(db=db)
    assert ws.index_dir_for(db) == index
    arts = synthetic_articles(batches * batch, run_id="bench-search-upkeep")
    load_s = index_s = 0.0
    loaded = 0
    for k in range(batches):
        chunk = arts[k * batch : (k + 1) * batch]
        t0 = time.perf_counter()
        loaded += load_batch(db, Batch(run=None, articles=chunk, links=[])).articles_new
        load_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        shared.index_articles(chunk, settings)
        index_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    shared.flush_index(settings)
    index_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    ws.upsert(index, [ws.doc_from_article(a) for a in arts], db=db)
    sync_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    one = ws.upsert(index, [ws.doc_from_article(a) for a in arts[:batch]], db=db)
    single_s = time.perf_counter() - t0
    return {"batches": batches, "batch": batch, "load_s": round(load_s, 3), "index_s": round(index_s, 3),
            "share": round(index_s / load_s, 3) if load_s else None, "loaded": loaded,
            "flush_docs": shared.INDEX_FLUSH_DOCS, "sync_index_s": round(sync_s, 3),
            "sync_share": round(sync_s / load_s, 3) if load_s else None,
            "single_batch_commit_s": round(single_s, 3), "single_batch_docs": one,
            "met": load_s > 0 and index_s / load_s < UPKEEP_TARGET}


def bench_small_run(db: Path, index: Path, loads: int = 5, batch: int = 500) -> dict[str, Any]:
    """An hourly-sized run (``loads`` × ``batch`` articles, below INDEX_FLUSH_DOCS): its one index
    commit, side by side, waited for right after the loads (``sync``) and as the ingest flow does it,
    started in the background while the run's report is written, then waited for (``overlapped``:
    only what the report did not cover counts)."""
    from bench.warehouse import synthetic_articles
    from flows import shared
    from flows.report_site import write_report
    from schemas.settings import Settings
    from warehouse.batch import Batch
    from warehouse.load import load_batch

    settings = Settings(db=db)
    # past the articles bench_upkeep loaded: every run here adds new ones
    arts = synthetic_articles(40 * batch + 2 * loads * batch, run_id="bench-search-small")[40 * batch:]
    out: dict[str, Any] = {"loads": loads, "batch": batch}
    for k, mode in enumerate(("sync", "overlapped")):
        load_s = 0.0
        for j in range(loads):
            chunk = arts[(k * loads + j) * batch : (k * loads + j + 1) * batch]
            t0 = time.perf_counter()
            load_batch(db, Batch(run=None, articles=chunk, links=[]))
            load_s += time.perf_counter() - t0
            shared.index_articles(chunk, settings)
        report_s = 0.0
        if mode == "overlapped":
            shared.flush_index(settings, wait=False)
            t0 = time.perf_counter()
            write_report(db, db.parent / "report.html")
            report_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        shared.flush_index(settings)
        wait_s = time.perf_counter() - t0
        out[mode] = {"load_s": round(load_s, 3), "index_wait_s": round(wait_s, 3),
                     "share": round(wait_s / load_s, 3) if load_s else None, "report_s": round(report_s, 3)}
    out["met"] = out["overlapped"]["share"] is not None and out["overlapped"]["share"] < UPKEEP_TARGET
    return out


def run(*, workdir: Path, rows: int = 1_000_000, results_dir: Path | None = None) -> dict[str, Any]:
    from bench.warehouse import build_big
    from warehouse import search as ws

    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "search.duckdb"
    build_s = build_big(db, rows)
    say(f"search: generated {rows:,} articles in {build_s:.1f}s ({db.stat().st_size / 2**20:.0f} MiB)")
    index = ws.index_dir_for(db)
    t0 = time.perf_counter()
    indexed = ws.rebuild(db, index, threads=2)
    index_s = time.perf_counter() - t0
    index_mib = sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 2**20
    say(f"search: indexed {indexed:,} articles in {index_s:.1f}s ({index_mib:.0f} MiB)")
    queries = bench_queries(db, index)
    for name, q in queries.items():
        say(f"search:   {name} {q['query']!r}: regexp {q['regexp_count']} in {q['regexp_cold_s']}s "
            f"(text-only {q['simple_regexp']!r}: {q['simple_regexp_count']} in {q['simple_regexp_s']}s) | index "
            f"{q['index_count']} in {q['index_cold_s']}s cold, {q['index_warm_s']}s warm | top-10 + snippets "
            f"{q['top10_snippets_cold_s']}s")
    upkeep = bench_upkeep(db, index)
    say(f"search: upkeep of {upkeep['batches']} loads of {upkeep['batch']} articles: load {upkeep['load_s']}s, "
        f"index {upkeep['index_s']}s ({upkeep['share']:.1%} of the load; synchronous commits "
        f"{upkeep['sync_index_s']}s, {upkeep['sync_share']:.1%}); one {upkeep['batch']}-article upsert alone "
        f"{upkeep['single_batch_commit_s']}s")
    small = bench_small_run(db, index)
    say(f"search: a run of {small['loads']} loads of {small['batch']} articles waits for its index commit "
        f"{small['sync']['index_wait_s']}s after the loads ({small['sync']['share']:.1%} of {small['sync']['load_s']}s "
        f"loading) vs {small['overlapped']['index_wait_s']}s when it overlaps the report "
        f"({small['overlapped']['share']:.1%} of {small['overlapped']['load_s']}s; report "
        f"{small['overlapped']['report_s']}s)")
    data = {
        "rows": rows, "db_build_s": round(build_s, 1), "index_build_s": round(index_s, 1),
        "index_mib": round(index_mib, 1), "indexed": indexed, "queries": queries, "upkeep": upkeep,
        "small_run": small, "query_target_s": QUERY_TARGET_S, "upkeep_target": UPKEEP_TARGET,
        "met": all(q["met"] for q in queries.values()) and upkeep["met"] and small["met"],
    }
    save_result("search", data, results_dir)
    shutil.rmtree(index, ignore_errors=True)
    return data
