"""The same backfill on the local process pool and on Dask clusters of 1 and 2 workers, side by side.

``python -m bench.cluster [--pages 600] [--workers 2] [--shards 12]``: a generated archive (JSONL,
the backfill benchmark's pages) is back-filled into empty DuckDB files by ``run_backfill`` with
the real load (the ``load`` task's own function, without a Prefect API): once with
``NEWSFLOW_EXECUTOR=local`` and ``--workers`` pool processes, then against ``LocalCluster``s of 1
and of ``--workers`` single-threaded worker processes on 127.0.0.1 reached as
``dask://HOST:PORT``; there the archive is read in about ``--shards`` byte ranges, each written
by a worker as a lake batch and committed by the flow process. Figures: articles/s, CPU-seconds
per article in the flow process and in the workers, and a check that every run stored the same
article ids. Then the committer alone: the 2-worker run's lake loaded again into an empty
warehouse (``flows.committer.commit_all``), rows/s and articles/s. Written to
``bench/results/cluster.json``.

Then a busy-hour-style ingest (``--busy-feeds`` feeds × ``--busy-items`` new stories on
``--busy-hosts`` loopback hosts of ``bench.newsserver``: 50 ms per request, a few slow hosts, 0.25 s
between request starts to one host, as in the busy-hour benchmark) run by the real
``hourly_ingest`` flow against a temporary Prefect API into empty warehouses: locally, and on
Dask clusters of 1 and ``--workers`` workers (feeds polled and pages fetched on the workers in
host shards, extraction on the workers). Figures: articles/s, CPU-seconds per article in the
flow process and in the workers, and the most requests any one host had in flight at once,
which must stay within ``NEWSFLOW_PER_HOST_CONCURRENCY``. The defaults (100 × 4 = 400 pages on
50 hosts) are a tenth of the busy-hour benchmark's 200 × 20 = 4,000 pages, and a hundredth of
the 10× busy hour the sizing in ``docs/SCALING.md`` plans for; ``--part ingest`` runs only this.

On one machine the cluster cannot be faster than the pool (same cores, plus pickling and
TCP); the figure is the price of the distributed path, i.e. what one more machine must win back.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import psutil

from bench.common import load_average, save_result, say
from bench.corpus import write_archive


def _ids(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY article_id").fetchall()]
    finally:
        con.close()


def _tree_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _one(archive: Path, db: Path, executor: str, workers: int, worker_pids: Any,
         shard_bytes: int | None = None) -> dict[str, Any]:
    from flows.backfill import run_backfill
    from flows.shared import load
    from schemas.settings import load_settings

    settings = load_settings(db=db, executor=executor, workers=workers, lake_shard_bytes=shard_bytes)
    me = psutil.Process()
    before_workers = _tree_cpu(worker_pids())
    c0, t0 = me.cpu_times(), time.perf_counter()
    summary = run_backfill([str(archive)], settings, run_id=f"bench-{executor.split(':')[0]}",
                           load_fn=lambda b, s: load.fn(b, s))
    wall = time.perf_counter() - t0
    c1 = me.cpu_times()
    main_cpu = (c1.user + c1.system) - (c0.user + c0.system)
    workers_cpu = _tree_cpu(worker_pids()) - before_workers
    loaded = summary.loaded
    return {
        "executor": executor.split("://")[0],
        "workers": workers,
        "records": summary.read,
        "articles": loaded,
        "wall_s": round(wall, 2),
        "articles_per_s": round(loaded / wall, 1) if wall else None,
        "main_cpu_s_per_article": round(main_cpu / loaded, 4) if loaded else None,
        "workers_cpu_s_per_article": round(workers_cpu / loaded, 4) if loaded else None,
        "load_average": load_average(),
    }


def _on_cluster(archive: Path, db: Path, workers: int, shard_bytes: int) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    from flows.cluster import close_clients

    lc = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", silence_logs=40)
    client = Client(lc.scheduler_address, set_as_default=False)
    try:
        address = "dask://" + lc.scheduler_address.removeprefix("tcp://")
        client.run(lambda: __import__("flows.jobs"))  # workers import the extractors before timing
        pids = list(client.run(os.getpid).values())
        return _one(archive, db, address, workers, lambda: pids, shard_bytes)
    finally:
        close_clients()
        client.close()
        lc.close()


def _commit_again(lake: Path, db: Path) -> dict[str, Any]:
    """The committer alone: every batch of ``lake`` into the empty warehouse ``db``."""
    from flows.committer import commit_all
    from schemas.settings import load_settings
    from warehouse.db import connect_write

    connect_write(db).close()
    settings = load_settings(db=db, lake_uri=f"file://{lake}")
    t0 = time.perf_counter()
    done = commit_all(settings, run_id="bench-commit")
    wall = time.perf_counter() - t0
    tables = ("articles_new", "pages_new", "records_new", "rejects_new", "links_new", "stories_indexed",
              "events_new")
    rows = sum(c.counts.get(k, 0) for c in done for k in tables)
    articles = sum(c.articles for c in done)
    return {"batches": len(done), "articles": articles, "rows": rows, "wall_s": round(wall, 2),
            "rows_per_s": round(rows / wall, 1) if wall else None,
            "articles_per_s": round(articles / wall, 1) if wall else None, "load_average": load_average()}


def run(pages: int, workers: int, shards: int, workdir: Path) -> dict[str, Any]:
    from flows.pool import get_pool, shutdown_pool

    packed = write_archive(workdir / "archive", pages, "jsonl")
    archive = packed.with_name(packed.name.removesuffix(".gz"))  # plain JSONL: byte ranges can be split
    if archive != packed:
        archive.write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    shard_bytes = max(1, archive.stat().st_size // shards)
    say(f"cluster bench: {pages} pages in {archive.name}; {workers} worker(s); ~{shards} shards on the cluster")

    # the pool (its forkserver and every worker it starts, on demand) is this process's only child here
    get_pool(workers).submit(int, 0).result()
    local = _one(archive, workdir / "local" / "n.duckdb", "local", workers,
                 lambda: [c.pid for c in psutil.Process().children(recursive=True)])
    shutdown_pool()
    say(f"  local ({workers} processes): {local}")
    runs: dict[str, Any] = {}
    for n in sorted({1, workers}):
        runs[str(n)] = _on_cluster(archive, workdir / f"dask{n}" / "n.duckdb", n, shard_bytes)
        say(f"  dask ({n} worker(s)): {runs[str(n)]}")
    commit = _commit_again(workdir / f"dask{workers}" / "lake", workdir / "commit" / "n.duckdb")
    say(f"  committer alone: {commit}")
    ids = _ids(workdir / "local" / "n.duckdb")
    same = all(_ids(workdir / f"dask{n}" / "n.duckdb") == ids for n in runs) and _ids(
        workdir / "commit" / "n.duckdb") == ids
    dask = runs[str(workers)]
    one = runs["1"]
    return {"pages": pages, "workers": workers, "shards": shards, "local": local, "dask": dask,
            "dask_by_workers": runs, "commit": commit, "same_article_ids": same,
            "dask_vs_local_rate": round(dask["articles_per_s"] / local["articles_per_s"], 2)
            if local["articles_per_s"] and dask["articles_per_s"] else None,
            "dask_2_vs_1_rate": round(dask["articles_per_s"] / one["articles_per_s"], 2)
            if one["articles_per_s"] and dask["articles_per_s"] and workers > 1 else None}


def _ingest_one(site: Any, feeds_file: Path, db: Path, executor: str, workers: int, worker_pids: Any,
                per_host: int) -> dict[str, Any]:
    from flows.ingest import hourly_ingest

    site.stats(reset=True)
    me = psutil.Process()
    before_workers = _tree_cpu(worker_pids())
    c0, t0 = me.cpu_times(), time.perf_counter()
    summary = hourly_ingest(feeds_file=str(feeds_file), db=str(db), executor=executor)
    wall = time.perf_counter() - t0
    c1 = me.cpu_times()
    main_cpu = (c1.user + c1.system) - (c0.user + c0.system)
    workers_cpu = _tree_cpu(worker_pids()) - before_workers
    peaks = site.peaks()
    requests = site.stats()
    n = int(summary.get("articles_new") or 0)
    busiest = max(peaks.values(), default=0)
    return {
        "executor": executor.split("://")[0],
        "workers": workers,
        "feeds_ok": summary.get("feeds_ok"),
        "pages_fetched": summary.get("pages_fetched"),
        "articles": n,
        "wall_s": round(wall, 2),
        "articles_per_s": round(n / wall, 1) if wall else None,
        "main_cpu_s_per_article": round(main_cpu / n, 4) if n else None,
        "workers_cpu_s_per_article": round(workers_cpu / n, 4) if n else None,
        "requests": requests,
        "max_in_flight_one_host": busiest,
        "hosts_at_the_limit": sum(v == per_host for v in peaks.values()),
        "per_host_limit": per_host,
        "within_per_host_limit": busiest <= per_host,
        "load_average": load_average(),
    }


def run_ingest(feeds: int, items: int, hosts: int, workers: int, workdir: Path) -> dict[str, Any]:
    """The busy-hour-style ingest locally and on Dask clusters of 1 and ``workers`` workers."""
    from distributed import Client, LocalCluster
    from prefect.testing.utilities import prefect_test_harness

    from bench.newsserver import Layout, running
    from flows.cluster import close_clients
    from flows.pool import get_pool, shutdown_pool
    from schemas.settings import load_settings

    # the busy-hour benchmark's politeness; set before any worker process starts (they inherit it)
    os.environ.update(NEWSFLOW_PER_HOST_DELAY="0.25", NEWSFLOW_ALLOW_PRIVATE_NETWORKS="true",
                      NEWSFLOW_WORKERS=str(workers))
    per_host = load_settings().per_host_concurrency
    layout = Layout(feeds=feeds, items=items, hosts=min(hosts, feeds), latency=0.05, slow_hosts=min(3, hosts),
                    slow_latency=0.3)
    say(f"cluster ingest bench: {feeds} feeds x {items} stories on {layout.hosts} hosts; "
        f"per-host limit {per_host}, 0.25 s between starts")
    runs: dict[str, Any] = {}
    with running(layout, workdir / "site") as site, prefect_test_harness(server_startup_timeout=120):
        feeds_file = site.write_feed_list(workdir / "feeds.yaml")
        others = {c.pid for c in psutil.Process().children(recursive=True)}  # news server, Prefect API
        get_pool(workers).submit(int, 0).result()
        runs["local"] = _ingest_one(site, feeds_file, workdir / "ingest-local" / "n.duckdb", "local", workers,
                                    lambda: [c.pid for c in psutil.Process().children(recursive=True)
                                             if c.pid not in others], per_host)
        shutdown_pool()
        say(f"  ingest local ({workers} processes): {runs['local']}")
        for n in sorted({1, workers}):
            lc = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=":0", silence_logs=40)
            client = Client(lc.scheduler_address, set_as_default=False)
            try:
                client.run(lambda: __import__("flows.jobs") and __import__("flows.host_shards"))
                pids = list(client.run(os.getpid).values())
                address = "dask://" + lc.scheduler_address.removeprefix("tcp://")
                runs[f"dask{n}"] = _ingest_one(site, feeds_file, workdir / f"ingest-dask{n}" / "n.duckdb", address,
                                               n, lambda pids=pids: pids, per_host)
            finally:
                close_clients()
                client.close()
                lc.close()
            say(f"  ingest dask ({n} worker(s)): {runs[f'dask{n}']}")
    ids = _ids(workdir / "ingest-local" / "n.duckdb")
    same = all(_ids(workdir / f"ingest-{k}" / "n.duckdb") == ids for k in runs)
    return {"feeds": feeds, "items_per_feed": items, "hosts": layout.hosts, "pages": feeds * items,
            "scale_vs_busy_hour_bench": round(feeds * items / 4000, 3),
            "scale_vs_10x_busy_hour": round(feeds * items / 40000, 4),
            "per_host_delay_s": 0.25, "per_host_limit": per_host, "runs": runs, "same_article_ids": same,
            "max_in_flight_one_host": max(r["max_in_flight_one_host"] for r in runs.values()),
            "within_per_host_limit": all(r["within_per_host_limit"] for r in runs.values())}


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=int(os.environ.get("BENCH_CLUSTER_PAGES", "600")))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shards", type=int, default=12, help="byte-range shards of the archive on the cluster")
    ap.add_argument("--part", choices=("all", "backfill", "ingest"), default="all")
    ap.add_argument("--busy-feeds", type=int, default=100, help="feeds of the busy-hour-style ingest")
    ap.add_argument("--busy-items", type=int, default=4, help="new stories per feed in that ingest")
    ap.add_argument("--busy-hosts", type=int, default=50, help="loopback hosts the feeds are spread over")
    args = ap.parse_args()
    # quiet Prefect, no telemetry (the temporary API's SQLite file is not to be written to by it)
    os.environ.update(PREFECT_LOGGING_LEVEL="ERROR", PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    work = Path(tempfile.mkdtemp(prefix="newsflow-cluster-bench-"))
    res: dict[str, Any] = {}
    try:
        if args.part in ("all", "backfill"):
            res = run(args.pages, args.workers, args.shards, work)
        if args.part in ("all", "ingest"):
            res["ingest"] = run_ingest(args.busy_feeds, args.busy_items, args.busy_hosts, args.workers, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.part == "ingest":  # keep the backfill figures of an earlier run beside the new ingest ones
        from bench.common import RESULTS_DIR

        earlier = RESULTS_DIR / "cluster.json"
        if earlier.exists():
            kept = json.loads(earlier.read_text(encoding="utf-8"))
            first = kept.pop("backfill_measured_at", None)
            kept["backfill_measured_at"] = first or kept.pop("measured_at", None)
            kept.pop("measured_at", None)
            kept.pop("benchmark", None)
            kept.pop("machine", None)
            res = {**kept, **res}
    path = save_result("cluster", res)
    say(f"cluster bench: written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
