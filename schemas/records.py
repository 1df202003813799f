"""Strict pydantic records exchanged between extractors, flows and the warehouse.

Datetimes are timezone-aware UTC; ``None`` means unknown (never a sentinel date).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from schemas.failures import Reason, ReasonClass, reason_class


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


UTCDateTime = Annotated[datetime, AfterValidator(_require_utc)]

Origin = Literal["rss", "archive"]
DateSource = Literal["feed", "html", "text", "archive"]  # archive: a date field of a JSONL record
TextSource = Literal["page", "feed", "archive"]
Stage = Literal["poll", "parse", "fetch", "extract", "normalize", "load", "archive"]
FeedStatus = Literal["ok", "warning", "not_modified", "unchanged", "failed", "backoff"]
FlowName = Literal["hourly_ingest", "backfill", "reprocess"]


class Strict(BaseModel):
    """Base of every record: unknown fields are refused (``extra="forbid"``); values are still
    coerced where pydantic's lax mode allows (e.g. an ISO string into a ``datetime``)."""

    model_config = ConfigDict(extra="forbid", strict=False, validate_assignment=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


class FeedSpec(Strict):
    """One line of ``feeds.yaml`` or one OPML outline."""

    url: str = Field(min_length=1)
    name: str | None = None
    outlet: str | None = None  # groups several feeds under one outlet name (else ``name`` is the outlet)
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True  # `disabled: true` in feeds.yaml: kept in the list, skipped by ingest

    @property
    def outlet_name(self) -> str | None:
        """The outlet the feed's stories are counted under."""
        return self.outlet or self.name


class FeedEntry(Strict):
    """One item of a parsed feed, text already stripped of markup."""

    feed_url: str
    guid: str | None = None
    link: str | None = None
    title: str | None = None
    summary: str | None = None
    content: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: UTCDateTime | None = None
    tags: list[str] = Field(default_factory=list)


class ParsedFeed(Strict):
    feed_url: str
    version: str | None = None
    title: str | None = None
    site_url: str | None = None
    language: str | None = None
    entries: list[FeedEntry] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class ExtractedDoc(Strict):
    """What HTML or plain-text extraction found in one document."""

    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: UTCDateTime | None = None
    published_at_source: DateSource | None = None
    site_name: str | None = None
    language: str | None = None
    text: str = ""
    summary: str | None = None
    tags: list[str] = Field(default_factory=list)
    canonical_url: str | None = None
    blocked: bool = False
    block_reason: str | None = None


class Article(Strict):
    """One story: the analyst-facing event record."""

    article_id: str = Field(min_length=16, max_length=64)
    url: str
    outlet: str  # the one name the outlet is counted under (extractors outlets.resolve_outlet)
    domain: str | None = None  # registrable domain of the URL (public suffix list)
    site_name: str | None = None  # what the page itself called its site
    feed_url: str | None = None
    title: str | None = None
    title_key: str | None = None  # normalised headline, for exact duplicates per outlet
    authors: list[str] = Field(default_factory=list)
    published_at: UTCDateTime | None = None
    published_at_source: DateSource | None = None
    language: str | None = None
    text: str
    summary: str | None = None
    word_count: int = Field(ge=0)
    content_hash: str
    origin: Origin
    text_source: TextSource
    text_source_reason: str | None = None  # why the page's own text was not used (text_source="feed")
    tags: list[str] = Field(default_factory=list)
    dup_group_id: str | None = None
    dup_similarity: float | None = None
    version: int = Field(default=1, ge=1)
    archive_path: str | None = None
    archive_record: str | None = None
    fetched_at: UTCDateTime | None = None
    ingested_at: UTCDateTime
    run_id: str


class ArticleFeedLink(Strict):
    """Every feed item (feed + guid) that carried an article."""

    article_id: str
    feed_url: str
    guid: str
    entry_url: str | None = None
    first_seen_at: UTCDateTime
    run_id: str
    entry_fingerprint: str | None = None  # flows.identity.entry_fingerprint of the item when last seen


class RawPage(Strict):
    """Compressed original document and HTTP metadata, kept for re-extraction.

    On the way to the warehouse the gzip body rides in ``body_gz``; the load moves it to a file
    beside the database and stores its locator in ``body_ref`` (rows written before that keep the
    body inline). ``warehouse.pages.page_body`` reads either back. Both are None for an archive
    record that can be re-read from its archive (the path and locator are in ``headers_json``):
    the archive is not copied into the warehouse.
    """

    page_id: str
    article_id: str | None = None
    url: str
    final_url: str
    http_status: int | None = None
    content_type: str | None = None
    headers_json: str = "{}"
    body_gz: bytes | None = None
    body_bytes: int = Field(ge=0)
    origin: Origin = "rss"
    fetched_at: UTCDateTime
    run_id: str
    body_ref: str | None = None  # the body's file beside the warehouse (warehouse/pages.py)


class Reject(Strict):
    """Dead letter: something that could not become an article, and why."""

    reject_id: str
    run_id: str
    stage: Stage
    source: str | None = None
    url: str | None = None
    reason: Reason
    reason_class: ReasonClass
    message: str
    payload: str | None = None
    created_at: UTCDateTime

    @classmethod
    def make(
        cls,
        *,
        run_id: str,
        stage: Stage,
        reason: Reason,
        message: str,
        source: str | None = None,
        url: str | None = None,
        payload: str | None = None,
    ) -> Reject:
        from hashlib import sha256

        # the payload distinguishes items without a URL (several bad items of one feed)
        key = "\x1f".join([run_id, stage, source or "", url or "", reason.value, payload or ""])
        return cls(
            reject_id=sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32],
            run_id=run_id,
            stage=stage,
            source=source,
            url=url,
            reason=reason,
            reason_class=reason_class(reason),
            message=message[:2000],
            payload=payload[:20000] if payload else payload,
            created_at=utcnow(),
        )


class FeedState(Strict):
    """Per-feed polling state kept in the ``feeds`` table."""

    feed_url: str
    name: str | None = None
    tags: list[str] = Field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_status: FeedStatus | None = None
    last_http_status: int | None = None
    last_reason: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    backoff_until: UTCDateTime | None = None
    last_polled_at: UTCDateTime | None = None
    last_ok_at: UTCDateTime | None = None
    entries_last_seen: int = 0


class RunRecord(Strict):
    """One row per flow run with its counts."""

    run_id: str
    flow: FlowName
    started_at: UTCDateTime
    finished_at: UTCDateTime | None = None
    status: Literal["running", "completed", "failed", "staged"]
    feeds_total: int = 0
    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    entries_seen: int = 0
    pages_fetched: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    links_new: int = 0
    rejects: int = 0
    staged: bool = False
    details_json: str = "{}"
