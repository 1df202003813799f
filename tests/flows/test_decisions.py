"""flows/decisions.py: the ingest flow's decisions as plain functions (no Prefect, no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from extractors.net.fetcher import FetchResult
from extractors.normalize.urls import article_id_for
from extractors.sources.feeds import body_hash
from flows.decisions import (
    Candidate,
    FeedOutcome,
    PollOutcome,
    collect_candidates,
    collect_results,
    feed_item_keys,
    feed_outcome,
    guid_for,
    is_backing_off,
    needs_parsing,
    next_state,
    page_job,
    resolve_known,
)
from flows.jobs import JobResult
from schemas.failures import PipelineError, Reason
from schemas.records import FeedEntry, FeedSpec, FeedState, ParsedFeed
from schemas.settings import Settings
from tests.support.factories import article

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
FEED = "https://harbour.example/feed.xml"
OTHER = "https://valley.example/rss"
SPEC = FeedSpec(url=FEED, name="Harbour")
RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour</title><link>https://harbour.example/</link>'
       b"<item><title>Ferry</title><link>https://harbour.example/ferry</link><guid>g1</guid></item>"
       b"</channel></rss>")


def _fetch(body: bytes = RSS, *, url: str = FEED, status: int = 200, not_modified: bool = False,
           headers: dict[str, str] | None = None) -> FetchResult:
    return FetchResult(url=url, final_url=url, status=status, headers=headers or {}, body=body,
                       content_type="application/rss+xml", not_modified=not_modified)


def _settings() -> Settings:
    return Settings(backoff_base=300.0, backoff_max=3600.0)


def _entry(link: str | None, guid: str | None = None, feed: str = FEED, title: str = "t") -> FeedEntry:
    return FeedEntry(feed_url=feed, link=link, guid=guid, title=title)


def _parsed(*entries: FeedEntry, feed: str = FEED) -> FeedOutcome:
    return FeedOutcome(FeedSpec(url=feed), "ok", parsed=ParsedFeed(feed_url=feed, entries=list(entries)))


# ------------------------------------------------------------------ feed outcomes


def test_feed_outcome_for_each_poll_result() -> None:
    state = FeedState(feed_url=FEED, backoff_until=NOW + timedelta(hours=1))
    backoff = feed_outcome(PollOutcome(SPEC, state, skipped=True), 24.0)
    assert (backoff.status, backoff.reason, backoff.message) == ("backoff", "backoff", "backing off until 2024-06-01 13:00 UTC")

    err = PipelineError(Reason.SERVER_ERROR, "server error", retry_after=30.0)
    failed = feed_outcome(PollOutcome(SPEC, FeedState(feed_url=FEED), error=err), 24.0)
    assert (failed.status, failed.reason, failed.message, failed.retry_after) == ("failed", "http_5xx", "server error", 30.0)

    same = feed_outcome(PollOutcome(SPEC, FeedState(feed_url=FEED), result=_fetch(not_modified=True, status=304)), 24.0)
    assert (same.status, same.http_status) == ("not_modified", 304)

    seen = FeedState(feed_url=FEED, body_hash=body_hash(RSS), last_status="ok")
    assert feed_outcome(PollOutcome(SPEC, seen, result=_fetch()), 24.0).status == "unchanged"
    # the same body after a failed poll is parsed again
    after_failure = seen.model_copy(update={"last_status": "failed"})
    ok = feed_outcome(PollOutcome(SPEC, after_failure, result=_fetch()), 24.0)
    assert (ok.status, ok.entries, ok.http_status) == ("ok", 1, 200)

    junk = feed_outcome(PollOutcome(SPEC, FeedState(feed_url=FEED), result=_fetch(b"<html><body>hi</body></html>")), 24.0)
    assert (junk.status, junk.reason) == ("failed", "not_a_feed")


def test_needs_parsing_only_for_a_body_not_seen_before() -> None:
    """What makes an ingest start its extraction pool early: a feed that may bring new stories."""
    seen = FeedState(feed_url=FEED, body_hash=body_hash(RSS), last_status="ok")
    assert needs_parsing(PollOutcome(SPEC, FeedState(feed_url=FEED), result=_fetch()))
    assert needs_parsing(PollOutcome(SPEC, seen, result=_fetch(b"<rss version='2.0'><channel/></rss>")))
    assert needs_parsing(PollOutcome(SPEC, seen.model_copy(update={"last_status": "failed"}), result=_fetch()))
    assert not needs_parsing(PollOutcome(SPEC, seen, result=_fetch()))
    assert not needs_parsing(PollOutcome(SPEC, seen, result=_fetch(not_modified=True, status=304)))
    assert not needs_parsing(PollOutcome(SPEC, seen, error=PipelineError(Reason.SERVER_ERROR, "down")))
    assert not needs_parsing(PollOutcome(SPEC, seen, skipped=True))


def test_is_backing_off() -> None:
    assert is_backing_off(FeedState(feed_url=FEED, backoff_until=NOW + timedelta(seconds=1)), NOW)
    assert not is_backing_off(FeedState(feed_url=FEED, backoff_until=NOW), NOW)
    assert not is_backing_off(FeedState(feed_url=FEED), NOW)


# ------------------------------------------------------------------ candidates


def test_guid_for_prefers_guid_then_link_then_text_hash() -> None:
    assert guid_for(_entry("https://a.example/x", guid="g"), "https://a.example/x") == "g"
    assert guid_for(_entry("https://a.example/x"), "https://a.example/x") == "https://a.example/x"
    hashed = guid_for(_entry(None, title="Ferry"), None)
    assert hashed.startswith("sha256:") and len(hashed) == 7 + 32
    assert hashed == guid_for(_entry(None, title="Ferry"), None)
    assert hashed != guid_for(_entry(None, title="Other"), None)


def test_collect_candidates_groups_one_story_and_rejects_what_it_cannot_use() -> None:
    story = "https://harbour.example/ferry?utm_source=rss"
    outcomes = [
        _parsed(_entry(story, guid="g1"), _entry("ftp://harbour.example/x", guid="g2")),
        _parsed(_entry("https://harbour.example/ferry", guid="v1", feed=OTHER), feed=OTHER),
        FeedOutcome(FeedSpec(url="https://down.example/rss"), "failed", reason="dns_error", message="no such host"),
        FeedOutcome(FeedSpec(url="https://bad.example/rss"), "failed", reason="not_a_feed", message="html",
                    result=_fetch(url="https://bad.example/rss")),
    ]
    cands, rejects = collect_candidates(outcomes, "run-1")
    aid = article_id_for("https://harbour.example/ferry")
    assert list(cands) == [aid]
    assert cands[aid].links == [(FEED, "g1", story), (OTHER, "v1", "https://harbour.example/ferry")]
    assert [(r.stage, r.reason, r.source) for r in rejects] == [
        ("parse", Reason.NO_LINK, FEED),
        ("poll", Reason.DNS_ERROR, "https://down.example/rss"),
        ("parse", Reason.NOT_A_FEED, "https://bad.example/rss"),
    ]
    assert feed_item_keys(cands) == [(FEED, "g1"), (OTHER, "v1")]


def test_a_guid_shared_by_different_links_is_dropped_for_the_link() -> None:
    cands, _ = collect_candidates(
        [_parsed(_entry("https://harbour.example/a", guid="same"), _entry("https://harbour.example/b", guid="same"))],
        "run-1")
    assert [c.links[0][1] for c in cands.values()] == ["https://harbour.example/a", "https://harbour.example/b"]


def test_resolve_known_fetches_only_unknown_stories_and_links_known_ones() -> None:
    known_url, linked_url, new_url = (f"https://harbour.example/{n}" for n in ("known", "linked", "new"))
    cands = {
        article_id_for(u): Candidate(article_id_for(u), u, _entry(u), [(FEED, g, u), (OTHER, g + "x", u)])
        for u, g in ((known_url, "k"), (linked_url, "l"), (new_url, "n"))
    }
    seen_links = {(FEED, "l"): "stored-under-another-id", (OTHER, "kx"): article_id_for(known_url)}
    to_fetch, links, new_by_feed = resolve_known(cands, seen_links, {article_id_for(known_url)}, "run-1", NOW)
    assert [c.url for c in to_fetch] == [new_url]
    assert new_by_feed == {FEED: 1, OTHER: 1}
    # only the feed items not yet linked get a link row, to the id the story is stored under
    assert [(ln.article_id, ln.feed_url, ln.guid) for ln in links] == [
        (article_id_for(known_url), FEED, "k"),
        ("stored-under-another-id", OTHER, "lx"),
    ]


# ------------------------------------------------------------------ pages and results


def test_page_job_for_fetched_failed_and_refused_pages() -> None:
    c = Candidate("a1", "https://harbour.example/ferry", _entry("https://harbour.example/ferry"),
                  [(FEED, "g1", "https://harbour.example/ferry")])
    page = _fetch(b"<html></html>", url="https://harbour.example/ferry")
    page.final_url = "https://harbour.example/ferry-final"
    job, reject = page_job(c, page, run_id="r", now=NOW, tolerance_hours=48.0)
    assert reject is None and job is not None
    assert (job.url, job.html, job.fetched_at, job.compress_raw, job.tolerance_hours) == (
        "https://harbour.example/ferry-final", b"<html></html>", NOW, True, 48.0)

    job, reject = page_job(c, PipelineError(Reason.TIMEOUT, "slow"), run_id="r", now=NOW, tolerance_hours=24.0)
    assert job is not None and job.html is None and job.entry is c.entry  # the feed text stands in
    assert reject is None and (job.page_failure, job.page_failure_message) == (Reason.TIMEOUT, "slow")

    job, reject = page_job(c, PipelineError(Reason.BLOCKED_ADDRESS, "private"), run_id="r", now=NOW,
                           tolerance_hours=24.0)
    assert job is None and reject is not None and reject.reason == Reason.BLOCKED_ADDRESS


def test_page_job_carries_the_feeds_outlet_and_language() -> None:
    c = Candidate("a1", "https://harbour.example/ferry", _entry("https://harbour.example/ferry"),
                  [(FEED, "g1", "https://harbour.example/ferry")], outlet="Harbour Herald", language="en-gb")
    job, _ = page_job(c, _fetch(b"<html></html>"), run_id="r", now=NOW, tolerance_hours=24.0)
    assert job is not None and (job.feed_outlet, job.feed_language) == ("Harbour Herald", "en-gb")


def test_a_refetch_that_fails_or_is_unchanged_changes_nothing() -> None:
    c = Candidate("a1", "https://harbour.example/ferry", _entry("https://harbour.example/ferry"),
                  [(FEED, "g1", "https://harbour.example/ferry")], refetch=True)
    assert page_job(c, PipelineError(Reason.SERVER_ERROR, "down"), run_id="r", now=NOW, tolerance_hours=24.0) == (
        None, None)
    assert page_job(c, _fetch(not_modified=True, status=304), run_id="r", now=NOW, tolerance_hours=24.0) == (
        None, None)


def test_collect_results_keeps_raw_pages_and_rejects_only_what_was_lost() -> None:
    urls = [f"https://harbour.example/{n}" for n in ("ok", "empty", "down", "badfeed")]
    by_key = {u: Candidate(u, u, _entry(u), [(FEED, u, u)]) for u in urls}
    pages = {urls[0]: _fetch(b"a", url=urls[0]), urls[1]: _fetch(b"b", url=urls[1]),
             urls[2]: PipelineError(Reason.TIMEOUT, "slow"), urls[3]: PipelineError(Reason.TIMEOUT, "slow")}
    results = [
        JobResult(key=urls[0], article=article(0, url=urls[0], article_id=article_id_for(urls[0]))),
        JobResult(key=urls[1], reason=Reason.NO_TEXT, message="empty"),
        JobResult(key=urls[2], article=article(2, url=urls[2], article_id=article_id_for(urls[2]),
                                               text_source="feed", text_source_reason="timeout")),
        JobResult(key=urls[3], stage="normalize", reason=Reason.INVALID_RECORD, message="bad"),
    ]
    articles, links, raws, rejects = collect_results(results, by_key, pages, run_id="r", now=NOW)
    assert [a.url for a in articles] == [urls[0], urls[2]]
    assert [(ln.article_id, ln.guid) for ln in links] == [(article_id_for(urls[0]), urls[0]),
                                                          (article_id_for(urls[2]), urls[2])]
    assert [(p.url, p.article_id) for p in raws] == [(urls[0], article_id_for(urls[0])), (urls[1], urls[1])]
    # the story stored from its feed's text is degraded, not lost: no reject for it
    assert [(r.url, r.stage, r.reason) for r in rejects] == [
        (urls[1], "extract", Reason.NO_TEXT),
        (urls[3], "fetch", Reason.TIMEOUT),
    ]
    assert "feed text unusable: bad" in rejects[1].message


def test_collect_results_never_replaces_a_stored_story_with_feed_text() -> None:
    url = "https://harbour.example/updated"
    page_text = Candidate("stored-id-1", url, _entry(url), [(FEED, "g", url)], refetch=True)
    feed_text = Candidate("stored-id-2", url + "2", _entry(url + "2"), [(FEED, "g2", url + "2")], refetch=True)
    results = [
        JobResult(key="stored-id-1", article=article(1, url=url, article_id=article_id_for(url))),
        JobResult(key="stored-id-2", article=article(2, url=url + "2", text_source="feed")),
    ]
    pages = {"stored-id-1": _fetch(b"new", url=url), "stored-id-2": PipelineError(Reason.TIMEOUT, "slow")}
    articles, _, raws, rejects = collect_results(results, {"stored-id-1": page_text, "stored-id-2": feed_text},
                                                 pages, run_id="r", now=NOW)
    assert [a.article_id for a in articles] == ["stored-id-1"]  # kept under the stored id
    assert [p.article_id for p in raws] == ["stored-id-1"] and rejects == []


# ------------------------------------------------------------------ feed state


def test_next_state_backs_off_exponentially_and_resets_on_success() -> None:
    settings = _settings()
    prev = FeedState(feed_url=FEED)
    failed = FeedOutcome(SPEC, "failed", http_status=500, reason="http_5xx", message="boom")
    s1 = next_state(failed, prev, settings, NOW)
    assert (s1.consecutive_failures, s1.backoff_until, s1.last_reason, s1.name) == (
        1, NOW + timedelta(seconds=300), "http_5xx", "Harbour")
    s2 = next_state(failed, s1, settings, NOW)
    assert (s2.consecutive_failures, s2.backoff_until) == (2, NOW + timedelta(seconds=600))
    s9 = next_state(failed, s2.model_copy(update={"consecutive_failures": 8}), settings, NOW)
    assert s9.backoff_until == NOW + timedelta(seconds=3600)  # capped at backoff_max
    told = FeedOutcome(SPEC, "failed", reason="http_429", retry_after=42.0)
    assert next_state(told, prev, settings, NOW).backoff_until == NOW + timedelta(seconds=42)

    res = _fetch(headers={"etag": '"v2"', "last-modified": "Sat, 01 Jun 2024 10:00:00 GMT"})
    ok = FeedOutcome(SPEC, "ok", http_status=200, result=res, parsed=ParsedFeed(feed_url=FEED, entries=[_entry("https://h.example/a")]))
    s = next_state(ok, s9, settings, NOW)
    assert (s.consecutive_failures, s.backoff_until, s.last_reason, s.last_error, s.last_ok_at) == (0, None, None, None, NOW)
    assert (s.etag, s.last_modified, s.body_hash, s.entries_last_seen) == (
        '"v2"', "Sat, 01 Jun 2024 10:00:00 GMT", body_hash(RSS), 1)


def test_next_state_leaves_a_backing_off_feed_untouched_and_keeps_validators_on_304() -> None:
    prev = FeedState(feed_url=FEED, etag='"v1"', consecutive_failures=2, backoff_until=NOW + timedelta(hours=1))
    assert next_state(FeedOutcome(SPEC, "backoff"), prev, _settings(), NOW) == prev.model_copy(
        update={"name": "Harbour"})
    unchanged = FeedOutcome(SPEC, "not_modified", http_status=304, result=_fetch(not_modified=True, status=304))
    s = next_state(unchanged, prev, _settings(), NOW)
    assert (s.etag, s.last_status, s.consecutive_failures, s.backoff_until) == ('"v1"', "not_modified", 0, None)
    warned = next_state(FeedOutcome(SPEC, "warning", message="bozo"), prev, _settings(), NOW)
    assert (warned.last_status, warned.last_error) == ("warning", "bozo")
