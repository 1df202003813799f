"""Streaming readers for backfill archives: text dumps, saved HTML, JSON Lines and WARC.

Every reader is a generator that yields one :class:`ArchiveRecord` per usable document and
one :class:`ArchiveProblem` per thing that could not be read, then carries on: a bad JSONL
line or an oversized WARC record never stops the rest of the archive. Corruption (a broken
gzip stream, a truncated WARC) ends the file with one ``CORRUPT_ARCHIVE`` problem, after the
records read before it. Nothing here reads a whole JSONL or WARC file into memory; single
documents (``.txt``, ``.html``) are read up to ``max_record_bytes``.

The kind of a file is decided by its content first (gzip magic, a ``WARC/1.x`` header, an
HTML start tag, JSON objects per line) and by its extension when the content is ambiguous,
so a mis-named file still loads and a binary file is refused rather than ingested.

``ArchiveRecord.record_id`` is content-addressed (kind, URL, content bytes), so the same
record gets the same id from any copy of the archive: the backfill uses it to skip what is
already loaded.

Dates: a JSONL ``published_at`` is parsed into ``published_at`` (the flow may re-apply the
project date policy to ``published_at_raw``). A WARC-Date is *when the page was captured*,
not when the story was published: it is exposed as ``fetched_at`` only, while
``published_at`` and ``published_at_raw`` stay ``None``.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import html as htmllib
import io
import json
import os
import re
import zlib
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from extractors.normalize.dates import parse_date
from extractors.normalize.text import decode_bytes
from extractors.normalize.urls import archive_pseudo_url
from schemas.failures import Reason

Kind = Literal["text", "html", "jsonl", "warc"]

DEFAULT_MAX_RECORD_BYTES = 20 * 2**20

_HEAD_BYTES = 64 * 1024  # how much of a file (decompressed) content sniffing looks at
_PAYLOAD_CHARS = 2000  # how much of an offending line a problem carries
_GZIP_MAGIC = b"\x1f\x8b"
_UTF16_32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

_EXTENSIONS: dict[str, Kind] = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".warc": "warc",
}


@dataclass(frozen=True)
class ArchiveRecord:
    """One document read from an archive, before extraction."""

    record_id: str
    path: str
    locator: str
    kind: Kind
    url: str | None = None
    html: bytes | None = None
    text: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    published_at_raw: str | None = None
    outlet: str | None = None  # the record's own outlet name (JSONL ``outlet``, or ``source``)
    content_type: str | None = None
    http_headers: dict[str, str] = field(default_factory=dict, hash=False)
    fetched_at: datetime | None = None
    # the locator finds this record again in its file by seeking (a whole file, a WARC offset in
    # the file itself): the warehouse need not keep a copy of the body (see read_record_at)
    rereadable: bool = False


@dataclass(frozen=True)
class ArchiveProblem:
    """Something in an archive that could not become a record, and why (one line)."""

    path: str
    locator: str
    reason: Reason
    message: str
    payload: str | None = None


# --------------------------------------------------------------------------------------------
# discovery and kind detection
# --------------------------------------------------------------------------------------------


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield archive files under ``paths`` in a deterministic order.

    Files are yielded as given; directories are walked recursively (entries sorted by name,
    a directory's files before its sub-directories), skipping hidden files and directories.
    A file reached twice is yielded once. A path that does not exist raises
    ``FileNotFoundError`` so the caller can report it as one line.
    """
    seen: set[str] = set()

    def once(p: Path) -> bool:
        key = os.path.realpath(p)
        if key in seen:
            return False
        seen.add(key)
        return True

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    candidate = Path(root) / name
                    if name.startswith(".") or not candidate.is_file():
                        continue
                    if once(candidate):
                        yield candidate
        elif path.is_file():
            if once(path):
                yield path
        else:
            raise FileNotFoundError(f"archive path does not exist or is not a file: {path}")


class _Classified(NamedTuple):
    kind: Kind | None
    gzipped: bool
    reason: Reason | None = None  # set when kind is None
    message: str = ""


