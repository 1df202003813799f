"""Loading batches into a real DuckDB file: idempotence, replace, in-batch duplicates, upserts."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from schemas.failures import Reason
from tests.support.factories import (
    BASE,
    archive_row,
    article,
    feed_state,
    link,
    raw_page,
    reject,
    run_record,
)
from warehouse.batch import Batch
from warehouse.db import WRITE_ROW_GROUP_SIZE, connect_read
from warehouse.load import load_batch, upsert_run
from warehouse.pages import pages_root, read_body

TABLES = ("articles", "article_feeds", "raw_pages", "rejects", "feeds", "runs", "archive_records")


def counts(db: Path) -> dict[str, int]:
    conn = connect_read(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def fetch(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    conn = connect_read(db)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def sample_batch(n: int = 10, run_id: str = "run-1") -> Batch:
    arts = [article(i, run_id=run_id) for i in range(n)]
    return Batch(
        run=run_record(run_id),
        articles=arts,
        links=[link(a, run_id=run_id) for a in arts],
        raw_pages=[raw_page(a, run_id=run_id) for a in arts[: n // 2]],
        rejects=[reject(i, run_id=run_id) for i in range(3)],
        feed_states=[feed_state(f"https://news{i}.example.com/rss.xml") for i in range(5)],
        archive_records=[archive_row(i, article_id=arts[i].article_id) for i in range(2)],
    )


def test_first_load_writes_everything(db_path: Path, tmp_path: Path) -> None:
    batch = sample_batch()
    result = load_batch(db_path, batch, staging_dir=tmp_path / "staging")
    assert result.status == "loaded"
    assert (result.articles_new, result.links_new, result.pages_new, result.rejects_new) == (10, 10, 5, 3)
    assert (result.feeds_updated, result.records_new, result.runs_written) == (5, 2, 1)
    assert counts(db_path) == {"articles": 10, "article_feeds": 10, "raw_pages": 5, "rejects": 3, "feeds": 5,
                               "runs": 1, "archive_records": 2}
    assert not (tmp_path / "staging").exists()

    stored = fetch(db_path, "SELECT title, authors, published_at, tags FROM articles WHERE article_id = ?",
                   [batch.articles[3].article_id])
    title, authors, published, tags = stored[0]
    assert title == "Headline 3" and authors == ["Reporter 0"] and tags == ["world"]
    assert published == batch.articles[3].published_at  # tz-aware, same instant
    inline, ref = fetch(db_path, "SELECT body_gz, body_ref FROM raw_pages WHERE page_id = ?",
                        [batch.raw_pages[0].page_id])[0]
    assert inline is None and ref  # the body went to its file beside the database
    assert read_body(pages_root(db_path), ref) == gzip.decompress(batch.raw_pages[0].body_gz)


def test_reloading_the_same_batch_changes_nothing(db_path: Path) -> None:
    batch = sample_batch()
    load_batch(db_path, batch)
    before = counts(db_path)
    snapshot = fetch(db_path, "SELECT * FROM articles ORDER BY article_id")
    again = load_batch(db_path, batch)
    assert again.status == "loaded"
    assert (again.articles_new, again.articles_replaced, again.links_new, again.pages_new, again.rejects_new,
            again.feeds_updated, again.records_new, again.runs_written) == (0, 0, 0, 0, 0, 0, 0, 0)
    assert counts(db_path) == before
    assert fetch(db_path, "SELECT * FROM articles ORDER BY article_id") == snapshot


def test_a_later_run_keeps_the_first_version_of_an_article(db_path: Path) -> None:
    load_batch(db_path, Batch(articles=[article(1, run_id="run-1")]))
    changed = article(1, run_id="run-2", text="A different text for the same story.")
    result = load_batch(db_path, Batch(articles=[changed, article(2, run_id="run-2")]))
    assert (result.articles_new, result.articles_replaced) == (1, 0)
    rows = fetch(db_path, "SELECT run_id, text FROM articles WHERE article_id = ?", [changed.article_id])
    assert rows[0][0] == "run-1" and "Story number 1" in rows[0][1]


def test_replace_mode_replaces_instead_of_duplicating(db_path: Path) -> None:
    load_batch(db_path, Batch(articles=[article(i) for i in range(4)]))
    new_text = "Re-extracted text with the boilerplate finally gone."
    replacement = [article(0, run_id="run-2", text=new_text), article(1, run_id="run-2"), article(9, run_id="run-2")]
    result = load_batch(db_path, Batch(articles=replacement, replace=True))
    # article 0 changed, article 1 identical apart from run/ingest bookkeeping, article 9 is new
    assert (result.articles_new, result.articles_replaced) == (1, 1)
    assert counts(db_path)["articles"] == 5
    rows = dict(fetch(db_path, "SELECT article_id, text FROM articles"))
    assert rows[replacement[0].article_id] == new_text
    assert fetch(db_path, "SELECT word_count, run_id FROM articles WHERE article_id = ?",
                 [replacement[0].article_id])[0] == (len(new_text.split()), "run-2")

    again = load_batch(db_path, Batch(articles=replacement, replace=True))
    assert (again.articles_new, again.articles_replaced) == (0, 0)
    assert counts(db_path)["articles"] == 5


def test_duplicates_within_one_batch(db_path: Path) -> None:
    first = article(7, title="First seen")
    second = article(7, title="Seen again in the same batch")
    a2 = article(8)
    batch = Batch(
        articles=[first, a2, second],
        links=[link(first), link(first), link(first, feed_url="https://other.example.com/feed")],
        raw_pages=[raw_page(first), raw_page(first)],
        rejects=[reject(1), reject(1)],
        feed_states=[feed_state("https://f.example.com/rss", polled=BASE, failures=0),
                     feed_state("https://f.example.com/rss", polled=BASE + timedelta(hours=1), status="failed",
                                failures=1)],
    )
    result = load_batch(db_path, batch)
    assert (result.articles_new, result.links_new, result.pages_new, result.rejects_new, result.feeds_updated) == (
        2, 2, 1, 1, 1)
    assert fetch(db_path, "SELECT title FROM articles WHERE article_id = ?", [first.article_id]) == [("First seen",)]
    # state tables keep the last state in the batch
    assert fetch(db_path, "SELECT last_status, consecutive_failures FROM feeds") == [("failed", 1)]

    replaced = load_batch(db_path, Batch(articles=[first, second], replace=True))
    assert replaced.articles_replaced == 1
    assert fetch(db_path, "SELECT title FROM articles WHERE article_id = ?", [first.article_id]) == [
        ("Seen again in the same batch",)]


def test_feed_state_upsert_overwrites_but_never_rolls_back(db_path: Path) -> None:
    url = "https://news.example.com/rss"
    load_batch(db_path, Batch(feed_states=[feed_state(url, polled=BASE)]))
    later = feed_state(url, name=None, polled=BASE + timedelta(hours=2), status="failed", failures=3)
    assert load_batch(db_path, Batch(feed_states=[later])).feeds_updated == 1
    row = fetch(db_path, "SELECT name, last_status, consecutive_failures, backoff_until, last_polled_at FROM feeds")
    assert row == [("Example News", "failed", 3, later.backoff_until, later.last_polled_at)]  # name kept

    stale = feed_state(url, polled=BASE + timedelta(hours=1), status="ok")  # e.g. a late staged batch
    assert load_batch(db_path, Batch(feed_states=[stale])).feeds_updated == 0
    assert fetch(db_path, "SELECT last_status FROM feeds") == [("failed",)]


def test_run_record_upsert(db_path: Path) -> None:
    assert upsert_run(db_path, run_record("r1", status="running")).runs_written == 1
    done = run_record("r1", status="completed", articles_new=42)
    assert upsert_run(db_path, done).runs_written == 1
    assert upsert_run(db_path, done).runs_written == 0
    assert fetch(db_path, "SELECT run_id, status, articles_new FROM runs") == [("r1", "completed", 42)]


def test_archive_record_status_can_move_from_rejected_to_loaded(db_path: Path) -> None:
    load_batch(db_path, Batch(archive_records=[archive_row(1, status="rejected"), archive_row(2)]))
    a = article(1)
    retry = Batch(articles=[a], archive_records=[archive_row(1, status="loaded", article_id=a.article_id,
                                                            run_id="run-2"), archive_row(2, run_id="run-2")])
    result = load_batch(db_path, retry)
    assert result.records_new == 1  # record 2 unchanged
    rows = dict(fetch(db_path, "SELECT record_id, status || ':' || coalesce(article_id, '-') FROM archive_records"))
    assert rows == {archive_row(1).record_id: f"loaded:{a.article_id}", archive_row(2).record_id: "loaded:-"}


def test_rejects_keep_reason_and_class(db_path: Path) -> None:
    load_batch(db_path, Batch(rejects=[reject(1, reason=Reason.TIMEOUT), reject(2, reason=Reason.BLOCK_PAGE)]))
    rows = fetch(db_path, "SELECT reason, reason_class, stage FROM rejects ORDER BY reason")
    assert rows == [("block_page", "permanent", "fetch"), ("timeout", "transient", "fetch")]


def test_empty_batch_does_not_create_the_database(db_path: Path) -> None:
    result = load_batch(db_path, Batch())
    assert result.status == "loaded" and not db_path.exists()


def test_load_errors_propagate_and_roll_back(db_path: Path) -> None:
    load_batch(db_path, Batch(articles=[article(1)]))
    bad = article(2).model_copy(update={"origin": "carrier-pigeon"})  # bypasses validation; CHECK refuses it
    with pytest.raises(duckdb.ConstraintException):
        load_batch(db_path, Batch(articles=[bad], links=[link(article(3))], rejects=[reject(5)]))
    assert counts(db_path)["article_feeds"] == 0 and counts(db_path)["rejects"] == 0  # nothing half-written


def test_bulk_load_of_20000_articles(db_path: Path) -> None:
    arts = [article(i, text=f"Body {i} " + "words " * (i % 50)) for i in range(20_000)]
    result = load_batch(db_path, Batch(articles=arts, links=[link(a) for a in arts]))
    assert (result.articles_new, result.links_new) == (20_000, 20_000)
    assert fetch(db_path, "SELECT count(DISTINCT article_id), sum(word_count) FROM articles") == [
        (20_000, sum(a.word_count for a in arts))]
    # stored in the writer's row groups (written as they filled, not one group built by the
    # commit's checkpoint), the text with zstd (migration 009)
    groups, text_codecs = fetch(
        db_path, "SELECT count(DISTINCT row_group_id), list(DISTINCT compression) FILTER "
                 "(WHERE column_name = 'text' AND segment_type = 'VARCHAR') FROM pragma_storage_info('articles')")[0]
    assert groups == -(-20_000 // WRITE_ROW_GROUP_SIZE) and text_codecs == ["ZSTD"]
    again = load_batch(db_path, Batch(articles=arts, links=[link(a) for a in arts]))
    assert (again.articles_new, again.links_new) == (0, 0)


def _allocator_settings(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(conn.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('allocator_flush_threshold', 'allocator_bulk_deallocation_flush_threshold')").fetchall())


def test_the_writer_hands_freed_memory_back_during_a_load(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write connection's DuckDB trims glibc's heap after every task and every bulk free
    (thresholds 0; bench/RESULTS.md §6), without changing what a load writes; None keeps
    DuckDB's own thresholds."""
    import warehouse.db as db

    defaults = _allocator_settings(duckdb.connect())
    conn = db.connect_write(db_path)
    try:
        got = _allocator_settings(conn)
        assert len(got) == 2 and all(re.fullmatch(r"0 ?[A-Za-z]*", v) for v in got.values()), got
        assert not any(re.fullmatch(r"0 ?[A-Za-z]*", v) for v in defaults.values()), defaults
    finally:
        conn.close()
    arts = [article(i) for i in range(50)]
    assert load_batch(db_path, Batch(articles=arts)).articles_new == 50
    monkeypatch.setattr(db, "WRITE_ALLOCATOR_FLUSH", None)
    conn = db.connect_write(db_path)
    try:
        assert _allocator_settings(conn) == defaults
    finally:
        conn.close()
    assert counts(db_path)["articles"] == 50
