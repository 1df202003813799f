"""Feed lists: feeds.yaml and OPML → FeedSpec, merging and atomic saving (sources/feedlist.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from extractors.sources.feedlist import load_feed_list, merge_feed_specs, parse_opml, save_feed_list
from schemas.records import FeedSpec
from schemas.settings import ConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_feed_list_accepts_mappings_and_bare_urls(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "feeds:\n"
        "  - https://a.example/rss\n"
        "  - url: https://b.example/atom\n"
        "    name: B Daily\n"
        "    tags: [local, politics]\n"
        "  - url: ' https://c.example/feed '\n"
        "    tags: single\n"
        "  - url: HTTPS://A.example:443/rss#dup\n"
        "    name: A again\n"
        "    tags: [extra]\n",
    )
    specs = load_feed_list(path)
    assert specs == [
        FeedSpec(url="https://a.example/rss", name="A again", tags=["extra"]),
        FeedSpec(url="https://b.example/atom", name="B Daily", tags=["local", "politics"]),
        FeedSpec(url="https://c.example/feed", tags=["single"]),
    ]


def test_empty_feeds_list_is_allowed(tmp_path: Path) -> None:
    assert load_feed_list(write(tmp_path, "feeds: []\n")) == []
    assert load_feed_list(write(tmp_path, "feeds:\n")) == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("feeds:\n  - https://a.example/rss\n  - url: x: y\n", "malformed YAML at line 3"),
        ("feeds:\n\t- https://a.example\n", "malformed YAML at line 2"),
        ("- https://a.example/rss\n", "expected a mapping"),
        ("", "expected a mapping with a 'feeds:' list, got an empty file"),
        ("just a string\n", "expected a mapping"),
        ("sources:\n  - https://a.example/rss\n", "missing key 'feeds'"),
        ("feeds: https://a.example/rss\n", "'feeds' must be a list"),
        ("feeds:\n  - name: No URL here\n", "feeds[0]: entry has no 'url'"),
        ("feeds:\n  - url: ''\n", "feeds[0]: entry has no 'url'"),
        (
            "feeds:\n  - https://a.example/rss\n  - ftp://b.example/rss\n",
            "feeds[1]: url 'ftp://b.example/rss' is not an http(s) URL",
        ),
        ("feeds:\n  - url: javascript:alert(1)\n", "is not an http(s) URL"),
        ("feeds:\n  - url: https://a.example/rss\n    tag: x\n", "unknown key(s) tag"),
        ("feeds:\n  - url: https://a.example/rss\n    tags: {a: 1}\n", "'tags' must be a string or a list"),
        ("feeds:\n  - [https://a.example/rss]\n", "expected a URL string or a mapping"),
        ("feeds:\n  - 42\n", "expected a URL string or a mapping"),
    ],
)
def test_config_errors_are_one_line_naming_file_and_problem(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_feed_list(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert fragment in message


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="feeds file not found"):
        load_feed_list(tmp_path / "nope.yaml")
    bad = tmp_path / "latin.yaml"
    bad.write_bytes("feeds:\n  - https://caf\xe9.example/\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_feed_list(bad)


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    specs = [
        FeedSpec(url="https://a.example/rss", name="Ä Zeitung: «Tag»", tags=["de", "local"]),
        FeedSpec(url="https://b.example/atom"),
    ]
    path = tmp_path / "nested" / "feeds.yaml"
    save_feed_list(path, specs)
    assert load_feed_list(path) == specs
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {
        "feeds": [
            {"url": "https://a.example/rss", "name": "Ä Zeitung: «Tag»", "tags": ["de", "local"]},
            {"url": "https://b.example/atom"},
        ]
    }
    assert [p.name for p in path.parent.iterdir()] == ["feeds.yaml"]  # no temp files left behind


# --------------------------------------------------------------------------- OPML


def test_parse_opml_nested_outlines_categories_and_duplicates() -> None:
    specs = parse_opml(fixture("subscriptions.opml"))
    assert specs == [
        FeedSpec(
            url="https://www.harbourside-gazette.example/feed.xml",
            name="The Harbourside Gazette",
            tags=["Local", "Coast", "Towns", "Ferries"],
        ),
        FeedSpec(url="https://quarry-road.example/rss", name="Quarry Road Weekly", tags=["Local"]),
        FeedSpec(
            url="http://valley-courier.example/feed.atom", name="Valley Courier", tags=["Local", "Regional"]
        ),
        FeedSpec(url="https://plains-ledger.example/rss", name="Plains Ledger", tags=["Agriculture"]),
    ]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (None, "malformed OPML at line 5"),
        (b"", "empty document"),
        (b"<html><body/></html>", "root element is not <opml>"),
        (b'<opml version="2.0"><head/></opml>', "no <body> element"),
        (b'<opml><body><outline text="x" xmlUrl="gopher://x.example/"/></body></opml>', "not an http(s) URL"),
        (b"not xml at all", "malformed OPML"),
    ],
)
def test_malformed_opml(data: bytes | None, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_opml(data if data is not None else fixture("malformed.opml"), source="subs.opml")
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("subs.opml: ")
    assert fragment in str(info.value)


def test_opml_entity_declarations_are_refused() -> None:
    with pytest.raises(ConfigError, match="entity declarations"):
        parse_opml(fixture("entity_bomb.opml"))


def test_merge_feed_specs_keeps_existing_and_adds_only_new_feeds(tmp_path: Path) -> None:
    feeds = tmp_path / "conf" / "feeds.yaml"
    mine = FeedSpec(url="https://quarry-road.example/rss", name="Mine", tags=["keep"])
    new = parse_opml(fixture("subscriptions.opml"))
    merged, added = merge_feed_specs([mine], new)
    assert [s.url for s in added] == [
        "https://www.harbourside-gazette.example/feed.xml",
        "http://valley-courier.example/feed.atom",
        "https://plains-ledger.example/rss",
    ]
    assert merged[0] == mine
    assert len(merged) == 4
    save_feed_list(feeds, merged)  # creates the missing folder
    assert load_feed_list(feeds) == merged
    again, added_again = merge_feed_specs(load_feed_list(feeds), new)
    assert added_again == []  # idempotent
    assert again == merged
