"""Assemble one ``Article`` from what extraction (``ExtractedDoc``) and the feed (``FeedEntry``) said.

Precedence rules, chosen so the same story gives the same record whatever path it took:

* **URL**: the canonical form of the page URL; a page's ``rel=canonical`` replaces it only when it
  points to the same site (a syndicated copy must not claim another publisher's identity).
  Archive records without a real URL keep their pseudo-URL (``urls.PSEUDO_URL_PREFIX``).
* **Text**: the extracted page text; when it is empty the feed's full content, then its summary
  (``text_source="feed"``); nothing at all is ``NO_TEXT``. A block/paywall page is ``BLOCK_PAGE``.
* **Date**: the feed's date (publisher metadata meant for machines), else the page's HTML
  metadata date, else a date stated in the text; every candidate goes through the date policy.
* **Title/authors/summary**: the page's values, else the feed's.
* **Outlet** (``outlets.resolve_outlet``): the feed list's ``outlet``/``name``, else the archive
  record's own outlet, else the page's site name, else the registrable domain. ``site_name`` keeps
  what the page said; ``domain`` is the URL's registrable domain (public suffix list).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from pydantic import ValidationError

from extractors.normalize.dates import normalize_date
from extractors.normalize.outlets import registrable_domain, resolve_outlet, title_key
from extractors.normalize.text import plain_text, strip_controls, unique_casefold
from extractors.normalize.urls import article_id_for, canonicalize_url, is_pseudo_url, same_site, site_key
from schemas.failures import PipelineError, Reason
from schemas.records import (
    Article,
    DateSource,
    ExtractedDoc,
    FeedEntry,
    Origin,
    TextSource,
    utcnow,
)

__all__ = ["build_article", "content_hash", "truncate", "word_count"]

SUMMARY_MAX_CHARS = 600
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A word: a run of letters/digits (apostrophes and hyphens inside are part of it); every CJK
# ideograph or kana counts as one word because those scripts do not separate words with spaces.
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+(?:['’\-][^\W{_CJK}]+)*")


def word_count(text: str) -> int:
    """Unicode-aware word count (see ``_WORD``)."""
    return len(_WORD.findall(text))


def content_hash(text: str) -> str:
    """sha256 of the whitespace-normalised text: equal text gives equal hash across re-extractions."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()


def truncate(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def _line(value: str | None) -> str | None:
    return (plain_text(value) or None) if value else None


def _dedupe(values: list[str]) -> list[str]:
    return unique_casefold(plain_text(v) for v in values)


def _clean_body(text: str | None) -> str:
    """Normalise a body: no control chars, trimmed lines, at most one blank line in a row."""
    if not text:
        return ""
    lines = [" ".join(line.split()) for line in strip_controls(text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _choose_url(url: str, doc: ExtractedDoc | None) -> str:
    canonical = canonicalize_url(url)
    if canonical is None:
        stripped = url.strip() if isinstance(url, str) else ""
        if is_pseudo_url(stripped):
            return stripped
        raise PipelineError(Reason.INVALID_URL, f"not an http(s) URL: {str(url)[:200]!r}")
    if doc is not None and doc.canonical_url:
        declared = canonicalize_url(doc.canonical_url, base=canonical)
        if declared is not None and same_site(declared, canonical):
            return declared
    return canonical


def _choose_date(
    entry: FeedEntry | None, doc: ExtractedDoc | None, tolerance: float
) -> tuple[datetime | None, DateSource | None]:
    now = utcnow()
    if entry is not None:
        when = normalize_date(entry.published_at, now=now, tolerance_hours=tolerance)
        if when is not None:
            return when, "feed"
    if doc is not None:
        when = normalize_date(doc.published_at, now=now, tolerance_hours=tolerance)
        if when is not None:
            return when, doc.published_at_source or "html"
    return None, None


def _one_line_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "record"
    return " ".join(f"{where}: {err.get('msg')}".split())[:300]


def _drop_title_echo(text: str, title: str | None) -> str:
    """The record keeps the headline in ``title``; a body opening with the same line drops it."""
    if not title:
        return text
    first, _, rest = text.partition("\n")
    norm = " ".join(first.split()).casefold()
    if norm == " ".join(title.split()).casefold() and rest.strip():
        return rest.lstrip("\n")
    return text


def build_article(
    *,
    url: str,
    doc: ExtractedDoc | None,
    entry: FeedEntry | None,
    origin: Origin,
    text_source: TextSource,
    run_id: str,
    feed_url: str | None = None,
    fetched_at: datetime | None = None,
    archive_path: str | None = None,
    archive_record: str | None = None,
    feed_outlet: str | None = None,
    record_outlet: str | None = None,
    text_source_reason: str | None = None,
    tolerance_hours: float,
) -> Article:
    """One validated ``Article`` or ``PipelineError`` (INVALID_URL, BLOCK_PAGE, NO_TEXT, INVALID_RECORD)."""
    canonical = _choose_url(url, doc)
    if doc is not None and doc.blocked:
        raise PipelineError(Reason.BLOCK_PAGE, doc.block_reason or "page is a block/challenge page")
    text = _clean_body(doc.text if doc is not None else None)
    if not text and entry is not None:
        text = _clean_body(entry.content) or _clean_body(entry.summary)
        if text:
            text_source = "feed"
    if not text:
        raise PipelineError(Reason.NO_TEXT, "no text in the page or the feed entry")

    title = (_line(doc.title) if doc else None) or (_line(entry.title) if entry else None)
    text = _drop_title_echo(text, title)
    authors = _dedupe(doc.authors if doc and doc.authors else entry.authors if entry else [])
    raw_summary = (_clean_body(doc.summary) if doc else "") or (_clean_body(entry.summary) if entry else "")
    summary = truncate(" ".join(raw_summary.split())) if raw_summary else None
    tags = _dedupe([*(doc.tags if doc else []), *(entry.tags if entry else [])])
    published_at, published_source = _choose_date(entry, doc, tolerance_hours)
    feed_url = feed_url or (entry.feed_url if entry else None)
    site_name = _line(doc.site_name) if doc else None
    domain = registrable_domain(canonical) or registrable_domain(feed_url)
    outlet = resolve_outlet(feed_outlet=_line(feed_outlet), record_outlet=_line(record_outlet),
                            site_name=site_name, domain=domain or site_key(canonical) or None)
    try:
        return Article(
            article_id=article_id_for(canonical),
            url=canonical,
            outlet=outlet,
            domain=domain,
            site_name=site_name,
            feed_url=feed_url,
            title=title,
            title_key=title_key(title, site_name=site_name),
            authors=authors,
            published_at=published_at,
            published_at_source=published_source,
            language=(doc.language or None) if doc else None,
            text=text,
            summary=summary,
            word_count=word_count(text),
            content_hash=content_hash(text),
            origin=origin,
            text_source=text_source,
            text_source_reason=text_source_reason if text_source == "feed" else None,
            tags=tags,
            archive_path=archive_path,
            archive_record=archive_record,
            fetched_at=fetched_at,
            ingested_at=utcnow(),
            run_id=run_id,
        )
    except ValidationError as exc:
        raise PipelineError(Reason.INVALID_RECORD, _one_line_error(exc)) from None
