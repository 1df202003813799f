"""The ingest flow's decisions as plain functions: no Prefect, no network, no database.

One feed poll → a ``FeedOutcome`` (``feed_outcome``); parsed feeds → candidate stories and the
rejects found on the way (``collect_candidates``); candidates against what the warehouse already
holds → what to fetch and which links to record (``resolve_known``); a fetch result → a page job
or a reject (``page_job``); job results → the batch's rows (``collect_results``); and a feed's
outcome → its next state, with exponential backoff on failure (``next_state``).
``flows/ingest.py`` only wires these to the tasks that do I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from extractors.net.fetcher import FetchResult
from extractors.normalize.urls import article_id_for, canonicalize_url
from extractors.sources.feeds import body_hash, parse_feed
from flows.identity import entry_changed_since, entry_fingerprint
from flows.jobs import JobResult, PageJob
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
)
from schemas.settings import Settings

# targets the guard refuses: an item pointing there is rejected outright
REFUSED_TARGETS = frozenset({Reason.BLOCKED_ADDRESS, Reason.UNSUPPORTED_SCHEME, Reason.INVALID_URL})
# a feed whose body hash matches and whose last poll ended in one of these needs no parsing
_UNCHANGED_AFTER = ("ok", "warning", "unchanged", "not_modified")


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
    outlet: str | None = None  # the feed list's outlet for the first feed carrying it
    language: str | None = None  # that feed's declared language
    fingerprints: dict[tuple[str, str], str] = field(default_factory=dict)  # (feed_url, guid) → entry fingerprint
    refetch: bool = False  # a known story whose feed item changed: fetched again, conditionally
    validators: tuple[str | None, str | None] = (None, None)  # (ETag, Last-Modified) of the stored page


def is_backing_off(state: FeedState, now: datetime) -> bool:
    return state.backoff_until is not None and state.backoff_until > now


def needs_parsing(p: PollOutcome) -> bool:
    """The feed answered with a body other than the last one seen (it is parsed, and may bring
    new stories); a 304, the same body again, a failure or a feed backing off are not."""
    res = p.result
    if p.skipped or p.error is not None or res is None or res.not_modified:
        return False
    return not (p.state.body_hash == body_hash(res.body) and p.state.last_status in _UNCHANGED_AFTER)


def feed_outcome(p: PollOutcome, tolerance_hours: float) -> FeedOutcome:
    """Parse a changed feed body; an unchanged body (same hash) costs no parsing."""
    if p.skipped:
        return FeedOutcome(p.spec, "backoff", reason=Reason.BACKOFF.value,
                           message=f"backing off until {p.state.backoff_until:%Y-%m-%d %H:%M} UTC")
    if p.error is not None:
        return FeedOutcome(p.spec, "failed", reason=p.error.reason.value, message=p.error.message,
                           retry_after=p.error.retry_after)
    res = p.result
    assert res is not None
    if res.not_modified:
        return FeedOutcome(p.spec, "not_modified", http_status=res.status, result=res)
    if not needs_parsing(p):
        return FeedOutcome(p.spec, "unchanged", http_status=res.status, result=res)
    try:
        parsed = parse_feed(res.body, res.final_url or p.spec.url, content_type=res.content_type,
                            tolerance_hours=tolerance_hours)
    except PipelineError as exc:
        return FeedOutcome(p.spec, "failed", http_status=res.status, reason=exc.reason.value,
                           message=exc.message, result=res)
    except Exception as exc:
        return FeedOutcome(p.spec, "failed", http_status=res.status, reason=Reason.FEED_PARSE_ERROR.value,
                           message=f"{type(exc).__name__}: {exc}"[:300], result=res)
    return FeedOutcome(p.spec, "warning" if parsed.warnings else "ok", http_status=res.status,
                       entries=len(parsed.entries), parsed=parsed, result=res,
                       message="; ".join(parsed.warnings)[:300] if parsed.warnings else None)


def guid_for(entry: FeedEntry, link: str | None) -> str:
    """The item's identity within its feed: its guid, else its link, else a hash of its text."""
    if entry.guid:
        return entry.guid
    if link:
        return link
    basis = f"{entry.title or ''}\x1f{entry.summary or ''}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def collect_candidates(outcomes: list[FeedOutcome], run_id: str) -> tuple[dict[str, Candidate], list[Reject]]:
    """Every entry → candidate article ids, grouped so one story is fetched once; plus the rejects
    for failed feeds and for entries without a usable link."""
    rejects: list[Reject] = []
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
            c = cands.setdefault(aid, Candidate(aid, link, entry, outlet=o.spec.outlet_name,
                                                language=o.parsed.language))
            guid = guid_for(entry, link)
            c.links.append((o.spec.url, guid, entry.link or link))
            c.fingerprints[(o.spec.url, guid)] = entry_fingerprint(entry)
    return cands, rejects


def feed_item_keys(cands: Mapping[str, Candidate]) -> list[tuple[str, str]]:
    """(feed_url, guid) of every feed item carrying a candidate."""
    return [(f, g) for c in cands.values() for f, g, _ in c.links]


