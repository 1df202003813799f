"""Scenario 2 — network faults, through the real hourly flow against misbehaving local servers.

One host (``127.0.0.1``) misbehaves in every way at once; a second host (``localhost``, the same
machine under another name, so it gets its own politeness slots) is healthy. One run must end
within its limits, classify and record every failure, let the healthy host finish while the bad
one hangs, and back off so the next run leaves the failed feeds alone. Memory bounds for the gzip
bomb and the endless body are measured in a child process so the test process's own heap does
not blur them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.flows.site import article_page, load_stories, rss
from tests.support.cli import ROOT, child_env
from tests.support.dbrows import rows as _rows
from tests.support.http_server import RawServer, gzip_bomb, gzip_route

FEED_TIMEOUT = 1.5
PAGE_TIMEOUT = 1.5
RETRIES = 1
BACKOFF_BASE = 600.0
#: slack for scheduling on a busy 2-core machine
MARGIN = 1.0
MB = 1024 * 1024

# feed path on the bad host -> (reason recorded, rejects stage)
FAILING_FEEDS: dict[str, tuple[str, str]] = {
    "/stall.xml": ("timeout", "poll"),
    "/drip.xml": ("timeout", "poll"),
    "/reset.xml": ("connection_reset", "poll"),
    "/reset-mid-body.xml": ("connection_reset", "poll"),
    "/500.xml": ("http_5xx", "poll"),
    "/503.xml": ("http_5xx", "poll"),
    "/429.xml": ("http_429", "poll"),
    "/loop-a.xml": ("redirect_loop", "poll"),
    "/chain/0.xml": ("too_many_redirects", "poll"),
    "/big-declared.xml": ("too_large", "poll"),
    "/big-endless.xml": ("too_large", "poll"),
    "/bomb.xml": ("too_large", "poll"),
    "/image.xml": ("bad_content_type", "poll"),
    "/html.xml": ("not_a_feed", "parse"),
    "/empty.xml": ("empty_body", "parse"),
    "/404.xml": ("http_404", "poll"),
    "/410.xml": ("http_410", "poll"),
}
TRANSIENT = {"/stall.xml", "/drip.xml", "/reset.xml", "/reset-mid-body.xml", "/500.xml"}
# page path on the bad host -> reason recorded for the fetch
FAILING_PAGES: dict[str, str] = {
    "/page/stall": "timeout",
    "/page/endless": "too_large",
    "/page/bomb": "too_large",
    "/page/pdf": "bad_content_type",
    "/page/gone": "http_410",
}

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = gzip_bomb(300)
    assert len(data) < 1 * MB  # a few hundred KB on the wire ...
    return data  # ... 300 MiB once inflated


@pytest.fixture
def bad() -> Iterator[RawServer]:
    with RawServer("127.0.0.1") as server:
        yield server


@pytest.fixture
def good() -> Iterator[RawServer]:
    with RawServer("localhost") as server:
        yield server


def _story(i: int, slug: str) -> dict[str, Any]:
    base = load_stories()[i % 5]
    return dict(base, slug=slug, title=f"{base['title']} ({slug})")


def _setup_bad_host(bad: RawServer, bomb: bytes, good_feed: bytes) -> None:
    bad.stall("/stall.xml")
    bad.drip("/drip.xml", interval=0.1)
    bad.reset("/reset.xml")
    bad.reset("/reset-mid-body.xml", after_bytes=b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                                                  b"Content-Length: 9000\r\n\r\n<?xml version=\"1.0\"?><rss>")
    bad.static("/500.xml", "oops", "text/plain", status=500)
    bad.static("/503.xml", "busy", "text/plain", status=503, headers={"Retry-After": "120"})
    bad.static("/429.xml", "slow down", "text/plain", status=429, headers={"Retry-After": "3600"})
    bad.redirect("/loop-a.xml", "/loop-b.xml")
    bad.redirect("/loop-b.xml", "/loop-a.xml")
    for i in range(30):
        bad.redirect(f"/chain/{i}.xml", f"/chain/{i + 1}.xml")
    bad.static("/big-declared.xml", b"<rss>" + b" " * (12 * MB) + b"</rss>", "application/rss+xml")
    bad.endless("/big-endless.xml", "application/rss+xml")
    gzip_route(bad, "/bomb.xml", bomb, "application/rss+xml")
    bad.static("/image.xml", b"\x89PNG\r\n\x1a\n" + b"\0" * 512, "image/png")
    bad.static("/html.xml", "<!DOCTYPE html><html><head><title>Home</title></head>"
                            "<body><h1>Welcome</h1><p>No feed here.</p></body></html>", "text/html; charset=utf-8")
    bad.static("/empty.xml", b"", "application/rss+xml")
    bad.static("/404.xml", "missing", "text/plain", status=404)
    bad.static("/410.xml", "gone", "text/plain", status=410)
    # a flaky feed: 503 with a short Retry-After, then fine — retried inside the run, after the wait
    bad.static("/flaky-ok.xml", good_feed, "application/rss+xml")
    bad.sequence("/flaky.xml", [bad.reply(503, b"busy", {"Retry-After": "1"}), bad.routes["/flaky-ok.xml"]])
    # a short redirect chain (within the cap) to a healthy feed
    bad.redirect("/hop/0.xml", "/hop/1.xml", status=301)
    bad.redirect("/hop/1.xml", "/flaky-ok.xml", status=307)
    # pages
    bad.stall("/page/stall", content_type="text/html")
    bad.endless("/page/endless", "text/html; charset=utf-8")
    gzip_route(bad, "/page/bomb", bomb, "text/html")
    bad.static("/page/pdf", b"%PDF-1.4\n" + b"0" * 2048, "application/pdf")
    bad.static("/page/gone", "gone", "text/plain", status=410)


def test_every_fault_is_bounded_recorded_isolated_and_backed_off(
    bad: RawServer, good: RawServer, bomb: bytes, tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"FEED_TIMEOUT": FEED_TIMEOUT, "PAGE_TIMEOUT": PAGE_TIMEOUT, "RETRIES": RETRIES,
                        "BACKOFF_BASE": BACKOFF_BASE, "WORKERS": 1, "PER_HOST_CONCURRENCY": 2,
                        "RETRY_BACKOFF": 0.05}.items():
        monkeypatch.setenv(f"NEWSFLOW_{name}", str(value))

    good_stories = [_story(i, f"good-{i}") for i in range(3)]
    bad_stories = [_story(i, f"bad{path.replace('/', '-')}") for i, path in enumerate(FAILING_PAGES)]
    for s in good_stories:
        good.static(f"/news/{s['slug']}", article_page(s), "text/html; charset=utf-8")
    # bad items and feeds come first, so a shared queue would put the healthy host behind them
    items = [(s, bad.url(path)) for s, path in zip(bad_stories, FAILING_PAGES, strict=True)]
    items += [(s, good.url(f"/news/{s['slug']}")) for s in good_stories]
    good.static("/good.xml", rss(items, title="Good host"), "application/rss+xml")
    flaky_feed = rss([(_story(4, "flaky-story"), good.url("/news/good-0"))], title="Flaky")
    _setup_bad_host(bad, bomb, flaky_feed.encode())

    feed_urls = [bad.url(p) for p in FAILING_FEEDS] + [bad.url("/flaky.xml"), bad.url("/hop/0.xml"),
                                                         good.url("/good.xml")]
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"url": u} for u in feed_urls]}))

    from flows.ingest import hourly_ingest

    t0 = time.monotonic()
    summary = hourly_ingest(feeds_file=str(feeds), db=str(db_path))
    elapsed = time.monotonic() - t0

    # --- the run completed and loaded, within a bound set by the timeouts (not by the bad server)
    assert summary["load_status"] == "loaded"
    assert elapsed < 45, f"run took {elapsed:.1f}s"
    by_feed = {f["url"]: f for f in summary["feeds"]}
    for path, (reason, _) in FAILING_FEEDS.items():
        row = by_feed[bad.url(path)]
        assert (row["status"], row["reason"]) == ("failed", reason), (path, row)
    assert by_feed[good.url("/good.xml")]["status"] == "ok"
    assert by_feed[bad.url("/flaky.xml")]["status"] == "ok"
    assert by_feed[bad.url("/hop/0.xml")]["status"] == "ok"
    assert summary["feeds_failed"] == len(FAILING_FEEDS)

    # --- each connection ended within its configured limit (the client hung up, not the server)
    limit = {"feed": FEED_TIMEOUT, "page": PAGE_TIMEOUT}
    for path in ["/stall.xml", "/drip.xml", "/page/stall"]:
        hits = bad.hits_to(path)
        assert len(hits) == RETRIES + 1, (path, len(hits))  # transient: retried, then given up
        for h in hits:
            assert h.outcome == "client_closed", (path, h.outcome)
            kind = "page" if path.startswith("/page") else "feed"
            assert limit[kind] - 0.2 <= h.duration < limit[kind] + MARGIN, (path, h.duration)
    for h in bad.hits:
        assert h.ended is not None and h.duration < FEED_TIMEOUT + MARGIN, (h.path, h.duration)
    # permanent failures are not retried; transient ones are, a bounded number of times
    for path in FAILING_FEEDS:
        n = len(bad.hits_to(path))
        expected = RETRIES + 1 if path in TRANSIENT else 1
        assert n == expected, (path, n)
    assert len(bad.hits_to("/chain/0.xml")) == 1 and not bad.hits_to("/chain/7.xml")  # cap of 5 hops
    # the endless bodies were cut off near the cap, not read to the end
    for path, cap in (("/big-endless.xml", 10 * MB), ("/page/endless", 5 * MB)):
        sent = bad.hits_to(path)[0].bytes_sent
        assert cap <= sent < cap + 8 * MB, (path, sent)
    # a short Retry-After is honoured inside the run: the retry came after the wait
    flaky = bad.hits_to("/flaky.xml")
    assert len(flaky) == 2 and flaky[1].started - flaky[0].started >= 1.0

    # --- the healthy host is not held back by the bad one
    stall_feed = bad.hits_to("/stall.xml")[0]
    good_feed = good.hits_to("/good.xml")[0]
    assert good_feed.ended is not None and good_feed.ended < stall_feed.started + FEED_TIMEOUT - 0.3
    stall_page = bad.hits_to("/page/stall")[0]
    good_pages = [h for h in good.hits if h.path.startswith("/news/")]
    assert len(good_pages) == len(good_stories)
    for h in good_pages:
        assert h.ended is not None and h.ended < stall_page.started + PAGE_TIMEOUT - 0.3, (
            "a good page waited for the stalled host")

    # --- every outcome is recorded: rejects, feed health, the run row
    rejects = {(r[0], r[1], r[2]) for r in _rows(db_path, "SELECT stage, reason, url FROM rejects")}
    for path, (reason, stage) in FAILING_FEEDS.items():
        assert (stage, reason, bad.url(path)) in rejects, (path, reason)
    # failed pages are degraded, not lost: stored from the feed's text with the reason, never rejects
    reasons = dict(_rows(db_path, "SELECT url, text_source_reason FROM articles WHERE text_source = 'feed'"))
    for path, reason in FAILING_PAGES.items():
        assert reasons.get(bad.url(path)) == reason, (path, reason)
        assert not any(url == bad.url(path) for _, _, url in rejects), path
    health = {r[0]: r[1:] for r in _rows(
        db_path, "SELECT feed_url, last_status, last_reason, consecutive_failures, backoff_until FROM v_feed_health")}
    now = datetime.now(UTC)
    for path, (reason, _) in FAILING_FEEDS.items():
        status, last_reason, failures, backoff_until = health[bad.url(path)]
        assert (status, last_reason, failures) == ("failed", reason, 1)
        wait = (backoff_until.astimezone(UTC) - now).total_seconds()
        expected = {"/429.xml": 3600.0, "/503.xml": 120.0}.get(path, BACKOFF_BASE)
        assert expected - 120 < wait <= expected + 1, (path, wait)  # Retry-After wins over the default
    assert health[good.url("/good.xml")][0] == "ok" and health[good.url("/good.xml")][3] is None
    runs = _rows(db_path, "SELECT feeds_total, feeds_failed, status FROM runs")
    assert runs == [(len(feed_urls), len(FAILING_FEEDS), "completed")]

    # --- nothing lost: every story is an article once (broken pages fall back to the feed text)
    arts = dict(_rows(db_path, "SELECT url, text_source FROM articles"))
    assert len(arts) == len(items) == _rows(db_path, "SELECT count(DISTINCT article_id) FROM articles")[0][0]
    for s in good_stories:
        assert arts[good.url(f"/news/{s['slug']}")] == "page"
    for path in FAILING_PAGES:
        assert arts[bad.url(path)] == "feed"

    # --- the next run respects the backoff: no request to any failed feed
    n_bad = len(bad.hits)
    second = hourly_ingest(feeds_file=str(feeds), db=str(db_path))
    asked = set(bad.paths(n_bad))
    assert not asked & set(FAILING_FEEDS), f"backed-off feeds were polled again: {asked & set(FAILING_FEEDS)}"
    assert "/flaky.xml" in asked  # healthy feeds on the same host are still polled
    assert second["feeds_backoff"] == len(FAILING_FEEDS)
    assert {f["url"]: f["status"] for f in second["feeds"]}[bad.url("/429.xml")] == "backoff"
    assert second["articles_new"] == 0
    again = {r[0]: r[1] for r in _rows(db_path, "SELECT feed_url, consecutive_failures FROM v_feed_health")}
    assert again[bad.url("/429.xml")] == 1  # a skipped poll is not another failure


def test_bomb_and_endless_bodies_keep_memory_bounded(bomb: bytes, tmp_path: Path) -> None:
    """The client runs in a child process; its RSS is sampled while it meets the bomb and the floods."""
    with RawServer("127.0.0.1") as server:
        server.static("/ok.xml", rss([(_story(0, "warm"), server.url("/news/warm"))]), "application/rss+xml")
        gzip_route(server, "/bomb.xml", bomb, "application/rss+xml")
        server.endless("/endless.xml", "application/rss+xml")
        gzip_route(server, "/bomb.html", bomb, "text/html")
        server.endless("/endless.html", "text/html")
        spec = {"warmup": server.url("/ok.xml"),
                "feeds": [server.url("/bomb.xml"), server.url("/endless.xml")],
                "pages": [server.url("/bomb.html"), server.url("/endless.html")]}
        env = child_env(NEWSFLOW_FEED_TIMEOUT="20", NEWSFLOW_PAGE_TIMEOUT="20", NEWSFLOW_RETRIES="0",
                        NEWSFLOW_RESPECT_ROBOTS="false")
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "tests.reliability.memory_probe", "probe", json.dumps(spec)],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        elapsed = time.monotonic() - t0
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        sent = {p: server.hits_to(p)[0].bytes_sent for p in ("/endless.xml", "/endless.html")}
    assert out["feeds"] == {server.url("/bomb.xml"): "too_large", server.url("/endless.xml"): "too_large"}
    assert out["pages"] == {server.url("/bomb.html"): "too_large", server.url("/endless.html"): "too_large"}
    # 300 MiB of bomb and an endless stream: the child grew by a small multiple of the caps at most
    assert out["feed_growth"] < 64 * MB, out
    assert out["page_growth"] < 64 * MB, out
    assert sent["/endless.xml"] < 18 * MB and sent["/endless.html"] < 13 * MB, sent
    assert elapsed < 60
