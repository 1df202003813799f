"""The report's time series: every period of the span, top names, the rest summed."""

from __future__ import annotations

from datetime import date, timedelta

from warehouse.report_data import top_series

DAY = timedelta(days=1)


def test_quiet_periods_are_zeros_and_the_rest_is_summed_as_other() -> None:
    rows = [(date(2026, 3, 1), "a", 5), (date(2026, 3, 1), "b", 1), (date(2026, 3, 4), "a", 2),
            (date(2026, 3, 4), "c", 3)]
    days, series = top_series(rows, step=DAY, most=30, top=2, other="other outlets")
    assert days == [date(2026, 3, 1) + DAY * i for i in range(4)]
    assert series == {"a": [5, 0, 0, 2], "c": [0, 0, 0, 3], "other outlets": [1, 0, 0, 0]}


def test_only_the_latest_periods_are_kept_and_no_other_when_all_fit() -> None:
    week = timedelta(weeks=1)
    rows = [(date(2026, 1, 5) + week * i, "x", i + 1) for i in range(6)]
    weeks, series = top_series(rows, step=week, most=3, top=5, other="other types")
    assert weeks == [date(2026, 1, 5) + week * i for i in (3, 4, 5)]
    assert series == {"x": [4, 5, 6]}


def test_no_rows_no_periods() -> None:
    assert top_series([], step=DAY, most=10, top=3, other="other") == ([], {})
