"""Naive plain-text dumps of HTML pages, as a simple scraper saves them.

The text path must clean archives it did not write: a page saved as its title on the first
line, then every visible block of the page on its own line — menus, teasers, captions, share
bars and footers among the story — with no markup and no link information. This module makes
such dumps from real HTML pages (trafilatura's evaluation corpus, the benchmark's generated
pages) so the text cleaner can be scored on text it has never seen.

Rules of the dump, deliberately simple: scripts, styles, forms' hidden parts and elements
marked hidden are invisible; every block-level element (paragraph, heading, list item, table
cell, div, ...) starts a new line; inline elements (links, emphasis, spans) stay in their line;
whitespace inside a line collapses to one space; empty lines are dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree, html

__all__ = ["DumpPage", "eval_pages", "html_to_dump", "site_of", "split_of"]



def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


_INVISIBLE = _tags(
    "script style noscript template svg math head iframe object embed canvas select textarea input "
    "button audio video map datalist"
)
_BLOCK = _tags(
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p pre "
    "section summary table tbody td tfoot th thead tr ul br option legend label"
)
_WS_RE = re.compile(r"\s+")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _hidden(element: etree._Element) -> bool:
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE_RE.search(style))


def html_to_dump(markup: str) -> str:
    """Title on the first line, then every visible block of the page on its own line."""
    try:
        root = html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return ""
    title_el = root.find(".//title")
    title = _WS_RE.sub(" ", title_el.text_content()).strip() if title_el is not None else ""
    body = root.find("body")
    if body is None:
        body = root
    lines: list[str] = [title] if title else []
    current: list[str] = []

    def flush() -> None:
        text = _WS_RE.sub(" ", "".join(current)).strip()
        if text:
            lines.append(text)
        current.clear()

    walker = etree.iterwalk(body, events=("start", "end"))
    # skipped elements are held, not only their id(): a freed lxml proxy's id can be reused by the
    # next element, which would then lose its line break (dumps varied from run to run)
    skipped: dict[int, etree._Element] = {}
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if not tag or tag.lower() in _INVISIBLE or _hidden(element):
                skipped[id(element)] = element
                walker.skip_subtree()
                continue
            if tag.lower() in _BLOCK:
                flush()
            if element.text:
                current.append(element.text)
        else:
            if id(element) not in skipped and tag.lower() in _BLOCK:
                flush()
            if element.tail and element is not body:
                current.append(element.tail)
    flush()
    return "\n".join(lines) + "\n"


def site_of(url: str) -> str:
    """The site a page belongs to: its host without "www." (the split unit)."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def split_of(url: str) -> str:
    """"tuning" or "heldout", decided by a hash of the page's site: every page of a site
    lands on the same side, and the split never changes."""
    digest = hashlib.sha1(site_of(url).encode("utf-8")).digest()
    return "tuning" if digest[0] % 2 == 0 else "heldout"


@dataclass(frozen=True)
class DumpPage:
    url: str
    split: str
    html_path: str
    with_: tuple[str, ...]
    without: tuple[str, ...]


def eval_pages(corpus: Path) -> Iterator[DumpPage]:
    """The pages of trafilatura's evaluation corpus with their split and snippets."""
    data = json.loads((corpus / "evaldata.json").read_text(encoding="utf-8"))
    for url, entry in data.items():
        yield DumpPage(url, split_of(url), str(corpus / entry["file"]), tuple(entry["with"]), tuple(entry["without"]))


def read_page_html(path: str) -> str:
    import gzip

    from extractors.normalize.text import decode_bytes

    with gzip.open(path, "rb") as handle:
        return decode_bytes(handle.read(), None)