def detect_kind(path: Path) -> Kind | None:
    """The archive kind of ``path`` by content and extension; ``None`` if binary or unknown."""
    return _classify(Path(path)).kind


def _kind_from_name(name: str) -> Kind | None:
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return _EXTENSIONS.get(os.path.splitext(lower)[1])


def _read_head(path: Path) -> tuple[bytes, bool, bool]:
    """First bytes of the (decompressed) content: ``(head, gzipped, gzip_error)``."""
    with open(path, "rb") as fh:
        raw = fh.read(_HEAD_BYTES)
    if not raw.startswith(_GZIP_MAGIC):
        return raw, False, False
    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        return decomp.decompress(raw, _HEAD_BYTES), True, False
    except zlib.error:
        return b"", True, True


def _strip_bom(data: bytes) -> bytes:
    return data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data


def _looks_binary(head: bytes) -> bool:
    """Control bytes a text or HTML file does not contain (NUL, most C0 codes).

    Compressed or media data has about one such byte in nine; text has next to none (a
    stray NUL is tolerated and stripped later), whatever its legacy encoding.
    """
    if not head or head.startswith(_UTF16_32_BOMS):
        return False
    sample = head[:8192]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27)) + sample.count(127)
    return sample.count(0) > max(2, len(sample) // 200) or controls > len(sample) // 20


_HTML_START = re.compile(rb"<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|meta[\s>]|title[\s>])")
_JSONL_START = re.compile(rb"\{\s*(\"|\})")


def _sniff(head: bytes) -> Literal["warc", "html", "jsonl", "text", "binary", "empty"]:
    """Content-only guess; ``text`` is the weak answer (any readable text)."""
    if head.startswith(_UTF16_32_BOMS):
        return "text"
    body = _strip_bom(head).lstrip()
    if not body:
        return "empty"
    if body.startswith(b"WARC/"):
        return "warc"
    if _looks_binary(head):
        return "binary"
    lowered = body[:4096].lower()
    if lowered.startswith(b"<") and _HTML_START.search(lowered):
        return "html"
    if _JSONL_START.match(body):
        return "jsonl"
    return "text"


def _classify(path: Path) -> _Classified:
    ext_kind = _kind_from_name(path.name)
    try:
        head, gzipped, gz_error = _read_head(path)
    except OSError as exc:
        return _Classified(None, False, Reason.CORRUPT_ARCHIVE, f"cannot read file: {exc.strerror or exc}")
    if gz_error:
        if ext_kind is not None:  # let the reader report where the stream breaks
            return _Classified(ext_kind, True)
        return _Classified(None, True, Reason.CORRUPT_ARCHIVE, "corrupt gzip stream at the start of the file")
    sniffed = _sniff(head)
    if sniffed == "binary":
        return _Classified(None, gzipped, Reason.BINARY_FILE, "binary content, not text, HTML, JSONL or WARC")
    if sniffed in ("warc", "html", "jsonl"):
        return _Classified(sniffed, gzipped)
    if ext_kind is not None:
        return _Classified(ext_kind, gzipped)
    if sniffed == "empty":
        return _Classified("text", gzipped)  # reported as an empty file by the text reader
    return _Classified(
        None,
        gzipped,
        Reason.UNSUPPORTED_FORMAT,
        f"unsupported archive file {path.name!r}: expected .txt, .html/.htm, .jsonl or .warc (optionally .gz)",
    )


# --------------------------------------------------------------------------------------------
# public helpers
# --------------------------------------------------------------------------------------------


def record_url(rec: ArchiveRecord) -> str:
    """The record's URL, or a stable pseudo-URL for records that have none (text dumps)."""
    return rec.url or archive_pseudo_url(rec.record_id)


def make_record_id(kind: str, url: str | None, content: bytes) -> str:
    """Content-addressed id: the same record has the same id in any copy of the archive."""
    digest = hashlib.sha256()
    digest.update(kind.encode("ascii"))
    digest.update(b"\x1f")
    digest.update((url or "").encode("utf-8", "surrogatepass"))
    digest.update(b"\x1f")
    digest.update(content)
    return digest.hexdigest()[:32]


def decode_text(data: bytes) -> str:
    """Decode a plain-text dump with the one charset decoder; line ends unified."""
    return decode_bytes(data).replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------------------------
# iteration
# --------------------------------------------------------------------------------------------


def iter_records(
    path: Path,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    stats: Counter[str] | None = None,
    span: tuple[int, int | None, int] | None = None,
) -> Iterator[ArchiveRecord | ArchiveProblem]:
    """Stream the records of one archive file; problems are yielded, never raised.

    ``stats``, when given, counts what was skipped on purpose (WARC request/metadata
    records, non-2xx or non-HTML responses, blank JSONL lines) so a summary can show it.
    ``span`` = (start byte, end byte or None, line number at start) reads one byte range of a plain
    JSONL file (a cluster shard, ``extractors/sources/shards.py``): the lines that start in it; or
    of a WARC gzipped record by record (or not at all), starting at a record: the records that start
    in it (the line number is not used).
    """
    path = Path(path)
    where = str(path)
    classified = _classify(path)
    if classified.kind is None:
        assert classified.reason is not None
        yield ArchiveProblem(where, "", classified.reason, classified.message)
        return
    counter: Counter[str] = stats if stats is not None else Counter()
    readers = {"text": _iter_single, "html": _iter_single, "jsonl": _iter_jsonl, "warc": _iter_warc}
    if span is not None and not ((classified.kind == "jsonl" and not classified.gzipped)
                                 or classified.kind == "warc"):
        raise ValueError(f"{where}: only a plain JSONL file or a WARC can be read by byte range")
    try:
        if span is not None and classified.kind == "warc":
            yield from _iter_warc_span(path, max_record_bytes, counter, span[0], span[1])
        elif span is not None:
            yield from _iter_jsonl(path, classified, max_record_bytes, counter, span=span)
        else:
            yield from readers[classified.kind](path, classified, max_record_bytes, counter)
    except OSError as exc:  # the file vanished or became unreadable mid-way
        yield ArchiveProblem(where, "", Reason.CORRUPT_ARCHIVE, f"cannot read file: {exc.strerror or exc}")


def _open_stream(path: Path, gzipped: bool) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def _gzip_message(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "gzip stream ends early (file truncated)"
    return f"corrupt gzip stream ({exc})"


def _iter_single(
    path: Path, classified: _Classified, limit: int, stats: Counter[str]
) -> Iterator[ArchiveRecord | ArchiveProblem]:
    """A ``.txt`` or ``.html`` file (optionally gzipped) is one document."""
    where = str(path)
    kind = classified.kind
    assert kind in ("text", "html")
    if not classified.gzipped and path.stat().st_size > limit:
        yield ArchiveProblem(where, "", Reason.TOO_LARGE, f"file is larger than {limit} bytes")
        return
    try:
        with _open_stream(path, classified.gzipped) as fh:
            data = fh.read(limit + 1)
    except _GZIP_ERRORS as exc:
        yield ArchiveProblem(where, "", Reason.CORRUPT_ARCHIVE, _gzip_message(exc))
        return
    if len(data) > limit:
        yield ArchiveProblem(where, "", Reason.TOO_LARGE, f"document is larger than {limit} bytes")
        return
    if kind == "text":
        text = decode_text(data)
        if not text.strip():
            yield ArchiveProblem(where, "", Reason.INVALID_RECORD, "empty file")
            return
        yield ArchiveRecord(make_record_id(kind, None, data), where, "", "text", text=text, rereadable=True)
        return
    if not data.strip():
        yield ArchiveProblem(where, "", Reason.INVALID_RECORD, "empty file")
        return
    url = html_page_url(data)
    yield ArchiveRecord(make_record_id(kind, url, data), where, "", "html", url=url, html=data, rereadable=True)


_TAG = re.compile(rb"<(link|meta)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(rb"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+)""")


def html_page_url(data: bytes) -> str | None:
    """The page's own URL as a saved HTML page states it: rel=canonical, else og:url."""
    head = data[: 256 * 1024]
    end = head.lower().find(b"</head")
    if end > 0:
        head = head[:end]
    canonical = og_url = None
    for match in _TAG.finditer(head):
        attrs = {
            name.lower().decode("ascii"): htmllib.unescape(
                value.strip(b"\"'").decode("utf-8", "replace")
            ).strip()
            for name, value in _ATTR.findall(match.group(2))
        }
        if match.group(1).lower() == b"link" and "canonical" in attrs.get("rel", "").lower().split():
            canonical = canonical or attrs.get("href")
        elif (
            match.group(1).lower() == b"meta"
            and attrs.get("property", attrs.get("name", "")).lower() == "og:url"
        ):
            og_url = og_url or attrs.get("content")
    for candidate in (canonical, og_url):
        if candidate and re.match(r"(?i)https?://[^\s/]+", candidate):
            return candidate
    return None


# --------------------------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------------------------


def _iter_jsonl(
    path: Path, classified: _Classified, limit: int, stats: Counter[str],
    span: tuple[int, int | None, int] | None = None,
) -> Iterator[ArchiveRecord | ArchiveProblem]:
    """One object per line; a bad line is a problem for that line only. ``span`` (start byte,
    end byte or None, number of the line at start) reads only the lines that start in the range."""
    where = str(path)
    start, end, first_line = span or (0, None, 1)
    lineno = first_line - 1
    with _open_stream(path, classified.gzipped) as fh:
        if start:
            fh.seek(start)
        while end is None or fh.tell() < end:
            try:
                line = fh.readline(limit + 1)
                if not line:
                    return
                lineno += 1
                if len(line) > limit and not line.endswith(b"\n"):
                    _skip_rest_of_line(fh)
                    yield ArchiveProblem(
                        where, f"line:{lineno}", Reason.TOO_LARGE, f"line is longer than {limit} bytes"
                    )
                    continue
            except _GZIP_ERRORS as exc:
                yield ArchiveProblem(where, f"line:{lineno + 1}", Reason.CORRUPT_ARCHIVE, _gzip_message(exc))
                return
            if lineno == 1:
                line = _strip_bom(line)
            if not line.strip():
                stats["blank_lines"] += 1
                continue
            yield _jsonl_record(where, lineno, line)


def _skip_rest_of_line(fh: io.BufferedIOBase) -> None:
    while chunk := fh.readline(1 << 20):
        if chunk.endswith(b"\n"):
            return


def _jsonl_record(where: str, lineno: int, line: bytes) -> ArchiveRecord | ArchiveProblem:
    locator = f"line:{lineno}"

    def problem(message: str) -> ArchiveProblem:
        payload = line[: _PAYLOAD_CHARS * 4].decode("utf-8", "replace").rstrip("\r\n")[:_PAYLOAD_CHARS]
        return ArchiveProblem(where, locator, Reason.INVALID_RECORD, message, payload)

    try:
        obj = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return problem("line is not valid UTF-8")
    except ValueError as exc:
        return problem(f"line is not valid JSON: {exc}")
    if not isinstance(obj, dict):
        return problem(f"line is a JSON {type(obj).__name__}, expected an object")
    url = obj.get("url")
    if not isinstance(url, str) or not url.strip():
        return problem("object has no 'url' string")
    fields: dict[str, str | None] = {}
    for name in ("html", "text", "title", "outlet", "source"):
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            return problem(f"field {name!r} must be a string, got {type(value).__name__}")
        fields[name] = value
    html_str, text = fields["html"], fields["text"]
    if not (html_str and html_str.strip()) and not (text and text.strip()):
        return problem("object needs a non-empty 'html' or 'text'")
    raw_date = obj.get("published_at")
    if raw_date is not None and not isinstance(raw_date, str | int | float):
        return problem(f"field 'published_at' must be a string or a number, got {type(raw_date).__name__}")
    html_bytes = html_str.encode("utf-8", "surrogatepass") if html_str else None
    text_clean = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n") if text else None
    content = (html_bytes or b"") + b"\x00" + (text_clean or "").encode("utf-8", "surrogatepass")
    url = url.strip()
    return ArchiveRecord(
        record_id=make_record_id("jsonl", url, content),
        path=where,
        locator=locator,
        kind="jsonl",
        url=url,
        html=html_bytes,
        text=text_clean,
        title=fields["title"],
        published_at=parse_date(raw_date, epoch=True),
        published_at_raw=None if raw_date is None else str(raw_date),
        outlet=fields["outlet"] or fields["source"],
        # the HTML was a JSON string and is now UTF-8 whatever its <meta charset> says
        content_type="text/html; charset=utf-8" if html_bytes else None,
    )


# --------------------------------------------------------------------------------------------
# WARC
# --------------------------------------------------------------------------------------------

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SNIFF_TYPES = ("", "application/octet-stream", "text/plain", "unknown/unknown")


def _read_html_body(record: Any, content_type: str, limit: int) -> bytes | None:
    """The decoded payload (up to ``limit + 1`` bytes) if it is HTML, else ``None``.

    Declared HTML is read directly; a missing or generic type is sniffed from the first
    bytes; anything else (images, scripts, PDFs) is not read at all.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _HTML_TYPES:
        return record.content_stream().read(limit + 1)
    if media not in _SNIFF_TYPES:
        return None
    stream = record.content_stream()
    head = stream.read(4096)
    lowered = _strip_bom(head).lstrip().lower()
    if not (lowered.startswith(b"<") and _HTML_START.search(lowered)):
        return None
    return head + stream.read(max(0, limit + 1 - len(head)))


def _headers_dict(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.strip().lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _iter_warc(
    path: Path, classified: _Classified, limit: int, stats: Counter[str]
) -> Iterator[ArchiveRecord | ArchiveProblem]:
    """Each 2xx HTML ``response`` record is a document; everything else is skipped quietly.

    WARC files are normally gzipped record by record (what warcio reads directly). A WARC
    gzipped as one stream (``gzip file.warc``) is detected after its first record and read
    again through a decompressing stream, skipping the records already handled; its
    locators are then offsets in the decompressed stream.
    """
    where = str(path)
    handled = [0]
    with open(path, "rb") as fh:
        whole_file_gzip = yield from _warc_stream(where, fh, limit, stats, handled, skip=0, rereadable=True)
    if whole_file_gzip:
        with gzip.open(path, "rb") as gz:
            yield from _warc_stream(where, _EOFAsError(gz), limit, stats, handled, skip=handled[0])


def _iter_warc_span(path: Path, limit: int, stats: Counter[str], start: int,
                    end: int | None) -> Iterator[ArchiveRecord | ArchiveProblem]:
    """The records of a WARC that start in bytes ``start``..``end`` (``start`` a record's first byte,
    as ``warc_record_offsets`` finds them); locators are file offsets, as a whole-file read gives."""
    with open(path, "rb") as fh:
        yield from _warc_stream(str(path), _Window(fh, start), limit, stats, [0], skip=0, rereadable=True, stop=end)


def warc_record_offsets(path: Path) -> Iterator[int]:
    """Where each record of a WARC starts, by one sequential read (a record gzipped on its own is
    a gzip member that can be entered there). Raises ``ValueError`` for a WARC gzipped as one
    stream, which cannot be entered in the middle, or one warcio cannot walk to its end."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        records = ArchiveIterator(fh)
        while True:
            at = records.offset
            try:
                next(records)
            except StopIteration:
                return
            except Exception as exc:  # whole-file gzip ("non-chunked gzip"), or damage
                raise ValueError(f"{path}: cannot find WARC record boundaries ({exc})") from None
            yield at


class _TruncatedStream(Exception):
    """Raised instead of EOFError, which warcio would take for a clean end of file."""


class _EOFAsError:
    def __init__(self, stream: gzip.GzipFile) -> None:
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        # read1: a short read keeps the data decoded before the break instead of losing it
        try:
            return self.stream.read1(size)
        except _GZIP_ERRORS as exc:
            raise _TruncatedStream(_gzip_message(exc)) from None

    def tell(self) -> int:
        return self.stream.tell()


def _warc_stream(
    where: str, fh: Any, limit: int, stats: Counter[str], handled: list[int], *, skip: int,
    rereadable: bool = False, stop: int | None = None,
) -> Generator[ArchiveRecord | ArchiveProblem, None, bool]:
    """Walk one WARC byte stream; returns True when it turns out to be whole-file gzip.
    ``stop``: end before the first record that starts at or after this offset."""
    from warcio.archiveiterator import ArchiveIterator

    records = ArchiveIterator(fh)
    index = 0
    while True:
        start = records.offset
        if stop is not None and start >= stop:
            return False
        try:
            record = next(records)
        except StopIteration:
            break
        except Exception as exc:  # warcio fails in many ways on damaged input
            if skip == 0 and index > 0 and "non-chunked gzip" in str(exc):
                return True
            yield _corrupt_warc(where, start, exc)
            return False
        index += 1
        if index <= skip:
            continue
        handled[0] = index
        try:
            item = _warc_item(where, records, record, limit, stats, rereadable=rereadable)
        except Exception as exc:
            yield _corrupt_warc(where, start, exc)
            return False
        if isinstance(item, ArchiveProblem) and item.reason is Reason.CORRUPT_ARCHIVE:
            yield item
            return False
        if item is not None:
            yield item
    # warcio ends quietly on a record cut inside its headers: anything but blank lines
    # after the last whole record means the file was truncated or damaged there
    end = records.offset
    if hasattr(fh, "seek"):
        fh.seek(end)
        if fh.read(4096).strip(b"\r\n \t\x00"):
            yield ArchiveProblem(
                where,
                f"offset:{end}",
                Reason.CORRUPT_ARCHIVE,
                "WARC ends with an incomplete or unreadable record",
            )
    return False


_WARC_TYPES = {
    "warcinfo",
    "response",
    "resource",
    "request",
    "metadata",
    "revisit",
    "conversion",
    "continuation",
}


def _warc_verdict(record: Any, stats: Counter[str]) -> tuple[bool, str | None]:
    """``(keep, invalid_message)`` for a record, from its headers only; skips are counted."""
    rec_type = record.rec_type
    if rec_type not in _WARC_TYPES:
        return False, f"unknown WARC-Type {str(rec_type)[:40]!r}"
    if rec_type != "response":
        stats[f"warc_{rec_type}"] += 1
        return False, None
    target = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<> ").lower()
    http = record.http_headers
    if http is None:
        if target.startswith(("http://", "https://")):
            return False, "HTTP response record without readable HTTP headers"
        stats["warc_non_http"] += 1  # e.g. dns: lookups
        return False, None
    status = http.get_statuscode() or ""
    if not status.isdigit():
        return False, f"unreadable HTTP status line {str(http.statusline)[:60]!r}"
    if not 200 <= int(status) < 300:
        stats["warc_non_2xx"] += 1
        return False, None
    return True, None


def _corrupt_warc(where: str, offset: int, exc: BaseException) -> ArchiveProblem:
    detail = " ".join(str(exc).split())[:300] or type(exc).__name__
    return ArchiveProblem(
        where, f"offset:{offset}", Reason.CORRUPT_ARCHIVE, f"unreadable WARC from this record on: {detail}"
    )


def _warc_item(
    where: str, records: Any, record: Any, limit: int, stats: Counter[str], *, rereadable: bool = False
) -> ArchiveRecord | ArchiveProblem | None:
    """Read one WARC record fully and decide what it becomes (``None``: skipped)."""
    length = (record.rec_headers.get_header("Content-Length") or "").strip()
    if not length.isdigit():  # mandatory in WARC; missing when the header block was cut short
        return ArchiveProblem(
            where,
            f"offset:{records.offset}",
            Reason.CORRUPT_ARCHIVE,
            "WARC record header is incomplete (no Content-Length)",
        )
    keep, invalid = _warc_verdict(record, stats)
    body: bytes | None = b""
    content_type = ""
    if keep:
        content_type = record.http_headers.get_header("Content-Type") or ""
        body = _read_html_body(record, content_type, limit)
        if body is None:
            keep = False
            stats["warc_non_html"] += 1
    # drain the raw block: a block shorter than its Content-Length means truncation
    while record.raw_stream.read(1 << 16):
        pass
    offset = records.get_record_offset()
    # a gzip member that has not reached its end while no further record follows is cut
    # short (with whole-file gzip the member goes on, and the next record is already read)
    decompressor = getattr(records.reader, "decompressor", None)
    if decompressor is not None and not getattr(decompressor, "eof", True) and not records.next_line:
        return ArchiveProblem(
            where, f"offset:{offset}", Reason.CORRUPT_ARCHIVE, "gzip member of this WARC record is truncated"
        )
    if getattr(record.raw_stream, "limit", 0) > 0:
        return ArchiveProblem(
            where,
            f"offset:{offset}",
            Reason.CORRUPT_ARCHIVE,
            f"WARC record ends {record.raw_stream.limit} bytes before its Content-Length (truncated)",
        )
    if invalid:
        return ArchiveProblem(where, f"offset:{offset}", Reason.INVALID_RECORD, invalid)
    if not keep:
        return None
    assert body is not None
    locator = f"offset:{offset}"
    if len(body) > limit:
        return ArchiveProblem(where, locator, Reason.TOO_LARGE, f"response body is larger than {limit} bytes")
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>").strip()
    if not url:
        return ArchiveProblem(where, locator, Reason.INVALID_RECORD, "response record has no WARC-Target-URI")
    if not body.strip():
        return ArchiveProblem(where, locator, Reason.INVALID_RECORD, "HTML response with an empty body")
    warc_date = record.rec_headers.get_header("WARC-Date")
    return ArchiveRecord(
        record_id=make_record_id("warc", url, body),
        path=where,
        locator=locator,
        kind="warc",
        url=url,
        html=body,
        published_at=None,
        content_type=content_type or None,
        http_headers=_headers_dict(record.http_headers.headers),
        fetched_at=parse_date(warc_date, epoch=True) if warc_date else None,
        rereadable=rereadable,
    )


# --------------------------------------------------------------------------------------------
# one record again, from where it was found (reprocess of a page whose body was not stored)
# --------------------------------------------------------------------------------------------


class _Window:
    """A read-only view of an open file from ``start`` on, keeping the file's own offsets."""

    def __init__(self, fh: Any, start: int) -> None:
        self.fh = fh
        fh.seek(start)

    def read(self, size: int = -1) -> bytes:
        return bytes(self.fh.read(size))

    def tell(self) -> int:
        return int(self.fh.tell())

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return int(self.fh.seek(offset, whence))


def read_record_at(path: str, locator: str, *,
                   max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> ArchiveRecord | ArchiveProblem:
    """Read one record again from where a backfill found it (``archive_path`` + locator): a
    whole ``.html``/``.txt`` file (empty locator) or the WARC record at ``offset:N`` of the file
    (gzipped record by record, or not at all), checked as ``iter_records`` checks it. A JSONL line
    or a record of a WARC gzipped as one stream cannot be found by seeking: a problem, as is a
    missing or damaged file."""
    p = Path(path)
    if not p.is_file():
        return ArchiveProblem(path, locator, Reason.CORRUPT_ARCHIVE, f"archive file not found: {path}")
    item: ArchiveRecord | ArchiveProblem | None = None
    if not locator:
        item = next(iter(iter_records(p, max_record_bytes=max_record_bytes)), None)
    elif locator.startswith("offset:") and locator[7:].isdigit():
        try:
            with open(p, "rb") as fh:
                for found in _warc_stream(path, _Window(fh, int(locator[7:])), max_record_bytes, Counter(), [0],
                                          skip=0, rereadable=True):
                    item = found
                    break
        except OSError as exc:
            item = ArchiveProblem(path, locator, Reason.CORRUPT_ARCHIVE, f"cannot read file: {exc.strerror or exc}")
    else:
        return ArchiveProblem(path, locator, Reason.INVALID_RECORD, f"record {locator!r} cannot be found by seeking")
    if item is None:
        return ArchiveProblem(path, locator, Reason.INVALID_RECORD, "no document at this place in the archive")
    if isinstance(item, ArchiveRecord) and item.locator != locator:
        return ArchiveProblem(path, locator, Reason.INVALID_RECORD, f"no record starts at {locator}")
    return item
