"""The deployment for real: a `prefect server` on 127.0.0.1, `prefect deploy` from the repo's
prefect.yaml, a triggered run picked up by a process worker, articles in DuckDB.

Also `scripts/serve.sh` (`make serve`): it brings up server, pool, deployment and worker,
and Ctrl-C takes all of them down again.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import psutil
import pytest
from lxml import html as lxml_html
from pytest_httpserver import HTTPServer

from tests.flows.deploy_harness import (
    PrefectServer,
    deploy_all,
    flow_run_id_from,
    free_port,
    isolated_env,
    kill_tree,
    prefect_server,
    prefect_worker,
    run_cli,
    tail,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "deploy"
POOL = "newsflow-process"
DEPLOYMENT = "hourly-ingest"
SLUGS = ("ferry-service-resumes", "library-study-hall", "record-spring-catch")
RUN_TIMEOUT = 120.0


def _story_paragraphs(slug: str) -> list[str]:
    """The story text of one fixture page: the article's unclassed paragraphs."""
    tree = lxml_html.fromstring((FIXTURES / f"{slug}.html").read_bytes())
    return [" ".join(p.text_content().split()) for p in tree.xpath("//article/p[not(@class)]")]


@pytest.fixture
def news_site() -> Iterator[HTTPServer]:
    """A small news site on 127.0.0.1: robots.txt, one RSS feed, three article pages."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    base = server.url_for("/").rstrip("/")
    feed = (FIXTURES / "feed.xml").read_text(encoding="utf-8").replace("__BASE__", base)
    server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nAllow: /\n", content_type="text/plain"
    )
    server.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    for slug in SLUGS:
        server.expect_request(f"/news/{slug}").respond_with_data(
            (FIXTURES / f"{slug}.html").read_bytes(), content_type="text/html; charset=utf-8"
        )
    try:
        yield server
    finally:
        server.clear()
        server.stop()


async def _read_deployment(api_url: str) -> tuple[Any, Any, str]:
    """The deployment named hourly-ingest, its work pool, and its flow's name, as the API sees them."""
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    async with PrefectClient(api_url) as client:
        found = await client.read_deployments(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[DEPLOYMENT])),
        )
        assert len(found) == 1, f"expected one {DEPLOYMENT} deployment, got {[d.name for d in found]}"
        deployment = found[0]
        assert deployment.work_pool_name, "deployment has no work pool"
        pool = await client.read_work_pool(deployment.work_pool_name)
        flow = await client.read_flow(deployment.flow_id)
        return deployment, pool, flow.name


async def _read_by_name(api_url: str, name: str) -> Any:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        return await client.read_deployment_by_name(name)


async def _read_flow_run(api_url: str, flow_run_id: str) -> Any:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        return await client.read_flow_run(UUID(flow_run_id))


def _wait_for_final_state(
    srv: PrefectServer, flow_run_id: str, worker: subprocess.Popen[bytes], log: Path
) -> Any:
    """Poll the flow run until it is final; fail early (with the worker's log) if the worker dies."""
    deadline = time.monotonic() + RUN_TIMEOUT
    run = asyncio.run(_read_flow_run(srv.api_url, flow_run_id))
    while not run.state.is_final():
        if worker.poll() is not None:
            pytest.fail(f"worker exited {worker.returncode} before the run finished:\n{tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"flow run still {run.state.name} after {RUN_TIMEOUT:.0f}s:\n{tail(log)}")
        time.sleep(1.0)
        run = asyncio.run(_read_flow_run(srv.api_url, flow_run_id))
    return run


def _check_deployment(deployment: Any, pool: Any) -> None:
    assert deployment.entrypoint == "flows/ingest.py:hourly_ingest"
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules] == [
        ("0 * * * *", "UTC", True)
    ]
    assert deployment.global_concurrency_limit is not None, "deployment has no concurrency limit"
    assert deployment.global_concurrency_limit.limit == 1
    assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert deployment.work_pool_name == POOL
    assert pool.type == "process"
    # The worker runs the flow from the directory `prefect deploy` ran in: this checkout.
    steps = deployment.pull_steps or []
    directories = [s["prefect.deployments.steps.set_working_directory"]["directory"] for s in steps]
    assert [Path(d).resolve() for d in directories] == [ROOT]


