"""Benchmark 3: one hourly run in a busy hour, against the bound set by CPU and politeness.

A local news web (``bench.newsserver``: many loopback hosts, 50 ms added per request, a few
slow hosts) serves 200 feeds × 20 new stories. The real ``hourly_ingest`` flow runs once in a
fresh process against a running Prefect API, into an empty database, with its tasks timed
(poll, parse, fetch, extract, load) and the extraction workers' CPU time measured.

The bound: ``max(extraction CPU ÷ cores, fetch time that politeness allows)``, where the
politeness time of a host is ``max((requests − 1) × per-host delay, requests × latency ÷
per-host concurrency) + latency`` (requests = its feeds, its new pages and one robots.txt),
taken over the busiest host and never below what the global concurrency cap allows.
Target: wall ≤ 1.25 × bound.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.backfill import flow_env
from bench.common import cores, load_average, ratio, run_child, save_result, say, tree_cpu_s
from bench.newsserver import Layout, running

TARGET = 1.25


def politeness_bound(layout: Layout, *, delay: float, per_host: int, global_cap: int,
                     pages_per_feed: int | None = None, robots: bool = True) -> dict[str, float]:
    """Shortest fetch time (poll + pages) the per-host rules allow for this layout."""
    items = layout.items if pages_per_feed is None else pages_per_feed
    worst = 0.0
    total_busy = 0.0
    for h in range(layout.hosts):
        n_feeds = len(layout.feeds_on(h))
        if not n_feeds:
            continue
        lat = layout.host_latency(h)
        reqs = n_feeds + n_feeds * items + (1 if robots and items else 0)
        host_t = max((reqs - 1) * delay, reqs * lat / per_host) + lat
        worst = max(worst, host_t)
        total_busy += reqs * lat
    return {"busiest_host_s": round(worst, 3), "global_cap_s": round(total_busy / global_cap, 3),
            "fetch_bound_s": round(max(worst, total_busy / global_cap), 3)}


def run(*, workdir: Path, api_url: str | None, api_pid: int | None = None, feeds: int = 200, items: int = 20, hosts: int = 50,
        latency: float = 0.05, slow_hosts: int = 3, slow_latency: float = 0.3, per_host_delay: float = 0.25,
        profile: bool = False, results_dir: Path | None = None) -> dict[str, Any]:
    from bench.common import RESULTS_DIR
    from schemas.settings import Settings

    workdir.mkdir(parents=True, exist_ok=True)
    layout = Layout(feeds=feeds, items=items, hosts=min(hosts, feeds), latency=latency,
                    slow_hosts=min(slow_hosts, hosts), slow_latency=slow_latency)
    n_cores = cores()
    env_extra = {"NEWSFLOW_PER_HOST_DELAY": str(per_host_delay)}
    env = flow_env(api_url, workdir / "prefect-client", env_extra)
    settings = Settings.model_construct()  # defaults for the caps the bound uses
    per_host = int(env.get("NEWSFLOW_PER_HOST_CONCURRENCY", settings.per_host_concurrency))
    global_cap = int(env.get("NEWSFLOW_GLOBAL_CONCURRENCY", settings.global_concurrency))
    t0 = time.perf_counter()
    with running(layout, workdir / "site") as site:
        setup_s = time.perf_counter() - t0
        feeds_file = site.write_feed_list(workdir / "feeds.yaml")
        db = workdir / "busy.duckdb"
        db.unlink(missing_ok=True)
        site.stats(reset=True)
        prof = (results_dir or RESULTS_DIR) / "profile_busy_hour_main.txt" if profile else None
        args = ["ingest", "--db", str(db), "--feeds", str(feeds_file)]
        if prof is not None:
            args += ["--profile", str(prof)]
        load_before = load_average()
        # the other processes on the same cores during the run: the news server (which a real
        # busy hour would not have here) and the Prefect server the flow reports to
        site_cpu0, api_cpu0 = tree_cpu_s(site.pid), tree_cpu_s(api_pid)
        child = run_child(args, env=env, sample_rss=True)
        site_cpu1, api_cpu1 = tree_cpu_s(site.pid), tree_cpu_s(api_pid)
        requests = site.stats()
    res = child.result
    summ = res["summary"]
    tasks = res["tasks_s"]
    wall = res["flow_wall_s"]
    cpu = res.get("extract_workers_cpu_s", 0.0)
    bound = politeness_bound(layout, delay=per_host_delay, per_host=per_host, global_cap=global_cap)
    cpu_bound = cpu / n_cores
    limit = max(cpu_bound, bound["fetch_bound_s"])
    site_cpu = None if site_cpu0 is None or site_cpu1 is None else round(site_cpu1 - site_cpu0, 3)
    api_cpu = None if api_cpu0 is None or api_cpu1 is None else round(api_cpu1 - api_cpu0, 3)
    # all the CPU the run needed on these cores; spread perfectly over them it takes this long
    all_cpu = cpu + res["main_cpu_s"] + (site_cpu or 0.0) + (api_cpu or 0.0)
    phases = {k: tasks.get(k, 0.0) for k in ("poll_feeds", "parse_feeds", "fetch_pages", "extract_pages", "load")}
    data: dict[str, Any] = {
        "feeds": feeds, "items_per_feed": items, "hosts": layout.hosts, "latency_s": latency,
        "slow_hosts": layout.slow_hosts, "slow_latency_s": slow_latency, "per_host_delay_s": per_host_delay,
        "per_host_concurrency": per_host, "global_concurrency": global_cap,
        "articles": summ.get("articles_new"), "pages_fetched": summ.get("pages_fetched"),
        "rejects": summ.get("rejects"), "requests": requests,
        "flow_wall_s": wall, "process_wall_s": round(child.wall, 3), "import_s": res["import_s"],
        "phases_s": phases,
        "other_tasks_s": {k: v for k, v in tasks.items() if k not in phases},
        "unaccounted_s": round(wall - sum(tasks.values()), 3),
        "extract_workers_cpu_s": cpu, "extract_main_cpu_s": res.get("extract_main_cpu_s"),
        "extract_cpu_ms_per_page": round(1000 * cpu / max(summ.get("pages_fetched") or 1, 1), 2),
        "main_cpu_s": res["main_cpu_s"],
        "news_server_cpu_s": site_cpu, "prefect_server_cpu_s": api_cpu,
        "all_cpu_s": round(all_cpu, 3), "all_cpu_bound_s": round(all_cpu / n_cores, 3),
        "all_cpu_bound_to_bound": ratio(all_cpu / n_cores, max(cpu_bound, bound["fetch_bound_s"])),
        "cores_busy": round(all_cpu / (n_cores * wall), 3) if wall else None,
        "cpu_bound_s": round(cpu_bound, 3), **bound, "bound_s": round(limit, 3),
        "ratio_to_bound": ratio(wall, limit), "target": TARGET,
        "met": bool(limit) and wall <= TARGET * limit,
        "cores": n_cores, "server_setup_s": round(setup_s, 1),
        "load_average_before": load_before, "load_average_after": load_average(),
        **child.memory,
    }
    if prof is not None:
        data["profile"] = str(prof)
    save_result("busy_hour", data, results_dir)
    say(f"busy hour: {data['articles']} articles from {feeds} feeds in {wall:.1f}s (poll {phases['poll_feeds']:.1f}, "
        f"fetch {phases['fetch_pages']:.1f}, extract {phases['extract_pages']:.1f}, load {phases['load']:.1f}); "
        f"bound max(cpu {cpu_bound:.1f}, politeness {bound['fetch_bound_s']:.1f}) = {limit:.1f}s; "
        f"ratio {data['ratio_to_bound']} (target <= {TARGET}); all CPU of the run {all_cpu:.1f}s "
        f"(news server {site_cpu}, Prefect server {api_cpu}) ÷ {n_cores} cores = "
        f"{data['all_cpu_bound_to_bound']} × bound, cores busy {data['cores_busy']}")
    return data
