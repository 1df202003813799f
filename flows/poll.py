"""The feed poll (conditional GETs of every feed, no parsing), and starting it early.

Importing this module loads neither Prefect nor the extraction path: the CLI starts the poll in
a background thread (``EarlyPoll``) before it imports Prefect, so the poll's politeness waits
(feeds on one host go out ``per_host_delay`` apart) overlap Prefect's import and the flow run's
creation instead of following them. The flow's ``poll-feeds`` task then takes that poll's
outcomes, but only when it was made from exactly the feed list and the stored feed states the
flow reads under its run lock (``EarlyPoll.matches``); otherwise the flow polls again.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from typing import Any

from extractors.net.fetcher import Fetcher
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
        return states.get(spec.url) or FeedState(feed_url=spec.url, name=spec.name, tags=spec.tags)

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


class EarlyPoll:
    """A poll started before the flow, in a background thread, from the feed list and the
    stored states as they were then."""

    def __init__(self, specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings,
                 tick: Callable[[], None] | None = None) -> None:
        self.specs = list(specs)
        self.states = dict(states)
        self.settings = settings
        self._outcomes: list[PollOutcome] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(tick,), name="early-poll", daemon=True)
        self._thread.start()

    def _run(self, tick: Callable[[], None] | None) -> None:
        try:
            self._outcomes = poll_all(self.specs, self.states, self.settings, tick=tick)
        except BaseException as exc:  # handed to the flow, which then polls itself
            self._error = exc

    def matches(self, specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings) -> bool:
        """Whether this poll is the one the flow would make now: same feeds in the same order,
        same stored state for each (any run in between changes ``last_polled_at``), same
        database and network settings."""
        return (specs == self.specs and states == self.states
                and settings.model_dump() == self.settings.model_dump())

    def outcomes(self) -> list[PollOutcome] | None:
        """The poll's outcomes once it has ended (None if it failed)."""
        self._thread.join()
        return self._outcomes if self._error is None else None


def start_early_poll(settings: Settings, specs: list[FeedSpec],
                     tick: Callable[[], None] | None = None) -> EarlyPoll | None:
    """Read the feeds' stored states and start polling them in the background; None when the
    states cannot be read now (the flow then polls as usual)."""
    from warehouse.queries import read_feed_states

    try:
        states = read_feed_states(settings.db, [s.url for s in specs])
    except Exception:  # e.g. a schema the flow's migrations have not brought up to date yet
        return None
    return EarlyPoll(specs, states, settings, tick)
