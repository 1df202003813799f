"""The extraction stage on a real Dask cluster: a scheduler on 127.0.0.1 and two worker processes.

The flows connect to it as users would, through ``executor="dask://HOST:PORT"``; the tests
compare what lands in DuckDB with a local run, and kill a worker with SIGKILL mid-run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.flows.site import Site, article_page, editions_archive, load_stories, rss
from tests.support.dbrows import rows as _rows

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness"), pytest.mark.timeout(180)]

SEED = Path(__file__).resolve().parents[2] / "data" / "seed_archive"


@pytest.fixture(scope="module")
def _module_cluster() -> Iterator[tuple[Any, Any]]:
    """A two-worker cluster (one thread each, separate processes under nannies) on loopback.

    The nannies start a killed worker again (same name, new process). LocalCluster's own
    ``lost-worker-timeout`` is set to a day for the module: 15 s (the default) after *any* loss of a worker it closes that
    worker's nanny for good if no worker of that name is registered at that very moment, so a
    worker killed once, replaced, and killed again by a later test just before the first loss's
    15 s are up (its replacement not yet registered) left the module with one worker for good
    (reproduced: ``_wait_for_workers`` saw 1 of 2, and every later test ran on one worker)."""
    import dask
    from distributed import Client, LocalCluster

    from flows.cluster import close_clients

    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1 day"}):
        lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=":0", silence_logs=40)
        client = Client(lc.scheduler_address, set_as_default=False)
        try:
            yield lc, client
        finally:
            close_clients()  # the flows' own client first: it would otherwise try to reconnect
            client.close()
            lc.close()


def _get_allowed_failures(dask_scheduler: Any) -> int:
    return int(dask_scheduler.allowed_failures)


def _put_allowed_failures(n: int, dask_scheduler: Any) -> None:
    dask_scheduler.allowed_failures = n


@contextlib.contextmanager
def _allowed_failures(cluster: Any, n: int) -> Iterator[None]:
    """The scheduler's ``allowed_failures`` set to ``n`` for the block, then put back as it was."""
    before = cluster.run_on_scheduler(_get_allowed_failures)
    cluster.run_on_scheduler(_put_allowed_failures, n)
    try:
        yield
    finally:
        cluster.run_on_scheduler(_put_allowed_failures, before)


def _wait_for_workers(cluster: Any, n: int = 2) -> None:
    """Until the scheduler has ``n`` running workers (a killed worker's nanny starts a new process
    in a second or two here)."""
    deadline = time.monotonic() + 30

    def running() -> int:
        return sum(w.get("status") == "running" for w in cluster.scheduler_info()["workers"].values())

    while running() != n and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running() == n, cluster.scheduler_info()["workers"]


@pytest.fixture
def cluster(_module_cluster: tuple[Any, Any]) -> Iterator[Any]:
    """The module's cluster for one test, whole: both nannies and two running workers before and
    after it, and the scheduler's ``allowed_failures`` left as the test found it. Tests kill
    workers; the next one waits here for the replacement instead of running on one worker (where
    e.g. the host-sharded fetch makes 2 shards, not 3), and a test that loses a worker for good or
    leaves ``allowed_failures`` changed fails here itself, not the tests after it."""
    lc, client = _module_cluster

    def whole() -> None:
        assert len(lc.workers) == 2, f"LocalCluster closed a nanny for good: only {sorted(lc.workers)} left"
        _wait_for_workers(client)

    whole()
    allowed = client.run_on_scheduler(_get_allowed_failures)
    yield client
    assert client.run_on_scheduler(_get_allowed_failures) == allowed, "allowed_failures left changed"
    whole()


def _executor(client: Any) -> str:
    return "dask://" + client.scheduler.address.removeprefix("tcp://")


def _backfill(paths: list[Path], db: Path, **kw: Any) -> dict[str, Any]:
    from flows.backfill import backfill

    return backfill(paths=[str(p) for p in paths], db=str(db), **kw)


def _articles(db: Path) -> list[tuple[Any, ...]]:
    return _rows(db, "SELECT article_id, title, text, dup_group_id FROM articles ORDER BY article_id")


