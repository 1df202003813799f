"""The hourly ingest flow: poll feeds, fetch new pages, extract, normalise, load.

Network I/O (``poll_feeds``, ``fetch_pages``) is kept apart from parsing (``parse_feeds``)
and CPU-bound extraction (``extract_pages``, a process pool over all cores), and the write
connection is opened only in ``load``. One bad feed or page never fails the run; a failed
load does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from extractors.net.fetcher import Fetcher, FetchResult
from extractors.sources.feedlist import load_feed_list
from flows.cluster import connect_executor
from flows.decisions import (
    Candidate,
    FeedOutcome,
    PollOutcome,
    collect_candidates,
    collect_results,
    feed_item_keys,
    feed_outcome,
    is_backing_off,
    needs_parsing,
    next_state,
    page_job,
    resolve_known,
)
from flows.jobs import JobResult, PageJob, batch_enrichment, batch_sketches, run_job
from flows.poll import POLL_DEADLINE_S, EarlyPoll, late_error, poll_all, within
from flows.pool import map_ordered, map_within
from flows.report import IngestSummary, publish_artifacts
from flows.report_site import publish_report
from flows.shared import (
    flush_index,
    load_pending,
    merge_exact_duplicates,
    new_run_id,
    prepare_warehouse,
    run_load,
)
from flows.warm import warm_pool
from schemas.failures import PipelineError, Reason
from schemas.records import (
    Article,
    FeedSpec,
    FeedState,
    Reject,
    RunRecord,
    utcnow,
)
from schemas.settings import Settings, load_settings
from warehouse.batch import Batch
from warehouse.load import LoadResult, upsert_run
from warehouse.queries import (
    known_article_ids,
    linked_items,
    page_validators,
    read_feed_states,
)
from warehouse.runlock import run_lock

# The CLI sets this to draw live progress: hook(stage, advance, total) with stage one of
# "feeds", "fetch", "extract", "load". Flow parameters must stay serialisable, hence a global.
progress_hook: Callable[[str, int, int | None], None] | None = None


def _tick(stage: str, advance: int = 1, total: int | None = None) -> None:
    hook = progress_hook
    if hook is None:
        return
    with contextlib.suppress(Exception):  # a display must never break the run
        hook(stage, advance, total)


# --------------------------------------------------------------------------- tasks

# Stage deadlines, enforced inside the stage's event loop: Prefect's task ``timeout_seconds``
# cannot interrupt a task running in a worker thread (it only warns), so the network stages cancel
# their own requests when time is up and report the unfinished ones as timeouts; the run goes on
# with what arrived. The Prefect timeouts stay, a minute later, as a backstop.
FETCH_DEADLINE_S = 1740.0
EXTRACT_DEADLINE_S = 3540.0
_late = late_error

# The CLI sets this to a poll it started before importing Prefect (``flows.poll.EarlyPoll``); the
# flow takes it once, if it matches what the flow would poll. Like ``progress_hook``, a global:
# flow parameters must stay serialisable.
early_poll: EarlyPoll | None = None


@task(name="poll-feeds", timeout_seconds=POLL_DEADLINE_S + 60, cache_policy=NO_CACHE)
def poll_feeds(specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings,
               deadline: float = POLL_DEADLINE_S, early: EarlyPoll | None = None) -> list[PollOutcome]:
    """Conditional GET of every feed that is not backing off (network only, no parsing); feeds
    not answered within ``deadline`` seconds fail with a timeout. ``early``: a poll of exactly
    these feeds and states already under way (its outcomes are waited for and used). With a Dask
    executor the GETs run on the cluster in host shards (``flows.host_shards``); parsing stays in
    the flow."""
    if settings.dask_address and specs:
        return _poll_on_cluster(specs, states, settings, deadline, utcnow())
    if early is not None:
        got = early.outcomes()
        if got is not None:
            return got
    return poll_all(specs, states, settings, deadline, tick=lambda: _tick("feeds"))


def _poll_on_cluster(specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings,
                     deadline: float, now: Any) -> list[PollOutcome]:
    """``poll_feeds`` on the cluster: the flow decides which feeds are due, the workers GET them
    with the stored validators, and the answers come back as the local poll's outcomes."""
    from flows.host_shards import Wanted, poll_on_cluster

    held = [states.get(s.url) or FeedState(feed_url=s.url, name=s.name, tags=s.tags) for s in specs]
    due = [i for i, st in enumerate(held) if not is_backing_off(st, now)]
    _tick("feeds", len(specs) - len(due))
    answers = poll_on_cluster([Wanted(str(i), specs[i].url, held[i].etag, held[i].last_modified) for i in due],
                              settings, deadline, on_result=lambda _k, _r: _tick("feeds"))
    out: list[PollOutcome] = []
    for i, (spec, state) in enumerate(zip(specs, held, strict=True)):
        res = answers.get(str(i))
        if res is None:  # backing off: not asked for
            out.append(PollOutcome(spec, state, skipped=True))
        elif isinstance(res, FetchResult):
            out.append(PollOutcome(spec, state, result=res))
        else:
            out.append(PollOutcome(spec, state, error=res))
    return out


