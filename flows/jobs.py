"""Per-document work that runs in the extraction pool: extract, clean, normalise, validate.

Everything a worker needs travels in the job, so workers never touch the network or the
database, and the same function serves the hourly flow, backfill and reprocess.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from datetime import datetime

from extractors.content.language import detect_language
from extractors.normalize.article import build_article
from extractors.stories import sketch_text
from schemas.events import Enrichment
from schemas.failures import PipelineError, Reason
from schemas.records import Article, ExtractedDoc, FeedEntry, Origin, Stage, TextSource
from schemas.stories import StorySketch


@dataclass
class PageJob:
    key: str
    url: str
    origin: Origin
    run_id: str
    tolerance_hours: float  # Settings.future_tolerance_hours, for every date on the way
    html: bytes | None = None
    text: str | None = None
    content_type: str | None = None
    entry: FeedEntry | None = None
    feed_url: str | None = None
    fetched_at: datetime | None = None
    archive_path: str | None = None
    archive_record: str | None = None
    feed_outlet: str | None = None  # the feed list's outlet for this story
    record_outlet: str | None = None  # the archive record's (or --outlet's) outlet
    feed_language: str | None = None  # the feed's declared language: fallback when detection fails
    page_failure: Reason | None = None  # why the page could not be fetched (the feed's text stands in)
    page_failure_message: str = ""
    title_hint: str | None = None
    published_hint: datetime | None = None
    compress_raw: bool = False
    recurring_lines: frozenset[str] | None = None  # a text dump's source furniture, learnt by a backfill


@dataclass
class JobResult:
    key: str
    article: Article | None = None
    stage: Stage = "extract"
    reason: Reason | None = None
    message: str = ""
    blocked: bool = False
    notes: list[str] = field(default_factory=list)
    raw_gz: bytes | None = None  # the original document, compressed in the worker (off the main process)
    sketch: StorySketch | None = None  # the article's story sketch (near-duplicate index), made in the worker
    enrichment: CodedRows | None = None  # entities, coded events and quotes of the article's text


@dataclass
class CodedRows:
    """The event coder's output for one article as warehouse rows (``Enrichment.table_rows``), made
    in the worker: plain dicts cross the process boundary ~4× cheaper than the nested models."""

    article_id: str
    rows: dict[str, list[dict]]

    @classmethod
    def of(cls, enrichment: Enrichment | None) -> CodedRows | None:
        return None if enrichment is None else cls(enrichment.article_id, enrichment.table_rows())


RAW_GZIP_LEVEL = 4  # most of level 9's ratio on HTML at a fraction of its CPU


def _compress_raw(job: PageJob) -> bytes | None:
    if job.html is not None:
        return gzip.compress(job.html, compresslevel=RAW_GZIP_LEVEL)
    if job.text is not None:
        return gzip.compress(job.text.encode("utf-8", "surrogatepass"), compresslevel=RAW_GZIP_LEVEL)
    return None


def _extract(job: PageJob) -> tuple[ExtractedDoc | None, TextSource]:
    if job.html is not None:
        from extractors.content.html_extract import extract_html

        doc = extract_html(job.html, job.url, content_type=job.content_type, tolerance_hours=job.tolerance_hours)
        return doc, ("page" if job.origin == "rss" else "archive")
    if job.text is not None:
        from extractors.content.textdump import extract_text_dump

        doc = extract_text_dump(job.text, tolerance_hours=job.tolerance_hours, recurring=job.recurring_lines)
        return doc, "archive"
    return None, "feed"


def sketch_for(article: Article, *, article_id: str | None = None, first_seen: datetime | None = None) -> StorySketch:
    """The story sketch of an article (or of its text stored under another id / first-seen time)."""
    return sketch_text(article_id or article.article_id, article.text,
                       first_seen or article.published_at or article.fetched_at or article.ingested_at)


# The coder's cost grows faster than the text; a news story fits well inside this many characters,
# and a multi-megabyte "article" (a whole site in one line) must not stall a worker. Longer texts
# are coded on their opening part (offsets stay valid: it is a prefix).
ENRICH_MAX_CHARS = 20_000


def enrich_text(text: str, *, article_id: str, published_at: datetime | None) -> Enrichment | None:
    """Entities, events and quotes of a text (its first ``ENRICH_MAX_CHARS``). A coder failure
    costs the article its events, never the article."""
    from extractors.events import enrich  # the coder's modules load where it runs (the workers)

    try:
        return enrich(text[:ENRICH_MAX_CHARS], article_id=article_id, published_at=published_at)
    except Exception:
        return None


def enrich_article(article: Article, *, article_id: str | None = None) -> Enrichment | None:
    """Entities, events and quotes of an article's stored text (offsets point into ``text``)."""
    return enrich_text(article.text, article_id=article_id or article.article_id, published_at=article.published_at)


