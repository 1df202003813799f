"""Benchmark 6: peak memory of a backfill does not grow with the archive.

The same flow back-fills 5,000 pages and then 20,000 pages (the first 5,000 plus 15,000 more,
as a second archive file) into empty databases, each in a fresh process whose whole tree
(flow process, forkserver, pool workers) is sampled for RSS every 100 ms. Streaming means
the two peaks are nearly equal. Target: < 1 GiB, and the bigger run's peak within 10 % of
the smaller one's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.backfill import backfill_once, flow_env
from bench.common import cores, save_result, say
from bench.corpus import ArchiveFormat, write_archive

LIMIT_MIB = 1024.0
GROWTH_TARGET = 1.10  # issue 13: the 20k run within 10 % of the 5k run


def run(*, workdir: Path, api_url: str | None, small: int = 5000, large: int = 20000, fmt: ArchiveFormat = "warc",
        small_archive: Path | None = None, small_result: dict[str, Any] | None = None,
        results_dir: Path | None = None) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = flow_env(api_url, workdir / "prefect-client")
    t0 = time.perf_counter()
    if small_archive is None or not small_archive.exists():
        small_archive = write_archive(workdir / "archive", small, fmt, workers=cores(), name=f"pages-0-{small}")
    extra = write_archive(workdir / "archive-extra", large - small, fmt, start=small, workers=cores(),
                          name=f"pages-{small}-{large}") if large > small else None
    gen_s = time.perf_counter() - t0
    runs: dict[str, dict[str, Any]] = {}
    if small_result is not None and small_result.get("peak_rss_mib"):
        runs["small"] = {k: small_result[k] for k in ("pages", "articles", "flow_wall_s", "articles_per_s",
                                                       "peak_rss_mib", "peak_main_rss_mib", "peak_children_rss_mib")}
        runs["small"]["from"] = "backfill benchmark (same run)"
    else:
        runs["small"] = backfill_once([small_archive], workdir / "small.duckdb", env)
    paths = [small_archive] + ([extra] if extra is not None else [])
    runs["large"] = backfill_once(paths, workdir / "large.duckdb", env)
    s, lg = runs["small"]["peak_rss_mib"], runs["large"]["peak_rss_mib"]
    growth = round(lg / s, 3) if s else None
    data: dict[str, Any] = {
        "small_pages": runs["small"]["pages"], "large_pages": runs["large"]["pages"],
        "small_peak_rss_mib": s, "large_peak_rss_mib": lg, "growth": growth,
        "runs": runs, "generation_s": round(gen_s, 1),
        "limit_mib": LIMIT_MIB, "growth_target": GROWTH_TARGET,
        "met": max(s, lg) < LIMIT_MIB and growth is not None and growth <= GROWTH_TARGET,
    }
    save_result("memory", data, results_dir)
    say(f"memory: peak RSS {s} MiB for {data['small_pages']} pages, {lg} MiB for {data['large_pages']} pages "
        f"(x{growth}); target < {LIMIT_MIB:.0f} MiB and nearly equal; 20k run {runs['large']['articles_per_s']} articles/s")
    return data
