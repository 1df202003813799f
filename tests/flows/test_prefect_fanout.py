"""The backfill fanned out over Prefect workers for real: a `prefect server` on 127.0.0.1, the
repo's deployments (`prefect deploy --name` for each, as `make serve` does), two `prefect worker start`
processes on one process pool, and `newsflow backfill --executor prefect`.

One worker is killed mid-run with SIGKILL together with the flow-run process it started for a
shard (what a lost machine or container does; a worker killed alone leaves its flow-run process
to finish and report by itself). The server keeps that shard's run PENDING or RUNNING for ever;
the fan-out notices the worker's silence, marks the run CRASHED and runs the shard again on the
other worker.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.flows.deploy_harness import (
    PrefectServer,
    deploy_all,
    prefect_server,
    prefect_worker,
    run_cli,
    tail,
)
from tests.flows.site import editions_archive
from tests.support.cli import ROOT, child_env
from tests.support.dbrows import rows as _rows

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

POOL = "newsflow-process"
WORKERS = ("worker-a", "worker-b")
ARTICLES = 20  # in 4 or 5 shards: each shard run costs a process start (~5-10 s) on its worker


async def _runs(api_url: str, flow_name: str) -> list[Any]:
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async with PrefectClient(api_url) as client:
        return await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                                           limit=200, offset=0, sort=FlowRunSort.EXPECTED_START_TIME_ASC)


async def _history(api_url: str, flow_run_id: Any) -> list[Any]:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        return await client.read_flow_run_states(flow_run_id)


async def _deployment(api_url: str, name: str) -> Any:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        return await client.read_deployment_by_name(name)


async def _online(api_url: str) -> list[str]:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        found = await client.read_workers_for_work_pool(POOL, limit=10, offset=0)
        return [w.name for w in found if w.status is not None and w.status.value == "ONLINE"]


def _run_processes(worker: subprocess.Popen[bytes], flow_run_id: Any) -> list[psutil.Process]:
    """The worker's child processes executing one flow run (each has the run's id in its environment)."""
    found = []
    with suppress(psutil.Error):
        for p in psutil.Process(worker.pid).children(recursive=True):
            with suppress(psutil.Error):
                if p.environ().get("PREFECT__FLOW_RUN_ID") == str(flow_run_id):
                    found.append(p)
    return found


def _kill_host(worker: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL a worker and everything under it (its flow-run processes), as a lost host would."""
    root = psutil.Process(worker.pid)
    family = [root, *root.children(recursive=True)]
    for p in family:
        with suppress(psutil.NoSuchProcess):
            p.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    return [p.pid for p in family]


def _kill_a_busy_worker(srv: PrefectServer, workers: dict[str, subprocess.Popen[bytes]], lake: Path,
                        backfill: subprocess.Popen[str], log: Path) -> dict[str, Any]:
    """Once a shard batch is finished, kill a worker that holds another shard's run (returns what was
    killed). The kill lands while the run is PENDING with its flow-run process started (importing,
    running the pull step: most of a small shard's run); RUNNING lasts a second or two here, too
    short to land a kill in reliably."""
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        if backfill.poll() is not None:
            pytest.fail(f"the backfill ended before a worker could be killed:\n{tail(log)}")
        if list(lake.glob("batches/*/_SUCCESS")):
            for run in asyncio.run(_runs(srv.api_url, "backfill-shard")):
                holder = (run.labels or {}).get("prefect.worker.name")
                if run.state and run.state.type.value == "PENDING" and holder in workers:
                    engine = _run_processes(workers[holder], run.id)
                    if not engine:  # its flow-run process is not started yet
                        continue
                    done = len(list(lake.glob("batches/*/_SUCCESS")))
                    return {"worker": holder, "run": run.id, "batch": run.parameters["batch_id"],
                            "batches_done": done, "engine": [p.pid for p in engine],
                            "killed": _kill_host(workers[holder])}
        time.sleep(0.2)
    pytest.fail(f"no shard run was ever PENDING on a worker:\n{tail(log)}")


