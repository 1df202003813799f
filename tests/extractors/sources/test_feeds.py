"""Feed lists (YAML/OPML) and feed documents parsed from real fixture files, hostile ones included."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.normalize.urls import canonicalize_url
from extractors.sources.feeds import author_name, body_hash, parse_feed
from schemas.failures import PipelineError, Reason

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str, feed_url: str = "https://feeds.example.net/feed", **kw: object):
    return parse_feed(fixture(name), feed_url, now=NOW, **kw)  # type: ignore[arg-type]


def reason_of(body: bytes, **kw: object) -> Reason:
    with pytest.raises(PipelineError) as info:
        parse_feed(body, "https://feeds.example.net/feed", **kw)  # type: ignore[arg-type]
    return info.value.reason


# --------------------------------------------------------------------------- well-formed feeds


def test_rss2_entries_are_complete_and_plain() -> None:
    feed = parse("rss2_basic.xml")
    assert feed.version == "rss20"
    assert feed.title == "The Harbourside Gazette"
    assert feed.site_url == "https://www.harbourside-gazette.example/"
    assert feed.language == "en-gb"
    assert feed.warnings == []
    assert [e.guid for e in feed.entries] == ["hg-2024-0311", "hg-2024-0312", "hg-2024-0313"]
    first, second, third = feed.entries
    assert first.feed_url == "https://feeds.example.net/feed"
    assert first.title == "Council approves new ferry timetable"
    # markup stripped and entities decoded, but the link is kept as published (identity is separate)
    assert first.summary == "The town council voted 7–2 to extend evening sailings."
    assert first.content is not None and first.content.splitlines() == [
        "The town council voted seven to two on Monday to extend evening ferry sailings to the outer islands.",
        "Commuters had petitioned for later boats since the autumn.",
    ]
    assert first.link is not None and "utm_source" in first.link
    assert canonicalize_url(first.link) == (
        "https://www.harbourside-gazette.example/news/2024/03/ferry-timetable"
    )
    assert first.authors == ["Mira Castellane"]
    assert first.tags == ["Transport", "Council"]
    assert first.published_at == datetime(2024, 3, 11, 8, 30, tzinfo=UTC)
    # "email (Name)" author with a long TLD: the name, never the address
    assert second.authors == ["Tobias Wren"]
    assert second.published_at == datetime(2024, 3, 12, 14, 0, tzinfo=UTC)
    assert third.published_at == datetime(2024, 3, 13, 11, 15, tzinfo=UTC)


def test_atom_xml_base_authors_and_xhtml_content() -> None:
    feed = parse("atom_basic.xml", "https://valley-courier.example/feed.atom")
    assert feed.version == "atom10"
    assert feed.language == "de"
    bridge, harvest = feed.entries
    assert bridge.title == "Bridge reopens to cyclists"
    assert bridge.link == "https://valley-courier.example/stories/bridge-reopens"  # via xml:base
    assert bridge.authors == ["Lena Oberholz", "Piet Anker"]
    assert bridge.published_at == datetime(2024, 5, 1, 6, 0, tzinfo=UTC)  # published beats updated
    assert (
        bridge.content
        == "The old stone bridge over the Aller reopened on Wednesday.\nCars remain banned until June."
    )
    assert bridge.tags == ["Verkehr"]
    assert harvest.link == "https://valley-courier.example/events/harvest-festival"
    assert harvest.published_at == datetime(2024, 5, 2, 7, 30, tzinfo=UTC)  # falls back to updated
    assert harvest.summary == "Rain forecast forces the festival into the town hall."


def test_rdf_rss10() -> None:
    feed = parse("rdf_basic.rdf")
    assert feed.version == "rss10"
    wheat, silo = feed.entries
    assert wheat.link == "https://plains-ledger.example/2023/wheat-prices"
    assert wheat.authors == ["Hank Osei"]
    assert wheat.tags == ["Markets"]
    assert wheat.published_at == datetime(2023, 10, 4, 22, 20, tzinfo=UTC)
    assert silo.published_at == datetime(2023, 10, 5, tzinfo=UTC)


def test_empty_channel_is_a_feed_with_no_entries() -> None:
    feed = parse("empty_channel.xml")
    assert feed.version == "rss20"
    assert feed.entries == []
    assert feed.warnings == []


# --------------------------------------------------------------------------- tricky feeds


def test_bozo_but_usable_feed_keeps_entries_with_a_warning() -> None:
    feed = parse("bozo_usable.xml")
    assert len(feed.entries) == 2
    assert len(feed.warnings) == 1 and "\n" not in feed.warnings[0]
    assert feed.entries[0].title == "Bakery wins regional award for sourdough"
    assert feed.entries[0].summary == "Judges praised the crust & the crumb."
    assert feed.entries[1].link == "https://quarry-road.example/choir-tour"


def test_html_page_is_not_a_feed() -> None:
    assert reason_of(fixture("html_page.html")) is Reason.NOT_A_FEED
    assert reason_of(fixture("html_page.html"), content_type="text/html; charset=utf-8") is Reason.NOT_A_FEED
    assert reason_of(b'{"items": []}', content_type="application/json") is Reason.NOT_A_FEED
    assert reason_of(b"\x89PNG\r\n\x1a\n\x00\x00binary") is Reason.NOT_A_FEED


@pytest.mark.parametrize("body", [b"", b"   \n\t", b"\xef\xbb\xbf \n", b"\xff\xfe \x00\n\x00", b"\x00\x00"])
def test_empty_bodies(body: bytes) -> None:
    assert reason_of(body) is Reason.EMPTY_BODY


def test_empty_fixture_file() -> None:
    assert reason_of(fixture("empty.xml")) is Reason.EMPTY_BODY


def test_truncated_feed_is_a_parse_error() -> None:
    assert reason_of(fixture("truncated.xml")) is Reason.FEED_PARSE_ERROR


def test_declared_entities_numeric_refs_and_double_escaping() -> None:
    feed = parse("entities.xml")
    assert feed.title == "The Moorland Echo"
    (entry,) = feed.entries
    assert entry.title == "Moorland Echo staff vote on new masthead"
    assert entry.summary == "Café owners & readers say “yes” & more — results Friday"


def test_relative_rss_links_resolve_against_the_site() -> None:
    feed = parse("relative_links.xml", "https://feeds.syndicator.example/riverbend")
    links = [e.link for e in feed.entries]
    assert links == [
        "https://www.riverbend-bulletin.example/local/flood-barrier-test",
        "https://www.riverbend-bulletin.example/local/library-hours?id=7#comments",
        "https://cdn.riverbend-bulletin.example/local/market",
    ]


@pytest.mark.parametrize("channel_link", [b"", b"<link>javascript:void(0)</link>"])
def test_relative_links_fall_back_to_feed_url_without_site_link(channel_link: bytes) -> None:
    body = (
        b'<rss version="2.0"><channel><title>x</title>' + channel_link + b"<item><title>a</title>"
        b"<link>stories/a.html</link></item></channel></rss>"
    )
    feed = parse_feed(body, "https://paper.example/rss/main.xml")
    assert feed.site_url is None
    assert feed.entries[0].link == "https://paper.example/rss/stories/a.html"


def test_guid_as_link_and_unsafe_links() -> None:
    feed = parse("guid_as_link.xml")
    by_title = {e.title: e for e in feed.entries}
    assert by_title["Permalink guid only"].link == "https://saltmarsh-observer.example/2024/heron-count"
    assert by_title["Non-permalink guid that is still a URL"].link == (
        "https://saltmarsh-observer.example/2024/tide-tables"
    )
    assert by_title["Opaque guid and no link"].link is None
    assert by_title["Script link"].link is None
    assert by_title["Data link with URL guid"].link == "https://saltmarsh-observer.example/2024/oyster-beds"
    for entry in feed.entries:
        assert entry.link is None or entry.link.startswith("https://")


def test_missing_guid_is_none_not_invented() -> None:
    feed = parse("missing_guid.xml")
    assert [e.guid for e in feed.entries] == [None, None]
    assert [e.link for e in feed.entries] == [
        "https://hilltop-herald.example/snow-pass",
        "https://hilltop-herald.example/ski-lift",
    ]


def test_script_and_style_content_never_reaches_text() -> None:
    feed = parse("script_titles.xml")
    assert feed.title == "Cliffside Chronicle"
    path, double = feed.entries
    assert path.title == "Coastal path reopens"
    assert path.summary == "Walkers can use the whole route again.\nRangers fixed three stiles."
    assert double.title == "Double-escaped headline"
    assert double.summary == "Plain comparison: 5 < 6 and 7 > 3, AT&T and R&D stay."
    for entry in feed.entries:
        assert entry.title is not None and entry.summary is not None
        for marker in ("script", "alert", "steal", "<", ">"):
            assert marker not in entry.title
        for marker in ("script", "injected", "document.write", "color:red"):
            assert marker not in entry.summary


def test_nul_and_control_characters_are_removed() -> None:
    feed = parse("control_chars.xml")
    assert feed.title == "Null Byte News"
    (entry,) = feed.entries
    assert entry.title is not None and entry.summary is not None
    for text in (entry.title, entry.summary):
        assert not CONTROL.search(text)
    assert entry.title.startswith("Bell and NUL")
    # C1 bytes are cp1252 mis-decodings: \x92 is an apostrophe, \x85 an ellipsis
    assert entry.summary == "Line one still text … and ’quoted’ end"


def test_feed_dates_follow_the_policy() -> None:
    feed = parse("dates.xml")
    got = {e.title: e.published_at for e in feed.entries}
    assert got == {
        "valid": datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
        "future": None,
        "naive": datetime(2024, 3, 5, 8, 0, tzinfo=UTC),
        "garbage": None,
        "year10000": None,  # feedparser itself misreads this as 2010
        "ancient": None,
        "empty": None,
    }
    # tolerance is a parameter: a generous window accepts the far-future item
    loose = parse("dates.xml", tolerance_hours=24 * 365 * 1000)
    assert loose.entries[1].published_at == datetime(2999, 1, 1, tzinfo=UTC)


def test_encodings_from_declaration_bom_and_header() -> None:
    assert parse("latin1.xml").entries[0].title == "Café à Noël : déjà complet"
    assert parse("utf16.xml").entries[0].title == "Νέο λιμάνι για τα αλιευτικά"
    body = (
        '<rss version="2.0"><channel><title>t</title><item><title>Noël “quoted”</title>'
        "<link>https://x.example/a</link></item></channel></rss>"
    ).encode("cp1252")
    feed = parse_feed(body, "https://x.example/rss", content_type="application/rss+xml; charset=windows-1252")
    assert feed.entries[0].title == "Noël “quoted”"
    assert feed.warnings == []


# --------------------------------------------------------------------------- hostile documents


@pytest.mark.parametrize("name", ["billion_laughs.xml", "billion_laughs_utf16.xml", "xxe.xml"])
def test_expanding_or_external_entities_are_refused_fast(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(PipelineError) as info:
        parse(name)
    assert info.value.reason is Reason.FEED_PARSE_ERROR
    assert time.perf_counter() - started < 2.0


def test_quadratic_blowup_entity_is_refused() -> None:
    value = "x" * 5000
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "{value}">\n]>\n'
        f'<rss version="2.0"><channel><title>{"&big;" * 2000}</title></channel></rss>'
    ).encode()
    assert reason_of(body) is Reason.FEED_PARSE_ERROR


def test_entity_text_inside_items_is_not_a_declaration() -> None:
    body = (
        b'<rss version="2.0"><channel><title>t</title><item><title>How &lt;!ENTITY&gt; attacks work</title>'
        b"<link>https://sec.example/a</link></item></channel></rss>"
    )
    title = parse_feed(body, "https://sec.example/rss").entries[0].title
    assert title is not None and title.startswith("How") and title.endswith("attacks work")


def test_body_is_never_treated_as_a_file_name(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes(fixture("rss2_basic.xml"))
    assert reason_of(str(feed_file).encode()) is Reason.NOT_A_FEED


def test_body_is_never_fetched_as_a_url(httpserver) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/feed.xml").respond_with_data(
        fixture("rss2_basic.xml"), content_type="application/rss+xml"
    )
    assert reason_of(httpserver.url_for("/feed.xml").encode()) is Reason.NOT_A_FEED
    # neither an external DTD nor an external entity is ever loaded
    dtd = httpserver.url_for("/evil.dtd").encode()
    with_dtd = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "' + dtd + b'">\n' + fixture("missing_guid.xml")[39:]
    )
    assert len(parse_feed(with_dtd, "https://hilltop-herald.example/rss").entries) == 2
    with_entity = b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY e SYSTEM "' + dtd + b'">\n]>\n<rss/>'
    assert reason_of(with_entity) is Reason.FEED_PARSE_ERROR
    assert httpserver.log == []


def test_non_bytes_body_is_a_pipeline_error() -> None:
    with pytest.raises(PipelineError):
        parse_feed("<rss/>", "https://x.example/")  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_pipeline_errors(body: bytes) -> None:
    try:
        feed = parse_feed(body, "https://fuzz.example/feed")
    except PipelineError:
        return
    for entry in feed.entries:
        for text in (entry.title, entry.summary, entry.content):
            assert text is None or not CONTROL.search(text)


_FIXTURE_BODIES = [p.read_bytes() for p in sorted(FIXTURES.iterdir()) if p.suffix in (".xml", ".rdf")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_FIXTURE_BODIES),
    st.integers(min_value=0, max_value=3000),
    st.binary(max_size=12),
    st.integers(min_value=0, max_value=40),
)
def test_mutated_fixtures_raise_only_pipeline_errors(base: bytes, pos: int, junk: bytes, cut: int) -> None:
    pos = min(pos, len(base))
    body = base[:pos] + junk + base[pos + cut :]
    try:
        feed = parse_feed(body, "https://fuzz.example/feed")
    except PipelineError as exc:
        assert exc.reason in {Reason.EMPTY_BODY, Reason.NOT_A_FEED, Reason.FEED_PARSE_ERROR}
        return
    for entry in feed.entries:
        assert entry.link is None or entry.link.startswith(("http://", "https://"))


def test_body_hash() -> None:
    body = fixture("rss2_basic.xml")
    assert body_hash(body) == hashlib.sha256(body).hexdigest()
    assert body_hash(body) != body_hash(body + b" ")


# --------------------------------------------------------------------------- text helpers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jo@paper.example (Jo Roe)", "Jo Roe"),
        ("Jo Roe (jo@paper.example)", "Jo Roe"),
        ("Jo Roe <jo@paper.example>", "Jo Roe"),
        ("jo@paper.example", None),
        ("Jo Roe", "Jo Roe"),
        ("  <b>Jo</b>  Roe ", "Jo Roe"),
        ("", None),
    ],
)
def test_author_name(raw: str, expected: str | None) -> None:
    assert author_name(raw) == expected