@task(name="parse-feeds", timeout_seconds=900, cache_policy=NO_CACHE)
def parse_feeds(polls: list[PollOutcome], tolerance_hours: float) -> list[FeedOutcome]:
    """Parse changed feed bodies; an unchanged body (same hash) costs no parsing."""
    return [feed_outcome(p, tolerance_hours) for p in polls]


@task(name="fetch-pages", timeout_seconds=FETCH_DEADLINE_S + 60, cache_policy=NO_CACHE)
def fetch_pages(
    cands: list[Candidate], settings: Settings, sink: queue.Queue[Any] | None = None,
    deadline: float = FETCH_DEADLINE_S,
) -> dict[str, FetchResult | PipelineError]:
    """Fetch every new story's page concurrently, politely (per-host caps live in the Fetcher);
    pages not fetched within ``deadline`` seconds fail with a timeout.

    Each outcome is also put on ``sink`` as it arrives, so extraction can start on the first
    page while the rest are still on the wire; ``None`` on the sink means "no more".
    """

    async def one(fetcher: Fetcher, c: Candidate) -> tuple[str, FetchResult | PipelineError]:
        res: FetchResult | PipelineError
        try:
            etag, modified = c.validators
            res = await fetcher.fetch(c.url, kind="page", etag=etag, last_modified=modified)
        except PipelineError as exc:
            res = exc
        except Exception as exc:
            res = PipelineError(Reason.INTERNAL, f"{type(exc).__name__}: {exc}"[:300])
        if sink is not None:
            sink.put((c.article_id, res))
        _tick("fetch")
        return c.article_id, res

    async def all_pages() -> dict[str, FetchResult | PipelineError]:
        if not cands:
            return {}
        def late(i: int) -> tuple[str, FetchResult | PipelineError]:
            res = _late(deadline, "page fetch")
            if sink is not None:
                sink.put((cands[i].article_id, res))
            return cands[i].article_id, res

        async with Fetcher(settings) as fetcher:
            return dict(await within((one(fetcher, c) for c in cands), deadline, late))

    try:
        if settings.dask_address and cands:  # on the cluster, in shards keyed by host
            from flows.host_shards import fetch_on_cluster

            return fetch_on_cluster(cands, settings, sink, deadline)
        return asyncio.run(all_pages())
    finally:
        if sink is not None:
            sink.put(None)


@task(name="extract-pages", timeout_seconds=EXTRACT_DEADLINE_S + 60, cache_policy=NO_CACHE)
def extract_pages(jobs: Iterable[PageJob], workers: int, cluster: str | None = None,
                  shard_size: int = 16, deadline: float = EXTRACT_DEADLINE_S,
                  on_done: Callable[[JobResult], Any] | None = None) -> list[JobResult]:
    """CPU-bound extraction and normalisation over all cores, as jobs arrive (on the Dask
    cluster at ``cluster`` in shards when set: a shard that fails for good fails the run).
    Locally, pages not extracted within ``deadline`` seconds of the stage's start fail with a
    timeout and the worker stuck on one is killed (with ``workers=1`` too: one worker process).

    ``on_done`` is handed each result as soon as its page is extracted (so the flow can load
    while the rest are still being extracted); the returned list is the stage's whole outcome,
    timeouts and dead workers included.
    """
    if cluster:
        done: list[JobResult] = []
        for r in map_ordered(run_job, jobs, workers=workers, cluster=cluster, shard_size=shard_size):
            _tick("extract")
            if on_done is not None:
                on_done(r)
            done.append(r)
        return done
    keys: list[str] = []

    def seen(source: Iterable[PageJob]) -> Iterator[PageJob]:
        for job in source:
            keys.append(job.key)
            yield job

    def finished(fut: Future[JobResult]) -> None:
        _tick("extract")
        if on_done is not None and not fut.cancelled() and fut.exception() is None:
            on_done(fut.result())

    # a worker died (e.g. out of memory): that page, not the run; a page still being extracted
    # when the stage deadline passes is a timeout, and its stuck worker is killed
    return map_within(
        run_job, seen(jobs), workers=workers, seconds=deadline, on_done=finished,
        late=lambda i: JobResult(key=keys[i], reason=Reason.TIMEOUT,
                                 message=f"extraction still running when the stage deadline ({deadline:.0f} s) passed"),
        failed=lambda i, exc: JobResult(key=keys[i], reason=Reason.EXTRACTION_ERROR,
                                        message=f"{type(exc).__name__}: {exc}"[:300]))


