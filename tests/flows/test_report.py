"""flows/report.py: the run summary, its markdown and the terminal table (no Prefect run needed)."""

from __future__ import annotations

from pathlib import Path

from flows.decisions import FeedOutcome
from flows.report import IngestSummary, feed_table, render_markdown, render_text
from schemas.failures import Reason
from schemas.records import FeedSpec, Reject
from tests.support.factories import article
from warehouse.load import LoadResult


def _summary() -> IngestSummary:
    outcomes = [
        FeedOutcome(FeedSpec(url="https://a.example/rss", name="A"), "ok", http_status=200, entries=3, new_items=2),
        FeedOutcome(FeedSpec(url="https://b.example/rss"), "warning", http_status=200, entries=1, message="bozo"),
        FeedOutcome(FeedSpec(url="https://c.example/rss"), "not_modified", http_status=304),
        FeedOutcome(FeedSpec(url="https://d.example/rss"), "unchanged", http_status=200),
        FeedOutcome(FeedSpec(url="https://e.example/rss"), "backoff", reason="backoff"),
        FeedOutcome(FeedSpec(url="https://f.example/rss", name="F"), "failed", reason="dns_error",
                    message="cannot resolve f.example | twice"),
    ]
    rejects = [Reject.make(run_id="r", stage="fetch", reason=Reason.TIMEOUT, message="m", url=f"https://x/{i}")
               for i in range(2)] + [Reject.make(run_id="r", stage="parse", reason=Reason.NO_LINK, message="m")]
    return IngestSummary.build(run_id="r", outcomes=outcomes, articles=[article(1), article(2, text_source="feed")],
                               rejects=rejects, pages_fetched=4)


def test_build_counts_feeds_by_status_and_rejects_by_reason() -> None:
    s = _summary()
    assert (s.feeds_ok, s.feeds_unchanged, s.feeds_backoff, s.feeds_failed) == (2, 2, 1, 1)
    assert (s.articles_new, s.articles_from_feed_text, s.pages_fetched, s.rejects) == (2, 1, 4, 3)
    assert s.rejects_by_reason == {"timeout": 2, "no_link": 1}
    assert [f.feed for f in s.feeds][:2] == ["A", "https://b.example/rss"]  # name, else the URL
    assert s.load_status == "pending"


def test_apply_load_takes_the_warehouse_counts_only_when_loaded() -> None:
    s = _summary()
    staged_before = [LoadResult(status="loaded", batch_id="old"), LoadResult(status="failed", batch_id="bad")]
    s.apply_load(LoadResult(status="loaded", batch_id="b", articles_new=1, links_new=5), staged_before)
    assert (s.load_status, s.articles_new, s.links_new, s.staged_path, s.staged_batches_loaded) == (
        "loaded", 1, 5, None, 1)
    t = _summary()
    t.apply_load(LoadResult(status="staged", batch_id="b", path=Path("/tmp/stage/b")), [])
    assert (t.load_status, t.articles_new, t.staged_path) == ("staged", 2, "/tmp/stage/b")


def test_apply_loads_sums_a_busy_runs_batches_and_any_staged_batch_makes_it_staged() -> None:
    s = _summary()
    s.apply_loads([LoadResult(status="loaded", batch_id="p1", articles_new=3, links_new=4),
                   LoadResult(status="loaded", batch_id="last", articles_new=2, links_new=2)], [])
    assert (s.load_status, s.articles_new, s.links_new, s.staged_path) == ("loaded", 5, 6, None)
    t = _summary()
    t.apply_loads([LoadResult(status="loaded", batch_id="p1", articles_new=3, links_new=4),
                   LoadResult(status="staged", batch_id="last", path=Path("/tmp/stage/last"))], [])
    # the database was taken mid-run: the run is staged, with the counts of what it built
    assert (t.load_status, t.articles_new, t.staged_path) == ("staged", 2, "/tmp/stage/last")


def test_a_quiet_run_is_one_that_changed_nothing_the_report_shows() -> None:
    from flows.report import IngestSummary

    assert IngestSummary(run_id="r", feeds_unchanged=500, feeds_backoff=2).quiet()
    assert not IngestSummary(run_id="r", feeds_unchanged=499, feeds_ok=1).quiet()  # a new body, parsed
    assert not IngestSummary(run_id="r", feeds_unchanged=499, feeds_failed=1).quiet()  # a feed broke
    assert not IngestSummary(run_id="r", feeds_unchanged=500, articles_from_staging=2).quiet()
    assert not IngestSummary(run_id="r", feeds_unchanged=500, articles_new=1).quiet()


def test_markdown_and_text_renderings() -> None:
    data = _summary().as_dict()
    md = render_markdown(data)
    assert md.splitlines()[:5] == [
        "# newsflow ingest run `r`",
        "",
        "- load: **pending**",
        "- feeds: 2 ok, 2 unchanged, 1 failed, 1 backing off",
        "- pages fetched: 4; new articles: 2 (1 from feed text); rejects: 3",
    ]
    assert "- rejects by reason: timeout 2, no_link 1" in md
    assert md.endswith("| F | dns_error | cannot resolve f.example / twice |")  # pipes in details escaped
    assert "## Failed feeds" not in render_markdown(data, failed_table=False)

    rows = feed_table(data)
    assert rows[2] == {"feed": "https://c.example/rss", "status": "not_modified", "http": 304, "entries": 0,
                       "new": 0, "reason": "", "detail": ""}
    assert rows[4]["http"] == ""
    text = render_text(data)
    head, *body = text.splitlines()
    assert head.split() == ["feed", "status", "http", "entries", "new", "reason", "detail"]
    assert body[0].split()[:5] == ["A", "ok", "200", "3", "2"]
    assert "load: pending" in text and "**" not in text and "`" not in text
