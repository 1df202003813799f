"""The one date policy: every timestamp anywhere in newsflow goes through ``normalize_date``.

Date policy
-----------
* **Result**: a timezone-aware ``datetime`` in UTC, or ``None`` meaning *unknown*. ``None`` is never
  replaced by a sentinel such as the ingest time or 1970-01-01.
* **Aware input** (a zone or offset is stated) is converted to UTC.
* **Naive input** (no zone stated) is interpreted as UTC. Why: any guess is wrong for some
  publisher, but UTC is deterministic (the same input gives the same value on every machine,
  unlike the ingest host's local time), the error is bounded (at most ±14 h) and feedparser
  already hands us UTC for everything it parses, so the two paths agree.
* **Future**: more than ``tolerance_hours`` (default 24, ``NEWSFLOW_FUTURE_TOLERANCE_HOURS``) after
  ``now`` → ``None``. Small skews (clock drift, a zone mistaken for UTC) pass; embargo placeholders,
  typos like 2204 and "year 9999" sentinels do not.
* **Too old**: before 1990-01-01T00:00Z → ``None`` (no web news predates it; such values are
  epoch-zero defaults or parse accidents).
* **Garbage**: unparsable strings, strings that lack a year, month or day, out-of-range fields,
  years ≥ 10000, empty strings and unsupported types → ``None``. The function never raises.
* **Accepted inputs**: ``datetime`` (``date`` means midnight UTC), ``time.struct_time``
  (feedparser's ``*_parsed`` values, which are UTC; a leap second 60/61 is clamped to 59), and
  strings in RFC 822/1123 (``Tue, 02 Jan 2024 10:00:00 +0100``), ISO 8601 / RFC 3339
  (``2024-01-02T10:00:00Z``) or other common forms understood by ``dateutil`` (``January 2, 2024
  10:00 EST``); an ambiguous numeric day/month such as ``02/03/2024`` is read month-first
  (dateutil's default). Common US/European zone abbreviations are understood; an unknown abbreviation is
  treated like a missing zone (UTC).
"""

from __future__ import annotations

import email.utils
import time
import warnings
from datetime import UTC, date, datetime, timedelta, timezone

from dateutil import parser as _dateutil_parser

__all__ = ["EARLIEST", "normalize_date", "parse_date"]

#: Anything before this is rejected as a default/epoch accident.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_MAX_STRING = 200  # a date is short; longer strings are prose, and dateutil gets slow on them


def _tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


_TZINFOS: dict[str, timezone] = {
    "UTC": UTC,
    "UT": UTC,
    "GMT": UTC,
    "Z": UTC,
    "EST": _tz(-5),
    "EDT": _tz(-4),
    "CST": _tz(-6),
    "CDT": _tz(-5),
    "MST": _tz(-7),
    "MDT": _tz(-6),
    "PST": _tz(-8),
    "PDT": _tz(-7),
    "AKST": _tz(-9),
    "AKDT": _tz(-8),
    "HST": _tz(-10),
    "WET": UTC,
    "WEST": _tz(1),
    "BST": _tz(1),
    "CET": _tz(1),
    "CEST": _tz(2),
    "MET": _tz(1),
    "MEST": _tz(2),
    "EET": _tz(2),
    "EEST": _tz(3),
    "MSK": _tz(3),
    "JST": _tz(9),
    "KST": _tz(9),
    "AEST": _tz(10),
    "AEDT": _tz(11),
    "NZST": _tz(12),
    "NZDT": _tz(13),
}
# Two different defaults: a field dateutil filled in from the default differs between the two runs.
_DEFAULT_A = datetime(2001, 1, 1)
_DEFAULT_B = datetime(2002, 2, 2)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _from_struct_time(value: time.struct_time) -> datetime:
    year, month, day, hour, minute, second = tuple(value)[:6]
    return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)


def _parse_string(text: str) -> datetime | None:
    text = text.strip()
    if not text or len(text) > _MAX_STRING:
        return None
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    return _parse_dateutil(text)


def _parse_dateutil(text: str) -> datetime | None:
    """Free-form parse that refuses strings lacking a year, month or day."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a = _dateutil_parser.parse(text, default=_DEFAULT_A, tzinfos=_TZINFOS)
            b = _dateutil_parser.parse(text, default=_DEFAULT_B, tzinfos=_TZINFOS)
        except (ValueError, OverflowError, TypeError, ArithmeticError, LookupError):
            return None
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return None
    return a


def parse_date(value: object, *, epoch: bool = False) -> datetime | None:
    """Parse ``value`` into an aware UTC datetime without the window checks; never raises.

    With ``epoch=True`` (archive exports) a number is also accepted: a Unix epoch in seconds, or in
    milliseconds when its magnitude is above 1e11 (exports write both).
    """
    try:
        if isinstance(value, bool):
            return None
        if epoch and isinstance(value, int | float):
            return datetime.fromtimestamp(float(value) / (1000.0 if abs(value) > 1e11 else 1.0), UTC)
        if isinstance(value, datetime):
            parsed: datetime | None = value
        elif isinstance(value, date):
            parsed = datetime(value.year, value.month, value.day, tzinfo=UTC)
        elif isinstance(value, time.struct_time):
            parsed = _from_struct_time(value)
        elif isinstance(value, str):
            parsed = _parse_string(value)
        else:
            return None
        return _to_utc(parsed) if parsed is not None else None
    except (ValueError, OverflowError, TypeError, ArithmeticError, LookupError, OSError):
        return None


def normalize_date(value: object, *, tolerance_hours: float, now: datetime | None = None) -> datetime | None:
    """Apply the date policy (module docstring) to ``value``; ``None`` means unknown.

    ``tolerance_hours`` is always passed by the caller (``Settings.future_tolerance_hours``), so no
    path can silently fall back to another window.
    """
    result = parse_date(value)
    if result is None:
        return None
    try:
        reference = _to_utc(now) if isinstance(now, datetime) else datetime.now(UTC)
        if result < EARLIEST:
            return None
        if result > reference + timedelta(hours=max(0.0, float(tolerance_hours))):
            return None
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        return None
    return result