@task(name="load-parts", cache_policy=NO_CACHE)
def load_parts(parts: PartLoads, results: Iterable[JobResult]) -> PartLoads:
    """A busy run's part loads, made as the extracted results arrive: one task run for all of
    them, each load as the ``load`` task does it (``run_load(task_run=False)``). A task run costs
    the Prefect server ~50 ms of CPU and a busy hour has 8 parts (bench/RESULTS.md §3, fifth
    round). No ``timeout_seconds``: it ends when extraction ends, which has its own deadline."""
    for r in results:
        parts.add(r)
    return parts


# --------------------------------------------------------------------------- helpers


def _arrivals(
    sink: queue.Queue[Any], job_for: Callable[[str, Any], PageJob | None], fetching: Any
) -> Iterator[PageJob]:
    """Jobs for pages as their fetches complete, until the fetch task says it is done."""
    while True:
        try:
            item = sink.get(timeout=1.0)
        except queue.Empty:
            if _ended(fetching) and sink.empty():
                return  # the fetch task ended without its end marker (failed or timed out)
            continue
        if item is None:
            return
        job = job_for(*item)
        if job is not None:
            yield job


# --------------------------------------------------------------------------- flow


@flow(name="hourly_ingest", log_prints=False, timeout_seconds=3000)
def hourly_ingest(feeds_file: str | None = None, db: str | None = None,
                  executor: str | None = None) -> dict[str, Any]:
    """One ingest pass over the feed list; returns the run summary. ``executor`` ('local' or
    'dask://HOST:PORT') overrides NEWSFLOW_EXECUTOR for the extraction stage."""
    settings = load_settings(db=Path(db) if db else None, feeds_file=Path(feeds_file) if feeds_file else None,
                             executor=executor)
    connect_executor(settings.dask_address)
    logger = get_run_logger()
    with run_lock(settings.db, settings.run_lock_wait):
        try:
            return _ingest(settings, logger)
        finally:
            flush_index(settings)


