"""Plain-text article dumps → ExtractedDoc.

A scraper's text dump has no markup: title on the first line, then the story mixed with the
site's furniture (captions, buttons, teaser cards, comment forms). The shared line cleaner
(in text mode) removes the furniture; this module adds what only a dump needs: the byline
glued to the title, a standfirst kept apart from the body, bylines and dates stated in the
text (never the file's mtime), and one consistent paragraph layout ("\\n\\n" between
paragraphs).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from datetime import UTC, datetime

from extractors.content.cleaner import (
    LineVerdict,
    caption_stamp_date,
    classify,
    is_headline_like,
    looks_like_sentence,
)
from extractors.content.language import detect_language
from extractors.content.linemodel import refine
from extractors.normalize.dates import normalize_date
from extractors.normalize.text import strip_controls
from schemas.records import ExtractedDoc

__all__ = ["dump_verdicts", "extract_text_dump", "split_title_byline"]

_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*"
_NAMES = rf"{_NAME}(?:\s+{_NAME}){{1,3}}(?:\s*(?:,|&|\band\b)\s*{_NAME}(?:\s+{_NAME}){{1,3}})*"
# "<title> By FIRSTNAME LASTNAME" (the byline a scraper glued onto the headline)
_TITLE_BYLINE_RE = re.compile(rf"^(?P<title>.*?\S)\s+(?:By|BY|by)\s+(?P<names>{_NAMES})\s*$")
# A byline on its own line: "By Jane Doe", "BY JANE DOE and JOHN ROE", "Written by Jane Doe | Reuters"
_BYLINE_RE = re.compile(
    rf"^(?:By|BY|Written by|Words by|Story by|Reporting by|Author:|Autor:|Von|Por|Par)\s+(?P<names>{_NAMES})"
    r"\s*(?:(?:[,|–—-]|\bin\b)\s*[\w .'’&()-]{0,40})?$"
)
# A byline inside a notice ("Disclaimer: <title> By NAME - Views expressed ...")
_INLINE_BYLINE_RE = re.compile(rf"\b(?:By|BY)\s+(?P<names>{_NAMES})\b")
_NAME_SPLIT_RE = re.compile(r"\s*(?:,|&|\band\b)\s*")

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "januar", "janvier", "enero", "gennaio"),
            ("february", "feb", "februar", "février", "febrero", "febbraio"),
            ("march", "mar", "märz", "mars", "marzo"),
            ("april", "apr", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio"),
            ("june", "jun", "juni", "juin", "junio", "giugno"),
            ("july", "jul", "juli", "juillet", "julio", "luglio"),
            ("august", "aug", "août", "agosto"),
            ("september", "sep", "sept", "septembre", "septiembre", "settembre"),
            ("october", "oct", "oktober", "octobre", "octubre", "ottobre"),
            ("november", "nov", "novembre", "noviembre"),
            ("december", "dec", "dezember", "décembre", "diciembre", "dicembre"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
# Dotted dates are day-first (European convention): 07.04.2021 is 7 April 2021.
_DOTTED_RE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.((?:19|20)\d{2})(?![\d.])")
_ISO_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(?!\d)")
_WRITTEN_MDY_RE = re.compile(
    rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})\b", re.I
)
_WRITTEN_DMY_RE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|\.)?\s+({_MONTH_ALT})\.?,?\s+((?:19|20)\d{{2}})\b", re.I
)
# A line that *is* a dateline: "Published: March 3, 2021", "Updated 07.04.2021 10:30", "12 May 2022"
_DATELINE_PREFIX_RE = re.compile(
    r"^(?:(?:published|posted|updated|last updated|date|dated|veröffentlicht|aktualisiert|publicado|publié)"
    r"(?:\s+(?:on|am|le|el))?\s*[:|-]?\s*)?",
    re.I,
)
_BYLINE_REASONS = (None, "menu", "trailing_residue")
_TOP_LINES = 8  # how far below the title a dateline, lead caption or byline may sit
_STANDFIRST_MAX_WORDS = 45


def split_title_byline(line: str) -> tuple[str, list[str]]:
    """Split "Headline By FIRST LAST" into the headline and its author(s)."""
    match = _TITLE_BYLINE_RE.match(line.strip())
    if not match or len(match.group("title").split()) < 3:
        return line.strip(), []
    return match.group("title").strip(" -–—|:"), _names(match.group("names"))


def _names(raw: str) -> list[str]:
    out: list[str] = []
    for part in _NAME_SPLIT_RE.split(raw):
        name = " ".join(part.split()).strip(" .,-")
        if len(name.split()) < 2:
            continue
        if name.isupper():
            name = name.title()  # "SALMAN RAFI SHEIKH" -> "Salman Rafi Sheikh"
        if name not in out:
            out.append(name)
    return out


def _safe_date(
    tolerance_hours: float, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime | None:
    try:
        value = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return normalize_date(value, tolerance_hours=tolerance_hours)


def _date_in(text: str, *, anchored: bool, tolerance_hours: float) -> datetime | None:
    """A date written in ``text`` (at its start when ``anchored``)."""
    for regex, order in (
        (_DOTTED_RE, "dmy"),
        (_ISO_RE, "ymd"),
        (_WRITTEN_MDY_RE, "mdy"),
        (_WRITTEN_DMY_RE, "dmy"),
    ):
        match = regex.match(text) if anchored else regex.search(text)
        if not match:
            continue
        groups: tuple[str, ...] = match.groups()
        if order == "ymd":
            clock = [int(g) for g in groups[3:] if g]
            return _safe_date(tolerance_hours, int(groups[0]), int(groups[1]), int(groups[2]), *clock)
        day_raw, month_raw = (groups[0], groups[1]) if order == "dmy" else (groups[1], groups[0])
        month = int(month_raw) if month_raw.isdigit() else _MONTHS.get(month_raw.lower().rstrip("."), 0)
        if month:
            return _safe_date(tolerance_hours, int(groups[2]), month, int(day_raw))
    return None


def _stated_date(verdicts: list[LineVerdict], body_start: int, tolerance_hours: float) -> datetime | None:
    """The article's date as the text states it, looking only where a date dates the story:
    the lead image's caption stamp, a line that starts with a date, or a dateline, all above
    (or at) the first story paragraph. Dates inside later captions and paragraphs describe
    other events and are ignored."""
    top = verdicts[: min(len(verdicts), max(body_start + 1, 1), _TOP_LINES)]
    for verdict in top:
        stamp = caption_stamp_date(verdict.text)
        if stamp:
            day, month, year = stamp
            found = _safe_date(tolerance_hours, year, month, day)
            if found:
                return found
    for verdict in top:
        line = verdict.text
        words = len(line.split())
        found = _date_in(line, anchored=True, tolerance_hours=tolerance_hours)
        if found:
            return found
        rest = _DATELINE_PREFIX_RE.sub("", line, count=1)
        if rest != line and words <= 12:
            found = _date_in(rest, anchored=True, tolerance_hours=tolerance_hours)
            if found:
                return found
    return None


def _body_start(verdicts: list[LineVerdict]) -> int:
    for pos, verdict in enumerate(verdicts):
        if verdict.reason is None and len(verdict.text.split()) >= 12 and looks_like_sentence(verdict.text):
            return pos
    return len(verdicts)


def _is_standfirst(line: str, following: int) -> bool:
    """A short deck under the title: 5–45 words, one sentence at most, more body below."""
    words = len(line.split())
    if following < 2 or not 5 <= words <= _STANDFIRST_MAX_WORDS:
        return False
    if _BYLINE_RE.match(line):
        return False
    return is_headline_like(line) or (looks_like_sentence(line) and line.count(". ") == 0)


def _prepare(text: str) -> str:
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", strip_controls(text))


def _byline_candidate(reason: str | None) -> bool:
    return reason in _BYLINE_REASONS or (reason or "").startswith("model:")


def _split_dump(text: str) -> tuple[str | None, list[str], str] | None:
    """``(title, authors glued to it, the rest)`` of a prepared dump; None when it is empty."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    title_line = lines[first].strip()
    if len(title_line.split()) > 60 and looks_like_sentence(title_line):
        # no headline at all: the first line is already story text
        return None, [], "\n".join(lines[first:])
    title, authors = split_title_byline(title_line)
    return title, authors, "\n".join(lines[first + 1 :])


