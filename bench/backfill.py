"""Benchmark 2: backfill throughput against the machine's extraction limit, measured side by side.

A generated archive (default 5,000 pages, WARC) is back-filled into an empty DuckDB file by
the real ``backfill`` flow in a fresh process, against a running Prefect API. In the same
run, raw single-process ``trafilatura.extract`` is timed on a sample of the same pages
(half before, half after the backfill, so drift in machine load hits both sides); the limit
is cores × that rate. Target: articles/s ≥ 0.80 × limit. Peak RSS of the run's process tree
is sampled too (benchmark 6 compares it with a bigger archive).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.common import base_env, cores, load_average, ratio, run_child, save_result, say
from bench.corpus import ArchiveFormat, make_page, write_archive

TARGET = 0.80


def raw_rate(indices: list[int]) -> dict[str, float]:
    """Single-process ``trafilatura.extract`` on generated pages (decoded strings, as raw gets them)."""
    import trafilatura

    pages = [make_page(i).html for i in indices]
    trafilatura.extract(pages[0])  # warm-up
    wall = cpu = 0.0
    for html in pages:
        t0, c0 = time.perf_counter(), time.process_time()
        trafilatura.extract(html)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    return {"pages": len(pages), "wall_s": wall, "cpu_s": cpu}


def sample_indices(total: int, n: int, start: int = 0) -> list[int]:
    n = max(1, min(n, total))
    step = total / n
    return [start + int(i * step) for i in range(n)]


def backfill_once(paths: list[Path], db: Path, env: dict[str, str], *, profile: Path | None = None) -> dict[str, Any]:
    """One measured backfill flow run in a fresh process; figures plus the tree's peak RSS."""
    args = ["backfill", "--db", str(db)]
    if profile is not None:
        args += ["--profile", str(profile)]
    run = run_child([*args, *map(str, paths)], env=env, sample_rss=True)
    res = run.result
    summ = res["summary"]
    loaded = int(summ.get("loaded", 0))
    return {
        "pages": int(summ.get("read", 0)),
        "articles": loaded,
        "rejected": int(summ.get("rejected", 0)),
        "rejects_by_reason": summ.get("rejects_by_reason", {}),
        "flow_wall_s": res["flow_wall_s"],
        "process_wall_s": round(run.wall, 3),
        "import_s": res["import_s"],
        "articles_per_s": round(loaded / res["flow_wall_s"], 1) if res["flow_wall_s"] else None,
        "steady_rate_per_s": res.get("steady_rate_per_s"),
        "first_record_s": res.get("first_record_s"),
        "main_cpu_s": res["main_cpu_s"],
        "workers_cpu_s": res["children_cpu_s"],
        "db_mib": round(db.stat().st_size / 2**20, 1) if db.exists() else None,
        **run.memory,
    }


def flow_env(api_url: str | None, prefect_home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = base_env(extra)
    env["PREFECT_HOME"] = str(prefect_home)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:
        env.pop("PREFECT_API_URL", None)
    return env


def run(*, workdir: Path, api_url: str | None, pages: int = 5000, fmt: ArchiveFormat = "warc",
        raw_sample: int = 300, profile: bool = False, results_dir: Path | None = None) -> dict[str, Any]:
    from bench.common import RESULTS_DIR

    workdir.mkdir(parents=True, exist_ok=True)
    n_cores = cores()
    t0 = time.perf_counter()
    archive = write_archive(workdir / "archive", pages, fmt, workers=n_cores, name=f"pages-0-{pages}")
    gen_s = time.perf_counter() - t0
    say(f"backfill: generated {pages} pages ({archive.stat().st_size / 2**20:.0f} MiB {fmt}) in {gen_s:.1f}s")

    idx = sample_indices(pages, raw_sample)
    before = raw_rate(idx[0::2])
    load_before = load_average()
    env = flow_env(api_url, workdir / "prefect-client")
    prof_path = (results_dir or RESULTS_DIR) / "profile_backfill_main.txt" if profile else None
    fig = backfill_once([archive], workdir / "bench.duckdb", env, profile=prof_path)
    after = raw_rate(idx[1::2])
    raw_pages = before["pages"] + after["pages"]
    raw_wall = before["wall_s"] + after["wall_s"]
    raw_cpu = before["cpu_s"] + after["cpu_s"]
    rate = raw_pages / raw_wall
    tree_cpu = fig["workers_cpu_s"] + fig["main_cpu_s"]
    limit = n_cores * rate
    data: dict[str, Any] = {
        "archive_format": fmt,
        "archive_mib": round(archive.stat().st_size / 2**20, 1),
        "generation_s": round(gen_s, 1),
        **fig,
        "raw_sample_pages": raw_pages,
        "raw_pages_per_s": round(rate, 1),
        "raw_ms_per_page": round(1000 * raw_wall / raw_pages, 2),
        "raw_cpu_ms_per_page": round(1000 * raw_cpu / raw_pages, 2),
        "cores": n_cores,
        "limit_pages_per_s": round(limit, 1),
        "ratio": ratio(fig["articles_per_s"] or 0.0, limit),
        "ratio_steady": ratio(fig["steady_rate_per_s"] or 0.0, limit) if fig.get("steady_rate_per_s") else None,
        "workers_cpu_ms_per_page": round(1000 * fig["workers_cpu_s"] / max(fig["pages"], 1), 2),
        "main_cpu_ms_per_page": round(1000 * fig["main_cpu_s"] / max(fig["pages"], 1), 2),
        # what the ratio would be if every cycle of every core were ours: raw CPU per page over
        # the whole tree's CPU per article (immune to other load on the machine)
        "cpu_ratio": ratio(raw_cpu / raw_pages, tree_cpu / max(fig["articles"], 1)),
        "cpu_utilization": round(tree_cpu / (fig["flow_wall_s"] * n_cores), 3) if fig["flow_wall_s"] else None,
        "target": TARGET,
        "met": (fig["articles_per_s"] or 0) >= TARGET * limit,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "prefect_api": "running server" if api_url else "ephemeral",
    }
    if prof_path is not None:
        data["profile"] = str(prof_path)
    save_result("backfill", data, results_dir)
    say(f"backfill: {data['articles']} articles in {data['flow_wall_s']:.1f}s = {data['articles_per_s']}/s "
        f"(steady {data['steady_rate_per_s']}/s); raw {data['raw_pages_per_s']} pages/s x {n_cores} cores = "
        f"{data['limit_pages_per_s']}/s; ratio {data['ratio']} (target >= {TARGET}); peak RSS "
        f"{data['peak_rss_mib']} MiB")
    return data
