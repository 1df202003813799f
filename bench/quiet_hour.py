"""Benchmark 4: an hourly run in a quiet hour, when none of 500 feeds changed.

The local news web serves 500 feeds (half answer 304 to a conditional GET, half send the
same body again without validators, which the body-hash check must catch). A first run
primes the warehouse; the second run is the one measured: a fresh process (as the deployed
worker starts one per flow run) against the running Prefect API, timing the flow run itself,
counting every request the server saw (no page, no robots.txt may be fetched) and every row
that changed in the warehouse (only the run record may be new).

Separately, the CLI as a user types it (``newsflow ingest``) is timed end to end on the same
quiet hour: with the API of the running server, and with Prefect's ephemeral API (a
temporary server started by the command: cold = first use of a Prefect home, warm = again);
and so is the small backfill a user starts with (``newsflow backfill data/seed_archive`` into
a new database), with each API. Target for both with a running server: < 3 s.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.backfill import flow_env
from bench.common import PY, ROOT, load_average, run_child, save_result, say
from bench.newsserver import Layout, running

TARGET_S = 10.0
CLI_TARGET_S = 3.0  # whole command with a running server: quiet-hour ingest, small backfill
TABLES = ("feeds", "articles", "article_feeds", "raw_pages", "runs", "rejects", "archive_records")


def snapshot(db: Path) -> dict[str, Any]:
    """Row counts of every table, and the feeds table's rows (for changed-row counting)."""
    from warehouse.db import connect_read

    conn = connect_read(db)
    try:
        counts = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}  # type: ignore[index]
        cols = [r[0] for r in conn.execute("DESCRIBE feeds").fetchall()]
        feeds = {r[0]: dict(zip(cols, r, strict=True)) for r in conn.execute("SELECT * FROM feeds").fetchall()}
    finally:
        conn.close()
    return {"counts": counts, "feeds": feeds}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    new_rows = {t: after["counts"][t] - before["counts"][t] for t in TABLES}
    changed = 0
    columns: dict[str, int] = {}
    for url, row in after["feeds"].items():
        old = before["feeds"].get(url)
        if old is None:
            continue
        diffs = [c for c in row if row[c] != old.get(c)]
        if diffs:
            changed += 1
            for c in diffs:
                columns[c] = columns.get(c, 0) + 1
    return {"new_rows": new_rows, "feeds_rows_changed": changed, "feeds_columns_changed": columns}


CLI_SERVER_RUNS = 3  # the command with a server is timed this many times (median reported)


