"""Analyst views over a small, hand-checked data set."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.support.factories import BASE, article, feed_state, link
from warehouse.batch import Batch
from warehouse.db import connect_read
from warehouse.load import load_batch


def rows(db: Path, sql: str) -> list[tuple]:
    conn = connect_read(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _load_world(db: Path) -> dict[str, str]:
    late_night = datetime(2024, 3, 1, 23, 30, tzinfo=UTC)
    a = article(1, outlet="Alpha News", published=late_night)
    b = article(2, outlet="Alpha News", published=late_night + timedelta(hours=1))  # next UTC day
    c = article(3, outlet="Beta Times", published=late_night)
    d = article(4, outlet="Beta Times", published=None, ingested_at=datetime(2024, 3, 5, 6, 0, tzinfo=UTC))
    feed1, feed2, dead = "https://alpha.example/rss", "https://beta.example/rss", "https://dead.example/rss"
    load_batch(db, Batch(
        articles=[a, b, c, d],
        links=[link(a, feed_url=feed1), link(a, feed_url=feed2), link(a, feed_url=feed2, guid="utm-variant"),
               link(b, feed_url=feed1), link(c, feed_url=feed2), link(d, feed_url=feed2)],
        feed_states=[feed_state(feed1), feed_state(feed2),
                     feed_state(dead, name="Dead", status="failed", failures=4, polled=BASE)],
    ))
    return {"a": a.article_id, "b": b.article_id, "feed1": feed1, "feed2": feed2, "dead": dead}


def test_v_articles_counts_feeds_and_has_no_raw_html(db_path: Path) -> None:
    ids = _load_world(db_path)
    conn = connect_read(db_path)
    cols = [r[0] for r in conn.execute("DESCRIBE v_articles").fetchall()]
    conn.close()
    assert "body_gz" not in cols and "text" in cols and "feeds" in cols
    feeds = dict(rows(db_path, "SELECT article_id, feeds FROM v_articles"))
    assert feeds[ids["a"]] == 2  # two feeds (one of them twice, via two guids)
    assert feeds[ids["b"]] == 1
    assert len(feeds) == 4


def test_v_daily_counts_uses_utc_day_and_never_counts_undated_on_ingest_day(db_path: Path) -> None:
    _load_world(db_path)
    got = rows(db_path, "SELECT day, outlet, articles, stories FROM v_daily_counts ORDER BY day, outlet")
    assert got == [
        (date(2024, 3, 1), "Alpha News", 1, 1),
        (date(2024, 3, 1), "Beta Times", 1, 1),
        (date(2024, 3, 2), "Alpha News", 1, 1),
    ]  # the undated Beta Times story (ingested 2024-03-05) is on no day


def test_v_outlets_says_how_many_are_undated(db_path: Path) -> None:
    _load_world(db_path)
    got = rows(db_path, "SELECT outlet, articles, undated, first_published_at IS NOT NULL FROM v_outlets ORDER BY 1")
    assert got == [("Alpha News", 2, 0, True), ("Beta Times", 2, 1, True)]


def test_v_daily_counts_counts_a_story_group_once(db_path: Path) -> None:
    when = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    copies = [article(10 + i, outlet="Alpha News", published=when, dup_group_id="g-1", dup_similarity=0.9)
              for i in range(3)]
    other = article(20, outlet="Alpha News", published=when)
    load_batch(db_path, Batch(articles=[*copies, other]))
    assert rows(db_path, "SELECT day, outlet, articles, stories FROM v_daily_counts") == [
        (date(2024, 3, 1), "Alpha News", 4, 2)]


def test_v_daily_counts_does_not_depend_on_session_time_zone(db_path: Path) -> None:
    _load_world(db_path)
    conn = connect_read(db_path)
    try:
        conn.execute("SET TimeZone = 'Asia/Tokyo'")
        got = conn.execute("SELECT day, count(*) FROM v_daily_counts GROUP BY day ORDER BY day").fetchall()
    finally:
        conn.close()
    assert [d for d, _ in got] == [date(2024, 3, 1), date(2024, 3, 2)]


def test_v_feed_health(db_path: Path) -> None:
    ids = _load_world(db_path)
    got = {r[0]: r[1:] for r in rows(
        db_path,
        "SELECT feed_url, name, last_status, consecutive_failures, backoff_until IS NOT NULL, articles "
        "FROM v_feed_health",
    )}
    assert got == {
        ids["feed1"]: ("Example News", "ok", 0, False, 2),
        ids["feed2"]: ("Example News", "ok", 0, False, 3),
        ids["dead"]: ("Dead", "failed", 4, True, 0),
    }
