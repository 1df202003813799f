"""Relative and absolute date expressions in a sentence, resolved against the publication date.

News usage, not calendar arithmetic: "on Wednesday" in an article dated Wednesday is that same
day, otherwise the latest past Wednesday (the next one when the event is in the future);
"last week" is the week (Monday) before the publication week; "last month" the calendar month
before. Each resolution carries a precision: ``day``, ``week``, ``month``, ``year``; an event with no
expression gets the publication date with precision ``pubdate``; with no publication date, None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
_MON = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_MONTH_RE = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_WD_RE = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("dmy", re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\s*,?\s+(\d{{4}})\b")),
    ("mdy", re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(\d{{4}})\b")),
    ("md", re.compile(rf"\b(?:on\s+)?({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*,?\s*\d)")),
    ("dm", re.compile(rf"\b(?:on\s+)?(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b(?!\s*,?\s*\d{{4}})")),
    ("rel_day", re.compile(r"\b(yesterday|today|tomorrow|tonight|this (?:morning|afternoon|evening))\b", re.I)),
    ("ago", re.compile(r"\b(\d+|a|one|two|three|four|five|six|seven|ten)\s+(day|week|month|year)s?\s+ago\b", re.I)),
    ("rel_period", re.compile(r"\b(last|this|next|earlier this|later this|past)\s+(week|month|year|weekend)\b", re.I)),
    ("weekday", re.compile(rf"\b(?:(last|next|this|on|late on|early on|late|early)\s+)?({_WD_RE})(?:['’]s)?\b(?:\s+(morning|afternoon|evening|night))?")),
    ("in_month", re.compile(rf"\b(?i:in|during|early|late|mid-?)\s+({_MONTH_RE})(?:\s+(?:of\s+)?(\d{{4}}))?\b(?!\s+\d)")),
    ("in_year", re.compile(r"\b(?:in|during)\s+(?:the\s+year\s+)?((?:19|20)\d{2})\b")),
]
_NUM = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}


@dataclass(frozen=True, slots=True)
class DateExpr:
    start: int
    end: int
    text: str
    kind: str
    groups: tuple[str | None, ...]


def pub_day(published_at: datetime | date | None) -> date | None:
    if published_at is None:
        return None
    if isinstance(published_at, datetime):
        if published_at.tzinfo is None:
            raise ValueError("published_at must be timezone-aware")
        return published_at.astimezone(UTC).date()
    return published_at


def find_dates(sentence: str) -> list[DateExpr]:
    """Date expressions in a sentence, earliest first, without overlaps (first pattern wins)."""
    found: list[DateExpr] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            if kind in ("in_month", "md", "dm"):
                month_word = m.group(1) if kind != "dm" else m.group(2)
                if month_word.lower() == "may" and not month_word[0].isupper():
                    continue  # "may" the modal verb
            if kind == "weekday" and re.match(rf"\s*,?\s*(?:{_MONTH_RE}\s+\d|\d{{1,2}}\s+{_MONTH_RE})",
                                              sentence[m.end():]):
                continue  # "Tuesday, March 6, 2018": the full date says it
            found.append(DateExpr(m.start(), m.end(), m.group(0), kind, m.groups()))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def _month(name: str) -> int:
    return _MON[name.lower().rstrip(".")[:4] if name.lower().startswith("sept") else name.lower()[:3]]


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _shift_month(d: date, months: int) -> date:
    idx = d.year * 12 + (d.month - 1) + months
    return date(idx // 12, idx % 12 + 1, 1)


def resolve(expr: DateExpr, pub: date, *, future: bool = False) -> tuple[date, str] | None:
    """Resolve one expression against the publication day: (start date, precision) or None."""
    g = tuple(x or "" for x in expr.groups)
    try:
        if expr.kind == "dmy":
            return date(int(g[2]), _month(g[1]), int(g[0])), "day"
        if expr.kind == "mdy":
            return date(int(g[2]), _month(g[0]), int(g[1])), "day"
        if expr.kind in ("md", "dm"):
            month, day = (_month(g[0]), int(g[1])) if expr.kind == "md" else (_month(g[1]), int(g[0]))
            d = date(pub.year, month, day)
            if not future and d > pub + timedelta(days=1):
                d = date(pub.year - 1, month, day)
            if future and d < pub:
                d = date(pub.year + 1, month, day)
            return d, "day"
    except ValueError:
        return None
    if expr.kind == "rel_day":
        word = g[0].lower()
        delta = {"yesterday": -1, "tomorrow": 1}.get(word, 0)
        return pub + timedelta(days=delta), "day"
    if expr.kind == "ago":
        n = int(g[0]) if g[0].isdigit() else _NUM[g[0].lower()]
        unit = g[1].lower()
        if unit == "day":
            return pub - timedelta(days=n), "day"
        if unit == "week":
            return _monday(pub - timedelta(weeks=n)), "week"
        if unit == "month":
            return _shift_month(pub, -n), "month"
        return date(pub.year - n, 1, 1), "year"
    if expr.kind == "rel_period":
        which, unit = g[0].lower(), g[1].lower()
        step = {"last": -1, "past": -1, "next": 1}.get(which, 0)
        if unit in ("week", "weekend"):
            if unit == "weekend":
                return _monday(pub) + timedelta(weeks=step), "week"
            return _monday(pub) + timedelta(weeks=step), "week"
        if unit == "month":
            return _shift_month(pub, step), "month"
        return date(pub.year + step, 1, 1), "year"
    if expr.kind == "weekday":
        mod = (g[0] or "").lower()
        wd = WEEKDAYS.index(g[1].lower())
        if mod == "next" or (future and mod != "last"):
            ahead = (wd - pub.weekday()) % 7
            if mod == "next" and ahead == 0:
                ahead = 7
            return pub + timedelta(days=ahead), "day"
        back = (pub.weekday() - wd) % 7
        if mod == "last" and back == 0:
            back = 7
        return pub - timedelta(days=back), "day"
    if expr.kind == "in_month":
        month = _month(g[0])
        if g[1]:
            return date(int(g[1]), month, 1), "month"
        year = pub.year
        if future:
            if month < pub.month:
                year += 1
        elif month > pub.month:
            year -= 1
        return date(year, month, 1), "month"
    if expr.kind == "in_year":
        return date(int(g[0]), 1, 1), "year"
    return None


_CLAUSE_BREAK = re.compile(r"\b(?:where|which|who|when|after|before|since|following|until)\b|;", re.I)


def _other_clause(sentence: str, expr: DateExpr, trigger_start: int) -> bool:
    """A date in another clause dates something else: "promised …, where bin Laden plotted the
    Sept. 11, 2001, attacks"; "withdrew … after the collapse on Sunday"."""
    lo, hi = (expr.end, trigger_start) if expr.end <= trigger_start else (trigger_start, expr.start)
    between = sentence[lo:hi]
    if expr.start > trigger_start:
        return _CLAUSE_BREAK.search(between) is not None
    return False


def event_date(sentence: str, trigger_start: int, published_at: datetime | date | None, *,
               future: bool = False) -> tuple[date | None, str | None, str | None]:
    """Date of an event whose trigger starts at ``trigger_start`` in ``sentence``.

    The nearest expression to the trigger wins. Returns (date, precision, expression text).
    """
    pub = pub_day(published_at)
    if pub is None:
        return None, None, None
    exprs = [e for e in find_dates(sentence) if not _other_clause(sentence, e, trigger_start)]
    if exprs:
        best = min(exprs, key=lambda e: min(abs(e.start - trigger_start), abs(e.end - trigger_start)))
        resolved = resolve(best, pub, future=future)
        if resolved is not None:
            return resolved[0], resolved[1], best.text
    return pub, "pubdate", None
