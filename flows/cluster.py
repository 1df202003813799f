"""Running the CPU-bound stage on an existing Dask cluster (``NEWSFLOW_EXECUTOR=dask://HOST:PORT``).

For ingest and reprocess only extraction moves (ingest's page fetching too: ``flows/host_shards.py``):
jobs go to the cluster in shards (``Settings.shard_size`` jobs per Dask task, never one task per
page), results come back in input order, and the flow process keeps everything else, the load
included, so DuckDB still has exactly one writer. A backfill goes further (``flows/lake_backfill.py``):
workers read their own archive shards and write Parquet batches to the lake, and the flow commits them.

Faults: when a worker dies, the scheduler runs the shards it held again on another worker.
Shards have no side effects (a worker writes nothing, anywhere) and their article ids are
content-addressed, so a shard run twice gives the same articles; since only the flow process
loads, each result is taken once whichever run of its shard delivered it. If a
shard fails for good (e.g. it killed several workers in a row), the map raises: the batches
loaded so far stay, and a rerun of the backfill skips them.

When the scheduler itself goes (killed, restarted), every future in flight is lost with it. The
run then waits up to ``RECONNECT_WITHIN`` seconds for a scheduler at the same address with at
least one worker, and submits again the shards it had not got back (``lost_scheduler``,
``reconnect``); a backfill first takes the batches a worker finished in the lake meanwhile. A run
survives ``SCHEDULER_LOSSES`` such losses; past that, or when the scheduler does not come back in
time, it fails with ``ClusterLost`` (the batches committed so far stay, a rerun finishes the rest).
Dask workers do not reconnect by themselves: they exit with their scheduler, and whatever
supervises them (systemd, Kubernetes, a job script) has to start them again.

Workers need the project importable (``pip install`` of the same version on every worker);
shards carry plain data (dataclasses, bytes, pydantic models), never open files or sockets.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT = 15.0  # seconds to reach the scheduler before the run fails
RECONNECT_WITHIN = 120.0  # seconds a run waits for a lost scheduler (and one worker) to come back
SCHEDULER_LOSSES = 3  # scheduler losses a run survives; the next one fails it
SHARDS_PER_THREAD = 2  # shards in flight per worker thread: one running, one queued behind it

_clients: dict[str, Any] = {}
_lock = threading.Lock()


class ClusterUnavailable(RuntimeError):
    """The Dask scheduler named by the executor setting cannot be reached."""


def client_for(address: str) -> Any:
    """One ``distributed.Client`` per scheduler address, reused for the life of the process."""
    from distributed import Client

    with _lock:
        client = _clients.get(address)
        if client is not None and client.status == "running":
            return client
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterUnavailable(f"cannot reach the Dask scheduler at {_where(address)} "
                                     f"within {CONNECT_TIMEOUT:.0f}s ({type(exc).__name__})") from None
        _clients[address] = client
        return client


class ClusterLost(ClusterUnavailable):
    """The scheduler went away mid-run and did not come back (or went away too often)."""


def lost_scheduler(exc: BaseException, client_status: str) -> bool:
    """Whether ``exc``, raised by a shard's result, means the scheduler went away (the shard
    itself did not fail): its future was cancelled for a lost connection, or the client is no
    longer connected. A shard's arguments are plain data, so "lost dependencies" (what a
    restarted scheduler answers for a key it no longer knows) also means the scheduler went.
    A closed Dask connection (gathering a result from a worker that went with the scheduler)
    is never a shard's own failure, even when the client has already reconnected."""
    if getattr(exc, "reason", None) in ("scheduler-connection-lost", "lost dependencies"):
        return True
    from distributed.comm.core import CommClosedError

    if isinstance(exc, CommClosedError):
        return True
    import asyncio
    import concurrent.futures

    lost_kinds = (concurrent.futures.CancelledError, asyncio.CancelledError, OSError, TimeoutError)
    return client_status != "running" and isinstance(exc, lost_kinds)


def _same(value: T) -> T:
    return value


def share(client: Any, value: Any, key: str) -> Any:
    """A future of ``value`` for the cluster's tasks to take as an argument (the one copy of a run's
    learnt data, instead of one per shard). It is a task, not scattered data: a worker that dies
    holding the only copy loses nothing, as the scheduler keeps the task and computes it again on
    another worker. (A broadcast scatter is no safer: the active memory manager drops the extra
    copies within seconds, and scattered data lost with its worker cannot be recovered, so every
    shard that needs it is cancelled.)"""
    return client.submit(_same, value, key=key, pure=False)


def survives(losses: int, limit: int | None = None) -> bool:
    """Whether a run that has lost its scheduler ``losses`` times (this one included) goes on."""
    return losses <= (SCHEDULER_LOSSES if limit is None else limit)


