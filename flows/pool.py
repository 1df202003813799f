"""A process pool for CPU-bound extraction, shared by every flow in a process.

Extraction (lxml + trafilatura + cleaner) holds the GIL, so threads cannot use both cores;
worker processes can. Workers are started once (forkserver: safe next to Prefect's threads)
and reused across runs, so start-up is paid once per process.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Executor, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def get_pool(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    # a pool whose worker died (e.g. killed for memory) is broken for good: start a new one
    if _pool is not None and _pool_size == workers and not getattr(_pool, "_broken", False):
        return _pool
    shutdown_pool()
    ctx = mp.get_context("forkserver")
    # the forkserver loads and warms the whole per-document path once; workers fork from it warm
    ctx.set_forkserver_preload(["flows.warmup"])
    _pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    _pool_size = workers
    return _pool


def pool_started(workers: int) -> bool:
    """Whether this process's pool of ``workers`` is up with its processes started."""
    return (_pool is not None and _pool_size == workers and not getattr(_pool, "_broken", False)
            and bool(getattr(_pool, "_processes", None)))


def shutdown_pool() -> None:
    global _pool, _pool_size
    if _pool is not None:
        _pool.shutdown(wait=not getattr(_pool, "_broken", False), cancel_futures=True)
    _pool = None
    _pool_size = 0


atexit.register(shutdown_pool)


def stop_forkserver() -> None:
    """End the pool's fork server now, once the pool is shut down (no-op while a pool is up).

    Left alone it leaves only after this process has exited, through a whole interpreter
    teardown of its warm heap (0.2-0.3 s), and it holds this process's stdout and stderr open
    meanwhile: a caller reading the command's output waited for it. It holds no work then, so it
    is killed and reaped."""
    if _pool is not None:
        return
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if server is None or pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        server._stop()  # closes its "alive" pipe, reaps it, removes its socket file if it has one


def stop_resource_tracker(timeout: float = 2.0) -> bool:
    """End multiprocessing's resource tracker now and reap it; True when it is gone (or was not up).

    The fork server starts it, and it keeps this process's stderr open until every holder of its
    pipe has exited and it has torn its own interpreter down: a caller reading the command's
    output waited for it, and a check right after the command's exit could still see it running.
    Closing our end of the pipe makes it clean up and leave; it is reaped here, waiting at most
    ``timeout`` seconds, since a process still holding the pipe (a worker not yet gone) would
    keep it up: then it is left to leave on its own. Only for a process about to exit."""
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker, "_resource_tracker", None)
    fd, pid = getattr(tracker, "_fd", None), getattr(tracker, "_pid", None)
    if tracker is None or fd is None or pid is None:
        return True
    tracker._fd = tracker._pid = None
    with contextlib.suppress(OSError):
        os.close(fd)
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere, or not our child
            return True
        if done:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


def stop_pool() -> None:
    """Kill the pool's workers now (a job is stuck in one) and drop the pool; the next
    ``get_pool`` starts a fresh one. Queued jobs are cancelled."""
    global _pool, _pool_size
    pool, _pool, _pool_size = _pool, None, 0
    if pool is None:
        return
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.kill()
    with contextlib.suppress(Exception):
        pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(5)


def results_within(futures: Iterable[Future[R]], deadline: float, late: Callable[[int], R],
                   failed: Callable[[int, BaseException], R]) -> list[R]:
    """Each future's result, in order, waiting until ``deadline`` (time.monotonic()) at most.

    Futures not done by then stand as ``late(i)``; if any was still running in the shared pool,
    its workers are killed (stop_pool), which is what stops a stuck job: a thread cannot be
    interrupted, a process can. A future that raised stands as ``failed(i, exc)``.
    """
    out: list[R] = []
    stuck = False
    for i, fut in enumerate(futures):
        try:
            out.append(fut.result(timeout=max(deadline - time.monotonic(), 0.0)))
        except FutureTimeout:
            stuck = stuck or not fut.cancel()
            out.append(late(i))
        except CancelledError as exc:
            out.append(failed(i, exc))
        except Exception as exc:
            out.append(failed(i, exc))
    if stuck:
        stop_pool()
    return out


def map_within(fn: Callable[[T], R], items: Iterable[T], *, workers: int, seconds: float,
               late: Callable[[int], R], failed: Callable[[int, BaseException], R],
               on_done: Callable[[Future[R]], None] | None = None) -> list[R]:
    """``fn`` over ``items`` (which may arrive over time) in the shared pool, results in order.

    Jobs not done ``seconds`` after the call stand as ``late(i)`` and the worker running one is
    killed (results_within). Always worker processes, one at least even for ``workers=1``: a job
    running in this process could not be stopped. The one exception is a Dask worker, which may
    not start processes; there the jobs run inline and the cluster's own limits apply.
    ``on_done`` is called with each job's future as it finishes (its result handed on early).
    """
    started = time.monotonic()
    ex = _InlineExecutor() if in_dask_worker() else get_pool(max(workers, 1))
    futures: list[Future[R]] = []
    for item in items:
        fut = ex.submit(fn, item)
        if on_done is not None:
            fut.add_done_callback(on_done)
        futures.append(fut)
    return results_within(futures, started + seconds, late, failed)


class _InlineExecutor(Executor):
    """Runs jobs in the calling process (workers=1): no pickling, no start-up."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed back to the caller through the future
            fut.set_exception(exc)
        return fut


def in_dask_worker() -> bool:
    """True inside a Dask worker: its processes may not start children, and the cluster is the
    parallelism there, so no pool is ever created in one."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


def executor_for(workers: int) -> Executor:
    return _InlineExecutor() if workers <= 1 or in_dask_worker() else get_pool(workers)


def map_ordered(
    fn: Callable[[T], R], items: Iterable[T], *, workers: int, chunksize: int = 4, window: int = 64,
    cluster: str | None = None, shard_size: int = 16,
) -> Iterator[R]:
    """Map ``fn`` over ``items`` in the pool, yielding results in input order.

    At most ``window`` chunks are in flight, so a streaming input (a 20,000-page archive)
    never sits in memory as a whole. ``cluster`` is ``Settings.dask_address``: when set, the
    map runs on that Dask cluster in shards of ``shard_size`` items instead.
    """
    if cluster:
        from flows.cluster import dask_map_ordered

        yield from dask_map_ordered(fn, items, address=cluster, shard_size=shard_size)
        return
    ex = executor_for(workers)
    if isinstance(ex, _InlineExecutor):
        for item in items:
            yield fn(item)
        return
    pending: list[Future[list[R]]] = []
    chunk: list[T] = []
    max_pending = max(window // max(chunksize, 1), workers * 2)

    def run_chunk(batch: list[T]) -> Future[list[R]]:
        return ex.submit(_apply_chunk, fn, batch)

    for item in items:
        chunk.append(item)
        if len(chunk) >= chunksize:
            pending.append(run_chunk(chunk))
            chunk = []
            while len(pending) >= max_pending:
                yield from pending.pop(0).result()
    if chunk:
        pending.append(run_chunk(chunk))
    for fut in pending:
        yield from fut.result()


def _apply_chunk(fn: Callable[[T], R], batch: list[T]) -> list[R]:
    return [fn(item) for item in batch]