def dump_verdicts(text: str) -> tuple[str | None, list[LineVerdict]]:
    """The dump's title and the rule cleaner's verdicts on the lines below it (before the line
    model): what the model is trained on and applied to."""
    split = _split_dump(_prepare(text))
    if split is None:
        return None, []
    title, _, rest = split
    return title, classify(rest, title=title, text_mode=True)


def extract_text_dump(
    text: str, *, tolerance_hours: float, recurring: Collection[str] | None = None
) -> ExtractedDoc:
    """Title, byline, standfirst, date, language and clean body of one plain-text dump.

    ``tolerance_hours``: how far in the future a stated date may lie (``Settings.future_tolerance_hours``).
    ``recurring``: lines this dump's source prints in many of its documents (learnt by a
    backfill over the source's other documents); a single dump does without.
    """
    split = _split_dump(_prepare(text))
    if split is None:
        return ExtractedDoc()
    title, authors, rest = split

    rule_verdicts = classify(rest, title=title, text_mode=True)
    # dates and bylines are read where the rules put the story's start; the model only
    # decides which of the remaining lines are furniture
    body_start = _body_start(rule_verdicts)
    published = _stated_date(rule_verdicts, body_start, tolerance_hours)
    verdicts = refine(rule_verdicts, title=title, recurring=recurring)

    kept: list[str] = []
    for pos, verdict in enumerate(verdicts):
        near_top = pos < _TOP_LINES or pos <= body_start
        # a byline may sit in a bar of short widgets the cleaner dropped ("Share", "5 min read")
        byline = _BYLINE_RE.match(verdict.text) if near_top and _byline_candidate(verdict.reason) else None
        if byline:
            authors.extend(n for n in _names(byline.group("names")) if n not in authors)
            continue
        if not verdict.reason:
            kept.append(verdict.kept_text)

    if not authors:
        for verdict in verdicts:
            if verdict.reason in ("prompt", "notice", "disclaimer") and (
                m := _INLINE_BYLINE_RE.search(verdict.text)
            ):
                authors.extend(_names(m.group("names")))
                break

    summary: str | None = None
    if kept and _is_standfirst(kept[0], len(kept) - 1):
        summary = kept[0]
        if not looks_like_sentence(summary):
            # a headline-style deck is not story text; a sentence-style one may be the lede
            kept = kept[1:]

    body = "\n\n".join(kept)
    language = detect_language(body) or (detect_language(title) if title else None)
    return ExtractedDoc(
        title=title,
        authors=authors,
        published_at=published,
        published_at_source="text" if published is not None else None,
        language=language,
        text=body,
        summary=summary,
    )
