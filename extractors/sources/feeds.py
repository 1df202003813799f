"""Feed lists (YAML, OPML) and feed documents (RSS 0.9x/2.0, RSS 1.0/RDF, Atom) → models.

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

import codecs
import hashlib
import html
import io
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml
from lxml import etree
from lxml import html as lxml_html
from pydantic import ValidationError

from extractors.normalize.dates import normalize_date
from extractors.normalize.urls import canonicalize_url
from schemas.failures import PipelineError, Reason
from schemas.records import FeedEntry, FeedSpec, ParsedFeed
from schemas.settings import ConfigError

__all__ = [
    "author_name",
    "body_hash",
    "feed_key",
    "import_opml",
    "load_feed_list",
    "merge_feed_specs",
    "parse_feed",
    "parse_opml",
    "plain_text",
    "save_feed_list",
    "strip_control_chars",
]

# ---------------------------------------------------------------------------------------------
# Plain text
# ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_C1 = re.compile(r"[\x80-\x9f]")
_MARKUP_HINT = re.compile(r"<[A-Za-z/!?]|&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]{1,31});")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "head")
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "tr", "table", "section", "article", "header", "footer", "figure", "figcaption", "dd", "dt", "hr",
)  # fmt: skip


def _c1_to_cp1252(match: re.Match[str]) -> str:
    """C1 controls in text are almost always cp1252 bytes decoded as latin-1 (``\\x92`` → ’)."""
    try:
        return bytes([ord(match.group())]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


def strip_control_chars(text: str) -> str:
    """Remove NUL, C0/C1 controls (except newline/tab), lone surrogates and non-characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", " ").replace("\x0c", " ")
    text = _C1.sub(_c1_to_cp1252, text)
    return _CONTROL.sub("", text)


