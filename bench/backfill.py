"""Benchmark 2: backfill throughput against the machine's extraction limit, measured side by side.

A generated archive (default 5,000 pages) is back-filled into an empty DuckDB file by the real
``backfill`` flow in a fresh process, against a running Prefect API, once per archive kind
(default: a WARC, a directory of HTML files and a directory of plain-text dumps of the same
pages). In the same run, raw single-process ``trafilatura.extract`` is timed on a sample of the
same pages (half before, half after the backfill, so drift in machine load hits both sides);
the limit is cores × that rate. For text dumps "the same documents" are the HTML pages the dumps
were made from. Target: articles/s ≥ 0.80 × limit. Peak RSS of the run's process tree is
sampled too (benchmark 6 compares it with a bigger archive).

The per-article stages added since the target was set (story sketch for dedup, event coding)
are timed on the same sample in one process, so the CPU ratio can also be read without them.
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


def new_stage_cpu(indices: list[int], fmt: ArchiveFormat) -> dict[str, float]:
    """CPU ms per article, one process, of our whole path on the sample as the backfill runs it
    (HTML, or the page's text dump), and of the stages in it added after issue 5: the dedup
    sketch and the event coder."""
    from bench.corpus import _text_dump
    from flows.jobs import PageJob, enrich_article, run_job, sketch_for

    def job(i: int) -> PageJob:
        page = make_page(i)
        if fmt == "text":
            return PageJob(key=str(i), url=page.url, origin="archive", run_id="bench",
                           text=_text_dump(page).decode("utf-8"), tolerance_hours=24.0)
        return PageJob(key=str(i), url=page.url, origin="archive", run_id="bench", html=page.html.encode("utf-8"),
                       tolerance_hours=24.0)

    jobs = [job(i) for i in indices]
    run_job(jobs[0])  # warm-up
    spent = {"run_job": 0.0, "sketch": 0.0, "events": 0.0}
    articles = 0
    for j in jobs:
        c0 = time.process_time()
        r = run_job(j)
        spent["run_job"] += time.process_time() - c0
        if r.article is None:
            continue
        articles += 1
        c0 = time.process_time()
        sketch_for(r.article)
        c1 = time.process_time()
        enrich_article(r.article)
        spent["sketch"] += c1 - c0
        spent["events"] += time.process_time() - c1
    n = max(articles, 1)
    return {"ours_one_process_ms": round(1000 * spent["run_job"] / len(jobs), 2),
            "dedup_sketch_ms": round(1000 * spent["sketch"] / n, 2), "events_ms": round(1000 * spent["events"] / n, 2)}


def sample_indices(total: int, n: int, start: int = 0) -> list[int]:
    n = max(1, min(n, total))
    step = total / n
    return [start + int(i * step) for i in range(n)]


def backfill_once(paths: list[Path], db: Path, env: dict[str, str], *, profile: Path | None = None,
                  row_group_size: int | None = None, allocators: str | None = None) -> dict[str, Any]:
    """One measured backfill flow run in a fresh process; figures plus the tree's peak RSS.

    ``row_group_size`` overrides the writer's rows per row group in that process and
    ``allocators`` its allocator set-up (``"default"``: DuckDB's flush thresholds and pyarrow's
    own pool, ``"trim"``: flush thresholds 0 and Arrow on glibc); None keeps the code's own."""
    args = ["backfill", "--db", str(db)]
    if profile is not None:
        args += ["--profile", str(profile)]
    if row_group_size is not None:
        args += ["--row-group-size", str(row_group_size)]
    if allocators is not None:
        args += ["--allocators", allocators]
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


def run(*, workdir: Path, api_url: str | None, pages: int = 5000, fmt: ArchiveFormat | str = "warc,dir,text",
        raw_sample: int = 300, profile: bool = False, results_dir: Path | None = None) -> dict[str, Any]:
    """One measured backfill per archive kind in ``fmt`` (comma-separated); the first kind's
    figures are the result's top level (the table's main row, benchmark 6's small run)."""
    from bench.common import RESULTS_DIR

    formats = [f.strip() for f in str(fmt).split(",") if f.strip()]
    by_format: dict[str, Any] = {}
    for n, kind in enumerate(formats):
        name = f"pages-0-{pages}" if n == 0 else f"{kind}-pages-0-{pages}"
        prof = (results_dir or RESULTS_DIR) / f"profile_backfill_main{'' if n == 0 else '_' + kind}.txt" \
            if profile else None
        by_format[kind] = run_one(workdir=workdir, api_url=api_url, pages=pages, fmt=kind,  # type: ignore[arg-type]
                                  raw_sample=raw_sample, prof_path=prof, name=name, db_name=f"bench-{kind}.duckdb")
    data = {**by_format[formats[0]], "formats": by_format}
    save_result("backfill", data, results_dir)
    return data


def run_one(*, workdir: Path, api_url: str | None, pages: int, fmt: ArchiveFormat, raw_sample: int,
            prof_path: Path | None, name: str, db_name: str) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    n_cores = cores()
    t0 = time.perf_counter()
    archive = write_archive(workdir / "archive", pages, fmt, workers=n_cores, name=name)
    gen_s = time.perf_counter() - t0
    size = archive.stat().st_size if archive.is_file() else sum(f.stat().st_size for f in archive.iterdir())
    say(f"backfill: generated {pages} pages ({size / 2**20:.0f} MiB {fmt}) in {gen_s:.1f}s")

    idx = sample_indices(pages, raw_sample)
    before = raw_rate(idx[0::2])
    load_before = load_average()
    env = flow_env(api_url, workdir / "prefect-client")
    fig = backfill_once([archive], workdir / db_name, env, profile=prof_path)
    after = raw_rate(idx[1::2])
    stages = new_stage_cpu(idx[::3], fmt)
    raw_pages = before["pages"] + after["pages"]
    raw_wall = before["wall_s"] + after["wall_s"]
    raw_cpu = before["cpu_s"] + after["cpu_s"]
    rate = raw_pages / raw_wall
    tree_cpu = fig["workers_cpu_s"] + fig["main_cpu_s"]
    per_article_ms = 1000 * tree_cpu / max(fig["articles"], 1)
    raw_ms = 1000 * raw_cpu / raw_pages
    limit = n_cores * rate
    data: dict[str, Any] = {
        "archive_format": fmt,
        "archive_mib": round(size / 2**20, 1),
        "generation_s": round(gen_s, 1),
        **fig,
        "raw_sample_pages": raw_pages,
        "raw_pages_per_s": round(rate, 1),
        "raw_ms_per_page": round(1000 * raw_wall / raw_pages, 2),
        "raw_cpu_ms_per_page": round(raw_ms, 2),
        "cores": n_cores,
        "limit_pages_per_s": round(limit, 1),
        "ratio": ratio(fig["articles_per_s"] or 0.0, limit),
        "ratio_steady": ratio(fig["steady_rate_per_s"] or 0.0, limit) if fig.get("steady_rate_per_s") else None,
        "workers_cpu_ms_per_page": round(1000 * fig["workers_cpu_s"] / max(fig["pages"], 1), 2),
        "main_cpu_ms_per_page": round(1000 * fig["main_cpu_s"] / max(fig["pages"], 1), 2),
        # what the ratio would be if every cycle of every core were ours: raw CPU per page over
        # the whole tree's CPU per article (immune to other load on the machine)
        "cpu_ratio": ratio(raw_cpu / raw_pages, tree_cpu / max(fig["articles"], 1)),
        # the same without the worker-side CPU of the stages added after the target was set
        "new_stages_ms_per_article": stages,
        "cpu_ratio_without_new_stages": ratio(raw_ms, per_article_ms - stages["dedup_sketch_ms"] - stages["events_ms"]),
        "cpu_utilization": round(tree_cpu / (fig["flow_wall_s"] * n_cores), 3) if fig["flow_wall_s"] else None,
        "target": TARGET,
        "met": (fig["articles_per_s"] or 0) >= TARGET * limit,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "prefect_api": "running server" if api_url else "ephemeral",
    }
    if prof_path is not None:
        data["profile"] = str(prof_path)
    say(f"backfill ({fmt}): {data['articles']} articles in {data['flow_wall_s']:.1f}s = {data['articles_per_s']}/s "
        f"(steady {data['steady_rate_per_s']}/s); raw {data['raw_pages_per_s']} pages/s x {n_cores} cores = "
        f"{data['limit_pages_per_s']}/s; ratio {data['ratio']} (target >= {TARGET}); CPU ratio {data['cpu_ratio']} "
        f"({data['cpu_ratio_without_new_stages']} without dedup/events); peak RSS {data['peak_rss_mib']} MiB")
    return data
