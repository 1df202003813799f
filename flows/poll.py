"""The feed poll (conditional GETs of every feed, no parsing), and starting it early.

Importing this module loads neither Prefect nor the extraction path: the CLI starts the poll
(``EarlyPoll``) before it imports Prefect, in a forked child process on Linux (else in a
background thread), so the poll's politeness waits (feeds on one host go out ``per_host_delay``
apart) and its HTTP CPU overlap Prefect's import and the flow run's creation instead of
following them or sharing their core. The flow's ``poll-feeds`` task then takes that poll's
outcomes, but only when it was made from exactly the feed list and the stored feed states the
flow reads under its run lock (``EarlyPoll.matches``); otherwise the flow polls again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import Any

from extractors.net.fetcher import Fetcher, FetchResult
from flows.decisions import PollOutcome, is_backing_off
from schemas.failures import PipelineError, Reason
from schemas.records import FeedSpec, FeedState, utcnow
from schemas.settings import Settings

POLL_DEADLINE_S = 840.0


async def within(awaitables: Iterable[Any], seconds: float, late: Callable[[int], Any]) -> list[Any]:
    """The awaitables' results in order; any still running after ``seconds`` is cancelled (its
    sockets closed) and stands as ``late(i)``."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=max(seconds, 0.0))
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return [t.result() if t in done else late(i) for i, t in enumerate(tasks)]


def late_error(seconds: float, what: str) -> PipelineError:
    return PipelineError(Reason.TIMEOUT, f"{what} still running when the stage deadline ({seconds:.0f} s) passed")


def poll_all(specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings,
             deadline: float = POLL_DEADLINE_S, tick: Callable[[], None] | None = None) -> list[PollOutcome]:
    """Conditional GET of every feed that is not backing off (network only, no parsing); feeds
    not answered within ``deadline`` seconds fail with a timeout. ``tick`` is called per feed."""
    now = utcnow()

    def state_of(spec: FeedSpec) -> FeedState:
        return default_state(spec, states)

    async def one(fetcher: Fetcher, spec: FeedSpec) -> PollOutcome:
        state = state_of(spec)
        if is_backing_off(state, now):
            return PollOutcome(spec, state, skipped=True)
        try:
            res = await fetcher.fetch(spec.url, kind="feed", etag=state.etag, last_modified=state.last_modified)
            return PollOutcome(spec, state, result=res)
        except PipelineError as exc:
            return PollOutcome(spec, state, error=exc)
        except Exception as exc:  # never let one feed break the poll
            return PollOutcome(spec, state, error=PipelineError(Reason.INTERNAL, f"{type(exc).__name__}: {exc}"))
        finally:
            if tick is not None:
                tick()

    def late(i: int) -> PollOutcome:
        return PollOutcome(specs[i], state_of(specs[i]), error=late_error(deadline, "feed poll"))

    async def all_feeds() -> list[PollOutcome]:
        async with Fetcher(settings) as fetcher:
            return await within((one(fetcher, s) for s in specs), deadline, late)

    return asyncio.run(all_feeds())


def default_state(spec: FeedSpec, states: dict[str, FeedState]) -> FeedState:
    """A feed's stored state, or the state of a feed never polled."""
    return states.get(spec.url) or FeedState(feed_url=spec.url, name=spec.name, tags=spec.tags)


# --------------------------------------------------------------------------- outcomes as plain data
# What a forked poll sends back: per feed, in order, a tuple of plain values (the parent holds the
# same specs and states, so they are not sent). A PipelineError does not survive pickling (its
# args are the formatted message), hence its parts.

_RESULT_FIELDS = tuple(f.name for f in fields(FetchResult))


