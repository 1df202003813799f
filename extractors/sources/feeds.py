"""Feed documents (RSS 0.9x/2.0, RSS 1.0/RDF, Atom) → models (feed lists: ``sources/feedlist.py``).

Why this module is defensive: feed bodies are hostile input. ``parse_feed`` hands feedparser the
*bytes* wrapped in a stream (a bare ``bytes``/``str`` argument makes feedparser try to open it
as a file name or URL), never lets it resolve relative URIs itself, refuses entity declarations
that nest, load external resources or could blow up on expansion, and turns every failure into a
``PipelineError``. Entry text comes out as plain text: markup stripped with lxml (``<script>``,
``<style>`` and similar content dropped), entities unescaped, control characters removed,
whitespace collapsed.

Relative entry links: Atom defines a base (``xml:base`` or the document URL), so relative links
resolve against the feed URL after feedparser applied any ``xml:base``. RSS has no relative links
in its spec; publishers who emit them mean their website, so they resolve against the channel
``<link>`` when it is an absolute http(s) URL, else against the feed URL.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from pydantic import ValidationError

from extractors.normalize.dates import normalize_date
from extractors.normalize.text import (
    decode_mixed_utf8,
    mostly_utf8,
    one_line,
    plain_text,
    strip_controls,
    unique_casefold,
)
from extractors.normalize.urls import canonicalize_url
from schemas.failures import PipelineError, Reason
from schemas.records import FeedEntry, ParsedFeed

__all__ = [
    "author_name",
    "body_hash",
    "parse_feed",
]


def _opt_text(value: object, *, multiline: bool = False) -> str | None:
    return plain_text(value, multiline=multiline) or None


# ---------------------------------------------------------------------------------------------
# Feed documents
# ---------------------------------------------------------------------------------------------

_ENTITY_DECL_HINT = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENTITY_DECL = re.compile(
    r"<!ENTITY\s+(?P<pe>%\s+)?(?P<name>[^\s\"'>%]+)\s+(?P<value>\"[^\"]*\"|'[^']*'|SYSTEM\b|PUBLIC\b)",
    re.IGNORECASE,
)
_CHAR_REF = re.compile(r"&#(?:\d{1,7}|[xX][0-9A-Fa-f]{1,6});")
_MAX_ENTITY_DECLS = 128
_MAX_ENTITY_VALUE = 64
_FEED_MARKUP = re.compile(r"<(?:[A-Za-z0-9_]+:)?(?:rss|feed|RDF|channel)\b")
_PROLOG_END = re.compile(r"<\w")


def body_hash(body: bytes) -> str:
    """sha256 hex of a response body: unchanged feeds are skipped without parsing."""
    return hashlib.sha256(body).hexdigest()


def _text_views(head: bytes) -> list[str]:
    """The document head decoded every plausible way, so UTF-16/32 cannot hide declarations."""
    views = [head.decode("latin-1")]
    if b"\x00" in head[:64] or head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        for enc in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
            views.append(head.decode(enc, "ignore"))
    return views


_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")


def _is_blank(body: bytes) -> bool:
    """Nothing but a byte-order mark, whitespace and NULs (UTF-16 whitespace included)."""
    for bom in _BOMS:
        if body.startswith(bom):
            body = body[len(bom) :]
            break
    return not body.strip(b" \t\r\n\x00\x0b\x0c")


def _check_entities(body: bytes) -> None:
    """Refuse entity declarations that could expand (billion laughs, quadratic) or load files."""
    head = body[: 1 << 20]
    for view in _text_views(head):
        end = _PROLOG_END.search(view)
        prolog = view[: end.start()] if end else view
        if "<!ENTITY" not in prolog.upper():
            continue
        total = len(re.findall(r"<!ENTITY", prolog, re.IGNORECASE))
        decls = list(_ENTITY_DECL.finditer(prolog))
        if total != len(decls) or total > _MAX_ENTITY_DECLS:
            raise PipelineError(
                Reason.FEED_PARSE_ERROR, "refused: unparsable or too many entity declarations"
            )
        for decl in decls:
            value = decl.group("value")
            if decl.group("pe") or value.upper() in ("SYSTEM", "PUBLIC"):
                raise PipelineError(Reason.FEED_PARSE_ERROR, "refused: external or parameter entity declared")
            literal = value[1:-1]
            if _CHAR_REF.fullmatch(literal):
                continue
            if "&" in literal or "%" in literal or len(literal) > _MAX_ENTITY_VALUE:
                raise PipelineError(
                    Reason.FEED_PARSE_ERROR,
                    f"refused: entity {decl.group('name')!r} nests or expands too much",
                )


def _bozo_text(exc: object) -> str:
    if exc is None:
        return "malformed feed"
    return one_line(f"{type(exc).__name__}: {exc}", 200)


def _http_url(raw: object, base: str | None) -> str | None:
    """An absolute http(s) URL for ``raw`` (resolved against ``base``), else ``None``."""
    if not isinstance(raw, str):
        return None
    url = strip_controls(raw).strip()
    url = re.sub(r"[\n\t]", "", url)
    if not url:
        return None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
        absolute = url
    elif base:
        try:
            absolute = urljoin(base, url)
        except ValueError:
            return None
    else:
        return None
    if not absolute.lower().startswith(("http://", "https://")) or canonicalize_url(absolute) is None:
        return None
    return absolute


def _detail_value(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _entry_content(entry: Mapping[str, Any]) -> str | None:
    parts = entry.get("content") or []
    texts: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        value = part.get("value") if isinstance(part, Mapping) else None
        text = plain_text(value, multiline=True) if isinstance(value, str) else ""
        if text and text not in texts:
            texts.append(text)
    return "\n".join(texts) or None


_AUTHOR_FORMS = (
    re.compile(r"(?P<email>[^\s()<>]+@[^\s()<>]+)\s*\((?P<name>[^()]*)\)"),  # jo@x.org (Jo Roe)
    re.compile(r"(?P<name>[^()<>]+?)\s*\((?P<email>[^\s()<>]+@[^\s()<>]+)\)"),  # Jo Roe (jo@x.org)
    re.compile(r"(?P<name>[^<>]*?)\s*<(?P<email>[^\s<>]+@[^\s<>]+)>"),  # Jo Roe <jo@x.org>
    re.compile(r"(?P<email>[^\s@]+@[^\s@]+)"),  # jo@x.org
)


def author_name(raw: object) -> str | None:
    """The person's name in an RSS author string; e-mail addresses are never kept as names.

    Why not feedparser's split: its e-mail pattern only knows 2-4 letter TLDs and cuts longer ones
    (``desk@paper.example (Jo)`` → name ``ple (Jo``).
    """
    text = plain_text(raw)
    if not text:
        return None
    for form in _AUTHOR_FORMS:
        match = form.fullmatch(text)
        if match:
            name = match.groupdict().get("name")
            return (plain_text(name) or None) if name else None
    return None if "@" in text and " " not in text else text


def _entry_authors(entry: Mapping[str, Any]) -> list[str]:
    details = [a for a in entry.get("authors") or [] if isinstance(a, Mapping)]
    raw = entry.get("author")
    if len(details) <= 1 and isinstance(raw, str):
        names = [author_name(raw)]
    else:
        names = [author_name(a.get("name")) for a in details if isinstance(a.get("name"), str)]
    return unique_casefold(n for n in names if n)


def _entry_tags(entry: Mapping[str, Any]) -> list[str]:
    tags: list[str] = []
    for tag in entry.get("tags") or []:
        if isinstance(tag, Mapping):
            term = tag.get("term") or tag.get("label")
            if isinstance(term, str):
                tags.append(plain_text(term))
    return unique_casefold(t for t in tags if t)[:50]


def _year_in(raw: str, year: int) -> bool:
    """True when ``year`` (4 or 2 digits) appears as a number in ``raw``."""
    return re.search(rf"(?<!\d)(?:{year:04d}|{year % 100:02d})(?!\d)", raw) is not None


def _entry_date(entry: Mapping[str, Any], now: datetime | None, tolerance_hours: float) -> datetime | None:
    """First usable of published/updated/created: feedparser's UTC struct_time when its year really
    occurs in the original string (feedparser silently misreads e.g. year 10000 as 2010), else our
    own parse of the string; both through the one date policy."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        parsed = entry.get(f"{key}_parsed")
        raw = raw if isinstance(raw, str) and raw.strip() else None
        if isinstance(parsed, time.struct_time) and (raw is None or _year_in(raw, parsed.tm_year)):
            value: object = parsed
        else:
            value = raw
        result = normalize_date(value, now=now, tolerance_hours=tolerance_hours)
        if result is not None:
            return result
    return None


def _build_entry(
    entry: Mapping[str, Any], feed_url: str, link_base: str, now: datetime | None, tolerance_hours: float
) -> FeedEntry:
    guid = _opt_text(_detail_value(entry, "id"))
    link = _http_url(entry.get("link"), link_base)
    if link is None:
        for alt in entry.get("links") or []:
            if isinstance(alt, Mapping) and alt.get("rel", "alternate") == "alternate":
                link = _http_url(alt.get("href"), link_base)
                if link:
                    break
    if link is None and guid and guid.lower().startswith(("http://", "https://")):
        link = _http_url(guid, None)
    return FeedEntry(
        feed_url=feed_url,
        guid=guid[:2000] if guid else None,
        link=link,
        title=_opt_text(_detail_value(entry, "title")),
        summary=_opt_text(_detail_value(entry, "summary"), multiline=True),
        content=_entry_content(entry),
        authors=_entry_authors(entry),
        published_at=_entry_date(entry, now, tolerance_hours),
        tags=_entry_tags(entry),
    )


_CHARSET_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.I)


