"""Text policy: the one place that decides which characters a text keeps.

``strip_controls`` is the single control-character policy for every path (feeds, HTML pages,
text dumps, archives): line breaks become ``\\n``; vertical tab and form feed become a space;
C1 controls, which in real text are almost always cp1252 bytes decoded as latin-1 (``\\x92``),
become the cp1252 character (or go when cp1252 leaves the byte undefined); every other control
character but tab and newline, lone surrogates and non-characters go. They carry no text and
break consumers downstream (terminals, JSON, Parquet).

``decode_bytes`` is the single charset decoder (HTML pages, text dumps; feeds use its UTF-8 repair
before feedparser): BOM, declared charsets checked against the bytes, then UTF-8, mostly-UTF-8
with stray cp1252 bytes, a plausible cp1252 reading, detection, and cp1252/latin-1 as last resort.

``plain_text`` turns a value that may hold markup (feed fields, metadata) into one line (or one
line per block) of plain text.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterable

from lxml import etree
from lxml import html as lxml_html

__all__ = [
    "decode_bytes",
    "decode_mixed_utf8",
    "mostly_utf8",
    "one_line",
    "plain_text",
    "strip_controls",
    "unique_casefold",
]

_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_C1 = re.compile("[\x80-\x9f]")
_ANY = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def _c1_to_cp1252(match: re.Match[str]) -> str:
    try:
        return bytes([ord(match.group())]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


def strip_controls(text: str) -> str:
    """The control-character policy (see the module docstring)."""
    if not _ANY.search(text):
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", " ").replace("\x0c", " ")
    text = _C1.sub(_c1_to_cp1252, text)
    return _CONTROL.sub("", text)


_MARKUP_HINT = re.compile(r"<[A-Za-z/!?]|&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]{1,31});")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "head")
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "tr", "table", "section", "article", "header", "footer", "figure", "figcaption", "dd", "dt", "hr",
)  # fmt: skip


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
    text = strip_controls(str(value))
    for _ in range(3):
        if not _MARKUP_HINT.search(text):
            break
        if "<" in text:
            text = _strip_markup(text, multiline)
        text = strip_controls(_ENTITY.sub(lambda m: html.unescape(m.group()), text))
    return _collapse(text, multiline)


def unique_casefold(values: Iterable[str]) -> list[str]:
    """Non-empty values in order, dropping later ones equal to an earlier one ignoring case."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def one_line(text: object, limit: int = 200) -> str:
    """``text`` on one line (whitespace collapsed), cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


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
# Sequences that appear when UTF-8 was decoded with a single-byte charset ("Ã©", "â€™").
_MOJIBAKE_RE = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf]|\u00e2\u20ac[\u0080-\u00bf\u2018-\u201e\u2122\u0153\u0161\u017e\u00a6]"
)


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


def decode_mixed_utf8(body: bytes) -> str:
    """UTF-8 whose stray invalid bytes are read as cp1252 (a typical mixed-encoding CMS)."""
    return body.decode("utf-8", errors="_newsflow_mixed")


def _looks_mojibake(text: str) -> bool:
    return _MOJIBAKE_RE.search(text) is not None


def _declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """Charsets in order of authority: HTTP header, then ``<meta>`` in the first bytes."""
    found: list[str] = []
    if content_type:
        match = _HTTP_CHARSET_RE.search(content_type)
        if match and (codec := _codec_for(match.group(1))):
            found.append(codec)
    meta = _META_CHARSET_RE.search(body[:_SNIFF_BYTES])
    if meta and (codec := _codec_for(meta.group(1).decode("ascii", "ignore"))):
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


def decode_bytes(body: bytes, content_type: str | None = None) -> str:
    """The one charset decoder (pages, text dumps): BOM, HTTP charset, ``<meta>`` charset, then
    validated fallbacks.

    A declared charset is trusted only if it decodes the bytes cleanly and does not produce
    mojibake; otherwise UTF-8, charset detection and cp1252 are tried, so the result holds no
    U+FFFD whenever some charset decodes the bytes. NUL characters are removed.
    """
    if not body:
        return ""
    text: str | None = None
    for bom, codec in _BOMS:
        if body.startswith(bom):
            rest = body[len(bom) :]
            text = _strict(rest, codec)
            if text is None:
                # a UTF-8 BOM on a page with stray legacy bytes: the usual fallbacks apply
                text = (
                    _decode_without_bom(rest, None)
                    if codec == "utf-8"
                    else rest.decode(codec, errors="replace")
                )
            break
    if text is None:
        text = _decode_without_bom(body, content_type)
    return text.replace("\x00", "")


def _decode_without_bom(body: bytes, content_type: str | None) -> str:
    utf8 = _strict(body, "utf-8")
    for codec in _declared_charsets(body, content_type):
        text = utf8 if codec == "utf-8" else _strict(body, codec)
        if text is None:
            continue  # the declaration is wrong: it cannot decode these bytes
        if utf8 is not None and not codec.startswith("utf") and not body.isascii():
            # non-ASCII bytes that form valid UTF-8 are almost never an accident in a legacy
            # charset: the declaration is a template default left unchanged
            return utf8
        return text
    if utf8 is not None:
        return utf8
    if mostly_utf8(body):
        # a UTF-8 page with a few stray legacy bytes (copy-pasted snippets, old templates)
        return decode_mixed_utf8(body)
    western = _strict(body, "cp1252")
    if western is not None and _plausible_western(western):
        return western
    detected = _detect(body)
    if detected is not None and not _looks_mojibake(detected):
        return detected
    return _cp1252_or_latin1(body)


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")
_ACCENTED_RE = re.compile(r"[\u00c0-\u00ff\u0152\u0153\u0160\u0161\u017d\u017e\u0178]")
_CASE_ANOMALY_RE = re.compile(r"[a-z\u00df-\u00ff][\u00c0-\u00de]")


def mostly_utf8(body: bytes) -> bool:
    """True when valid multi-byte UTF-8 sequences clearly outnumber the invalid bytes."""
    lenient = body.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    good = len(_NON_ASCII_RE.findall(lenient)) - bad
    return good > 0 and good >= 3 * bad


def _plausible_western(text: str) -> bool:
    """Does a cp1252 reading look like a Western European language? Accented letters are a
    minority of letters there and do not appear as capitals inside lower-case words; other
    scripts read as cp1252 turn into runs of accented capitals and symbols."""
    letters = sum(map(len, _LETTER_RUN_RE.findall(text)))
    accented = len(_ACCENTED_RE.findall(text))
    if not accented:
        return True
    anomalies = len(_CASE_ANOMALY_RE.findall(text))
    return accented <= 0.25 * letters and anomalies <= 0.05 * accented
