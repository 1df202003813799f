"""The hourly ingest flow: poll feeds, fetch new pages, extract, normalise, load.

Network I/O (``poll_feeds``, ``fetch_pages``) is kept apart from parsing (``parse_feeds``)
and CPU-bound extraction (``extract_pages``, a process pool over all cores), and the write
connection is opened only in ``load``. One bad feed or page never fails the run; a failed
load does.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import queue
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from extractors.net.fetcher import Fetcher, FetchResult
from extractors.normalize.urls import article_id_for, canonicalize_url
from extractors.sources.feedlist import load_feed_list
from extractors.sources.feeds import body_hash, parse_feed
from flows.jobs import RAW_GZIP_LEVEL, JobResult, PageJob, run_job
from flows.pool import executor_for
from flows.report import IngestSummary, publish_artifacts
from schemas.failures import PipelineError, Reason
from schemas.records import (
    Article,
    ArticleFeedLink,
    FeedEntry,
    FeedSpec,
    FeedState,
    ParsedFeed,
    RawPage,
    Reject,
    RunRecord,
    utcnow,
)
from schemas.settings import Settings, load_settings
from warehouse.batch import Batch
from warehouse.load import LoadResult, load_batch, load_staged, upsert_run
from warehouse.queries import known_article_ids, linked_articles, read_feed_states
from warehouse.runlock import run_lock

# Tasks move bodies and batches in memory; Prefect's default cache policy would hash every
# input (megabytes of HTML per call) for a cache nobody reads, so caching is off.

# targets the guard refuses: an item pointing there is rejected outright
REFUSED_TARGETS = frozenset({Reason.BLOCKED_ADDRESS, Reason.UNSUPPORTED_SCHEME, Reason.INVALID_URL})


@dataclass
class PollOutcome:
    spec: FeedSpec
    state: FeedState
    result: FetchResult | None = None
    error: PipelineError | None = None
    skipped: bool = False


@dataclass
class FeedOutcome:
    """What happened to one feed in this run (the per-feed health row)."""

    spec: FeedSpec
    status: str
    http_status: int | None = None
    reason: str | None = None
    message: str | None = None
    entries: int = 0
    new_items: int = 0
    parsed: ParsedFeed | None = None
    result: FetchResult | None = None
    retry_after: float | None = None


@dataclass
class Candidate:
    """A new story to fetch: the first entry that carried it, plus every feed item carrying it."""

    article_id: str
    url: str
    entry: FeedEntry
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (feed_url, guid, entry_url)


def _guid_for(entry: FeedEntry, link: str | None) -> str:
    if entry.guid:
        return entry.guid
    if link:
        return link
    basis = f"{entry.title or ''}\x1f{entry.summary or ''}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# --------------------------------------------------------------------------- tasks


@task(name="poll-feeds", timeout_seconds=900, cache_policy=NO_CACHE)
def poll_feeds(specs: list[FeedSpec], states: dict[str, FeedState], settings: Settings) -> list[PollOutcome]:
    """Conditional GET of every feed that is not backing off (network only, no parsing)."""
    now = utcnow()

    async def one(fetcher: Fetcher, spec: FeedSpec) -> PollOutcome:
        state = states.get(spec.url) or FeedState(feed_url=spec.url, name=spec.name, tags=spec.tags)
        if state.backoff_until is not None and state.backoff_until > now:
            return PollOutcome(spec, state, skipped=True)
        try:
            res = await fetcher.fetch(spec.url, kind="feed", etag=state.etag, last_modified=state.last_modified)
            return PollOutcome(spec, state, result=res)
        except PipelineError as exc:
            return PollOutcome(spec, state, error=exc)
        except Exception as exc:  # never let one feed break the poll
            return PollOutcome(spec, state, error=PipelineError(Reason.INTERNAL, f"{type(exc).__name__}: {exc}"))

    async def all_feeds() -> list[PollOutcome]:
        async with Fetcher(settings) as fetcher:
            return list(await asyncio.gather(*(one(fetcher, s) for s in specs)))

    return asyncio.run(all_feeds())


@task(name="parse-feeds", timeout_seconds=900, cache_policy=NO_CACHE)
def parse_feeds(polls: list[PollOutcome], tolerance_hours: float = 24.0) -> list[FeedOutcome]:
    """Parse changed feed bodies; an unchanged body (same hash) costs no parsing."""
    out: list[FeedOutcome] = []
    for p in polls:
        if p.skipped:
            out.append(FeedOutcome(p.spec, "backoff", reason=Reason.BACKOFF.value,
                                   message=f"backing off until {p.state.backoff_until:%Y-%m-%d %H:%M} UTC"))
            continue
        if p.error is not None:
            out.append(FeedOutcome(p.spec, "failed", reason=p.error.reason.value, message=p.error.message,
                                   retry_after=p.error.retry_after))
            continue
        res = p.result
        assert res is not None
        if res.not_modified:
            out.append(FeedOutcome(p.spec, "not_modified", http_status=res.status, result=res))
            continue
        digest = body_hash(res.body)
        if p.state.body_hash == digest and p.state.last_status in ("ok", "warning", "unchanged", "not_modified"):
            out.append(FeedOutcome(p.spec, "unchanged", http_status=res.status, result=res))
            continue
        try:
            parsed = parse_feed(res.body, res.final_url or p.spec.url, content_type=res.content_type,
                                tolerance_hours=tolerance_hours)
        except PipelineError as exc:
            out.append(FeedOutcome(p.spec, "failed", http_status=res.status, reason=exc.reason.value,
                                   message=exc.message, result=res))
            continue
        except Exception as exc:
            out.append(FeedOutcome(p.spec, "failed", http_status=res.status, reason=Reason.FEED_PARSE_ERROR.value,
                                   message=f"{type(exc).__name__}: {exc}"[:300], result=res))
            continue
        status = "warning" if parsed.warnings else "ok"
        out.append(FeedOutcome(p.spec, status, http_status=res.status, entries=len(parsed.entries),
                               parsed=parsed, result=res,
                               message="; ".join(parsed.warnings)[:300] if parsed.warnings else None))
    return out


@task(name="fetch-pages", timeout_seconds=1800, cache_policy=NO_CACHE)
def fetch_pages(
    cands: list[Candidate], settings: Settings, sink: queue.Queue[Any] | None = None
) -> dict[str, FetchResult | PipelineError]:
    """Fetch every new story's page concurrently, politely (per-host caps live in the Fetcher).

    Each outcome is also put on ``sink`` as it arrives, so extraction can start on the first
    page while the rest are still on the wire; ``None`` on the sink means "no more".
    """

    async def one(fetcher: Fetcher, c: Candidate) -> tuple[str, FetchResult | PipelineError]:
        res: FetchResult | PipelineError
        try:
            res = await fetcher.fetch(c.url, kind="page")
        except PipelineError as exc:
            res = exc
        except Exception as exc:
            res = PipelineError(Reason.INTERNAL, f"{type(exc).__name__}: {exc}"[:300])
        if sink is not None:
            sink.put((c.article_id, res))
        return c.article_id, res

    async def all_pages() -> dict[str, FetchResult | PipelineError]:
        if not cands:
            return {}
        async with Fetcher(settings) as fetcher:
            return dict(await asyncio.gather(*(one(fetcher, c) for c in cands)))

    try:
        return asyncio.run(all_pages())
    finally:
        if sink is not None:
            sink.put(None)


@task(name="extract-pages", timeout_seconds=3600, cache_policy=NO_CACHE)
def extract_pages(jobs: Iterable[PageJob], workers: int) -> list[JobResult]:
    """CPU-bound extraction and normalisation over all cores, as jobs arrive."""
    ex = executor_for(workers)
    submitted = [(job.key, ex.submit(run_job, job)) for job in jobs]
    results: list[JobResult] = []
    for key, fut in submitted:
        try:
            results.append(fut.result())
        except Exception as exc:  # a worker died (e.g. out of memory): that page, not the run
            results.append(JobResult(key=key, reason=Reason.EXTRACTION_ERROR,
                                     message=f"{type(exc).__name__}: {exc}"[:300]))
    return results


@task(name="load", timeout_seconds=1800, cache_policy=NO_CACHE)
def load(batch: Batch, settings: Settings) -> LoadResult:
    """The only step that opens the write connection; stages to Parquet if the file is locked."""
    return load_batch(settings.db, batch, staging_dir=settings.staging_path)


def run_load(batch: Batch, settings: Settings) -> LoadResult:
    """Run the ``load`` task with the batch quoted, so Prefect does not walk its records."""
    return load(quote(batch), settings)  # type: ignore[call-overload]


# --------------------------------------------------------------------------- helpers


def _next_state(o: FeedOutcome, prev: FeedState, settings: Settings, now: datetime) -> FeedState:
    st = prev.model_copy(deep=True)
    st.name = o.spec.name or st.name
    st.tags = o.spec.tags or st.tags
    if o.status == "backoff":
        return st
    st.last_polled_at = now
    st.last_status = o.status  # type: ignore[assignment]
    st.last_http_status = o.http_status
    if o.status == "failed":
        st.consecutive_failures += 1
        st.last_reason, st.last_error = o.reason, o.message
        delay = min(settings.backoff_base * (2 ** (st.consecutive_failures - 1)), settings.backoff_max)
        if o.retry_after is not None:
            delay = max(min(o.retry_after, settings.backoff_max), 0.0)
        st.backoff_until = now + timedelta(seconds=delay) if delay > 0 else None
        return st
    st.consecutive_failures = 0
    st.backoff_until = None
    st.last_reason = None
    st.last_error = o.message if o.status == "warning" else None
    st.last_ok_at = now
    if o.result is not None and not o.result.not_modified:
        st.etag = o.result.headers.get("etag") or None
        st.last_modified = o.result.headers.get("last-modified") or None
        st.body_hash = body_hash(o.result.body)
    if o.parsed is not None:
        st.entries_last_seen = len(o.parsed.entries)
    return st


def _raw_page(article_id: str, res: FetchResult, run_id: str, now: datetime, body_gz: bytes | None) -> RawPage:
    digest = hashlib.sha256(res.final_url.encode() + b"\x00" + res.body).hexdigest()[:32]
    return RawPage(
        page_id=digest,
        article_id=article_id,
        url=res.url,
        final_url=res.final_url,
        http_status=res.status,
        content_type=res.content_type,
        headers_json=json.dumps(res.headers, sort_keys=True),
        body_gz=body_gz if body_gz is not None else gzip.compress(res.body, compresslevel=RAW_GZIP_LEVEL),
        body_bytes=len(res.body),
        origin="rss",
        fetched_at=now,
        run_id=run_id,
    )


def _arrivals(
    sink: queue.Queue[Any], job_for: Callable[[str, Any], PageJob | None], fetching: Any
) -> Iterator[PageJob]:
    """Jobs for pages as their fetches complete, until the fetch task says it is done."""
    while True:
        try:
            item = sink.get(timeout=1.0)
        except queue.Empty:
            if fetching.state.is_final() and sink.empty():
                return  # the fetch task ended without its end marker (failed or timed out)
            continue
        if item is None:
            return
        job = job_for(*item)
        if job is not None:
            yield job


def _run_id() -> str:
    rid = flow_run.get_id()
    return str(rid) if rid else uuid.uuid4().hex


# --------------------------------------------------------------------------- flow


@flow(name="hourly_ingest", log_prints=False, timeout_seconds=3000)
def hourly_ingest(feeds_file: str | None = None, db: str | None = None) -> dict[str, Any]:
    """One ingest pass over the feed list; returns the run summary."""
    settings = load_settings(db=Path(db) if db else None, feeds_file=Path(feeds_file) if feeds_file else None)
    logger = get_run_logger()
    with run_lock(settings.db, settings.run_lock_wait):
        return _ingest(settings, logger)


def _ingest(settings: Settings, logger: Any) -> dict[str, Any]:
    run_id = _run_id()
    started = utcnow()
    staged_loaded = load_staged(settings.db, settings.staging_path)
    specs = load_feed_list(settings.feeds_file)
    states = read_feed_states(settings.db, [s.url for s in specs])

    polls = poll_feeds(specs, states, settings)
    outcomes = parse_feeds(polls, settings.future_tolerance_hours)

    rejects: list[Reject] = []
    now = utcnow()
    # every entry → candidate article ids, grouped so one story is fetched once
    cands: dict[str, Candidate] = {}
    for o in outcomes:
        if o.status == "failed":
            rejects.append(Reject.make(run_id=run_id, stage="poll" if o.result is None else "parse",
                                       reason=Reason(o.reason or Reason.INTERNAL.value), message=o.message or "",
                                       source=o.spec.url, url=o.spec.url))
        if o.parsed is None:
            continue
        # a guid shared by items with different links identifies nothing: use the link instead
        links_per_guid: dict[str, set[str | None]] = {}
        for entry in o.parsed.entries:
            if entry.guid:
                links_per_guid.setdefault(entry.guid, set()).add(entry.link)
        for entry in o.parsed.entries:
            if entry.guid and len(links_per_guid[entry.guid]) > 1:
                entry = entry.model_copy(update={"guid": None})
            link = canonicalize_url(entry.link) if entry.link else None
            if link is None:
                rejects.append(Reject.make(run_id=run_id, stage="parse", reason=Reason.NO_LINK,
                                           message="feed entry has no usable http(s) link",
                                           source=o.spec.url, url=entry.link,
                                           payload=json.dumps({"guid": entry.guid, "title": entry.title})))
                continue
            aid = article_id_for(link)
            guid = _guid_for(entry, link)
            c = cands.setdefault(aid, Candidate(aid, link, entry))
            c.links.append((o.spec.url, guid, entry.link or link))

    all_pairs = [(f, g) for c in cands.values() for f, g, _ in c.links]
    seen_links = linked_articles(settings.db, all_pairs)
    seen_ids = known_article_ids(settings.db, list(cands))
    links: list[ArticleFeedLink] = []
    to_fetch: list[Candidate] = []
    new_by_feed: dict[str, int] = {}
    for c in cands.values():
        fresh = [(f, g, u) for f, g, u in c.links if (f, g) not in seen_links]
        # a story is known by its id, or through a feed item already linked to it (its page may
        # have declared another canonical URL, so the stored id can differ from the link's)
        stored_id = c.article_id if c.article_id in seen_ids else next(
            (seen_links[(f, g)] for f, g, _ in c.links if (f, g) in seen_links), None)
        if stored_id is None:
            to_fetch.append(c)
            for f, _, _ in c.links:
                new_by_feed[f] = new_by_feed.get(f, 0) + 1
        else:
            links += [ArticleFeedLink(article_id=stored_id, feed_url=f, guid=g, entry_url=u,
                                      first_seen_at=now, run_id=run_id) for f, g, u in fresh]
    for o in outcomes:
        o.new_items = new_by_feed.get(o.spec.url, 0)

    raw_pages: list[RawPage] = []

    def job_for(aid: str, res: FetchResult | PipelineError) -> PageJob | None:
        c = by_key[aid]
        job = PageJob(key=c.article_id, url=c.url, origin="rss", run_id=run_id, entry=c.entry,
                      feed_url=c.links[0][0], tolerance_hours=settings.future_tolerance_hours)
        if isinstance(res, FetchResult):
            job.html, job.content_type, job.fetched_at = res.body, res.content_type, now
            job.url = res.final_url or c.url
            job.compress_raw = True
            return job
        rejects.append(Reject.make(run_id=run_id, stage="fetch", reason=res.reason, message=res.message,
                                   source=c.links[0][0], url=c.url))
        if res.reason in REFUSED_TARGETS:
            return None  # a refused target is not a story, not even from the feed's own text
        return job  # the page failed: the feed entry's own text stands in

    by_key = {c.article_id: c for c in to_fetch}
    sink: queue.Queue[Any] = queue.Queue()
    fetching = fetch_pages.submit(quote(to_fetch), settings, quote(sink))  # type: ignore[call-overload]  # quote(): Prefect must not walk the args
    results = extract_pages(quote(_arrivals(sink, job_for, fetching)), settings.workers)
    pages = fetching.result()

    articles: list[Article] = []
    for r in results:
        c = by_key[r.key]
        fetched = pages.get(r.key)
        if isinstance(fetched, FetchResult):
            raw_pages.append(_raw_page(r.article.article_id if r.article else c.article_id, fetched, run_id, now,
                                       r.raw_gz))
        if r.reason is not None and isinstance(pages.get(r.key), FetchResult):
            rejects.append(Reject.make(run_id=run_id, stage=r.stage, reason=r.reason, message=r.message,
                                       source=c.links[0][0], url=c.url))
        if r.article is None:
            if r.reason is not None and not isinstance(pages.get(r.key), FetchResult) and r.stage == "normalize":
                rejects.append(Reject.make(run_id=run_id, stage=r.stage, reason=r.reason, message=r.message,
                                           source=c.links[0][0], url=c.url))
            continue
        a = r.article
        articles.append(a)
        links += [ArticleFeedLink(article_id=a.article_id, feed_url=f, guid=g, entry_url=u,
                                  first_seen_at=now, run_id=run_id) for f, g, u in c.links]

    feed_states = [_next_state(o, p.state, settings, now) for o, p in zip(outcomes, polls, strict=True)]
    summary = IngestSummary.build(run_id=run_id, outcomes=outcomes, articles=articles, rejects=rejects,
                                  pages_fetched=sum(isinstance(v, FetchResult) for v in pages.values()))
    run = RunRecord(
        run_id=run_id, flow="hourly_ingest", started_at=started, finished_at=utcnow(), status="completed",
        feeds_total=len(specs), feeds_ok=summary.feeds_ok, feeds_not_modified=summary.feeds_unchanged,
        feeds_failed=summary.feeds_failed, entries_seen=sum(o.entries for o in outcomes),
        pages_fetched=summary.pages_fetched, articles_new=len(articles), links_new=len(links),
        rejects=len(rejects), details_json=json.dumps({"staged_batches_loaded": len(staged_loaded)}),
    )
    batch = Batch(run=run, articles=articles, links=links, raw_pages=raw_pages, rejects=rejects,
                  feed_states=feed_states, archive_records=[])
    try:
        result = run_load(batch, settings)
    except Exception:
        # the run fails honestly; leave a trace of it when the database still takes writes
        try:
            upsert_run(settings.db, run.model_copy(update={"status": "failed", "finished_at": utcnow()}),
                       staging_dir=settings.staging_path)
        except Exception:
            logger.error("could not record the failed run %s", run_id)
        raise
    summary.apply_load(result, staged_loaded)
    if result.status == "staged":
        logger.warning("database %s is locked by another process: batch staged at %s; the next run loads it",
                       settings.db, result.path)
    publish_artifacts(summary)
    return summary.as_dict()