def _repair_utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """A UTF-8 feed with a few stray bytes stays UTF-8.

    feedparser falls back to a single-byte charset for the whole document when any byte is not
    valid UTF-8, garbling every non-ASCII character. When the document says (or looks) UTF-8 and
    only a handful of bytes are invalid, decode those bytes alone as cp1252 and hand feedparser
    clean UTF-8.
    """
    if body.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")) or b"\x00" in body[:64]:
        return body, content_type
    declared = None
    m = _CHARSET_DECL.match(body[:256])
    if m:
        declared = m.group(1).decode("ascii").lower()
    if content_type:
        mc = _CT_CHARSET.search(content_type)
        if mc:
            declared = mc.group(1).lower()
    if declared not in (None, "utf-8", "utf8"):
        return body, content_type
    try:
        body.decode("utf-8")
        return body, content_type
    except UnicodeDecodeError:
        pass
    if not mostly_utf8(body):  # many bad bytes: not UTF-8 after all
        return body, content_type
    fixed = decode_mixed_utf8(body).encode("utf-8")
    if content_type:
        content_type = _CT_CHARSET.sub("charset=utf-8", content_type)
    return fixed, content_type


def parse_feed(
    body: bytes,
    feed_url: str,
    *,
    content_type: str | None = None,
    now: datetime | None = None,
    tolerance_hours: float = 24.0,
) -> ParsedFeed:
    """Parse a feed body; raises only ``PipelineError`` (EMPTY_BODY, NOT_A_FEED, FEED_PARSE_ERROR)."""
    try:
        return _parse_feed(body, feed_url, content_type, now, tolerance_hours)
    except PipelineError:
        raise
    except RecursionError:
        raise PipelineError(Reason.FEED_PARSE_ERROR, "document nested too deeply") from None
    except Exception as exc:  # feedparser/lxml on hostile bytes: classify, never crash the run
        raise PipelineError(Reason.FEED_PARSE_ERROR, _bozo_text(exc)) from None


