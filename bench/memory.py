"""Benchmark 6: peak memory of a backfill does not grow with the archive.

The same flow back-fills 5,000 pages and then 20,000 pages (the first 5,000 plus 15,000 more,
as a second archive file) into empty databases, each in a fresh process whose whole tree
(flow process, forkserver, pool workers) is sampled for RSS every 100 ms. Streaming means
the two peaks are nearly equal. Target: < 1 GiB, and the bigger run's peak within 10 % of
the smaller one's.

``row_group_sizes`` (``--row-group-sizes``) repeats both runs for each writer row-group size
listed, in that order (repeat a size to alternate, e.g. ``16384,4096,4096,16384``); the top-level
figures are then the first listed variant's, and every variant is under ``variants``.
``allocators`` (``--allocators``) does the same for the flow process's allocator set-up
(e.g. ``default,trim,trim,default``: DuckDB's flush thresholds and pyarrow's mimalloc pool, or
the writer's flush thresholds at 0 and Arrow on glibc's malloc).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.backfill import backfill_once, flow_env
from bench.common import cores, load_average, save_result, say
from bench.corpus import ArchiveFormat, write_archive

LIMIT_MIB = 1024.0
GROWTH_TARGET = 1.10  # issue 13: the 20k run within 10 % of the 5k run


def run(*, workdir: Path, api_url: str | None, small: int = 5000, large: int = 20000, fmt: ArchiveFormat = "warc",
        small_archive: Path | None = None, small_result: dict[str, Any] | None = None,
        results_dir: Path | None = None, row_group_sizes: Sequence[int] = (),
        allocators: Sequence[str] = ()) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = flow_env(api_url, workdir / "prefect-client")
    t0 = time.perf_counter()
    if small_archive is None or not small_archive.exists():
        small_archive = write_archive(workdir / "archive", small, fmt, workers=cores(), name=f"pages-0-{small}")
    extra = write_archive(workdir / "archive-extra", large - small, fmt, start=small, workers=cores(),
                          name=f"pages-{small}-{large}") if large > small else None
    gen_s = time.perf_counter() - t0
    paths = [small_archive] + ([extra] if extra is not None else [])
    if row_group_sizes and allocators:
        raise ValueError("compare row-group sizes or allocator set-ups, not both in one run")
    settings: list[dict[str, Any]] = [{"row_group_size": n} for n in row_group_sizes] + \
        [{"allocators": a} for a in allocators]
    if settings:
        variants = []
        for i, setting in enumerate(settings):
            v = _pair(small_archive, paths, workdir, env, setting, i)
            variants.append(v)
            label = ", ".join(f"{k} {val}" for k, val in setting.items())
            say(f"memory:   {label}: {v['small_peak_rss_mib']} / {v['large_peak_rss_mib']} MiB "
                f"(x{v['growth']}), file {v['runs']['small']['db_mib']} / {v['runs']['large']['db_mib']} MiB, "
                f"load {v['load_average']}")
        data = {**variants[0], "variants": variants}
    else:
        runs: dict[str, dict[str, Any]] = {}
        if small_result is not None and small_result.get("peak_rss_mib"):
            runs["small"] = {k: small_result[k] for k in ("pages", "articles", "flow_wall_s", "articles_per_s",
                                                           "peak_rss_mib", "peak_main_rss_mib", "peak_children_rss_mib")}
            runs["small"]["from"] = "backfill benchmark (same run)"
        else:
            runs["small"] = backfill_once([small_archive], workdir / "small.duckdb", env)
        runs["large"] = backfill_once(paths, workdir / "large.duckdb", env)
        data = _figures(runs)
    data.update({"generation_s": round(gen_s, 1), "limit_mib": LIMIT_MIB, "growth_target": GROWTH_TARGET})
    s, lg, growth, runs = data["small_peak_rss_mib"], data["large_peak_rss_mib"], data["growth"], data["runs"]
    data["met"] = max(s, lg) < LIMIT_MIB and growth is not None and growth <= GROWTH_TARGET
    save_result("memory", data, results_dir)
    say(f"memory: peak RSS {s} MiB for {data['small_pages']} pages, {lg} MiB for {data['large_pages']} pages "
        f"(x{growth}); target < {LIMIT_MIB:.0f} MiB and nearly equal; 20k run {runs['large']['articles_per_s']} articles/s")
    return data


def _figures(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    s, lg = runs["small"]["peak_rss_mib"], runs["large"]["peak_rss_mib"]
    return {"small_pages": runs["small"]["pages"], "large_pages": runs["large"]["pages"],
            "small_peak_rss_mib": s, "large_peak_rss_mib": lg, "growth": round(lg / s, 3) if s else None,
            "runs": runs}


def _pair(small_archive: Path, paths: list[Path], workdir: Path, env: dict[str, str], setting: dict[str, Any],
          i: int) -> dict[str, Any]:
    """The small and the large run with the writer set up by ``setting`` (``backfill_once``'s
    ``row_group_size`` or ``allocators``), each into a new file."""
    loads = [load_average()]
    runs: dict[str, dict[str, Any]] = {}
    for name, archives in (("small", [small_archive]), ("large", paths)):
        db = workdir / f"{name}-{i}.duckdb"
        runs[name] = backfill_once(archives, db, env, **setting)
        loads.append(load_average())
        for f in db.parent.glob(db.name + "*"):
            f.unlink(missing_ok=True)
    return {**setting, **_figures(runs), "load_average": loads}
