"""Scenario 3: hostile content through the full ``hourly_ingest`` flow (real Prefect API, real
HTTP server on 127.0.0.1, real DuckDB file).

One site serves every hostile feed and page; the flow runs twice (the second time with one more
item reusing a shared guid), and each test below checks one documented policy on the result:

* entity bombs and external entities (files, parameter entities, external DTDs, UTF-16 disguise)
  are refused or left unexpanded — a secret file's content never reaches any table;
* NUL/control characters and ``<script>`` never reach stored text; ``javascript:``/``data:``
  links are rejected as ``no_link``; relative and guid-only links resolve (extractors/sources/feeds.py);
* items sharing one guid, or having none, each keep their own article (identity is the URL);
* dates follow extractors/normalize/dates.py: aware → UTC, naive → UTC, > 24 h future / pre-1990 /
  garbage / year 10000 → NULL;
* mis-declared charsets still store the true text (no U+FFFD, no mojibake);
* a 20 MB single-line page or feed is cut at the size cap; a 4.5 MB one-line page is handled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from extractors.sources.feeds import parse_feed
from schemas.failures import PipelineError, Reason
from tests.reliability.conftest import (
    HOSTILE,
    STORY,
    LocalServer,
    Route,
    article_html,
    every_stored_string,
    run_ingest,
    text_problems,
    write_feeds_file,
)
from tests.support.dbrows import rows

FLOW = HOSTILE / "flow"
PAGES = FLOW / "pages"
SHARED_GUID = "same-guid-for-every-item"
CTRL = "\x01\x07\x1b\x7f"
MAX_PAGE = 5 * 1024 * 1024  # Settings.max_page_bytes default

# the true sentences of the charset-trap pages (see tests/fixtures/hostile/flow/pages)
TRUE_TEXT = {
    "/pages/cp1252-as-utf8": [
        "Café owners in the old quarter said the naïve plan — “a façade of progress” — would fail.",
        "Déjà vu for the mayor, who promised the same €4 million renovation in 2019 and again last spring.",
    ],
    "/pages/utf8-as-latin1": [
        "Smørrebrød and crème brûlée: the Ærø ferry’s new menu pleased passengers from Łódź and Kraków.",
        "“Ça va très bien,” said the chef, who trained in Zürich before joining the ferry company last year.",
    ],
    "/pages/utf16-bom": ["The ferry timetable is now printed in English, Ελληνικά and Русский for the summer season"],
}


@dataclass
class HostileRun:
    server: LocalServer
    db: Path
    secret: str
    first: dict[str, Any]
    second: dict[str, Any]
    now: datetime

    def url(self, path: str) -> str:
        return self.server.url(path)

    def articles(self) -> dict[str, dict[str, Any]]:
        cols = ["url", "title", "text", "summary", "authors", "published_at", "published_at_source",
                "text_source", "outlet", "site_name", "tags"]
        return {r[0]: dict(zip(cols, r, strict=True)) for r in rows(self.db, f"SELECT {', '.join(cols)} FROM articles")}

    def rejects(self, run: dict[str, Any]) -> list[tuple[Any, ...]]:
        return rows(self.db, "SELECT stage, reason, url, source, payload FROM rejects WHERE run_id = ?", [run["run_id"]])


def _template(name: str, **subs: str) -> str:
    text = (FLOW / name).read_text(encoding="utf-8") if not name.startswith("pages/") else (
        PAGES / name[6:]).read_text(encoding="utf-8")
    subs = {"NUL": "\x00", "CTRL": CTRL, **subs}
    for key, value in subs.items():
        text = text.replace(f"@@{key}@@", value)
    return text


def _shared_guid_feed(base: str, n: int) -> str:
    items = "\n".join(
        f"<item><title>Shared guid story {i}</title><link>{base}/news/shared-{i}</link>"
        f"<guid isPermaLink=\"false\">{SHARED_GUID}</guid><description>{STORY[i % 4]}</description></item>"
        for i in range(1, n + 1)
    )
    return _template("shared_guid.xml", BASE=base, ITEMS=items)


def _build_site(server: LocalServer, tmp: Path, now: datetime) -> tuple[str, list[str]]:
    base = server.base
    secret = f"R1-SECRET-{int(now.timestamp() * 1e6):x}"
    secret_file = tmp / "secret.txt"
    secret_file.write_text(secret, encoding="utf-8")
    dtd_file = tmp / "secret.dtd"
    dtd_file.write_text(f'<!ENTITY leak "{secret}">', encoding="utf-8")
    subs = {"BASE": base, "SECRET_URI": secret_file.as_uri(), "DTD_URI": dtd_file.as_uri(),
            "FUTURE": format_datetime(now + timedelta(days=10), usegmt=True),
            "NEAR_FUTURE": format_datetime(now + timedelta(hours=2), usegmt=True)}
    rss = "application/rss+xml"
    feeds = {
        "/feeds/billion-laughs.xml": _template("billion_laughs.xml", **subs).encode(),
        "/feeds/xxe-system.xml": _template("xxe_system.xml", **subs).encode(),
        "/feeds/xxe-system-utf16.xml": _template("xxe_system.xml", **subs).replace(
            'encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"),
        "/feeds/xxe-parameter.xml": _template("xxe_parameter.xml", **subs).encode(),
        "/feeds/xxe-external-dtd.xml": _template("xxe_external_dtd.xml", **subs).encode(),
        "/feeds/quadratic.xml": (
            f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{"quad" * 20000}">]><rss version="2.0">'
            f"<channel><title>Q</title><link>{base}/</link><item><title>{'&big;' * 2000}</title>"
            f"<link>{base}/news/quad</link></item></channel></rss>").encode(),
        "/feeds/content.xml": _template("content.xml", **subs).encode(),
        "/feeds/dates.xml": _template("dates.xml", **subs).encode(),
        "/feeds/shared-guid.xml": _shared_guid_feed(base, 3).encode(),
        "/feeds/no-guid.xml": _template("no_guid.xml", **subs).encode(),
        "/feeds/charsets.xml": _template("charsets.xml", **subs).encode("latin-1"),
        "/feeds/big-pages.xml": _template("big_pages.xml", **subs).encode(),
        "/feeds/hostile-pages.xml": _template("hostile_pages.xml", **subs).encode(),
    }
    for path, body in feeds.items():
        server.routes[path] = Route(body=body, headers=[("Content-Type", rss)])
    # a 20 MB single-line feed, streamed without a Content-Length
    server.routes["/feeds/huge.xml"] = Route(
        body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>' + b"huge " * (4 * 1024 * 1024)
        + b"</title></channel></rss>", headers=[("Content-Type", rss)], chunked=True)

    html = "text/html; charset=utf-8"
    for slug in ("relative-story", "guid-story", "noguid-1", "noguid-2", "date-future", "date-near",
                 "date-naive", "date-offset", "date-garbage", "date-y10k", "date-y10k-iso", "date-epoch",
                 "shared-1", "shared-2", "shared-3", "shared-4", "xxe-item", "param-item", "dtd-item"):
        server.add(f"/news/{slug}", article_html(slug.replace("-", " ").capitalize(), STORY), html)
    server.add("/news/control-chars", _template("pages/control_chars.html"), html)
    server.add("/news/script-page", _template("pages/script.html"), html)
    server.add("/pages/xxe-page", _template("pages/xxe_page.html", **subs), html)
    server.add("/pages/bomb-page", _template("pages/bomb_page.html"), html)
    server.add("/pages/cp1252-as-utf8", _template("pages/cp1252_as_utf8.html").encode("cp1252"), html)
    server.add("/pages/utf8-as-latin1", _template("pages/utf8_as_latin1.html").encode("utf-8"),
               "text/html; charset=iso-8859-1")
    server.add("/pages/utf16-bom", _template("pages/utf16_bom.html").encode("utf-16"), "text/html")
    one_line = " ".join(STORY)
    huge = f"<html><body><article><p>{one_line * (20 * 1024 * 1024 // len(one_line))}</p></article></body></html>"
    server.add("/pages/huge-chunked", huge, html, chunked=True)
    server.add("/pages/huge-declared", huge, html)
    large = f"<html><body><article><p>{one_line * (MAX_PAGE * 9 // 10 // len(one_line))}</p></article></body></html>"
    server.add("/pages/large-single-line", large, html)
    return secret, [server.url(p) for p in [*feeds, "/feeds/huge.xml"]]


@pytest.fixture(scope="module")
def hostile(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    tmp = tmp_path_factory.mktemp("hostile")
    now = datetime.now(UTC)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSFLOW_RETRIES", "0")
        mp.setenv("NEWSFLOW_PAGE_TIMEOUT", "20")
        mp.setenv("NEWSFLOW_FEED_TIMEOUT", "20")
        mp.setenv("NEWSFLOW_PER_HOST_CONCURRENCY", "4")
        server = LocalServer().start()
        try:
            secret, feed_urls = _build_site(server, tmp, now)
            feeds = write_feeds_file(tmp / "feeds.yaml", feed_urls)
            db = tmp / "data" / "newsflow.duckdb"
            first = run_ingest(feeds, db)
            # second run: the shared-guid feed gains a fourth item that reuses the same guid
            server.routes["/feeds/shared-guid.xml"] = Route(
                body=_shared_guid_feed(server.base, 4).encode(), headers=[("Content-Type", "application/rss+xml")])
            second = run_ingest(feeds, db)
            yield HostileRun(server, db, secret, first, second, now)
        finally:
            server.stop()


def test_runs_complete_and_every_feed_is_classified(hostile: HostileRun) -> None:
    for run in (hostile.first, hostile.second):
        assert run["load_status"] == "loaded"
    assert rows(hostile.db, "SELECT count(*), min(status) FROM runs") == [(2, "completed")]
    status = {r[0]: r[1:] for r in rows(hostile.db, "SELECT feed_url, last_status, last_reason FROM feeds")}
    refused = ["/feeds/billion-laughs.xml", "/feeds/xxe-system.xml", "/feeds/xxe-system-utf16.xml",
               "/feeds/xxe-parameter.xml", "/feeds/quadratic.xml"]
    for path in refused:
        assert status[hostile.url(path)] == ("failed", "feed_parse_error"), (path, status[hostile.url(path)])
    assert status[hostile.url("/feeds/huge.xml")] == ("failed", "too_large")
    for path in ("/feeds/content.xml", "/feeds/dates.xml", "/feeds/no-guid.xml", "/feeds/charsets.xml",
                 "/feeds/big-pages.xml", "/feeds/hostile-pages.xml", "/feeds/shared-guid.xml"):
        assert status[hostile.url(path)][0] in ("ok", "warning", "unchanged"), (path, status[hostile.url(path)])
    first_rejects = hostile.rejects(hostile.first)
    for path in refused:
        assert "parse" in {r[0] for r in first_rejects if r[2] == hostile.url(path)}, path


def test_entities_never_expand_and_files_never_leak(hostile: HostileRun) -> None:
    leaks = [(t, c) for t, c, v in every_stored_string(hostile.db) if hostile.secret in v]
    assert leaks == [], f"secret file content stored in {leaks}"
    bombs = [(t, c) for t, c, v in every_stored_string(hostile.db) if "lollollol" in v or "quadquadquad" in v]
    assert bombs == [], f"entity expansion stored in {bombs}"
    # the external-DTD feed is parsed (nothing to refuse in its prolog) but &leak; stays unexpanded
    arts = hostile.articles()
    assert hostile.url("/news/dtd-item") in arts
    # the page declaring an external entity is extracted without resolving it
    page = arts[hostile.url("/pages/xxe-page")]
    assert page["text_source"] == "page" and "ferry operator restored the full winter timetable" in page["text"]
    bomb = arts[hostile.url("/pages/bomb-page")]
    assert bomb["text_source"] == "page" and "central library will stay open" in bomb["text"]


def test_stored_text_is_clean(hostile: HostileRun) -> None:
    arts = hostile.articles()
    assert len(arts) >= 20
    for url, a in arts.items():
        for col in ("title", "text", "summary", "outlet", "site_name"):
            problems = text_problems(a[col])
            assert not problems, f"{url} {col}: {problems}"
            assert "r1-xss" not in (a[col] or ""), f"{url} {col} kept script content: {a[col]!r}"
        for col in ("authors", "tags"):
            for v in a[col]:
                assert not text_problems(v), f"{url} {col}: {v!r}"
    for table, col, value in every_stored_string(hostile.db):
        # raw pages keep the original bytes on purpose; story signatures are binary hashes
        if (table, col) not in {("raw_pages", "body_gz"), ("story_sketches", "signature"),
                                ("story_sketches", "lead_signature")}:
            assert "\x00" not in value, f"NUL stored in {table}.{col}"
    ctrl = arts[hostile.url("/news/control-chars")]
    assert ctrl["title"] == "Harbour pilots agree night deal"
    assert "Harbour pilots agreed on Tuesday to resume night sailings" in ctrl["text"]
    script = arts[hostile.url("/news/script-page")]
    assert script["title"] == "Council budget approved"
    assert "freezes parking charges in the town centre" in script["text"]
    # page gone (404): the article falls back to the feed entry, whose markup/script is stripped
    gone = arts[hostile.url("/news/gone-page")]
    assert gone["text_source"] == "feed" and gone["title"] == "Ferry fares frozen"
    assert gone["text"].startswith("Ferry fares will stay at last year's level")


def test_link_policy(hostile: HostileRun) -> None:
    arts = hostile.articles()
    assert hostile.url("/news/relative-story") in arts  # relative → resolved against the channel link
    assert hostile.url("/news/guid-story") in arts  # no <link>: the permalink guid is the link
    assert not [u for u in arts if not u.startswith("http://127.0.0.1:")], "a non-http URL became an article"
    no_link = [json.loads(r[4])["title"] for r in hostile.rejects(hostile.first) if r[1] == "no_link"]
    assert no_link, "items without a usable link were not recorded"
    assert set(no_link) <= {"Javascript link", "Data link", "No guid no link"}


def test_every_unusable_item_gets_its_own_reject(hostile: HostileRun) -> None:
    no_link = [(r[3], json.loads(r[4])["title"]) for r in hostile.rejects(hostile.first) if r[1] == "no_link"]
    assert sorted(t for s, t in no_link if s == hostile.url("/feeds/content.xml")) == ["Data link", "Javascript link"]


def test_items_sharing_one_guid_or_none_keep_their_own_articles(hostile: HostileRun) -> None:
    arts = hostile.articles()
    for i in (1, 2, 3):
        assert hostile.url(f"/news/shared-{i}") in arts
    links = rows(hostile.db, "SELECT guid, entry_url FROM article_feeds WHERE feed_url = ? ORDER BY entry_url",
                 [hostile.url("/feeds/shared-guid.xml")])
    # a guid shared by items with different links identifies nothing: each item is keyed by its link
    assert [(g, u) for g, u in links][:3] == [(u, u) for _, u in links][:3]
    assert SHARED_GUID not in [g for g, _ in links]
    no_guid = dict(rows(hostile.db, "SELECT entry_url, guid FROM article_feeds WHERE feed_url = ?",
                        [hostile.url("/feeds/no-guid.xml")]))
    assert no_guid == {hostile.url("/news/noguid-1"): hostile.url("/news/noguid-1"),
                       hostile.url("/news/noguid-2"): hostile.url("/news/noguid-2")}
    # the second run re-polled everything: nothing already stored was stored twice
    assert rows(hostile.db, "SELECT count(*) - count(DISTINCT url) FROM articles") == [(0,)]


def test_new_item_reusing_a_shared_guid_is_not_lost(hostile: HostileRun) -> None:
    assert hostile.second["articles_new"] >= 1
    assert hostile.url("/news/shared-4") in hostile.articles()


def test_date_policy(hostile: HostileRun) -> None:
    arts = hostile.articles()

    def date(slug: str) -> tuple[datetime | None, str | None]:
        a = arts[hostile.url(f"/news/{slug}")]
        return a["published_at"], a["published_at_source"]

    for slug in ("date-future", "date-garbage", "date-y10k", "date-y10k-iso", "date-epoch"):
        assert date(slug) == (None, None), f"{slug}: {date(slug)}"
    naive, src = date("date-naive")
    assert naive is not None and naive.astimezone(UTC) == datetime(2025, 6, 1, 10, 30, tzinfo=UTC) and src == "feed"
    offset, _ = date("date-offset")
    assert offset is not None and offset.astimezone(UTC) == datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
    near, _ = date("date-near")  # 2 h ahead is within the 24 h tolerance
    expected = (hostile.now + timedelta(hours=2)).replace(microsecond=0)
    assert near is not None and abs((near.astimezone(UTC) - expected).total_seconds()) <= 1


@pytest.mark.parametrize("path", sorted(TRUE_TEXT))
def test_misdeclared_charsets_store_the_true_text(hostile: HostileRun, path: str) -> None:
    a = hostile.articles()[hostile.url(path)]
    assert a["text_source"] == "page"
    text = " ".join(a["text"].split())
    for sentence in TRUE_TEXT[path]:
        assert sentence in text, f"{path}: true text missing; stored {a['text'][:300]!r}"


def test_huge_single_line_documents_are_cut_at_the_cap(hostile: HostileRun) -> None:
    rejects = {(r[0], r[2]): r[1] for r in hostile.rejects(hostile.first)}
    assert rejects[("poll", hostile.url("/feeds/huge.xml"))] == "too_large"
    biggest = rows(hostile.db, "SELECT max(body_bytes) FROM raw_pages")[0][0]
    assert biggest <= MAX_PAGE
    arts = hostile.articles()
    reasons = dict(rows(hostile.db, "SELECT url, text_source_reason FROM articles"))
    for path in ("/pages/huge-chunked", "/pages/huge-declared"):  # the feed's own text is kept, and says why
        assert arts[hostile.url(path)]["text_source"] == "feed"
        assert reasons[hostile.url(path)] == "too_large", path
        assert ("fetch", hostile.url(path)) not in rejects, path  # stored, so not a reject
    large = arts.get(hostile.url("/pages/large-single-line"))
    large_reject = rejects.get(("extract", hostile.url("/pages/large-single-line")))
    outcome = f"article of {len(large['text'])} chars" if large else large_reject
    print(f"\nhostile run 1: {hostile.first['_elapsed']:.1f}s; 4.5 MB one-line page → {outcome}")
    assert large is not None or large_reject is not None, "the 4.5 MB page vanished without a record"
    if large is not None:
        assert large["text_source"] == "page" and large["text"].startswith(STORY[0][:60])
    assert hostile.first["_elapsed"] < 60


# ----------------------------------------------------------------------------- parse-level checks


def _mixed_feed() -> bytes:
    head = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Mixed</title>'
            "<link>https://harbour.example/</link><item><title>Café owners welcome the square</title>"
            "<link>https://harbour.example/a</link><description>Zürich — “naïve”</description></item>"
            "<item><title>Second</title><link>https://harbour.example/b</link><description>price ")
    return head.encode("utf-8") + b"\x80" + b"5 only</description></item></channel></rss>"


def test_one_stray_byte_does_not_garble_a_utf8_feed() -> None:
    parsed = parse_feed(_mixed_feed(), "https://harbour.example/feed")
    titles = [e.title for e in parsed.entries]
    assert titles[0] == "Café owners welcome the square", titles
    assert parsed.entries[0].summary == "Zürich — “naïve”"


def test_entity_refusal_is_fast_and_classified() -> None:
    """The refusals above must not cost an expansion first: parse time stays tiny."""
    body = _template("billion_laughs.xml", BASE="https://harbour.example").encode()
    started = time.monotonic()
    with pytest.raises(PipelineError) as err:
        parse_feed(body, "https://harbour.example/feed")
    assert err.value.reason is Reason.FEED_PARSE_ERROR
    assert time.monotonic() - started < 1.0