def test_deployment_runs_on_a_real_server(tmp_path: Path, news_site: HTTPServer) -> None:
    feeds_file = tmp_path / "feeds.yaml"
    feed_url = news_site.url_for("/feed.xml")
    feeds_file.write_text(
        f"feeds:\n  - url: {feed_url}\n    name: Harbour Town Chronicle\n", encoding="utf-8"
    )
    db = tmp_path / "data" / "newsflow.duckdb"

    with prefect_server(tmp_path / "prefect") as srv:
        run_cli(["work-pool", "create", POOL, "--type", "process"], srv.env, tmp_path, timeout=60)
        deploy_all(srv.env, ROOT)
        deployment, pool, flow_name = asyncio.run(_read_deployment(srv.api_url))
        _check_deployment(deployment, pool)

        params = {"feeds_file": str(feeds_file), "db": str(db)}
        out = run_cli(
            ["deployment", "run", f"{flow_name}/{DEPLOYMENT}", "--params", json.dumps(params)],
            srv.env,
            tmp_path,
            timeout=60,
        )
        flow_run_id = flow_run_id_from(out)

        worker_env = dict(
            srv.env,
            NEWSFLOW_ALLOW_PRIVATE_NETWORKS="true",
            NEWSFLOW_PER_HOST_DELAY="0",
            NEWSFLOW_WORKERS="2",
            PREFECT_WORKER_QUERY_SECONDS="2",
        )
        worker_log = tmp_path / "worker.log"
        with prefect_worker(POOL, worker_env, tmp_path, worker_log) as worker:
            run = _wait_for_final_state(srv, flow_run_id, worker, worker_log)
        assert run.state.is_completed(), (
            f"run ended {run.state.name}: {run.state.message}\n{tail(worker_log)}"
        )
        assert run.deployment_id == deployment.id
        assert run.parameters == params

    assert db.exists(), "the run wrote no database at the path given as a run-time parameter"
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT url, text, run_id, origin, feed_url FROM articles ORDER BY url"
        ).fetchall()
        rejects = conn.execute("SELECT stage, url, reason, message FROM rejects").fetchall()
        run_row = conn.execute(
            "SELECT articles_new, feeds_failed FROM runs WHERE run_id = ?", [flow_run_id]
        ).fetchone()

    assert len(rows) == len(SLUGS), f"articles: {[r[0] for r in rows]}; rejects: {rejects}"
    by_slug = {
        url.rsplit("/", 1)[-1]: (url, text, run_id, origin, feed) for url, text, run_id, origin, feed in rows
    }
    assert sorted(by_slug) == sorted(SLUGS)
    for slug, (url, text, run_id, origin, feed) in by_slug.items():
        assert "utm_" not in url
        assert (run_id, origin, feed) == (flow_run_id, "rss", feed_url)
        flat = " ".join(text.split())
        for paragraph in _story_paragraphs(slug):
            assert paragraph in flat, f"{slug}: story paragraph missing from stored text"
    assert run_row == (len(SLUGS), 0), "runs row for this flow run"


# --------------------------------------------------------------------------- make serve


def _wait_for_output(proc: subprocess.Popen[bytes], log: Path, pattern: str, timeout: float) -> None:
    """Wait until the script's output (a file, so it can never block the script) matches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, log.read_text(errors="replace")):
            return
        if proc.poll() is not None:
            pytest.fail(f"serve.sh exited {proc.returncode} early:\n{tail(log)}")
        time.sleep(0.5)
    pytest.fail(f"no output matching {pattern!r} within {timeout:.0f}s:\n{tail(log)}")


async def _online_workers(api_url: str) -> list[str]:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        workers = await client.read_workers_for_work_pool(POOL)
        return [w.name for w in workers if str(w.status.value if w.status else "") == "ONLINE"]


def test_make_serve_brings_everything_up_and_down(tmp_path: Path) -> None:
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = isolated_env(
        tmp_path / "unused-home",
        api_url,
        {
            "NEWSFLOW_PREFECT_PORT": str(port),
            "NEWSFLOW_PREFECT_HOME": str(tmp_path / "prefect-home"),
            "NEWSFLOW_PREFECT_LOG": str(tmp_path / "server.log"),
            # Only this test's server: no scheduled run may start against the repo's defaults.
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            "PREFECT_WORKER_HEARTBEAT_SECONDS": "5",
        },
    )
    out = tmp_path / "serve.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "serve.sh")],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    family: list[psutil.Process] = []
    try:
        _wait_for_output(proc, out, r"worker polling", timeout=150)
        said = out.read_text(errors="replace")
        assert "Traceback" not in said and re.search(r"serve: deployed \S", said), tail(out)
        # set-up says one line per step; Prefect's own output is in the logs
        setup = said.split("worker polling")[0].splitlines()
        assert all(ln.startswith("serve: ") for ln in setup if ln.strip()), tail(out)
        assert "created work pool 'newsflow-process'" in said, tail(out)
        deployment, pool, _ = asyncio.run(_read_deployment(api_url))
        _check_deployment(deployment, pool)
        # every deployment of prefect.yaml, not only the first (`prefect deploy --all` stops there)
        assert re.search(r"deployed \S+/hourly-ingest, \S+/backfill-shard, \S+/lake-commit ", said), tail(out)
        commit = asyncio.run(_read_by_name(api_url, "lake-commit/lake-commit"))
        assert commit.global_concurrency_limit is not None and commit.global_concurrency_limit.limit == 1
        assert commit.work_pool_name == POOL
        deadline = time.monotonic() + 60
        while not asyncio.run(_online_workers(api_url)):
            assert time.monotonic() < deadline, f"no online worker:\n{tail(out)}"
            time.sleep(1.0)
        assert (tmp_path / "prefect-home" / "prefect.db").exists(), "served instance should use its own home"

        family = psutil.Process(proc.pid).children(recursive=True)
        assert family, "serve.sh started no processes"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        proc.wait(timeout=40)
        assert "stopping Prefect server" in out.read_text(), tail(out)
        _, alive = psutil.wait_procs(family, timeout=10)
        assert not alive, f"left running after Ctrl-C: {[p.pid for p in alive]}"
    finally:
        kill_tree(proc)
        for p in family:
            if p.is_running():
                p.kill()
