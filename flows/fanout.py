"""Backfill fanned out over Prefect workers (``NEWSFLOW_EXECUTOR=prefect``).

The backfill flow plans the archive's shards as the Dask backfill does (``flows/lake_backfill.py``:
same shards, same deterministic batch ids), then starts one run of the ``backfill-shard``
deployment (flow ``flows.backfill.backfill_shard``, which calls ``run_shard`` here) per shard
whose batch is neither loaded nor finished in the lake. A run's parameters are references (batch
id, paths and byte ranges, the lake URI, the name of the learnt recurring lines stored in the
lake), never records; the worker that picks the run up reads the shard,
extracts it and writes its lake batch, complete or not at all. Once every batch is finished, one
run of the ``lake-commit`` deployment (concurrency limit 1: never two writers of DuckDB) loads
them through the committer (``flows/committer.py``).

Every run is created with an idempotency key made of the backfill's run id (the parent flow
run's id, the same when Prefect retries it), the batch id and the attempt number
(``run_key``): creating it again, e.g. after the fan-out itself was restarted, returns the run
already there instead of starting a second one.

Faults (``verdict``): a shard run that ends FAILED, CRASHED or CANCELLED, or that is left
PENDING/RUNNING by a worker that stopped heartbeating (killed with its flow-run processes: the
server would keep the run RUNNING for ever), is marked CRASHED and run again under the next
attempt's key, at most ``MAX_ATTEMPTS`` times; then the backfill fails, and a rerun skips the
batches finished meanwhile. A batch finished in the lake is done whatever its run says (a run
whose worker died after the batch was written is not repeated). The same rules drive the commit
run. A worker process killed alone leaves its flow-run process running: that run still ends and
reports by itself, and the shard is not repeated unless the worker's silence is noticed first
(then two runs write the same batch id, both complete; one manifest wins).

Workers need the project importable from the deployment's working directory and must reach the
archive paths, the lake and (for the commit run) the DuckDB file at the same names as the flow.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import pickle
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from prefect import flow

from extractors.content.recurring import RecurringLines
from extractors.sources.shards import Shard
from flows.committer import commit_all
from flows.lake_backfill import ShardTask, Steps, process_shard, shards_to_do
from schemas.settings import Settings, load_settings
from warehouse.lake import Lake

SHARD_FLOW = "backfill-shard"
COMMIT_FLOW = "lake-commit"
SHARD_DEPLOYMENT = f"{SHARD_FLOW}/{SHARD_FLOW}"
COMMIT_DEPLOYMENT = f"{COMMIT_FLOW}/{COMMIT_FLOW}"
MAX_ATTEMPTS = 3  # runs of one shard (or of the commit) before the backfill gives up
POLL_SECONDS = 1.0
SILENT_HEARTBEATS = 3  # a worker that missed this many of its heartbeats is gone
WORKER_LABEL = "prefect.worker.name"  # the label a Prefect worker gives the flow runs it starts

log = logging.getLogger(__name__)

Verdict = Literal["done", "wait", "resubmit", "give_up"]
_ENDED = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
_HELD = frozenset({"PENDING", "RUNNING", "CANCELLING"})  # states a worker holds a run in


class FanoutFailed(RuntimeError):
    """A shard (or the commit) failed ``MAX_ATTEMPTS`` times."""


# --------------------------------------------------------------------------- decisions


def run_key(scope: str, what: str, attempt: int) -> str:
    """The idempotency key of attempt ``attempt`` (1, 2, …) at ``what`` (a batch id, or
    ``commit``) within the backfill ``scope`` (its run id)."""
    return f"newsflow/{scope}/{what}/{attempt}"


def worker_alive(last_heartbeat: datetime | None, interval: float | None, now: datetime) -> bool | None:
    """Whether a worker is still there, from its last heartbeat and its heartbeat interval
    (None: not known, e.g. it never sent one)."""
    if last_heartbeat is None or not interval:
        return None
    return (now - last_heartbeat).total_seconds() <= SILENT_HEARTBEATS * interval


def look_for_output(state: str | None, *, alive: bool | None, exclusive: bool) -> bool:
    """Whether to look for a work's output now, its run being in ``state``.

    A lake batch can be looked for at any time. The commit's output is in the DuckDB file, and
    opening the file to read it while the commit run opens it to write makes that run fail
    (DuckDB: one process holds the file), so an ``exclusive`` output is looked for only once the
    run has ended, cannot be read, or is held by a worker that is gone; never while it is
    scheduled, paused or running."""
    if not exclusive:
        return True
    return _over(state, alive)


def _over(state: str | None, alive: bool | None) -> bool:
    """Whether a run is over for the fan-out: ended, unreadable, or held by a worker that is gone."""
    return state is None or state in _ENDED or (state in _HELD and alive is False)


def verdict(state: str | None, *, finished: bool, alive: bool | None, attempt: int,
            max_attempts: int = MAX_ATTEMPTS) -> Verdict:
    """What to do about the run of one piece of work.

    ``state``: the run's state type (``RUNNING``, ``FAILED``…; None if the run cannot be read);
    ``finished``: its output is there (the batch is finished in the lake, the batches loaded);
    ``alive``: whether the worker holding the run still heartbeats (None: unknown or no worker)."""
    if finished:
        return "done"
    if _over(state, alive):
        return "resubmit" if attempt < max_attempts else "give_up"
    return "wait"


# --------------------------------------------------------------------------- the deployments' flows


def run_shard(batch_id: str, pieces: list[dict[str, Any]], run_id: str, lake_uri: str, *,
              settings: dict[str, Any] | None, outlet: str | None, force: bool, recurring: str | None,
              steps: Steps) -> dict[str, Any]:
    """The body of a shard run (the ``backfill-shard`` flow, ``flows.backfill.backfill_shard``, which
    hands over the local backfill's steps): read the pieces (paths and byte ranges), extract, write
    batch ``batch_id``. ``settings`` are the backfill's (so every worker extracts alike);
    ``recurring`` names the learnt recurring lines in the lake."""
    conf = load_settings(**(settings or {}))
    lake = Lake(lake_uri)
    learnt: RecurringLines | None = pickle.loads(lake.get_object(recurring)) if recurring else None
    task = ShardTask(batch_id, tuple(Shard(**p) for p in pieces), run_id, outlet, force, lake_uri)
    return process_shard(task, conf, learnt, steps)


@flow(name=COMMIT_FLOW, timeout_seconds=6 * 3600)
def lake_commit(db: str, lake_uri: str, batch_ids: list[str] | None = None, run_id: str = "committer",
                replace: bool = False, hold_in_transaction: float = 0.0) -> dict[str, Any]:
    """The one DuckDB writer: load the finished lake batches named (all not loaded yet when None).
    ``hold_in_transaction``: fault drills, seconds to wait in each batch's open transaction. Fails
    when the database is held by another process."""
    from flows.shared import flush_index
    from warehouse.db import DatabaseLocked

    settings = load_settings(db=Path(db), lake_uri=lake_uri)
    out = commit_all(settings, run_id=run_id, batch_ids=batch_ids, replace=replace,
                     in_transaction=(lambda _bid: time.sleep(hold_in_transaction)) if hold_in_transaction else None)
    flush_index(settings)
    locked = [c.batch_id for c in out if c.status == "locked"]
    if locked:  # the run fails (the fan-out tries again); the batches wait in the lake meanwhile
        raise DatabaseLocked(Path(db), detail=f"{len(locked)} lake batch(es) not loaded")
    return {"committed": [c.batch_id for c in out if c.status == "loaded"],
            "articles": sum(c.articles for c in out)}


# --------------------------------------------------------------------------- the fan-out


@dataclass
class _Work:
    """One piece of work driven through runs of a deployment."""

    what: str  # batch id, or "commit"
    deployment: str
    parameters: dict[str, Any]
    finished: Callable[[], bool]
    exclusive: bool = False  # ``finished`` opens what the run writes (see ``look_for_output``)
    attempt: int = 0
    flow_run_id: Any = None


class _Driver:
    """Starts, watches and restarts deployment runs until their work is finished."""

    def __init__(self, client: Any, scope: str) -> None:
        self.client, self.scope = client, scope
        self.pools: dict[str, str] = {}

    def submit(self, work: _Work) -> None:
        from prefect.deployments import run_deployment

        work.attempt += 1
        run = run_deployment(work.deployment, parameters=work.parameters, timeout=0,
                             idempotency_key=run_key(self.scope, work.what, work.attempt),
                             flow_run_name=f"{work.what[:16]}-{work.attempt}", as_subflow=True)
        assert not inspect.isawaitable(run)  # called from sync code: Prefect returns the FlowRun itself
        work.flow_run_id = run.id
        log.info("fanout: %s attempt %d is flow run %s", work.what, work.attempt, run.id)

    def _workers(self, deployment: str) -> dict[str, bool | None]:
        pool = self.pools.get(deployment)
        if pool is None:
            pool = self.pools[deployment] = self.client.read_deployment_by_name(deployment).work_pool_name
        at = datetime.now(UTC)
        found = self.client.read_workers_for_work_pool(pool, limit=200, offset=0)
        return {w.name: worker_alive(w.last_heartbeat_time, w.heartbeat_interval_seconds, at) for w in found}

    def drive(self, works: list[_Work], max_attempts: int = MAX_ATTEMPTS) -> None:
        """Run every work not finished yet, and again when its run fails or is lost, until all are finished."""
        left: list[_Work] = []
        try:
            for w in works:
                if not w.finished():
                    self.submit(w)
                    left.append(w)
            while left:
                time.sleep(POLL_SECONDS)
                left = self._step(left, max_attempts)
        except BaseException:
            self._cancel_waiting(left, "the backfill stopped")
            raise

    def _runs(self, works: list[_Work]) -> dict[Any, Any]:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
        from prefect.client.schemas.sorting import FlowRunSort

        # explicit paging: one page holds every run asked for
        found = self.client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[w.flow_run_id for w in works])),
            limit=len(works), offset=0, sort=FlowRunSort.ID_DESC)
        return {r.id: r for r in found}

    def _step(self, left: list[_Work], max_attempts: int) -> list[_Work]:
        from prefect.states import Crashed

        runs = self._runs(left)
        workers: dict[str, bool | None] = {}
        for dep in {w.deployment for w in left if _state(runs.get(w.flow_run_id)) in _HELD}:
            workers.update(self._workers(dep))
        still = []
        for w in left:
            run = runs.get(w.flow_run_id)
            state = _state(run)
            holder = (run.labels or {}).get(WORKER_LABEL) if run is not None else None
            alive = workers.get(str(holder)) if holder else None
            finished = look_for_output(state, alive=alive, exclusive=w.exclusive) and w.finished()
            v = verdict(state, finished=finished, alive=alive, attempt=w.attempt, max_attempts=max_attempts)
            if v == "done":
                if state == "SCHEDULED":  # finished by an earlier run meanwhile: free the worker it would take
                    self._cancel_waiting([w], "its output is already there")
                continue
            if v == "give_up":
                raise FanoutFailed(f"{w.deployment} for {w.what} failed {w.attempt} times "
                                   f"(last run {w.flow_run_id}: {state})")
            if v == "resubmit":
                if state in _HELD:  # its worker is gone: say so on the run, then start another
                    self.client.set_flow_run_state(w.flow_run_id, Crashed(
                        message=f"worker {holder} stopped heartbeating; resubmitted"), force=True)
                log.warning("fanout: %s run %s ended %s%s; resubmitting", w.what, w.flow_run_id, state,
                            f" (worker {holder} gone)" if state in _HELD else "")
                self.submit(w)
            still.append(w)
        return still

    def _cancel_waiting(self, works: list[_Work], why: str) -> None:
        """Cancel the runs of ``works`` that no worker has taken yet."""
        from prefect.states import Cancelled

        if not works:
            return
        try:
            for w in works:
                run = self._runs([w]).get(w.flow_run_id)
                if _state(run) == "SCHEDULED":
                    self.client.set_flow_run_state(w.flow_run_id, Cancelled(message=why))
        except Exception:  # best effort: a run left queued finds its batch finished, or writes it again
            log.warning("fanout: could not cancel waiting runs", exc_info=True)


def _check_deployments(client: Any, names: list[str]) -> None:
    from prefect.exceptions import ObjectNotFound

    for name in names:
        try:
            client.read_deployment_by_name(name)
        except ObjectNotFound:
            raise FanoutFailed(f"no deployment {name} on the Prefect server at {client.api_url}: "
                               "deploy prefect.yaml (`make serve` does)") from None


def _state(run: Any) -> str | None:
    if run is None or run.state is None:
        return None
    return str(run.state.type.value)


def _batch_rows(db: Path, ids: list[str]) -> dict[str, tuple[int, int, str]]:
    """``(records, articles, run id)`` of the batches of ``ids`` recorded in ``lake_batches``."""
    from warehouse.db import DatabaseLocked, DatabaseMissing, connect_read

    if not ids:
        return {}
    try:
        conn = connect_read(db)
    except (DatabaseMissing, DatabaseLocked):
        return {}
    try:
        rows = conn.execute("SELECT batch_id, records, articles, run_id FROM lake_batches "
                            "WHERE list_contains(?, batch_id)", [ids]).fetchall()
    finally:
        conn.close()
    return {r[0]: (int(r[1]), int(r[2]), str(r[3])) for r in rows}


def settings_for_shards(settings: Settings) -> dict[str, Any]:
    """The backfill's settings as a shard run's parameter (plain JSON values)."""
    return settings.model_dump(mode="json", exclude_unset=False)


def run_prefect_backfill(paths: list[str], settings: Settings, *, run_id: str, outlet: str | None, force: bool,
                         summary: Any, recurring: Callable[[], RecurringLines], progress: Any = None) -> Any:
    """The backfill over Prefect workers; fills and returns ``summary`` (a ``BackfillSummary``)."""
    from collections import Counter

    from prefect import get_client

    t0 = time.perf_counter()
    where, _loaded, todo = shards_to_do(paths, settings, outlet, force, summary)
    lake = Lake(settings.lake_location)

    def finished(bid: str) -> Callable[[], bool]:
        def check() -> bool:
            made = lake.manifest(bid)
            return made is not None and (not force or made.get("run_id") == run_id)
        return check

    need = [(bid, pieces) for bid, pieces in todo if not finished(bid)()]
    ref = None
    if need:
        body = pickle.dumps(recurring(), protocol=pickle.HIGHEST_PROTOCOL)
        ref = f"recurring/{hashlib.sha256(body).hexdigest()[:32]}.pickle"
        lake.put_object(ref, body)
    conf = settings_for_shards(settings)
    works = [_Work(bid, SHARD_DEPLOYMENT, {"batch_id": bid, "pieces": [asdict(p) for p in pieces], "run_id": run_id,
                                           "lake_uri": settings.lake_location, "settings": conf, "outlet": outlet,
                                           "force": force, "recurring": ref}, finished(bid))
             for bid, pieces in todo]
    ids = [bid for bid, _ in todo]

    def committed() -> bool:  # every batch loaded (by this run, when replacing)
        got = _batch_rows(settings.db, ids)
        return len(got) == len(ids) and (not force or all(r[2] == run_id for r in got.values()))

    with get_client(sync_client=True) as client:
        _check_deployments(client, [SHARD_DEPLOYMENT, COMMIT_DEPLOYMENT] if ids else [])
        driver = _Driver(client, run_id)
        driver.drive(works)
        if ids:
            driver.drive([_Work("commit", COMMIT_DEPLOYMENT, {"db": str(settings.db.resolve()),
                                                              "lake_uri": settings.lake_location,
                                                              "batch_ids": ids, "run_id": run_id,
                                                              "replace": force}, committed, exclusive=True)])
    rows = _batch_rows(settings.db, ids)
    not_articles: Counter[str] = Counter(summary.not_articles)
    for bid in ids:
        counts = (lake.manifest(bid) or {}).get("summary", {})
        summary.read += int(counts.get("read", 0))
        summary.duplicates += int(counts.get("duplicates", 0))
        for reason, n in dict(counts.get("rejects_by_reason", {})).items():
            summary.rejected += n
            summary.rejects_by_reason[reason] = summary.rejects_by_reason.get(reason, 0) + n
        not_articles.update(dict(counts.get("not_articles", {})))
        summary.batches += 1
        if bid in rows:
            summary.loaded += rows[bid][1]
        else:
            summary.staged_batches += 1  # finished in the lake, not loaded: the next run commits it
        summary.path = where[bid]
    summary.not_articles = dict(sorted(not_articles.items()))
    summary.seconds = time.perf_counter() - t0
    if progress is not None:
        progress(summary)
    return summary