def _cli(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    wall, rc, out, _ = _cli_cpu(args, env)
    return wall, rc, out


def _cli_cpu(args: list[str], env: dict[str, str]) -> tuple[float, int, str, float]:
    """The command's wall, exit code, output tail, and the CPU seconds of its processes (itself
    and the children it waited for, e.g. the early poll's): a figure other jobs' load inflates
    far less than the wall."""
    import resource

    exe = str(Path(PY).parent / "newsflow")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, done.returncode, (done.stdout + done.stderr)[-1500:], cpu


def run(*, workdir: Path, api_url: str | None, feeds: int = 500, items: int = 3, hosts: int = 100,
        latency: float = 0.05, per_host_delay: float = 0.25, cli: bool = True, profile: bool = False,
        results_dir: Path | None = None) -> dict[str, Any]:
    from bench.common import RESULTS_DIR

    workdir.mkdir(parents=True, exist_ok=True)
    layout = Layout(feeds=feeds, items=items, hosts=min(hosts, feeds), latency=latency)
    env = flow_env(api_url, workdir / "prefect-client", {"NEWSFLOW_PER_HOST_DELAY": str(per_host_delay)})
    db = workdir / "quiet.duckdb"
    db.unlink(missing_ok=True)
    with running(layout, workdir / "site") as site:
        feeds_file = site.write_feed_list(workdir / "feeds.yaml")
        base = ["ingest", "--db", str(db), "--feeds", str(feeds_file)]
        site.stats(reset=True)
        prime = run_child(base, env=env)
        prime_requests = site.stats(reset=True)
        say(f"quiet hour: primed {prime.result['summary'].get('articles_new')} articles from {feeds} feeds "
            f"in {prime.result['flow_wall_s']:.1f}s")

        before = snapshot(db)
        prof = (results_dir or RESULTS_DIR) / "profile_quiet_hour_main.txt" if profile else None
        measured = run_child([*base, "--profile", str(prof)] if prof else base, env=env)
        requests = site.stats(reset=True)
        changes = diff(before, snapshot(db))
        res = measured.result

        cli_figs: dict[str, Any] = {}
        if cli:
            cli_args = ["--db", str(db), "ingest", "--feeds", str(feeds_file)]
            if api_url:
                loads, walls, cpus, rcs = [load_average()], [], [], []
                for _ in range(CLI_SERVER_RUNS):
                    wall, rc, out, cpu = _cli_cpu(cli_args, env)
                    walls.append(round(wall, 2))
                    cpus.append(round(cpu, 2))
                    rcs.append(rc)
                    loads.append(load_average())
                cli_figs["cli_with_server_api_s"] = statistics.median(walls)
                cli_figs["cli_with_server_api_runs_s"] = walls
                cli_figs["cli_with_server_api_cpu_s"] = statistics.median(cpus)
                cli_figs["cli_with_server_api_load_average"] = [min(loads), max(loads)]
                cli_figs["cli_with_server_api_rc"] = max(rcs, key=abs)
            eph = dict(env)
            eph.pop("PREFECT_API_URL", None)
            eph["NEWSFLOW_PREFECT_PROBE"] = "false"  # truly the fallback, whatever answers on :4200
            eph["PREFECT_HOME"] = str(workdir / "prefect-ephemeral-home")
            for label in ("cold", "warm"):
                wall, rc, out = _cli(cli_args, eph)
                cli_figs[f"cli_ephemeral_{label}_s"] = round(wall, 2)
                cli_figs[f"cli_ephemeral_{label}_rc"] = rc
                if rc != 0:
                    cli_figs[f"cli_ephemeral_{label}_output"] = out
            cli_figs["cli_requests"] = site.stats(reset=True)
            # the small backfill a user starts with: the sample archive into a new database
            seed = ROOT / "data" / "seed_archive"
            for label, e in ((("server", env),) if api_url else ()) + (("ephemeral", eph),):
                seed_db = workdir / f"seed-{label}.duckdb"
                wall, rc, out = _cli(["--db", str(seed_db), "backfill", str(seed)], e)
                cli_figs[f"cli_backfill_seed_{label}_s"] = round(wall, 2)
                cli_figs[f"cli_backfill_seed_{label}_rc"] = rc
                if rc != 0:
                    cli_figs[f"cli_backfill_seed_{label}_output"] = out
            t0 = time.perf_counter()
            subprocess.run([PY, "-c", "import flows.ingest"], env=env, check=True, timeout=300)
            cli_figs["python_import_flows_ingest_s"] = round(time.perf_counter() - t0, 2)
            if api_url:
                cli_figs["cli_target_s"] = CLI_TARGET_S
                cli_figs["cli_met"] = (cli_figs.get("cli_with_server_api_s", 1e9) < CLI_TARGET_S
                                       and cli_figs.get("cli_backfill_seed_server_s", 1e9) < CLI_TARGET_S)
            if "cli_with_server_api_s" in cli_figs:
                cli_figs["ephemeral_api_startup_s"] = round(
                    cli_figs["cli_ephemeral_warm_s"] - cli_figs["cli_with_server_api_s"], 2)

    page_requests = requests.get("page", 0) + requests.get("robots", 0)
    other_new = {t: n for t, n in changes["new_rows"].items() if t != "runs" and n}
    wall = res["flow_wall_s"]
    data: dict[str, Any] = {
        "feeds": feeds, "hosts": layout.hosts, "latency_s": latency, "per_host_delay_s": per_host_delay,
        "prime_flow_wall_s": prime.result["flow_wall_s"], "prime_requests": prime_requests,
        "flow_wall_s": wall, "process_wall_s": round(measured.wall, 2), "import_s": res["import_s"],
        "tasks_s": res["tasks_s"], "main_cpu_s": res["main_cpu_s"],
        "requests": requests, "page_requests": page_requests,
        "summary": {k: res["summary"].get(k) for k in ("feeds_total", "feeds_ok", "feeds_unchanged",
                                                        "feeds_failed", "articles_new", "pages_fetched")
                    if k in res["summary"]},
        **changes,
        "rows_written_besides_run": sum(other_new.values()),
        "target_s": TARGET_S,
        "met": wall < TARGET_S and page_requests == 0 and not other_new and changes["new_rows"]["runs"] == 1,
        "prefect_api": "running server" if api_url else "ephemeral",
        "load_average": load_average(),
        **cli_figs,
    }
    if prof is not None:
        data["profile"] = str(prof)
    save_result("quiet_hour", data, results_dir)
    say(f"quiet hour: flow run {wall:.2f}s (process {measured.wall:.1f}s), {requests.get('feed', 0)} feed bodies + "
        f"{requests.get('feed_304', 0)} x 304, {page_requests} page requests, new rows {changes['new_rows']}, "
        f"feed rows changed {changes['feeds_rows_changed']}; target < {TARGET_S}s"
        + (f"; CLI ephemeral cold {cli_figs.get('cli_ephemeral_cold_s')}s warm {cli_figs.get('cli_ephemeral_warm_s')}s"
           f", with server {cli_figs.get('cli_with_server_api_s')}s; CLI backfill of the sample archive: server "
           f"{cli_figs.get('cli_backfill_seed_server_s')}s, ephemeral {cli_figs.get('cli_backfill_seed_ephemeral_s')}s"
           if cli else ""))
    return data