def _ingest(settings: Settings, logger: Any) -> dict[str, Any]:
    run_id = new_run_id()
    started = utcnow()
    prepare_warehouse(settings)
    staged_loaded = load_pending(settings)
    specs = load_feed_list(settings.feeds_file)
    states = read_feed_states(settings.db, [s.url for s in specs])

    # quote(): Prefect must not walk 500 specs, states and poll outcomes (~1 s of a quiet hour's CPU)
    early = _take_early_poll(specs, states, settings)
    polls = poll_feeds(quote(specs), quote(states), settings, early=quote(early))  # type: ignore[call-overload]
    if any(needs_parsing(p) for p in polls):  # new stories likely: the pool's workers get ready meanwhile
        warm_pool(settings.workers, settings.dask_address)
    outcomes = parse_feeds(quote(polls), settings.future_tolerance_hours)  # type: ignore[call-overload]

    now = utcnow()
    cands, rejects = collect_candidates(outcomes, run_id)
    linked = linked_items(settings.db, feed_item_keys(cands))
    seen_links = {k: aid for k, (aid, _) in linked.items()}
    fingerprints = {k: fp for k, (_, fp) in linked.items()}
    seen_ids = known_article_ids(settings.db, list(cands))
    to_fetch, links, new_by_feed = resolve_known(cands, seen_links, seen_ids, run_id, now, fingerprints)
    refetch = [c for c in to_fetch if c.refetch]
    validators = page_validators(settings.db, [c.article_id for c in refetch])
    for c in refetch:
        c.validators = validators.get(c.article_id, (None, None))
    for o in outcomes:
        o.new_items = new_by_feed.get(o.spec.url, 0)
    _tick("fetch", 0, total=len(to_fetch))
    _tick("extract", 0, total=len(to_fetch))
    _tick("load", 0, total=len(to_fetch))  # at most; the run's last load sets the real count

    by_key = {c.article_id: c for c in to_fetch}
    fetched: dict[str, FetchResult | PipelineError] = {}

    def job_for(aid: str, res: FetchResult | PipelineError) -> PageJob | None:
        fetched[aid] = res
        job, reject = page_job(by_key[aid], res, run_id=run_id, now=now,
                               tolerance_hours=settings.future_tolerance_hours)
        if reject is not None:
            rejects.append(reject)
        return job

    # Fetching and extraction run in two task threads joined by a queue; this thread loads the
    # extracted articles in batches of ``batch_size`` meanwhile (see ``PartLoads``), and the
    # run's last batch (the rest, every feed's new state, the run record) once both are done.
    parts = PartLoads(settings, run_id=run_id, now=now, by_key=by_key, fetched=fetched)
    results: list[JobResult] = []
    pages: dict[str, FetchResult | PipelineError] = {}
    if to_fetch:  # a quiet hour starts neither stage
        sink: queue.Queue[Any] = queue.Queue()
        extracted: queue.Queue[JobResult] = queue.Queue()
        fetching = fetch_pages.submit(quote(to_fetch), settings, quote(sink))  # type: ignore[call-overload]  # quote(): Prefect must not walk the args
        extracting = extract_pages.submit(quote(_arrivals(sink, job_for, fetching)), settings.workers,  # type: ignore[call-overload]
                                          settings.dask_address, settings.shard_size, on_done=quote(extracted.put))
        try:
            parts = load_parts(quote(parts), quote(_completed(extracted, extracting)))  # type: ignore[call-overload]
        except Exception:
            _record_failed_run(settings, RunRecord(run_id=run_id, flow="hourly_ingest", started_at=started,
                                                   status="failed", feeds_total=len(specs)), logger)
            raise
        results = extracting.result()
        pages = fetching.result()

    rest = [r for r in results if r.key not in parts.loaded_keys]
    articles, new_links, raw_pages, result_rejects = collect_results(rest, by_key, pages, run_id=run_id, now=now)
    links += new_links
    rejects += parts.rejects + result_rejects

    feed_states = [next_state(o, p.state, settings, now) for o, p in zip(outcomes, polls, strict=True)]
    batch = Batch(run=None, articles=articles, links=links, raw_pages=raw_pages, rejects=rejects,
                  feed_states=feed_states, archive_records=[], sketches=batch_sketches(articles, rest))
    batch.enriched_ids, batch.enrichment = batch_enrichment(articles, rest)
    duplicates = parts.duplicates + len(merge_exact_duplicates(batch, settings))
    all_articles = parts.articles + batch.articles
    summary = IngestSummary.build(run_id=run_id, outcomes=outcomes, articles=all_articles, rejects=rejects,
                                  pages_fetched=sum(isinstance(v, FetchResult) for v in pages.values()))
    run = RunRecord(
        run_id=run_id, flow="hourly_ingest", started_at=started, finished_at=utcnow(), status="completed",
        feeds_total=len(specs), feeds_ok=summary.feeds_ok, feeds_not_modified=summary.feeds_unchanged,
        feeds_failed=summary.feeds_failed, entries_seen=sum(o.entries for o in outcomes),
        pages_fetched=summary.pages_fetched, articles_new=len(all_articles),
        links_new=parts.links + len(batch.links), rejects=len(rejects),
        details_json=json.dumps({"staged_batches_loaded": len(staged_loaded), "exact_duplicates": duplicates,
                                 "refetched": len(refetch), "load_batches": len(parts.results) + 1}),
    )
    batch.run = run
    for o in outcomes:  # in the flow's log (the Prefect UI), not only in the artifact
        if o.status == "failed":
            logger.warning("feed failed: %s (%s): %s: %s", o.spec.name or o.spec.url, o.spec.url, o.reason,
                           (o.message or "")[:300])
    _tick("load", 0, total=len(all_articles))
    try:
        result = run_load(batch, settings)
    except Exception:
        _record_failed_run(settings, run, logger)
        raise
    loads = [*parts.results, result]
    summary.apply_loads(loads, staged_loaded)
    _tick("load", len(batch.articles))
    logger.info("ingest %s: load %s in %d batch(es); feeds %d ok, %d unchanged, %d failed, %d backing off; "
                "pages %d; new articles %d (+%d from %d staged batch(es)); rejects %d", run_id, summary.load_status,
                len(loads), summary.feeds_ok, summary.feeds_unchanged, summary.feeds_failed, summary.feeds_backoff,
                summary.pages_fetched, summary.articles_new, summary.articles_from_staging,
                summary.staged_batches_loaded, summary.rejects)
    for res in loads:
        if res.status == "staged":
            logger.warning("database %s is locked by another process: batch staged at %s; the next run loads it",
                           settings.db, res.path)
    # the run's search-index commit starts now, in a background thread, and overlaps the artifacts
    # and the report; the closing flush (hourly_ingest's ``finally``) waits for what is left of it
    flush_index(settings, wait=False)
    publish_artifacts(summary)
    # a staged load changed nothing the report could show, and neither did a quiet hour
    if any(res.status == "loaded" for res in loads) and not summary.quiet():
        publish_report(settings.db, staging_dir=settings.staging_path)
    return summary.as_dict()