def resolve_known(
    cands: Mapping[str, Candidate], seen_links: Mapping[tuple[str, str], str], seen_ids: set[str],
    run_id: str, now: datetime, fingerprints: Mapping[tuple[str, str], str | None] | None = None,
) -> tuple[list[Candidate], list[ArticleFeedLink], dict[str, int]]:
    """(stories to fetch, links of known stories to record, new items per feed).

    A story is known by its id, or through a feed item already linked to it (its page may have
    declared another canonical URL, so the stored id can differ from the link's). A known story
    whose feed item came back changed (``fingerprints`` holds what each item looked like when
    last seen) is fetched again with ``refetch`` set; a known item whose stored fingerprint differs
    (or predates fingerprints) gets a link row carrying the current one, for the next comparison.
    """
    fingerprints = fingerprints or {}
    links: list[ArticleFeedLink] = []
    to_fetch: list[Candidate] = []
    new_by_feed: dict[str, int] = {}
    for c in cands.values():
        stored_id = c.article_id if c.article_id in seen_ids else next(
            (seen_links[(f, g)] for f, g, _ in c.links if (f, g) in seen_links), None)
        if stored_id is None:
            to_fetch.append(c)
            for f, _, _ in c.links:
                new_by_feed[f] = new_by_feed.get(f, 0) + 1
            continue
        changed = any(
            (f, g) in seen_links and entry_changed_since(fingerprints.get((f, g)), c.fingerprints.get((f, g)))
            for f, g, _ in c.links
        )
        if changed:
            c.article_id, c.refetch = stored_id, True
            to_fetch.append(c)
        # new feed items get a link row; known ones only when their fingerprint must be recorded
        links += [ArticleFeedLink(article_id=stored_id, feed_url=f, guid=g, entry_url=u, first_seen_at=now,
                                  run_id=run_id, entry_fingerprint=c.fingerprints.get((f, g)))
                  for f, g, u in c.links
                  if (f, g) not in seen_links or fingerprints.get((f, g)) != c.fingerprints.get((f, g))]
    return to_fetch, links, new_by_feed


def page_job(
    c: Candidate, res: FetchResult | PipelineError, *, run_id: str, now: datetime, tolerance_hours: float
) -> tuple[PageJob | None, Reject | None]:
    """The extraction job for a fetched (or failed) page, and the reject a failed fetch leaves.

    A failed page still gets a job (the feed entry's own text stands in, and the article says
    why in ``text_source_reason``) unless the guard refused its target: that is not a story, not
    even from the feed's text. A re-fetch of a known story that fails or answers 304 changes
    nothing.
    """
    job = PageJob(key=c.article_id, url=c.url, origin="rss", run_id=run_id, entry=c.entry,
                  feed_url=c.links[0][0], tolerance_hours=tolerance_hours, feed_outlet=c.outlet,
                  feed_language=c.language)
    if isinstance(res, FetchResult):
        if res.not_modified:
            return None, None  # a known story's page did not change
        job.html, job.content_type, job.fetched_at = res.body, res.content_type, now
        job.url = res.final_url or c.url
        job.compress_raw = True
        return job, None
    if c.refetch:
        return None, None  # the stored version stands; a failed re-fetch loses nothing
    if res.reason in REFUSED_TARGETS:
        reject = Reject.make(run_id=run_id, stage="fetch", reason=res.reason, message=res.message,
                             source=c.links[0][0], url=c.url)
        return None, reject  # a refused target is not a story, not even from the feed's text
    job.page_failure, job.page_failure_message = res.reason, res.message
    return job, None  # the feed entry's own text stands in; a reject only if that fails too


def collect_results(
    results: list[JobResult], by_key: Mapping[str, Candidate], pages: Mapping[str, FetchResult | PipelineError],
    *, run_id: str, now: datetime,
) -> tuple[list[Article], list[ArticleFeedLink], list[RawPage], list[Reject]]:
    """Job results → (articles, their feed links, raw pages kept, rejects).

    Every fetched page is kept raw. ``rejects`` holds only items that did not become an article:
    a story stored from its feed's text is degraded, not lost (it says why in
    ``text_source_reason``). A re-fetched known story replaces the stored one only with its
    page's own text, never with the feed's.
    """
    from flows.shared import (
        raw_page_from_fetch,  # here: importing flows.shared loads Prefect (flows.poll must not)
    )

    articles: list[Article] = []
    links: list[ArticleFeedLink] = []
    raw_pages: list[RawPage] = []
    rejects: list[Reject] = []
    for r in results:
        c = by_key[r.key]
        fetched = pages.get(r.key)
        a = r.article
        if a is not None and c.refetch:
            a = None if a.text_source == "feed" else a.model_copy(update={"article_id": c.article_id})
            if a is None:
                continue
        if isinstance(fetched, FetchResult):
            raw_pages.append(raw_page_from_fetch(a.article_id if a else c.article_id, fetched, run_id, now, r.raw_gz))
        if a is None:
            if isinstance(fetched, PipelineError):
                message = fetched.message + (f"; feed text unusable: {r.message}" if r.message else "")
                rejects.append(Reject.make(run_id=run_id, stage="fetch", reason=fetched.reason, message=message,
                                           source=c.links[0][0], url=c.url))
            else:
                rejects.append(Reject.make(run_id=run_id, stage=r.stage, reason=r.reason or Reason.NO_TEXT,
                                           message=r.message, source=c.links[0][0], url=c.url))
            continue
        articles.append(a)
        links += [ArticleFeedLink(article_id=a.article_id, feed_url=f, guid=g, entry_url=u, first_seen_at=now,
                                  run_id=run_id, entry_fingerprint=c.fingerprints.get((f, g)))
                  for f, g, u in c.links]
    return articles, links, raw_pages, rejects


def next_state(o: FeedOutcome, prev: FeedState, settings: Settings, now: datetime) -> FeedState:
    """The feed's state after this run: backoff doubles per consecutive failure up to
    ``backoff_max`` (a ``Retry-After`` replaces it); any success clears it."""
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