def _strip_markup(text: str, multiline: bool) -> str:
    try:
        root = lxml_html.fragment_fromstring(text, create_parent="div")
    except (etree.LxmlError, ValueError, TypeError):
        return re.sub(r"<[^>]*>", " ", text)
    etree.strip_elements(root, *_DROP_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    if multiline:
        for el in root.iter(*_BLOCK_TAGS):
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    else:
        for el in root.iter(*_BLOCK_TAGS):
            el.tail = " " + (el.tail or "")
    return str(root.text_content())


def _collapse(text: str, multiline: bool) -> str:
    if not multiline:
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def plain_text(value: object, *, multiline: bool = False) -> str:
    """Markup-free, entity-free, control-free text with collapsed whitespace.

    Double-escaped markup (``&amp;lt;b&amp;gt;``) is common in feeds, so stripping repeats (at most
    three rounds) while the result still looks like markup. ``multiline`` keeps one line per block.
    """
    if value is None:
        return ""
    text = strip_control_chars(str(value))
    for _ in range(3):
        if not _MARKUP_HINT.search(text):
            break
        if "<" in text:
            text = _strip_markup(text, multiline)
        text = strip_control_chars(_ENTITY.sub(lambda m: html.unescape(m.group()), text))
    return _collapse(text, multiline)


def _opt_text(value: object, *, multiline: bool = False) -> str | None:
    return plain_text(value, multiline=multiline) or None


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


# ---------------------------------------------------------------------------------------------
# Feed lists: feeds.yaml and OPML
# ---------------------------------------------------------------------------------------------

_FEED_KEYS = frozenset({"url", "name", "tags", "disabled"})


def _one_line(text: object, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def feed_key(url: str) -> str:
    """Identity of a feed URL for de-duplication (its canonical form, else the stripped text)."""
    return canonicalize_url(url) or url.strip()


def _feed_url(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where}: entry has no 'url'")
    url = raw.strip()
    if url.lower().startswith("feed:"):  # feed://host/x and feed:https://host/x
        rest = url[5:]
        url = rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    if not url.lower().startswith(("http://", "https://")) or canonicalize_url(url) is None:
        raise ConfigError(f"{where}: url {_one_line(repr(raw), 120)} is not an http(s) URL")
    return url


def _tags(raw: object, where: str) -> list[str]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(t, str | int | float) for t in items):
        raise ConfigError(f"{where}: 'tags' must be a string or a list of strings")
    return _dedupe(plain_text(t) for t in items)


def _spec_from_entry(entry: object, where: str) -> FeedSpec:
    if isinstance(entry, str):
        return FeedSpec(url=_feed_url(entry, where))
    if not isinstance(entry, Mapping):
        raise ConfigError(
            f"{where}: expected a URL string or a mapping with 'url', got {type(entry).__name__}"
        )
    unknown = sorted(str(k) for k in entry if k not in _FEED_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: disabled, name, tags, url)")
    name = entry.get("name")
    if name is not None and not isinstance(name, str | int | float):
        raise ConfigError(f"{where}: 'name' must be a string")
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise ConfigError(f"{where}: 'disabled' must be true or false")
    return FeedSpec(
        url=_feed_url(entry.get("url"), where),
        name=_opt_text(name) if name is not None else None,
        tags=_tags(entry.get("tags"), where),
        enabled=not disabled,
    )


def merge_feed_specs(
    existing: Sequence[FeedSpec], new: Iterable[FeedSpec]
) -> tuple[list[FeedSpec], list[FeedSpec]]:
    """(merged list, specs actually added): existing entries win, duplicates by canonical URL."""
    merged = list(existing)
    seen = {feed_key(s.url) for s in merged}
    added: list[FeedSpec] = []
    for spec in new:
        key = feed_key(spec.url)
        if key in seen:
            continue
        seen.add(key)
        merged.append(spec)
        added.append(spec)
    return merged, added


def _dedupe_specs(specs: Iterable[FeedSpec]) -> list[FeedSpec]:
    """First occurrence wins; later duplicates contribute their name (if missing) and tags."""
    by_key: dict[str, FeedSpec] = {}
    for spec in specs:
        key = feed_key(spec.url)
        prior = by_key.get(key)
        if prior is None:
            by_key[key] = spec
        else:
            by_key[key] = prior.model_copy(
                update={"name": prior.name or spec.name, "tags": _dedupe([*prior.tags, *spec.tags])}
            )
    return list(by_key.values())


def load_feed_list(path: str | os.PathLike[str], *, include_disabled: bool = False) -> list[FeedSpec]:
    """Read ``feeds.yaml`` (``feeds:`` list of URL strings or ``{url, name?, tags?, disabled?}``).

    Feeds marked ``disabled: true`` are left out unless ``include_disabled`` (for editing the list).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: feeds file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({_one_line(exc.reason)} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read feeds file ({_one_line(exc.strerror or exc)})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(f"{path}: malformed YAML{where}: {_one_line(problem)}") from None
    if not isinstance(data, Mapping):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{path}: expected a mapping with a 'feeds:' list, got {got}")
    if "feeds" not in data:
        raise ConfigError(f"{path}: missing key 'feeds'")
    feeds = data["feeds"]
    if feeds is None:
        return []
    if not isinstance(feeds, list):
        raise ConfigError(f"{path}: 'feeds' must be a list, got a {type(feeds).__name__}")
    try:
        specs = [_spec_from_entry(entry, f"{path}: feeds[{i}]") for i, entry in enumerate(feeds)]
    except ValidationError as exc:  # pragma: no cover - guarded by the checks above
        raise ConfigError(f"{path}: invalid feed entry: {_one_line(exc.errors()[0]['msg'])}") from None
    specs = _dedupe_specs(specs)
    return specs if include_disabled else [s for s in specs if s.enabled]


def save_feed_list(path: str | os.PathLike[str], specs: Iterable[FeedSpec]) -> None:
    """Write specs as ``feeds.yaml`` atomically (temp file + rename), so a crash never truncates it."""
    path = Path(path)
    rows: list[dict[str, Any]] = []
    for spec in specs:
        row: dict[str, Any] = {"url": spec.url}
        if spec.name:
            row["name"] = spec.name
        if spec.tags:
            row["tags"] = list(spec.tags)
        if not spec.enabled:
            row["disabled"] = True
        rows.append(row)
    text = yaml.safe_dump({"feeds": rows}, sort_keys=False, allow_unicode=True, width=1000)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write feeds file ({_one_line(exc.strerror or exc)})") from None


def _attr(el: etree._Element, name: str) -> str | None:
    """Attribute lookup ignoring case (exporters write ``xmlUrl``, ``xmlurl``, ``XMLURL``)."""
    wanted = name.lower()
    for key, value in el.attrib.items():
        if str(key).lower() == wanted:
            return str(value)
    return None


def _category_tags(raw: str | None) -> list[str]:
    """OPML ``category="/News/World,Tech"`` → ``["News", "World", "Tech"]``."""
    if not raw:
        return []
    return [seg.strip() for part in raw.split(",") for seg in part.split("/") if seg.strip()]


def parse_opml(data: bytes, *, source: str = "OPML") -> list[FeedSpec]:
    """Feeds in an OPML document: every outline with ``xmlUrl``; folder names and categories → tags.

    Parsed with entity resolution, DTD loading and network access disabled, and documents that
    declare entities are refused outright, so no OPML can expand or fetch anything.
    """
    if not data or not data.strip():
        raise ConfigError(f"{source}: malformed OPML: empty document")
    if _ENTITY_DECL_HINT.search(data[:65536]):
        raise ConfigError(f"{source}: malformed OPML: entity declarations are not allowed")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        line = f" at line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        raise ConfigError(f"{source}: malformed OPML{line}: {_one_line(exc.msg or exc)}") from None
    except (etree.LxmlError, ValueError) as exc:
        raise ConfigError(f"{source}: malformed OPML: {_one_line(exc)}") from None
    if root is None or not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise ConfigError(f"{source}: malformed OPML: root element is not <opml>")
    body = next(
        (c for c in root if isinstance(c.tag, str) and etree.QName(c).localname.lower() == "body"), None
    )
    if body is None:
        raise ConfigError(f"{source}: malformed OPML: no <body> element")
    specs: list[FeedSpec] = []

    def walk(parent: etree._Element, folders: list[str]) -> None:
        for el in parent:
            if not isinstance(el.tag, str) or etree.QName(el).localname.lower() != "outline":
                continue
            label = _opt_text(_attr(el, "text")) or _opt_text(_attr(el, "title"))
            xml_url = _attr(el, "xmlUrl")
            tags = _dedupe([*folders, *(plain_text(t) for t in _category_tags(_attr(el, "category")))])
            if xml_url is not None and xml_url.strip():
                where = f"{source}: outline {_one_line(repr(label or xml_url), 80)}"
                specs.append(FeedSpec(url=_feed_url(xml_url, where), name=label, tags=[t for t in tags if t]))
            if len(el):
                walk(el, [*folders, label] if label and xml_url is None else folders)

    walk(body, [])
    return _dedupe_specs(specs)


def import_opml(opml_path: str | os.PathLike[str], feeds_path: str | os.PathLike[str]) -> list[FeedSpec]:
    """Merge an OPML file's feeds into ``feeds.yaml`` (created if missing); returns those added."""
    opml_path = Path(opml_path)
    try:
        data = opml_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{opml_path}: cannot read OPML file ({_one_line(exc.strerror or exc)})") from None
    new = parse_opml(data, source=str(opml_path))
    existing = load_feed_list(feeds_path) if Path(feeds_path).exists() else []
    merged, added = merge_feed_specs(existing, new)
    if added or not Path(feeds_path).exists():
        save_feed_list(feeds_path, merged)
    return added


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
    return _one_line(f"{type(exc).__name__}: {exc}", 200)


def _http_url(raw: object, base: str | None) -> str | None:
    """An absolute http(s) URL for ``raw`` (resolved against ``base``), else ``None``."""
    if not isinstance(raw, str):
        return None
    url = strip_control_chars(raw).strip()
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
    return _dedupe(n for n in names if n)


def _entry_tags(entry: Mapping[str, Any]) -> list[str]:
    tags: list[str] = []
    for tag in entry.get("tags") or []:
        if isinstance(tag, Mapping):
            term = tag.get("term") or tag.get("label")
            if isinstance(term, str):
                tags.append(plain_text(term))
    return _dedupe(t for t in tags if t)[:50]


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


def _cp1252_for_bad_bytes(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    bad = err.object[err.start : err.end]
    return bad.decode("cp1252", errors="replace").replace("\ufffd", ""), err.end


codecs.register_error("newsflow_feed_cp1252", _cp1252_for_bad_bytes)


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
    text = body.decode("utf-8", errors="newsflow_feed_cp1252")
    strict_len = len(body.decode("utf-8", errors="ignore"))
    if len(text) - strict_len > max(8, len(text) // 200):  # many bad bytes: not UTF-8 after all
        return body, content_type
    fixed = text.encode("utf-8")
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
            warnings.append(_one_line(f"entry {i} skipped: {exc.errors()[0]['msg']}"))
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
