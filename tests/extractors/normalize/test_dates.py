"""The one date policy, as a table: what goes in, what comes out (UTC or None)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.normalize.dates import EARLIEST, normalize_date, parse_date

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
TOL = 24.0  # the default NEWSFLOW_FUTURE_TOLERANCE_HOURS


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 822 / 1123 with offsets and zone names
        ("Tue, 02 Jan 2024 10:00:00 +0100", utc(2024, 1, 2, 9, 0)),
        ("Tue, 02 Jan 2024 10:00:00 GMT", utc(2024, 1, 2, 10, 0)),
        ("Tue, 02 Jan 2024 10:00:00 EST", utc(2024, 1, 2, 15, 0)),
        ("Tue, 02 Jan 2024 10:00:00 -0000", utc(2024, 1, 2, 10, 0)),
        ("02 Jan 2024 10:00 +0530", utc(2024, 1, 2, 4, 30)),
        # ISO 8601 / RFC 3339
        ("2024-01-02T10:00:00Z", utc(2024, 1, 2, 10, 0)),
        ("2024-01-02T10:00:00.123456+02:00", datetime(2024, 1, 2, 8, 0, 0, 123456, tzinfo=UTC)),
        ("2024-01-02", utc(2024, 1, 2)),
        ("20240102T100000Z", utc(2024, 1, 2, 10, 0)),
        # naive → interpreted as UTC
        ("2024-01-02T10:00:00", utc(2024, 1, 2, 10, 0)),
        ("2024-01-02 10:00", utc(2024, 1, 2, 10, 0)),
        # common free-form spellings
        ("January 2, 2024 10:00 PST", utc(2024, 1, 2, 18, 0)),
        ("2 January 2024", utc(2024, 1, 2)),
        ("  Tue, 02 Jan 2024 10:00:00 GMT  ", utc(2024, 1, 2, 10, 0)),
        # future: within tolerance passes, beyond is None
        ("2024-06-02T11:00:00Z", utc(2024, 6, 2, 11, 0)),
        ("2024-06-02T13:00:00Z", None),
        ("Sat, 01 Jan 2999 00:00:00 GMT", None),
        # too old
        ("1989-12-31T23:59:59Z", None),
        ("1990-01-01T00:00:00Z", utc(1990, 1, 1)),
        ("Thu, 01 Jan 1970 00:00:00 GMT", None),
        # garbage, incomplete, out of range
        ("", None),
        ("   ", None),
        ("garbage", None),
        ("sometime last week", None),
        ("yesterday", None),
        ("10", None),
        ("2024", None),
        ("March 2024", None),
        ("2024-02-30", None),
        ("Mon, 32 Jan 2024 10:00:00 GMT", None),
        ("2024-01-02T25:00:00Z", None),
        ("2024-01-02T10:00:00+25:00", None),
        ("10000-01-01T00:00:00Z", None),
        ("+10000-01-01", None),
        ("Fri, 31 Dec 9999 23:59:59 GMT", None),
        ("2024-01-02T10:00:00Z" + "x" * 300, None),
        ("\x00\x01\x02", None),
    ],
)
def test_policy_table(value: str, expected: datetime | None) -> None:
    assert normalize_date(value, now=NOW, tolerance_hours=TOL) == expected


def test_results_are_aware_utc() -> None:
    for value in ("2024-01-02T10:00:00+05:00", "2024-01-02T10:00:00", "Tue, 02 Jan 2024 10:00:00 EST"):
        result = normalize_date(value, now=NOW, tolerance_hours=TOL)
        assert result is not None
        assert result.tzinfo is UTC


def test_datetime_inputs() -> None:
    berlin = timezone(timedelta(hours=2))
    assert normalize_date(datetime(2024, 5, 1, 12, 0, tzinfo=berlin), now=NOW, tolerance_hours=TOL) == utc(2024, 5, 1, 10, 0)
    assert normalize_date(datetime(2024, 5, 1, 12, 0), now=NOW, tolerance_hours=TOL) == utc(2024, 5, 1, 12, 0)  # naive = UTC
    assert normalize_date(date(2024, 5, 1), now=NOW, tolerance_hours=TOL) == utc(2024, 5, 1)
    assert normalize_date(datetime(1900, 1, 1, tzinfo=UTC), now=NOW, tolerance_hours=TOL) is None
    assert normalize_date(datetime.max, now=NOW, tolerance_hours=TOL) is None
    assert normalize_date(datetime.min.replace(tzinfo=timezone(timedelta(hours=5))), now=NOW, tolerance_hours=TOL) is None


def test_struct_time_is_utc() -> None:
    st_value = time.gmtime(1_700_000_000)  # what feedparser's *_parsed look like
    assert normalize_date(st_value, now=NOW, tolerance_hours=TOL) == datetime.fromtimestamp(1_700_000_000, UTC)
    leap = time.struct_time((2016, 12, 31, 23, 59, 60, 5, 366, 0))
    assert normalize_date(leap, now=NOW, tolerance_hours=TOL) == utc(2016, 12, 31, 23, 59, 59)
    bogus = time.struct_time((2024, 13, 40, 0, 0, 0, 0, 0, 0))
    assert normalize_date(bogus, now=NOW, tolerance_hours=TOL) is None


def test_tolerance_and_now_are_parameters() -> None:
    value = NOW + timedelta(hours=30)
    assert normalize_date(value, now=NOW, tolerance_hours=TOL) is None
    assert normalize_date(value, now=NOW, tolerance_hours=48) == value
    assert normalize_date(NOW + timedelta(minutes=1), now=NOW, tolerance_hours=0) is None
    assert normalize_date(NOW, now=NOW, tolerance_hours=0) == NOW
    # a naive `now` is UTC too
    assert normalize_date(value, now=NOW.replace(tzinfo=None), tolerance_hours=48) == value


def test_default_now_is_the_real_clock() -> None:
    assert normalize_date(datetime.now(UTC) - timedelta(days=1), tolerance_hours=TOL) is not None
    assert normalize_date(datetime.now(UTC) + timedelta(days=3), tolerance_hours=TOL) is None


@pytest.mark.parametrize("value", [None, 1_700_000_000, 3.5, b"2024-01-02", ["2024-01-02"], object()])
def test_unsupported_types_give_none(value: object) -> None:
    assert normalize_date(value, now=NOW, tolerance_hours=TOL) is None


def test_parse_date_has_no_window() -> None:
    assert parse_date("1970-01-01T00:00:00Z") == utc(1970, 1, 1)
    assert parse_date("2999-01-01") == utc(2999, 1, 1)
    assert parse_date("nope") is None


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
        st.builds(time.struct_time, st.tuples(*[st.integers(-5, 100_000)] * 9)),
        st.integers(),
        st.none(),
    )
)
def test_never_raises_and_respects_window(value: object) -> None:
    result = normalize_date(value, now=NOW, tolerance_hours=TOL)
    if result is not None:
        assert result.tzinfo is UTC
        assert EARLIEST <= result <= NOW + timedelta(hours=24)


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2024, 5, 30)))
def test_round_trip_through_common_spellings(value: datetime) -> None:
    value = value.replace(microsecond=0, tzinfo=UTC)
    for text in (
        value.isoformat(),
        value.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        value.strftime("%Y-%m-%d %H:%M:%S"),
    ):
        assert normalize_date(text, now=NOW, tolerance_hours=TOL) == value, text


def test_parse_date_forms_archives_write() -> None:
    expected = datetime(2021, 4, 7, 8, 30, tzinfo=UTC)
    assert parse_date("2021-04-07T08:30:00Z") == expected
    assert parse_date("2021-04-07 08:30:00") == expected  # naive means UTC
    assert parse_date("Wed, 07 Apr 2021 10:30:00 +0200") == expected
    assert parse_date(1617784200000, epoch=True) == expected  # milliseconds
    assert parse_date(1617784200, epoch=True) == expected  # seconds
    assert parse_date("") is None and parse_date("soon") is None and parse_date(True, epoch=True) is None
    assert parse_date(1617784200) is None  # numbers only where epoch values are expected