def _where(address: str) -> str:
    return "dask://" + address.removeprefix("tcp://")


def after_failure(exc: BaseException, client: Any, address: str, losses: int, note: str = "") -> tuple[Any, int]:
    """A shard's result raised ``exc``: re-raise it unless the scheduler was lost; otherwise count
    the loss, give up past ``SCHEDULER_LOSSES`` (``ClusterLost``, ``note`` appended) and return
    the reconnected client with the new count, for the caller to resubmit what is pending."""
    if not lost_scheduler(exc, client.status):
        raise exc
    losses += 1
    if not survives(losses):
        raise ClusterLost(f"lost the Dask scheduler at {_where(address)} {losses} times in one run; "
                          f"giving up{note}") from None
    return reconnect(address), losses


def reconnect(address: str, within: float | None = None) -> Any:
    """Wait until the scheduler at ``address`` is back with at least one worker; returns the
    client (the old one if it reconnected, else a new one). Raises ``ClusterLost`` after ``within``
    seconds (default ``RECONNECT_WITHIN``)."""
    import time

    within = RECONNECT_WITHIN if within is None else within
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ClusterLost(f"lost the Dask scheduler at {_where(address)} and it did not come back with a "
                              f"worker within {within:.0f}s; the batches committed so far stay, "
                              "a rerun does the rest")
        with _lock:
            client = _clients.get(address)
        status = getattr(client, "status", "closed")
        if client is not None and status == "running":
            try:
                client.wait_for_workers(1, timeout=max(left, 0.1))
                return client
            except (TimeoutError, OSError):
                continue
        if status in ("closed", "closing", "failed") or client is None:
            with _lock:
                if _clients.get(address) is client:
                    _clients.pop(address, None)
            with contextlib.suppress(ClusterUnavailable):  # not back yet: try again until the deadline
                client_for(address)
            continue
        time.sleep(0.2)  # the client is reconnecting by itself


def connect_executor(address: str | None) -> None:
    """Fail before any work when the configured scheduler cannot be reached (no-op for local)."""
    if address:
        client_for(address)


def close_clients() -> None:
    with _lock:
        for client in _clients.values():
            with contextlib.suppress(Exception):  # at exit: a scheduler already gone is fine
                client.close(timeout=5)
        _clients.clear()


atexit.register(close_clients)


def run_shard(fn: Callable[[T], R], shard: list[T]) -> list[R]:
    """A Dask task: ``fn`` over one shard, in order, in the worker's own process (no pool)."""
    return [fn(item) for item in shard]


def cluster_threads(client: Any) -> int:
    """Worker threads the cluster has now (at least 1, so a cluster still starting gets work)."""
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:
        return 1


def shards(items: Iterable[T], size: int) -> Iterator[list[T]]:
    buf: list[T] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def dask_map_ordered(fn: Callable[[T], R], items: Iterable[T], *, address: str, shard_size: int,
                     in_flight: int | None = None) -> Iterator[R]:
    """Map ``fn`` over ``items`` on the Dask cluster at ``address``, yielding results in input order.

    At most ``in_flight`` shards (default: two per worker thread) are out at once, so a streaming
    input never sits in memory as a whole and the cluster always has the next shard queued.
    Task keys name the map and the shard's position, so a shard rerun after a worker's death is
    the same task, and its result is taken once.
    """
    client = client_for(address)

    def window() -> int:  # asked again once per window, so workers that join mid-run get work
        return in_flight or SHARDS_PER_THREAD * cluster_threads(client)

    limit, asked_at = window(), 0
    name = f"newsflow-{getattr(fn, '__name__', 'job')}-{uuid.uuid4().hex[:12]}"
    pending: list[tuple[str, list[T], Any]] = []  # key, shard, future
    losses = 0

    def submit(key: str, shard: list[T]) -> Any:
        return client.submit(run_shard, fn, shard, key=key, pure=False, retries=1)

    def take() -> list[R]:
        nonlocal client, losses
        while True:
            try:
                return pending[0][2].result()
            except Exception as exc:
                client, losses = after_failure(exc, client, address, losses)
                pending[:] = [(k, shard, submit(k, shard)) for k, shard, _ in pending]

    try:
        for i, shard in enumerate(shards(items, shard_size)):
            key = f"{name}-{i}"
            pending.append((key, shard, submit(key, shard)))
            if i - asked_at >= limit:
                limit, asked_at = window(), i
            while len(pending) >= limit:
                out = take()
                pending.pop(0)
                yield from out
        while pending:
            out = take()
            pending.pop(0)
            yield from out
    finally:
        if pending:  # the consumer stopped early or a shard failed: free the cluster
            with contextlib.suppress(Exception):  # a client without its scheduler has nothing to free
                client.cancel([f for _, _, f in pending])