def _declared_language(value: str | None) -> str | None:
    """A feed's ``<language>`` (``en-us``, ``EN``) as an ISO 639-1 code, or None."""
    if not value:
        return None
    code = value.strip().split("-")[0].split("_")[0].lower()
    return code if len(code) == 2 and code.isalpha() else None


def run_job(job: PageJob) -> JobResult:
    """Extract and normalise one document; every failure comes back classified, never raised."""
    result = JobResult(key=job.key)
    if job.compress_raw:
        result.raw_gz = _compress_raw(job)
    doc: ExtractedDoc | None = None
    text_source: TextSource = "feed"
    try:
        doc, text_source = _extract(job)
    except PipelineError as exc:
        result.reason, result.message = exc.reason, exc.message
    except Exception as exc:  # a parser bug must not cost the run: classify and go on
        result.reason, result.message = Reason.EXTRACTION_ERROR, f"{type(exc).__name__}: {exc}"[:500]
    if doc is not None and doc.blocked:
        result.blocked = True
        result.reason, result.message = Reason.BLOCK_PAGE, doc.block_reason or "block page"
        doc = None
    if doc is not None:
        updates: dict[str, object] = {}
        if job.title_hint and not doc.title:
            updates["title"] = job.title_hint
        if job.published_hint is not None:
            updates["published_at"] = job.published_hint
            updates["published_at_source"] = "archive"
        if updates:
            doc = doc.model_copy(update=updates)
        if not doc.text.strip():
            if result.reason is None:
                result.reason, result.message = Reason.NO_TEXT, "extraction yielded no text"
            doc = None
    if doc is None and job.entry is None:
        if result.reason is None:
            result.reason, result.message = Reason.NO_TEXT, "nothing to extract"
        return result
    fallback_reason: str | None = None
    if doc is None:
        text_source = "feed"  # page unusable: fall back to the feed entry's own text
        why = job.page_failure or result.reason
        fallback_reason = why.value if why is not None else "no_page"
    try:
        result.article = build_article(
            url=job.url,
            doc=doc,
            entry=job.entry,
            origin=job.origin,
            text_source=text_source,
            run_id=job.run_id,
            feed_url=job.feed_url,
            fetched_at=job.fetched_at,
            archive_path=job.archive_path,
            archive_record=job.archive_record,
            feed_outlet=job.feed_outlet,
            record_outlet=job.record_outlet,
            text_source_reason=fallback_reason,
            tolerance_hours=job.tolerance_hours,
        )
        if result.article.language is None:
            language = detect_language(result.article.text) or _declared_language(job.feed_language)
            if language:
                result.article = result.article.model_copy(update={"language": language})
        result.sketch = sketch_for(result.article)
        result.enrichment = CodedRows.of(enrich_article(result.article))
    except PipelineError as exc:
        if result.reason is None:
            result.stage = "normalize"
            result.reason, result.message = exc.reason, exc.message
        else:
            result.notes.append(f"feed fallback failed: {exc.reason.value}")
    except Exception as exc:
        result.stage = "normalize"
        result.reason, result.message = Reason.INVALID_RECORD, f"{type(exc).__name__}: {exc}"[:500]
    return result


def batch_sketches(articles: list[Article], results: list[JobResult]) -> list[StorySketch]:
    """The story sketch of each article kept, from its worker when the id still matches (an
    article stored under another id, e.g. a re-fetch or a reprocess, is sketched again here)."""
    made = {r.sketch.article_id: r.sketch for r in results if r.sketch is not None}
    return [made.get(a.article_id) or sketch_for(a) for a in articles]


def batch_enrichment(articles: list[Article], results: list[JobResult]) -> tuple[list[str], dict[str, list[dict]]]:
    """(article ids, rows per table) of the coder's output for the articles kept: the worker's when
    the id still matches, else coded again here under the stored id."""
    made = {r.enrichment.article_id: r.enrichment for r in results if r.enrichment is not None}
    rows: dict[str, list[dict]] = {}
    for a in articles:
        e = made.get(a.article_id) or CodedRows.of(enrich_article(a))
        if e is None:
            continue
        for table, items in e.rows.items():
            rows.setdefault(table, []).extend(items)
    return [a.article_id for a in articles], rows


def enrich_stored(item: tuple[str, str, datetime | None]) -> Enrichment | None:
    """Enrichment of a stored article's (id, text, published_at): ``reprocess --enrich``'s job."""
    article_id, text, published_at = item
    return enrich_text(text, article_id=article_id, published_at=published_at)
