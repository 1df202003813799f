from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from extractors.events.dates import event_date, find_dates

WED = datetime(2021, 9, 22, 10, 0, tzinfo=UTC)  # a Wednesday


def when(sentence: str, pub=WED, future: bool = False):
    got = event_date(sentence, 0, pub, future=future)
    return got[0], got[1]


@pytest.mark.parametrize(("sentence", "expected"), [
    ("on Wednesday", (date(2021, 9, 22), "day")),  # same day in an article dated Wednesday
    ("late on Wednesday", (date(2021, 9, 22), "day")),
    ("on Tuesday", (date(2021, 9, 21), "day")),
    ("on Thursday", (date(2021, 9, 16), "day")),  # the latest past Thursday
    ("last Wednesday", (date(2021, 9, 15), "day")),
    ("yesterday", (date(2021, 9, 21), "day")),
    ("last week", (date(2021, 9, 13), "week")),
    ("this week", (date(2021, 9, 20), "week")),
    ("last month", (date(2021, 8, 1), "month")),
    ("earlier this month", (date(2021, 9, 1), "month")),
    ("In April, he said", (date(2021, 4, 1), "month")),
    ("in December", (date(2020, 12, 1), "month")),  # a later month name is last year's
    ("in 2019", (date(2019, 1, 1), "year")),
    ("on August 27, 2021", (date(2021, 8, 27), "day")),
    ("on 5 May", (date(2021, 5, 5), "day")),
    ("three days ago", (date(2021, 9, 19), "day")),
    ("on Tuesday, March 6, 2018", (date(2018, 3, 6), "day")),  # the full date wins
    ("with no date at all", (date(2021, 9, 22), "pubdate")),
])
def test_relative_dates_resolve_against_the_publication_day(sentence, expected) -> None:
    assert when(sentence) == expected


def test_future_events_look_forward() -> None:
    assert when("will meet on Friday", future=True) == (date(2021, 9, 24), "day")
    assert when("next week", future=True) == (date(2021, 9, 27), "week")
    assert when("in March", future=True) == (date(2022, 3, 1), "month")


def test_publication_day_is_the_utc_day() -> None:
    late = datetime(2021, 9, 22, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 04:30 UTC on the 23rd
    assert when("today", pub=late) == (date(2021, 9, 23), "day")


def test_no_publication_date_means_no_event_date() -> None:
    assert event_date("last week", 0, None) == (None, None, None)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        event_date("today", 0, datetime(2021, 9, 22))


def test_modal_may_is_not_a_month_and_other_clauses_are_skipped() -> None:
    assert [d.text for d in find_dates("Russia may act in May 2022")] == ["in May 2022"]
    # the date belongs to the relative clause, not to the promise
    assert when("The Taliban promised it, where bin Laden plotted the Sept. 11, 2001, attacks") == \
        (date(2021, 9, 22), "pubdate")