def _articles(db: Path) -> list[tuple[Any, ...]]:
    return _rows(db, "SELECT article_id, title, text FROM articles ORDER BY article_id")


def test_backfill_fans_out_over_two_prefect_workers_and_survives_one_killed(tmp_path: Path) -> None:
    archive = editions_archive(tmp_path / "archive", copies=ARTICLES // 5)
    local_db, fan_db = tmp_path / "local" / "n.duckdb", tmp_path / "fan" / "n.duckdb"
    lake = fan_db.parent / "lake"
    t0 = time.monotonic()
    marks: dict[str, float] = {}
    # a lost concurrency slot is asked for again after 1 s (default 30 s)
    with prefect_server(tmp_path / "prefect",
                        extra={"PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "1"}) as srv:
        run_cli(["work-pool", "create", POOL, "--type", "process"], srv.env, tmp_path, timeout=60)
        env = child_env(**srv.env, NEWSFLOW_WORKERS="1", NEWSFLOW_LAKE_SHARD_BYTES=str(archive.stat().st_size // 4))
        worker_env = dict(env, PREFECT_WORKER_HEARTBEAT_SECONDS="2", PREFECT_WORKER_QUERY_SECONDS="1")
        with ExitStack() as stack:
            # the workers start, and the reference run goes, while the deployments are made
            workers = {n: stack.enter_context(prefect_worker(POOL, worker_env, tmp_path, tmp_path / f"{n}.log",
                                                             "--name", n, "--limit", "1"))
                       for n in WORKERS}
            local = subprocess.Popen([sys.executable, "-m", "newsflow", "backfill", str(archive), "--db", str(local_db),
                                      "--executor", "local", "-q"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
            deploy_all(srv.env, ROOT, names=["backfill-shard", "lake-commit"])
            out, _ = local.communicate(timeout=180)
            assert local.returncode == 0, out
            shard_dep = asyncio.run(_deployment(srv.api_url, "backfill-shard/backfill-shard"))
            commit_dep = asyncio.run(_deployment(srv.api_url, "lake-commit/lake-commit"))
            assert shard_dep.work_pool_name == commit_dep.work_pool_name == POOL
            assert commit_dep.global_concurrency_limit is not None
            assert commit_dep.global_concurrency_limit.limit == 1
            assert commit_dep.concurrency_options.collision_strategy.value == "ENQUEUE"

            marks["ready"] = time.monotonic() - t0
            log = tmp_path / "backfill.log"
            with log.open("w") as sink:
                proc = subprocess.Popen([sys.executable, "-m", "newsflow", "backfill", str(archive), "--db",
                                         str(fan_db), "--executor", "prefect", "-q"], cwd=ROOT, env=env,
                                        stdout=sink, stderr=subprocess.STDOUT, text=True)
            try:
                killed = _kill_a_busy_worker(srv, workers, lake, proc, log)
                proc.wait(timeout=200)
            finally:
                if proc.poll() is None:
                    proc.kill()
            marks["fanout"] = time.monotonic() - t0
            said = log.read_text()
            assert proc.returncode == 0, said + "\n".join(tail(tmp_path / f"{n}.log") for n in WORKERS)
            assert set(killed["engine"]) <= set(killed["killed"])
            survivor = next(n for n in WORKERS if n != killed["worker"])
            assert workers[survivor].poll() is None

            # the lost run was marked CRASHED and its shard ran again, on the surviving worker
            shard_runs = asyncio.run(_runs(srv.api_url, "backfill-shard"))
            lost = next(r for r in shard_runs if r.id == killed["run"])
            assert lost.state.type.value == "CRASHED" and killed["worker"] in (lost.state.message or ""), lost.state
            again = [r for r in shard_runs if r.parameters["batch_id"] == killed["batch"] and r.id != killed["run"]]
            assert [(r.state.type.value, r.labels.get("prefect.worker.name")) for r in again] == \
                [("COMPLETED", survivor)]
            # every shard ran as a flow run on the workers, both of them took some
            batches = sorted(p.parent.name for p in lake.glob("batches/*/_SUCCESS"))
            assert len(batches) >= 4 and killed["batches_done"] < len(batches)
            done = [r for r in shard_runs if r.state.type.value == "COMPLETED"]
            assert sorted(r.parameters["batch_id"] for r in done) == batches
            assert {r.labels.get("prefect.worker.name") for r in shard_runs} == set(WORKERS)
            # the lake batches were written by the flow-run processes the workers started, not by the backfill
            writers = {json.loads((lake / "batches" / b / "_SUCCESS").read_text())["summary"]["worker_pid"]
                       for b in batches}
            assert proc.pid not in writers
            # one commit run, on a worker
            commits = asyncio.run(_runs(srv.api_url, "lake-commit"))
            assert [(c.state.type.value, c.labels.get("prefect.worker.name")) for c in commits] == \
                [("COMPLETED", survivor)]

            # every article exactly once, the same as the local run; no partial batch
            assert _rows(fan_db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(ARTICLES, ARTICLES)]
            assert _rows(fan_db, "SELECT count(*), count(DISTINCT record_id) FROM archive_records") == [(ARTICLES, ARTICLES)]
            assert _articles(fan_db) == _articles(local_db)
            assert _rows(fan_db, "SELECT list(batch_id ORDER BY batch_id), sum(records) FROM lake_batches") == \
                [(batches, ARTICLES)]
            assert f"loaded {ARTICLES}" in said, said

            # the committer's concurrency limit: two commit runs started together, two workers
            # free, still one after the other
            stack.enter_context(prefect_worker(POOL, worker_env, tmp_path, tmp_path / "worker-c.log",
                                               "--name", "worker-c", "--limit", "1"))
            _two_commits_never_overlap(srv, lake, batches, tmp_path)
            marks["commits"] = time.monotonic() - t0
            print(f"phases (s since start): {marks}; killed: {killed}")


def _two_commits_never_overlap(srv: PrefectServer, lake: Path, batches: list[str], tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.fanout import COMMIT_DEPLOYMENT

    deadline = time.monotonic() + 60
    while len(asyncio.run(_online(srv.api_url))) < 2:
        assert time.monotonic() < deadline, "the third worker never came online"
        time.sleep(0.5)
    with temporary_settings(updates={PREFECT_API_URL: srv.api_url}):
        from prefect.deployments import run_deployment

        started = [run_deployment(COMMIT_DEPLOYMENT, timeout=0, parameters={
            "db": str(tmp_path / name / "n.duckdb"), "lake_uri": f"file://{lake}", "batch_ids": batches,
            "run_id": name, "hold_in_transaction": 0.3}) for name in ("c1", "c2")]
    ids = {r.id for r in started}
    deadline = time.monotonic() + 120
    while True:
        runs = [r for r in asyncio.run(_runs(srv.api_url, "lake-commit")) if r.id in ids]
        if all(r.state.is_final() for r in runs):
            break
        assert time.monotonic() < deadline, [(r.name, r.state.name) for r in runs]
        time.sleep(1.0)
    assert [r.state.type.value for r in runs] == ["COMPLETED", "COMPLETED"], [r.state for r in runs]
    spans, waited = [], []
    for r in runs:
        hist = asyncio.run(_history(srv.api_url, r.id))
        waited.append(any(s.name == "AwaitingConcurrencySlot" for s in hist))
        start = min(s.timestamp for s in hist if s.type.value == "RUNNING")
        end = max(s.timestamp for s in hist if s.type.value == "COMPLETED")
        spans.append((start, end))
    (_, first_end), (second_start, _) = sorted(spans)
    assert first_end <= second_start, f"commit runs overlapped: {spans}"
    assert any(waited), "no commit run was held back by the concurrency limit"
    for name in ("c1", "c2"):
        assert _rows(tmp_path / name / "n.duckdb", "SELECT count(*), count(DISTINCT article_id) FROM articles") == \
            [(ARTICLES, ARTICLES)]
