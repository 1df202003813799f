"""HTML pages → ExtractedDoc: charset decoding, trafilatura, metadata, block detection, cleaning.

The page is parsed once with lxml; trafilatura works on a copy of that tree and our own cues
(canonical link, descriptions, challenge markers) read the same tree, which keeps the whole
path close to the cost of a plain ``trafilatura.extract`` call.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from lxml.html import HtmlElement

from extractors.cleaner import clean_text
from extractors.language import detect_language
from schemas.records import ExtractedDoc

LOGGER = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# charset decoding
# --------------------------------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels browsers treat as something else (WHATWG encoding standard), mapped to the Python
# codec that decodes what such pages really contain.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "unicode": "utf-8",
    "utf8": "utf-8",
}

_HTTP_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_SNIFF_BYTES = 4096
_SINGLE_BYTE_FAMILIES = ("cp", "iso8859", "latin", "koi8", "mac", "tis", "windows")
# Sequences that appear when UTF-8 was decoded with a single-byte charset ("Ã©", "â€™").
_MOJIBAKE_RE = re.compile("[\u00c2\u00c3][\u0080-\u00bf]|\u00e2\u20ac[\u0080-\u00bf\u2018-\u201e\u2122\u0153\u0161\u017e\u00a6]")


def _codec_for(label: str | None) -> str | None:
    """Python codec name for a charset label, or ``None`` when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _CHARSET_ALIASES.get(name, name)


def _is_single_byte(codec: str) -> bool:
    return codec.replace("-", "").replace("_", "").startswith(_SINGLE_BYTE_FAMILIES)


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _cp1252_or_latin1(body: bytes) -> str:
    """cp1252 with its five undefined bytes kept as Latin-1: never fails, never U+FFFD."""
    return body.decode("cp1252", errors="_newsflow_latin1")


def _latin1_handler(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("latin-1"), err.end


def _mixed_utf8_handler(err: UnicodeError) -> tuple[str, int]:
    """Decode the stray bytes of an almost-UTF-8 page as cp1252 (typical mixed-encoding CMS)."""
    assert isinstance(err, UnicodeDecodeError)
    return _cp1252_or_latin1(err.object[err.start : err.end]), err.end


codecs.register_error("_newsflow_latin1", _latin1_handler)
codecs.register_error("_newsflow_mixed", _mixed_utf8_handler)


def _looks_mojibake(text: str) -> bool:
    return _MOJIBAKE_RE.search(text) is not None


def _declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """Charsets in order of authority: HTTP header, then ``<meta>`` in the first bytes."""
    found: list[str] = []
    if content_type:
        match = _HTTP_CHARSET_RE.search(content_type)
        if match and (codec := _codec_for(match.group(1))):
            found.append(codec)
    match = _META_CHARSET_RE.search(body[:_SNIFF_BYTES])
    if match and (codec := _codec_for(match.group(1).decode("ascii", "ignore"))):
        # a <meta> readable as ASCII cannot truthfully announce UTF-16/32
        if codec.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):
            codec = "utf-8"
        if codec not in found:
            found.append(codec)
    return found


def _detect(body: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with trafilatura
        return None
    best = from_bytes(body[:200_000]).best()
    if best is None:
        return None
    return _strict(body, best.encoding)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode a page body: BOM, HTTP charset, ``<meta>`` charset, then validated fallbacks.

    A declared charset is trusted only if it decodes the bytes cleanly and does not produce
    mojibake; otherwise UTF-8, charset detection and cp1252 are tried, so the result holds no
    U+FFFD whenever some charset decodes the bytes. NUL characters are removed.
    """
    if not body:
        return ""
    text: str | None = None
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = _strict(body[len(bom) :], codec)
            if text is None:
                text = body[len(bom) :].decode(codec, errors="replace")
            break
    if text is None:
        text = _decode_without_bom(body, content_type)
    return text.replace("\x00", "")


def _decode_without_bom(body: bytes, content_type: str | None) -> str:
    utf8 = _strict(body, "utf-8")
    for codec in _declared_charsets(body, content_type):
        text = utf8 if codec == "utf-8" else _strict(body, codec)
        if text is None:
            continue
        if _is_single_byte(codec) and utf8 is not None and not body.isascii():
            # valid multi-byte UTF-8 is almost never an accident: the declaration is wrong
            return utf8
        if _looks_mojibake(text) and utf8 is not None:
            return utf8
        return text
    if utf8 is not None:
        return utf8
    detected = _detect(body)
    if detected is not None and not _looks_mojibake(detected):
        return detected
    mixed = body.decode("utf-8", errors="_newsflow_mixed")
    if not _looks_mojibake(mixed) and _mostly_utf8(body):
        return mixed
    return detected if detected is not None else _cp1252_or_latin1(body)


def _mostly_utf8(body: bytes) -> bool:
    """True when the invalid bytes are rare compared with valid multi-byte sequences."""
    bad = len(body.decode("utf-8", errors="replace")) - len(body.decode("utf-8", errors="ignore"))
    multibyte = len(body) - len(body.decode("utf-8", errors="ignore"))
    return multibyte > 4 * bad
