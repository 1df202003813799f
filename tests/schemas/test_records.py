"""schemas/records.py: strict records with UTC-aware datetimes and content-addressed rejects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas.failures import Reason
from schemas.records import FeedEntry, FeedSpec, Reject
from tests.support.factories import article

BERLIN = timezone(timedelta(hours=2))


def test_aware_datetimes_are_converted_to_utc_and_naive_ones_refused() -> None:
    entry = FeedEntry(feed_url="https://f.example/rss", published_at=datetime(2024, 6, 1, 12, 0, tzinfo=BERLIN))
    assert entry.published_at == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    assert entry.published_at is not None and entry.published_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="timezone-aware"):
        FeedEntry(feed_url="https://f.example/rss", published_at=datetime(2024, 6, 1, 12, 0))
    assert FeedEntry(feed_url="https://f.example/rss").published_at is None  # unknown stays None


def test_unknown_fields_and_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        FeedSpec(url="https://f.example/rss", colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        FeedSpec(url="")
    with pytest.raises(ValidationError):
        article(1, word_count=-1)
    with pytest.raises(ValidationError):
        article(1, article_id="short")
    with pytest.raises(ValidationError):
        article(1, origin="email")
    assert article(1, published=None).published_at is None


def test_reject_make_is_content_addressed_and_classified() -> None:
    a = Reject.make(run_id="r", stage="fetch", reason=Reason.TIMEOUT, message="slow", url="https://x.example/")
    b = Reject.make(run_id="r", stage="fetch", reason=Reason.TIMEOUT, message="other text", url="https://x.example/")
    assert a.reject_id == b.reject_id and len(a.reject_id) == 32  # the message is not part of the identity
    assert a.reason_class == "transient"
    other = Reject.make(run_id="r", stage="parse", reason=Reason.NO_LINK, message="m", source="f", payload="item 1")
    again = Reject.make(run_id="r", stage="parse", reason=Reason.NO_LINK, message="m", source="f", payload="item 2")
    assert other.reject_id != again.reject_id  # items without a URL differ by payload
    assert other.reason_class == "permanent"
    long = Reject.make(run_id="r", stage="parse", reason=Reason.NO_LINK, message="x" * 5000, payload="p" * 30000)
    assert len(long.message) == 2000 and long.payload is not None and len(long.payload) == 20000
    assert long.created_at.tzinfo is not None