def _take_early_poll(specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings) -> EarlyPoll | None:
    """The poll the CLI started before the flow, if it polled these very feeds from these very
    stored states (read here under the run lock); it is used once either way (one that does
    not match is stopped)."""
    global early_poll
    early, early_poll = early_poll, None
    if early is None or early.matches(specs, states, settings):
        return early
    early.cancel()
    return None


def _record_failed_run(settings: Settings, run: RunRecord, logger: Any) -> None:
    """The run fails honestly; leave a trace of it when the database still takes writes."""
    try:
        upsert_run(settings.db, run.model_copy(update={"status": "failed", "finished_at": utcnow()}),
                   staging_dir=settings.staging_path)
    except Exception:
        logger.error("could not record the failed run %s", run.run_id)


def _completed(extracted: queue.Queue[JobResult], extracting: Any) -> Iterator[JobResult]:
    """Results as the extraction stage hands them over, until the stage has ended."""
    while True:
        try:
            yield extracted.get(timeout=0.2)
        except queue.Empty:
            if _ended(extracting):
                return


def _ended(future: Any) -> bool:
    """Whether a submitted task has ended. A Prefect future's ``state`` asks the API each time
    until it is final; the thread's own future answers without a round trip."""
    wrapped = getattr(future, "wrapped_future", None)
    return bool(wrapped.done()) if wrapped is not None else bool(future.state.is_final())


class PartLoads:
    """Loads a busy run's extracted articles in batches of ``settings.batch_size`` while the rest
    are still being fetched and extracted, so the run does not end with one long load.

    A part holds only articles, their feed links, raw pages, story sketches and coded events.
    Every feed's new state (its ETag, body hash, last poll) and the run's rejects go in the run's
    last batch, after every part: a run that dies between two loads has stored some articles
    once and left its feeds as they were, so the next run sees the same items again, finds the
    stored ones linked (nothing fetched or written twice) and fetches the rest (nothing lost).
    """

    def __init__(self, settings: Settings, *, run_id: str, now: Any, by_key: dict[str, Candidate],
                 fetched: dict[str, FetchResult | PipelineError]) -> None:
        self.settings = settings
        self.run_id = run_id
        self.now = now
        self.by_key = by_key
        self.fetched = fetched
        self.waiting: list[JobResult] = []
        self.loaded_keys: set[str] = set()
        self.articles: list[Article] = []
        self.rejects: list[Reject] = []
        self.results: list[LoadResult] = []
        self.duplicates = 0
        self.links = 0

    def add(self, result: JobResult) -> None:
        self.waiting.append(result)
        if len(self.waiting) >= self.settings.batch_size:
            self.load()

    def load(self) -> None:
        part, self.waiting = self.waiting, []
        if not part:
            return
        articles, links, raw_pages, rejects = collect_results(part, self.by_key, self.fetched,
                                                              run_id=self.run_id, now=self.now)
        batch = Batch(run=None, articles=articles, links=links, raw_pages=raw_pages, rejects=[],
                      feed_states=[], archive_records=[], sketches=batch_sketches(articles, part))
        batch.enriched_ids, batch.enrichment = batch_enrichment(articles, part)
        self.duplicates += len(merge_exact_duplicates(batch, self.settings))
        self.results.append(run_load(batch, self.settings, task_run=False))
        self.loaded_keys.update(r.key for r in part)
        self.articles += batch.articles
        self.rejects += rejects
        self.links += len(batch.links)
        _tick("load", len(batch.articles))
