"""build_article: URL identity, text/title/date/outlet precedence and failure reasons."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.normalize.article import SUMMARY_MAX_CHARS, build_article, content_hash, word_count
from extractors.normalize.urls import article_id_for
from extractors.sources.feeds import parse_feed
from schemas.failures import PipelineError, Reason
from schemas.records import ExtractedDoc, FeedEntry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"
PAGE = "https://www.harbourside-gazette.example/news/2024/03/ferry-timetable?utm_source=rss&utm_medium=feed"
CANONICAL = "https://www.harbourside-gazette.example/news/2024/03/ferry-timetable"
BODY = "The town council voted seven to two on Monday.\nCommuters had petitioned for later boats."


def doc(**kw: object) -> ExtractedDoc:
    return ExtractedDoc(**{"text": BODY, **kw})  # type: ignore[arg-type]


def entry(**kw: object) -> FeedEntry:
    return FeedEntry(**{"feed_url": "https://www.harbourside-gazette.example/feed.xml", **kw})  # type: ignore[arg-type]


def build(**kw: object):
    args: dict[str, object] = {
        "url": PAGE,
        "doc": doc(),
        "entry": None,
        "origin": "rss",
        "text_source": "page",
        "run_id": "run-1",
        "tolerance_hours": 24.0,
    }
    args.update(kw)
    return build_article(**args)  # type: ignore[arg-type]


def reason(**kw: object) -> Reason:
    with pytest.raises(PipelineError) as info:
        build(**kw)
    return info.value.reason


def test_page_article_identity_and_fields() -> None:
    fetched = datetime(2024, 3, 11, 10, 0, tzinfo=UTC)
    article = build(
        doc=doc(title="Ferry timetable approved", site_name="Harbourside Gazette", language="en"),
        fetched_at=fetched,
    )
    assert article.url == CANONICAL
    assert article.article_id == article_id_for(CANONICAL)
    assert article.text == BODY
    assert article.text_source == "page"
    assert article.title == "Ferry timetable approved"
    assert article.outlet == article.site_name == "Harbourside Gazette"
    assert article.domain == "harbourside-gazette.example"
    assert article.language == "en"
    assert article.word_count == 15
    assert article.content_hash == hashlib.sha256(" ".join(BODY.split()).encode()).hexdigest()
    assert article.fetched_at == fetched
    assert article.ingested_at.tzinfo is not None
    assert abs(article.ingested_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert article.run_id == "run-1" and article.origin == "rss"


def test_url_variants_give_one_article_id() -> None:
    ids = {
        build(url=u).article_id
        for u in (
            PAGE,
            CANONICAL,
            CANONICAL + "#comments",
            "HTTPS://WWW.Harbourside-Gazette.example:443/news/2024/03/ferry-timetable?fbclid=x",
        )
    }
    assert ids == {article_id_for(CANONICAL)}


def test_rel_canonical_used_only_on_the_same_site() -> None:
    same = build(doc=doc(canonical_url="https://harbourside-gazette.example/news/ferry"))
    assert same.url == "https://harbourside-gazette.example/news/ferry"
    assert same.article_id == article_id_for("https://harbourside-gazette.example/news/ferry")
    relative = build(doc=doc(canonical_url="/news/ferry?utm_campaign=x"))
    assert relative.url == "https://www.harbourside-gazette.example/news/ferry"
    foreign = build(doc=doc(canonical_url="https://aggregator.example/copy/123"))
    assert foreign.url == CANONICAL
    junk = build(doc=doc(canonical_url="javascript:void(0)"))
    assert junk.url == CANONICAL


def test_archive_pseudo_url_is_kept_and_other_schemes_refused() -> None:
    urn = "urn:newsflow:archive:0f3a9c"
    article = build(
        url=urn,
        origin="archive",
        text_source="archive",
        record_outlet="seed archive",
        archive_path="/data/a.jsonl",
        archive_record="0f3a9c",
    )
    assert article.url == urn
    assert article.article_id == article_id_for(urn)
    assert (article.archive_path, article.archive_record) == ("/data/a.jsonl", "0f3a9c")
    for bad in ("ftp://x.example/a", "urn:other:1", "not a url", "", "javascript:alert(1)"):
        assert reason(url=bad) is Reason.INVALID_URL


def test_block_page_is_rejected_with_its_reason() -> None:
    with pytest.raises(PipelineError) as info:
        build(doc=doc(blocked=True, block_reason="captcha challenge"))
    assert info.value.reason is Reason.BLOCK_PAGE
    assert "captcha" in info.value.message


def test_text_falls_back_to_feed_content_then_summary() -> None:
    e = entry(content="Full feed content.", summary="Short summary.")
    from_content = build(doc=doc(text="  \n "), entry=e)
    assert from_content.text == "Full feed content."
    assert from_content.text_source == "feed"
    from_summary = build(doc=None, entry=entry(summary="Short summary."))
    assert from_summary.text == "Short summary."
    assert from_summary.text_source == "feed"
    assert reason(doc=doc(text=""), entry=entry(title="Only a title")) is Reason.NO_TEXT
    assert reason(doc=None, entry=None) is Reason.NO_TEXT


def test_title_authors_summary_and_tags_fall_back_and_merge() -> None:
    e = entry(
        title="Feed title",
        authors=["Mira Castellane", "Tobias Wren"],
        summary="Feed summary.",
        tags=["Transport", "council"],
    )
    from_feed = build(doc=doc(tags=["Council", "Local"]), entry=e)
    assert from_feed.title == "Feed title"
    assert from_feed.authors == ["Mira Castellane", "Tobias Wren"]
    assert from_feed.summary == "Feed summary."
    assert from_feed.tags == ["Council", "Local", "Transport"]
    from_page = build(
        doc=doc(title="  Page\ttitle ", authors=[" Ann Lee ", "ann lee", ""], summary="Page sum."), entry=e
    )
    assert from_page.title == "Page title"
    assert from_page.authors == ["Ann Lee"]
    assert from_page.summary == "Page sum."


def test_long_summary_is_truncated_at_a_word_boundary() -> None:
    long = " ".join(["harbour"] * 400)
    article = build(doc=doc(summary=long))
    assert article.summary is not None
    assert len(article.summary) <= SUMMARY_MAX_CHARS
    assert article.summary.endswith("harbour…")


def test_date_precedence_feed_then_html_then_text() -> None:
    feed_date = datetime(2024, 3, 11, 8, 30, tzinfo=UTC)
    html_date = datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    both = build(
        doc=doc(published_at=html_date, published_at_source="html"), entry=entry(published_at=feed_date)
    )
    assert (both.published_at, both.published_at_source) == (feed_date, "feed")
    html = build(doc=doc(published_at=html_date, published_at_source="html"), entry=entry())
    assert (html.published_at, html.published_at_source) == (html_date, "html")
    text = build(doc=doc(published_at=html_date, published_at_source="text"))
    assert (text.published_at, text.published_at_source) == (html_date, "text")
    none = build(doc=doc())
    assert (none.published_at, none.published_at_source) == (None, None)


def test_dates_pass_through_the_policy_with_the_given_tolerance() -> None:
    soon = datetime.now(UTC) + timedelta(hours=3)
    assert build(doc=doc(published_at=soon, published_at_source="html")).published_at == soon
    rejected = build(doc=doc(published_at=soon, published_at_source="html"), tolerance_hours=1.0)
    assert (rejected.published_at, rejected.published_at_source) == (None, None)
    old = datetime(1985, 1, 1, tzinfo=UTC)
    assert build(entry=entry(published_at=old)).published_at is None


def test_outlet_precedence() -> None:
    site = doc(site_name="Site")
    assert build(feed_outlet="Feed Outlet", record_outlet="Record", doc=site).outlet == "Feed Outlet"
    assert build(record_outlet="Gazette", doc=site).outlet == "Gazette"
    assert build(doc=site).outlet == "Site"
    assert build(doc=site).site_name == "Site"  # the page's own name is kept beside the outlet
    assert build(feed_outlet="Feed Outlet", doc=site).site_name == "Site"
    assert build().outlet == "harbourside-gazette.example"
    archived = build(url="urn:newsflow:archive:1", feed_url="https://m.feeds.example/x")
    assert (archived.outlet, archived.domain) == ("feeds.example", "feeds.example")


def test_title_key_and_feed_text_reason() -> None:
    a = build(doc=doc(site_name="Site", title="Ferry timetable approved | Site"))
    assert a.title_key == "ferry timetable approved"
    assert build(text_source_reason="http_404").text_source_reason is None  # the page's text was used


def test_feed_url_comes_from_argument_or_entry() -> None:
    assert build(entry=entry()).feed_url == "https://www.harbourside-gazette.example/feed.xml"
    assert build(entry=entry(), feed_url="https://other.example/rss").feed_url == "https://other.example/rss"
    assert build().feed_url is None


def test_text_is_cleaned_of_control_characters() -> None:
    article = build(doc=doc(text="Line\x00 one\r\n\r\n\r\n\r\nLine\x07 two\x0b"))
    assert article.text == "Line one\n\nLine two"


def test_invalid_record_is_a_one_line_pipeline_error() -> None:
    with pytest.raises(PipelineError) as info:
        build(fetched_at=datetime(2024, 1, 1))  # naive: records require UTC-aware datetimes
    assert info.value.reason is Reason.INVALID_RECORD
    assert "fetched_at" in info.value.message and "\n" not in info.value.message
    assert reason(origin="carrier-pigeon") is Reason.INVALID_RECORD


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Hello, world! It's a test-case.", 5),
        ("  ", 0),
        ("Ünïcödé wörds – naïve café", 4),
        ("東京で地震", 5),
        ("Seoul 서울 뉴스 2024", 4),
        ("e-mail 3.5 percent", 4),
    ],
)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count


def test_content_hash_ignores_whitespace_only_differences() -> None:
    assert content_hash("a  b\n\nc ") == content_hash("a b c")
    assert content_hash("a b c") != content_hash("a b d")


def test_feed_only_article_from_a_real_fixture() -> None:
    feed = parse_feed(
        (FIXTURES / "rss2_basic.xml").read_bytes(), "https://www.harbourside-gazette.example/feed.xml"
    )
    first = feed.entries[0]
    assert first.link is not None
    article = build(url=first.link, doc=None, entry=first)
    assert article.url == CANONICAL
    assert article.text_source == "feed"
    assert article.text.startswith("The town council voted seven to two")
    assert article.title == "Council approves new ferry timetable"
    assert article.authors == ["Mira Castellane"]
    assert (article.published_at, article.published_at_source) == (
        datetime(2024, 3, 11, 8, 30, tzinfo=UTC),
        "feed",
    )
    assert article.tags == ["Transport", "Council"]