def _events(db: Path) -> list[tuple[Any, ...]]:
    return _rows(db, "SELECT article_id, count(*) FROM events GROUP BY article_id ORDER BY article_id")


def test_seed_archive_on_the_cluster_matches_a_local_run(cluster: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import get_task_stream

    monkeypatch.setenv("NEWSFLOW_WORKERS", "1")  # the reference run in process (the pool gives the same)
    local_db, dask_db = tmp_path / "local" / "n.duckdb", tmp_path / "dask" / "n.duckdb"
    local = _backfill([SEED], local_db, executor="local")
    with get_task_stream(cluster) as stream:
        remote = _backfill([SEED], dask_db, executor=_executor(cluster))
    assert (remote["read"], remote["loaded"], remote["rejected"]) == (local["read"], local["loaded"], 0) == (5, 5, 0)
    # the same articles: ids, cleaned texts, titles and story groups, and the same events
    assert _articles(dask_db) == _articles(local_db)
    assert len({r[3] for r in _articles(dask_db)}) == 5
    assert _events(dask_db) == _events(local_db) and sum(n for _, n in _events(dask_db)) > 0
    # the extraction ran on the cluster's workers, the five small files in one shard
    shards = [t for t in stream.data if str(t["key"]).startswith("newsflow-shard-")]
    assert len(shards) == 1, [t["key"] for t in stream.data]
    assert {t["worker"] for t in shards} <= set(cluster.scheduler_info()["workers"])
    # the committed articles reach the search index, as a local run's do
    from warehouse import search

    assert search.indexed_count(search.index_dir_for(dask_db)) == 5
    # --force recomputes and replaces (no shard skipped), still each article once
    forced = _backfill([SEED], dask_db, executor=_executor(cluster), force=True)
    assert (forced["skipped"], forced["loaded"]) == (0, 5), forced
    assert _articles(dask_db) == _articles(local_db)


def test_reprocess_on_the_cluster(cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.reprocess import reprocess

    monkeypatch.setenv("NEWSFLOW_WORKERS", "1")
    db = tmp_path / "n.duckdb"
    _backfill([SEED], db, executor="local")
    before, events = _articles(db), _events(db)
    counts = reprocess(db=str(db), executor=_executor(cluster))
    assert (counts["pages"], counts["unchanged"], counts["updated"], counts["rejected"]) == (5, 5, 0, 0), counts
    coded = reprocess(db=str(db), enrich_only=True, executor=_executor(cluster))
    assert (coded["articles"], coded["failed"]) == (5, 0) and coded["events"] == sum(n for _, n in events)
    assert _articles(db) == before and _events(db) == events


@pytest.fixture(scope="module")
def editions(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The 40-record archive and the database a local run (in process, no pool) made of it."""
    root = tmp_path_factory.mktemp("editions")
    archive, local_db = editions_archive(root / "archive", copies=8), root / "local" / "n.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSFLOW_WORKERS", "1")
        mp.setenv("NEWSFLOW_BATCH_SIZE", "8")
        assert _backfill([archive], local_db, executor="local")["loaded"] == 40
    return archive, local_db


class _LakeKiller:
    """A thread that, once ``after`` shard batches are finished in ``lake``, SIGKILLs a worker that
    holds a shard at that moment (what it killed goes in ``killed``)."""

    def __init__(self, cluster: Any, lake: Path, after: int) -> None:
        import threading

        self.cluster, self.lake, self.after = cluster, lake, after
        self.pids = cluster.run(os.getpid)
        self.killed: dict[str, Any] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _LakeKiller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _watch(self) -> None:
        while not self.stop.wait(0.01):
            done = len(list(self.lake.glob("batches/*/_SUCCESS")))
            if done < self.after:
                continue
            busy = {w: keys for w, keys in self.cluster.processing().items() if keys and w in self.pids}
            if busy:
                victim, keys = next(iter(busy.items()))
                self.killed.update(worker=victim, keys=list(keys), batches_done=done)
                os.kill(self.pids[victim], signal.SIGKILL)
                return


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(cluster: Any, editions: tuple[Path, Path],
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive, local_db = editions
    dask_db = tmp_path / "dask" / "n.duckdb"
    monkeypatch.setenv("NEWSFLOW_LAKE_SHARD_BYTES", str(archive.stat().st_size // 5))  # byte-range shards
    with _LakeKiller(cluster, dask_db.parent / "lake", after=1) as killer:
        remote = _backfill([archive], dask_db, executor=_executor(cluster))
    killed = killer.killed
    assert killed and killed["keys"], "no worker was busy when the kill was due"
    shards = len(list((dask_db.parent / "lake").glob("batches/*/_SUCCESS")))
    assert killed["batches_done"] < shards >= 5  # mid-run: shards were still to come
    # the shards were read and extracted on the workers (their pids are in the batch manifests)
    workers = {json.loads(p.read_text())["summary"]["worker_pid"]
               for p in (dask_db.parent / "lake").glob("batches/*/_SUCCESS")}
    assert os.getpid() not in workers and workers & set(killer.pids.values())
    # every record loaded, exactly once, the same articles as the local run
    assert (remote["read"], remote["loaded"], remote["rejected"]) == (40, 40, 0), remote
    assert _rows(dask_db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(40, 40)]
    assert _rows(dask_db, "SELECT count(*), count(DISTINCT record_id) FROM archive_records") == [(40, 40)]
    assert _articles(dask_db) == _articles(local_db)
    assert _events(dask_db) == _events(local_db)


def test_data_shared_with_the_shards_survives_the_death_of_the_worker_holding_it(cluster: Any) -> None:
    """A run shares what it learnt (a backfill's recurring lines) once; the worker holding that one
    copy may die. Scattered data would be gone for good and every shard needing it cancelled
    (the CI failure this guards against); a shared value is computed again elsewhere."""
    from flows.cluster import share

    learnt = {"lines": ["Subscribe to our newsletter", "Related articles"], "n": 7}
    shared = share(cluster, learnt, f"test-learnt-{time.monotonic_ns()}")
    assert shared.result(timeout=30) == learnt
    holders = cluster.who_has([shared])[shared.key]
    assert len(holders) == 1
    pids = cluster.run(os.getpid)
    os.kill(pids[holders[0]], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while holders[0] in cluster.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert holders[0] not in cluster.scheduler_info()["workers"]
    later = cluster.submit(len, shared, pure=False)
    assert later.result(timeout=60) == len(learnt)
    assert cluster.who_has([shared])[shared.key] and holders[0] not in cluster.who_has([shared])[shared.key]


def test_a_shard_lost_for_good_fails_the_run_and_a_rerun_completes_it(
        cluster: Any, editions: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive, local_db = editions
    dask_db = tmp_path / "dask" / "n.duckdb"
    monkeypatch.setenv("NEWSFLOW_LAKE_SHARD_BYTES", str(archive.stat().st_size // 5))
    # the scheduler gives up on a shard at its first lost worker
    with _allowed_failures(cluster, 0), _LakeKiller(cluster, dask_db.parent / "lake", after=2) as killer, \
            pytest.raises(Exception) as failed:
        _backfill([archive], dask_db, executor=_executor(cluster))
    killed = killer.killed
    assert type(failed.value).__name__ == "KilledWorker" and killed["keys"], (failed.value, killed)
    # the batches committed before the loss (those ahead of the lost shard, maybe none) stay, each record once
    (stored, distinct), = _rows(dask_db, "SELECT count(*), count(DISTINCT article_id) FROM articles")
    assert 0 <= stored < 40 and stored == distinct
    assert killed["batches_done"] >= 2
    _wait_for_workers(cluster)
    from distributed import get_task_stream

    with get_task_stream(cluster) as stream:
        rerun = _backfill([archive], dask_db, executor=_executor(cluster))
    assert (rerun["skipped"], rerun["loaded"]) == (stored, 40 - stored), rerun
    # shards whose batch was finished in the lake were committed, not computed again
    shards = len(list((dask_db.parent / "lake").glob("batches/*/_SUCCESS")))
    recomputed = [t for t in stream.data if str(t["key"]).startswith("newsflow-shard-")]
    assert 1 <= len(recomputed) <= shards - killed["batches_done"], (len(recomputed), shards)
    assert _rows(dask_db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(40, 40)]
    assert _rows(dask_db, "SELECT count(*), count(DISTINCT record_id) FROM archive_records") == [(40, 40)]
    assert [r[:3] for r in _articles(dask_db)] == [r[:3] for r in _articles(local_db)]


def test_ingest_extracts_on_the_cluster_like_a_local_run(cluster: Any, site: Site, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml
    from distributed import get_task_stream

    from flows.ingest import hourly_ingest

    monkeypatch.setenv("NEWSFLOW_SHARD_SIZE", "2")
    stories = load_stories()
    for s in stories:
        site.static(f"/news/{s['slug']}", article_page(s), "text/html; charset=utf-8")
    site.static("/rss.xml", rss([(s, f"{site.base}/news/{s['slug']}") for s in stories]), "application/rss+xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"url": f"{site.base}/rss.xml", "name": "herald"}]}))
    local_db, dask_db = tmp_path / "local" / "n.duckdb", tmp_path / "dask" / "n.duckdb"
    local = hourly_ingest(feeds_file=str(feeds), db=str(local_db), executor="local")
    with get_task_stream(cluster) as stream:
        remote = hourly_ingest(feeds_file=str(feeds), db=str(dask_db), executor=_executor(cluster))
    assert remote["articles_new"] == local["articles_new"] == 5
    assert _articles(dask_db) == _articles(local_db)
    assert _events(dask_db) == _events(local_db)
    assert len([t for t in stream.data if str(t["key"]).startswith("newsflow-run_job-")]) == 3  # 2 + 2 + 1


def _slow_square(x: int) -> tuple[int, int]:
    time.sleep((7 - x % 7) * 0.004)  # later items often finish first
    return x, x * x


def test_shards_come_back_in_order_and_the_input_is_read_as_needed(cluster: Any) -> None:
    from distributed import get_task_stream

    from flows.cluster import dask_map_ordered

    pulled: list[int] = []

    def items() -> Iterator[int]:
        for i in range(60):
            pulled.append(i)
            yield i

    out: list[tuple[int, int]] = []
    with get_task_stream(cluster) as stream:
        for r in dask_map_ordered(_slow_square, items(), address=cluster.scheduler.address, shard_size=4,
                                  in_flight=3):
            if not out:
                first_seen_after = len(pulled)
            out.append(r)
    assert out == [(i, i * i) for i in range(60)]
    # at most three shards (12 items) were out when the first result came back, not the whole input
    assert first_seen_after <= 12
    tasks = [t for t in stream.data if str(t["key"]).startswith("newsflow-_slow_square-")]
    assert len(tasks) == 15 and {t["worker"] for t in tasks} == set(cluster.scheduler_info()["workers"])


def _pool_kind_here(workers: int) -> tuple[str, bool]:
    from flows.pool import executor_for, in_dask_worker

    return type(executor_for(workers)).__name__, in_dask_worker()


def test_no_process_pool_is_started_inside_a_dask_worker(cluster: Any) -> None:
    # a Dask worker's process may not have children: there, the cluster is the parallelism
    assert cluster.submit(_pool_kind_here, 2, pure=False).result(timeout=60) == ("_InlineExecutor", True)
    assert _pool_kind_here(1) == ("_InlineExecutor", False)


def test_an_unreachable_scheduler_fails_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import flows.cluster
    from flows.cluster import ClusterUnavailable

    monkeypatch.setattr(flows.cluster, "CONNECT_TIMEOUT", 2.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "n.duckdb"
    with pytest.raises(ClusterUnavailable, match=f"dask://127.0.0.1:{port}"):
        _backfill([SEED], db, executor=f"dask://127.0.0.1:{port}")
    assert not db.exists()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_bad_executor_is_one_line_at_start_up(tmp_path: Path, how: str) -> None:
    from newsflow.cli import EXIT_CONFIG
    from tests.support.cli import child_env, newsflow, one_line_error

    db = tmp_path / "n.duckdb"
    if how == "option":
        proc = newsflow("backfill", str(SEED), "--db", str(db), "--executor", "tcp://127.0.0.1:8786")
    else:
        proc = newsflow("backfill", str(SEED), "--db", str(db), env=child_env(NEWSFLOW_EXECUTOR="dask://nohost"))
    line = one_line_error(proc)
    assert proc.returncode == EXIT_CONFIG
    assert "NEWSFLOW_EXECUTOR" in line and "dask://HOST:PORT" in line, line
    assert not db.exists()


def _committer(db: Path, lake: Path, *extra: str) -> Any:
    import subprocess
    import sys

    from tests.support.cli import ROOT, child_env

    return subprocess.Popen([sys.executable, "-m", "flows.committer", "--db", str(db), "--lake", f"file://{lake}",
                             *extra], cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_a_committer_killed_mid_load_leaves_no_partial_batch_and_a_rerun_loads_each_article_once(
        cluster: Any, editions: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from warehouse.db import connect_write

    archive, local_db = editions
    monkeypatch.setenv("NEWSFLOW_LAKE_SHARD_BYTES", str(archive.stat().st_size // 5))
    made_db = tmp_path / "made" / "n.duckdb"
    _backfill([archive], made_db, executor=_executor(cluster))  # fills the lake beside it
    lake = made_db.parent / "lake"
    batches = sorted(p.parent.name for p in lake.glob("batches/*/_SUCCESS"))
    assert len(batches) >= 5
    db = tmp_path / "n.duckdb"
    connect_write(db).close()  # an empty, migrated warehouse
    proc = _committer(db, lake, "--hold-in-transaction", "30")
    assert proc.stderr is not None
    written = []
    for line in proc.stderr:
        if line.startswith('{"written"'):
            written.append(json.loads(line)["written"])
            if len(written) == 2:  # the second batch's rows are in, its transaction still open
                break
    proc.kill()
    proc.wait(timeout=30)
    assert len(written) == 2, "the committer never reached its second batch"
    # only whole batches are visible: the first one, with all its rows; nothing of the second
    (recorded,) = _rows(db, "SELECT list(batch_id ORDER BY batch_id), sum(articles) FROM lake_batches")
    assert recorded == ([written[0]], _rows(db, "SELECT count(*) FROM articles")[0][0])
    assert _rows(db, "SELECT count(*) FROM archive_records")[0][0] == recorded[1] > 0
    rerun = _committer(db, lake)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert sorted(json.loads(out)["committed"]) == sorted(set(batches) - {written[0]})
    assert _rows(db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(40, 40)]
    assert [r[:3] for r in _articles(db)] == [r[:3] for r in _articles(local_db)]
    assert _rows(db, "SELECT count(*) FROM lake_batches")[0][0] == len(batches)


def _set_env(env: dict[str, str | None]) -> None:
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_a_backfill_through_an_s3_lake_matches_a_local_run(cluster: Any, editions: tuple[Path, Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import fsspec

    from tests.support.s3 import s3_server

    archive, local_db = editions
    db = tmp_path / "n.duckdb"
    with s3_server() as env:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        cluster.run(_set_env, env)  # the workers reach the bucket as the flow does
        try:
            monkeypatch.setenv("NEWSFLOW_LAKE_URI", "s3://newsflow-lake/runs/a")
            monkeypatch.setenv("NEWSFLOW_LAKE_SHARD_BYTES", str(archive.stat().st_size // 3))
            fs = fsspec.filesystem("s3", skip_instance_cache=True)
            fs.clear_instance_cache()
            remote = _backfill([archive], db, executor=_executor(cluster))
            marks = fsspec.filesystem("s3", skip_instance_cache=True).glob("newsflow-lake/runs/a/batches/*/_SUCCESS")
            again = _backfill([archive], db, executor=_executor(cluster))
        finally:
            cluster.run(_set_env, dict.fromkeys(env))
    assert (remote["read"], remote["loaded"], remote["rejected"]) == (40, 40, 0), remote
    assert len(marks) >= 3 and not (db.parent / "lake").exists()
    assert (again["skipped"], again["loaded"]) == (40, 0), again
    assert _rows(db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(40, 40)]
    assert [r[:3] for r in _articles(db)] == [r[:3] for r in _articles(local_db)]


class _Host:
    """A real HTTP server on one loopback address that serves article pages slowly and counts the
    most requests it ever had in flight at once."""

    def __init__(self, address: str) -> None:
        import threading

        from pytest_httpserver import HTTPServer

        self.server = HTTPServer(host=address, port=0, threaded=True)
        self.pages: dict[str, str] = {}
        self.lock = threading.Lock()
        self.now = self.peak = self.hits = 0
        self.server.expect_request(re.compile(".*")).respond_with_handler(self.handle)
        self.server.start()
        self.base = f"http://{address}:{self.server.port}"

    def handle(self, request: Any) -> Any:
        from werkzeug.wrappers import Response

        body = self.pages.get(request.path)
        if body is None:
            return Response("not found", status=404, content_type="text/plain")
        with self.lock:
            self.now += 1
            self.hits += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(0.15)
            return Response(body, content_type="text/html; charset=utf-8")
        finally:
            with self.lock:
                self.now -= 1

    def stop(self) -> None:
        self.server.clear()
        self.server.stop()


def test_ingest_fetches_on_the_cluster_by_host_within_each_hosts_limit(
        cluster: Any, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml
    from distributed import get_task_stream

    from flows.ingest import hourly_ingest

    monkeypatch.setenv("NEWSFLOW_PER_HOST_CONCURRENCY", "2")
    monkeypatch.setenv("NEWSFLOW_PER_HOST_DELAY", "0")
    stories = load_stories()
    hosts = [_Host(a) for a in ("127.0.0.2", "127.0.0.3", "127.0.0.4")]
    try:
        items = []
        for h, host in enumerate(hosts):
            for k in range(6):
                story = stories[(h + k) % len(stories)]
                edition = {**story, "title": f"{story['title']}, host {h} edition {k}"}
                host.pages[f"/news/{story['slug']}-{k}"] = article_page(edition)
                items.append((edition, f"{host.base}/news/{story['slug']}-{k}"))
        site.static("/rss.xml", rss(items), "application/rss+xml")
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(yaml.safe_dump({"feeds": [{"url": f"{site.base}/rss.xml", "name": "herald"}]}))
        local_db, dask_db = tmp_path / "local" / "n.duckdb", tmp_path / "dask" / "n.duckdb"
        local = hourly_ingest(feeds_file=str(feeds), db=str(local_db), executor="local")
        local_peaks = [h.peak for h in hosts]
        for h in hosts:
            h.peak = h.hits = 0
        with get_task_stream(cluster) as stream:
            remote = hourly_ingest(feeds_file=str(feeds), db=str(dask_db), executor=_executor(cluster))
        peaks, hits = [h.peak for h in hosts], [h.hits for h in hosts]
    finally:
        for h in hosts:
            h.stop()
    assert remote["articles_new"] == local["articles_new"] == 18, (remote, local)
    assert _articles(dask_db) == _articles(local_db)
    assert hits == [6, 6, 6]
    # per-host politeness held across the cluster: never more than 2 requests in flight at one host
    assert max(peaks) == 2 and max(local_peaks) == 2, (peaks, local_peaks)
    fetches = [t for t in stream.data if str(t["key"]).startswith("newsflow-fetch-")]
    assert len(fetches) == 3 and {t["worker"] for t in fetches} <= set(cluster.scheduler_info()["workers"])


class _Supervised:
    """A scheduler and two one-thread workers as separate processes on loopback, the workers kept
    running by a supervisor thread (Dask workers exit with their scheduler; a deployment's systemd
    or Kubernetes starts them again, as this does). ``kill_scheduler`` SIGKILLs the scheduler and
    starts a new one on the same address."""

    def __init__(self, log_dir: Path) -> None:
        import socket
        import threading

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.scheduler = self._start_scheduler()
        self.workers: list[Any] = [self._start_worker(i) for i in range(2)]
        self.worker_starts = 2
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._supervise, daemon=True)
        self.thread.start()

    def _spawn(self, args: list[str], log: str) -> Any:
        import subprocess
        import sys

        from tests.support.cli import ROOT, child_env

        with (self.log_dir / log).open("ab") as out:
            return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=child_env(), stdout=out,
                                    stderr=out, start_new_session=True)

    def _start_scheduler(self) -> Any:
        return self._spawn(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                            "--dashboard-address", ":0"], "scheduler.log")

    def _start_worker(self, i: int) -> Any:
        return self._spawn(["distributed.cli.dask_worker", self.address, "--nthreads", "1", "--no-nanny",
                            "--dashboard-address", ":0"], f"worker-{i}.log")

    def _supervise(self) -> None:
        while not self.stop.wait(0.1):
            for i, proc in enumerate(self.workers):
                if proc.poll() is not None:
                    self.workers[i] = self._start_worker(i)
                    self.worker_starts += 1

    def kill_scheduler(self) -> None:
        os.kill(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(timeout=30)
        self.scheduler = self._start_scheduler()

    def wait_for_workers(self, n: int = 2) -> None:
        from distributed import Client

        with Client(self.address, timeout=60, set_as_default=False) as c:
            c.wait_for_workers(n, timeout=60)

    def close(self) -> None:
        from tests.support.cli import kill_group

        self.stop.set()
        self.thread.join()
        for proc in [*self.workers, self.scheduler]:
            kill_group(proc)


class _SchedulerKiller:
    """A thread that, once ``after`` shard batches are finished in ``lake`` (and not all of them
    committed), kills the scheduler and starts it again on the same address."""

    def __init__(self, supervised: _Supervised, lake: Path, after: int) -> None:
        import threading

        self.supervised, self.lake, self.after = supervised, lake, after
        self.killed: dict[str, Any] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _SchedulerKiller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _watch(self) -> None:
        while not self.stop.wait(0.01):
            done = len(list(self.lake.glob("batches/*/_SUCCESS")))
            if done >= self.after:
                self.supervised.kill_scheduler()
                self.killed.update(batches_done=done, at=time.monotonic())
                return


def test_a_scheduler_killed_mid_run_and_restarted_loses_and_doubles_nothing(
        editions: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cluster import close_clients

    archive, local_db = editions
    dask_db = tmp_path / "dask" / "n.duckdb"
    lake = dask_db.parent / "lake"
    monkeypatch.setenv("NEWSFLOW_LAKE_SHARD_BYTES", str(archive.stat().st_size // 8))
    supervised = _Supervised(tmp_path / "logs")
    try:
        supervised.wait_for_workers()
        executor = "dask://" + supervised.address.removeprefix("tcp://")
        with _SchedulerKiller(supervised, lake, after=1) as killer:
            remote = _backfill([archive], dask_db, executor=executor)
        restarts = supervised.worker_starts - 2
    finally:
        close_clients()
        supervised.close()
    assert killer.killed, "the run ended before the scheduler could be killed"
    shards = sorted(p.parent.name for p in lake.glob("batches/*/_SUCCESS"))
    assert killer.killed["batches_done"] < len(shards) >= 8  # mid-run: shards were still to come
    assert restarts >= 2  # both workers went with the scheduler and were started again
    # the run survived: every record loaded, exactly once, the same articles as the local run
    assert (remote["read"], remote["loaded"], remote["rejected"]) == (40, 40, 0), remote
    assert _rows(dask_db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(40, 40)]
    assert _rows(dask_db, "SELECT count(*), count(DISTINCT record_id) FROM archive_records") == [(40, 40)]
    assert _articles(dask_db) == _articles(local_db)
    # only whole batches: each finished batch committed once, with all its records
    assert _rows(dask_db, "SELECT list(batch_id ORDER BY batch_id), sum(records) FROM lake_batches") == \
        [(shards, 40)]


def test_the_cli_says_what_a_cluster_backfill_did_with_its_lake_batches(
        cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL

    from extractors.sources.shards import plan_shards
    from tests.support.cli import child_env, newsflow

    api = PREFECT_API_URL.value()  # the CLI runs its flow against this session's Prefect API (no start-up of its own)
    assert api
    monkeypatch.setenv("NEWSFLOW_WORKERS", "1")
    monkeypatch.setenv("NEWSFLOW_LAKE_URI", f"file://{tmp_path / 'lake'}")  # one lake for both databases
    a = SEED  # five small files: one shard
    target = sum(p.stat().st_size for p in a.iterdir()) + 1
    monkeypatch.setenv("NEWSFLOW_LAKE_SHARD_BYTES", str(target))
    b = editions_archive(tmp_path / "b", copies=4)  # 20 more articles, a file cut into byte ranges
    c = tmp_path / "c" / "one.jsonl"  # one more article, a shard of its own
    c.parent.mkdir()
    c.write_text(editions_archive(tmp_path / "c-src", copies=5).read_text().splitlines()[-1] + "\n")
    b_shards = len(plan_shards(b, target))
    assert b_shards >= 2 and c.stat().st_size < target
    db, other = tmp_path / "n.duckdb", tmp_path / "other" / "n.duckdb"
    assert _backfill([a], db, executor=_executor(cluster))["loaded"] == 5  # A: loaded into db
    assert _backfill([c], other, executor=_executor(cluster))["loaded"] == 1  # C: finished in the lake, not in db
    proc = newsflow("backfill", str(a), str(b), str(c), "--db", str(db), "--executor", _executor(cluster), "-q",
                    env=child_env(PREFECT_API_URL=api), timeout=170)
    assert proc.returncode == 0, proc.stderr
    assert "read 26, loaded 21, skipped 5" in proc.stdout, proc.stdout
    assert (f"lake batches: {b_shards + 1} committed (1 finished in the lake by an earlier run, not recomputed), "
            "1 skipped (loaded by an earlier run), 0 left pending") in proc.stdout, proc.stdout
    assert "warning" not in proc.stderr
    stats = json.loads(newsflow("stats", "--format", "json", "--db", str(db), env=child_env()).stdout)["lake"]
    assert (stats["batches_loaded"], stats["batches_waiting"], stats["records"]) == (b_shards + 2, 0, 26)
    assert _rows(db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(26, 26)]


def test_a_large_warc_is_cut_into_record_ranges_on_the_cluster_like_a_local_run(
        cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import get_task_stream

    from bench.corpus import write_archive

    monkeypatch.setenv("NEWSFLOW_WORKERS", "1")
    warc = write_archive(tmp_path / "archive", 12, "warc")  # one gzip member per record
    local_db, dask_db = tmp_path / "local" / "n.duckdb", tmp_path / "dask" / "n.duckdb"
    local = _backfill([warc], local_db, executor="local")
    monkeypatch.setenv("NEWSFLOW_LAKE_SHARD_BYTES", str(warc.stat().st_size // 6))
    with get_task_stream(cluster) as stream:
        remote = _backfill([warc], dask_db, executor=_executor(cluster))
    assert (remote["read"], remote["loaded"]) == (local["read"], local["loaded"]) == (12, 12), remote
    assert _articles(dask_db) == _articles(local_db)
    # located as a whole-file read locates them, so a reprocess can find each record again
    assert _rows(dask_db, "SELECT locator FROM archive_records ORDER BY locator") == \
        _rows(local_db, "SELECT locator FROM archive_records ORDER BY locator")
    ranges = _rows(dask_db, "SELECT byte_start, byte_end FROM lake_batches ORDER BY byte_start")
    assert len(ranges) >= 3 and ranges[0][0] == 0 and ranges[-1][1] is None
    assert [s for s, _ in ranges][1:] == [e for _, e in ranges][:-1]
    assert len([t for t in stream.data if str(t["key"]).startswith("newsflow-shard-")]) == len(ranges)


def test_a_shard_map_goes_on_after_its_scheduler_is_killed_and_restarted(tmp_path: Path) -> None:
    from flows.cluster import close_clients, dask_map_ordered

    supervised = _Supervised(tmp_path / "logs")
    out: list[tuple[int, int]] = []
    try:
        supervised.wait_for_workers()
        for r in dask_map_ordered(_slow_square, range(60), address=supervised.address, shard_size=4, in_flight=3):
            out.append(r)
            if len(out) == 8:  # two shards back, at least three more out on the cluster
                supervised.kill_scheduler()
        restarts = supervised.worker_starts - 2
    finally:
        close_clients()
        supervised.close()
    assert restarts >= 2  # the workers went with the scheduler and were started again
    assert out == [(i, i * i) for i in range(60)]  # every item once, in order
