"""Text policy: the one place that decides which characters a text keeps.

``strip_controls`` is the single control-character policy for every path (feeds, HTML pages,
text dumps, archives): line breaks become ``\\n``; vertical tab and form feed become a space;
C1 controls, which in real text are almost always cp1252 bytes decoded as latin-1 (``\\x92``),
become the cp1252 character (or go when cp1252 leaves the byte undefined); every other control
character but tab and newline, lone surrogates and non-characters go. They carry no text and
break consumers downstream (terminals, JSON, Parquet).

``plain_text`` turns a value that may hold markup (feed fields, metadata) into one line (or one
line per block) of plain text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from lxml import etree
from lxml import html as lxml_html

__all__ = ["one_line", "plain_text", "strip_controls", "unique_casefold"]

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