def _parse_feed(
    body: bytes, feed_url: str, content_type: str | None, now: datetime | None, tolerance_hours: float
) -> ParsedFeed:
    import feedparser  # local: keeps import of this module cheap for config-only callers

    if not isinstance(body, bytes | bytearray | memoryview):
        raise PipelineError(Reason.FEED_PARSE_ERROR, f"body must be bytes, got {type(body).__name__}")
    body = bytes(body)
    if _is_blank(body):
        raise PipelineError(Reason.EMPTY_BODY, "feed body is empty")
    _check_entities(body)
    body, content_type = _repair_utf8(body, content_type)
    headers = {"content-type": content_type} if content_type else {}
    result = feedparser.parse(
        io.BytesIO(body), response_headers=headers, resolve_relative_uris=False, sanitize_html=True
    )
    version = result.get("version") or None
    raw_entries = result.get("entries") or []
    bozo_exc = result.get("bozo_exception") if result.get("bozo") else None
    soft = isinstance(bozo_exc, feedparser.ThingsNobodyCaresAboutButMe)
    feed_meta = result.get("feed") or {}
    # a well-formed channel with no items is an empty feed, not a broken one; a document cut off
    # before its closing root tag is broken whatever feedparser salvaged
    tail = body.rstrip()[-256:].lower()
    complete = any(t in tail for t in (b"</rss", b"</feed", b"</rdf:rdf", b"</rdf", b"</channel"))
    channel_parsed = bool(version and complete and (feed_meta.get("title") or feed_meta.get("link")))
    if not raw_entries and not channel_parsed and (version is None or (bozo_exc is not None and not soft)):
        looks_like_feed = bool(_FEED_MARKUP.search(body[:8192].decode("latin-1")))
        if bozo_exc is not None and not soft and (version or looks_like_feed):
            raise PipelineError(Reason.FEED_PARSE_ERROR, _bozo_text(bozo_exc))
        raise PipelineError(Reason.NOT_A_FEED, "no feed version and no entries found")
    feed = result.get("feed") or {}
    site_url = _http_url(feed.get("link"), feed_url)
    is_atom = (version or "").startswith("atom")
    link_base = feed_url if is_atom or not site_url else site_url
    warnings = [_bozo_text(bozo_exc)] if result.get("bozo") else []
    entries: list[FeedEntry] = []
    for i, raw in enumerate(raw_entries):
        try:
            entries.append(_build_entry(raw, feed_url, link_base, now, tolerance_hours))
        except ValidationError as exc:
            warnings.append(one_line(f"entry {i} skipped: {exc.errors()[0]['msg']}"))
    language = _opt_text(feed.get("language"))
    return ParsedFeed(
        feed_url=feed_url,
        version=version,
        title=_opt_text(_detail_value(feed, "title")),
        site_url=site_url,
        language=language[:35] if language else None,
        entries=entries,
        warnings=warnings,
    )