def encode_outcomes(outcomes: list[PollOutcome]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for o in outcomes:
        if o.skipped:
            rows.append(("skipped",))
        elif o.error is not None:
            rows.append(("error", o.error.reason.value, o.error.message, o.error.retry_after))
        elif o.result is not None:
            rows.append(("result", *(getattr(o.result, f) for f in _RESULT_FIELDS)))
        else:
            raise ValueError(f"a poll outcome with neither result nor error: {o.spec.url}")
    return rows


def decode_outcomes(rows: list[tuple[Any, ...]], specs: list[FeedSpec],
                    states: dict[str, FeedState]) -> list[PollOutcome]:
    if len(rows) != len(specs):
        raise ValueError(f"{len(rows)} poll outcomes for {len(specs)} feeds")
    out: list[PollOutcome] = []
    for spec, row in zip(specs, rows, strict=True):
        state = default_state(spec, states)
        if row[0] == "skipped":
            out.append(PollOutcome(spec, state, skipped=True))
        elif row[0] == "error":
            out.append(PollOutcome(spec, state, error=PipelineError(Reason(row[1]), row[2], retry_after=row[3])))
        elif row[0] == "result":
            out.append(PollOutcome(spec, state, result=FetchResult(*row[1:])))
        else:
            raise ValueError(f"unknown poll outcome kind {row[0]!r}")
    return out


# --------------------------------------------------------------------------- the early poll


def fork_is_safe() -> bool:
    """Whether the early poll may run in a forked child process: Linux, Prefect not imported yet
    and no other Python thread running (a fork copies only the calling thread: a lock another
    thread held would stay held in the child). Native pools that imports start (numpy's BLAS,
    DuckDB's) are idle then, and the child uses neither."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork") and "prefect" not in sys.modules
            and threading.active_count() == 1)


TICK = b"t"  # child -> parent: one feed polled
DONE = b"r"  # then the encoded outcomes: 8-byte length and a pickle
FAILED = b"e"  # or a failure: 8-byte length and its message


def _child_poll(fd: int, specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings,
                ticks: bool) -> None:
    """The forked child's whole work: poll (its own event loop and HTTP client, created here),
    write the outcomes to ``fd``. Nothing inherited from the parent (its database connections,
    locks, Prefect) is touched."""
    def tick() -> None:
        os.write(fd, TICK)

    try:
        rows = encode_outcomes(poll_all(specs, states, settings, tick=tick if ticks else None))
        kind, payload = DONE, pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # the parent polls itself
        kind, payload = FAILED, f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
    with open(fd, "wb", closefd=True) as out:
        out.write(kind + len(payload).to_bytes(8, "big") + payload)


def read_child_message(data: bytes, tick: Callable[[], None] | None) -> list[tuple[Any, ...]]:
    """The outcome rows in what a child wrote (ticks first, passed to ``tick``); raises
    ValueError when it failed or its message is cut short."""
    n = len(data) - len(data.lstrip(TICK))
    if tick is not None:
        for _ in range(n):
            tick()
    kind, size, payload = data[n:n + 1], int.from_bytes(data[n + 1:n + 9], "big"), data[n + 9:]
    if kind not in (DONE, FAILED) or len(payload) != size:
        raise ValueError(f"early poll child ended without a whole message ({len(data)} bytes)")
    if kind == FAILED:
        raise ValueError(f"early poll child failed: {payload.decode('utf-8', 'replace')}")
    rows = pickle.loads(payload)
    if not isinstance(rows, list):
        raise ValueError("early poll child sent something other than outcome rows")
    return rows


class EarlyPoll:
    """A poll started before the flow, from the feed list and the stored states as they were
    then: in a forked child process where that is safe (``fork_is_safe``: its httpx CPU then runs
    on another core than Prefect's import and the flow engine), else in a background thread.

    The child sends its outcomes back through a pipe; a reader thread here receives them (and
    the per-feed ticks of a progress bar). A child that dies, fails or outlives the poll's
    deadline gives no outcomes: the flow then polls itself."""

    def __init__(self, specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings,
                 tick: Callable[[], None] | None = None, *, fork: bool | None = None,
                 wait_s: float = POLL_DEADLINE_S + 60) -> None:
        self.specs = list(specs)
        self.states = dict(states)
        self.settings = settings
        self.wait_s = wait_s
        self.pid: int | None = None
        self._started = 0.0
        self._reaped = False
        self._child_lock = threading.Lock()
        self._outcomes: list[PollOutcome] | None = None
        self._error: BaseException | None = None
        if (fork_is_safe() if fork is None else fork) and self._fork(tick):
            self.mode = "fork"
            return
        self.mode = "thread"
        self._thread = threading.Thread(target=self._run, args=(tick,), name="early-poll", daemon=True)
        self._thread.start()

    def _run(self, tick: Callable[[], None] | None) -> None:
        try:
            self._outcomes = poll_all(self.specs, self.states, self.settings, tick=tick)
        except BaseException as exc:  # handed to the flow, which then polls itself
            self._error = exc

    def _fork(self, tick: Callable[[], None] | None) -> bool:
        """Start the child and the thread reading it; False if the fork failed."""
        r, w = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered here may be written twice
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return False
        if pid == 0:  # the child: poll, report, and leave without running any of the parent's exit code
            try:
                # what the parent had allocated is never collected here: no finaliser of an
                # inherited object (a DuckDB connection left to the collector) runs in the child
                gc.freeze()
                os.close(r)
                _child_poll(w, self.specs, self.states, self.settings, ticks=tick is not None)
            finally:
                os._exit(0)
        os.close(w)
        self.pid = pid
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._read_child, args=(r, tick), name="early-poll-reader",
                                        daemon=True)
        self._thread.start()
        return True

    def _read_child(self, fd: int, tick: Callable[[], None] | None) -> None:
        try:
            chunks: list[bytes] = []
            with open(fd, "rb", buffering=0) as pipe:
                while chunk := pipe.read(1 << 16):
                    if tick is not None and not chunks and not chunk.strip(TICK):
                        for _ in range(len(chunk)):  # only ticks so far: show them now
                            tick()
                        continue
                    chunks.append(chunk)
            self._outcomes = decode_outcomes(read_child_message(b"".join(chunks), tick), self.specs, self.states)
        except BaseException as exc:
            self._error = exc
        finally:
            self._reap()

    def _reap(self) -> None:
        with self._child_lock:
            if self.pid is not None and not self._reaped:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self.pid, 0)
                self._reaped = True

    def cancel(self) -> None:
        """Stop a forked poll that is no longer wanted (a thread cannot be stopped: it ends with
        its deadline, and is a daemon)."""
        with self._child_lock:
            if self.pid is not None and not self._reaped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)

    def matches(self, specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings) -> bool:
        """Whether this poll is the one the flow would make now: same feeds in the same order,
        same stored state for each (any run in between changes ``last_polled_at``), same
        database and network settings."""
        return (specs == self.specs and states == self.states
                and settings.model_dump() == self.settings.model_dump())

    def outcomes(self) -> list[PollOutcome] | None:
        """The poll's outcomes once it has ended (None if it failed, or a child is still
        running ``wait_s`` seconds after it started: it is killed)."""
        self._thread.join(max(0.0, self._started + self.wait_s - time.monotonic()) if self.pid is not None else None)
        if self._thread.is_alive():
            self.cancel()
            self._thread.join()
            return None
        return self._outcomes if self._error is None else None


def start_early_poll(settings: Settings, specs: list[FeedSpec], tick: Callable[[], None] | None = None,
                     *, fork: bool | None = None) -> EarlyPoll | None:
    """Read the feeds' stored states and start polling them in the background (in a child
    process when ``fork_is_safe``, or as ``fork`` says); None when the states cannot be read now
    (the flow then polls as usual)."""
    from warehouse.queries import read_feed_states

    try:
        states = read_feed_states(settings.db, [s.url for s in specs])
    except Exception:  # e.g. a schema the flow's migrations have not brought up to date yet
        return None
    return EarlyPoll(specs, states, settings, tick, fork=fork)
