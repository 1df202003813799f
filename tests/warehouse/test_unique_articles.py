"""A duplicate ``article_id`` cannot reach ``articles`` by any load path (issue 13).

Each path is tried with the same id carrying different content; afterwards the table must hold
exactly one row for it. The schema's PRIMARY KEY is the last line of defence and is tried too.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.support.factories import BASE, article
from warehouse.batch import Batch
from warehouse.db import connect_read, connect_write
from warehouse.load import apply_tables, load_batch, load_staged
from warehouse.staging import stage_batch


def rows_for(db: Path, article_id: str) -> int:
    conn = connect_read(db)
    try:
        return int(conn.execute("SELECT count(*) FROM articles WHERE article_id = ?", [article_id]).fetchall()[0][0])
    finally:
        conn.close()


def variant(k: int, **changes: object):  # the same story id, other content each time
    return article(7, text=f"Version {k} of the story. " + "More reporting here. " * (3 + k), **changes)


def test_loading_the_same_id_again_keeps_one_row(db_path: Path) -> None:
    load_batch(db_path, Batch(articles=[variant(0)]))
    result = load_batch(db_path, Batch(articles=[variant(1)]))  # same fetch time: the first is kept
    assert result.articles_new == 0 and rows_for(db_path, variant(0).article_id) == 1


def test_repeats_within_one_batch_keep_one_row(db_path: Path) -> None:
    result = load_batch(db_path, Batch(articles=[variant(0), variant(1), variant(2)]))
    assert result.articles_new == 1 and rows_for(db_path, variant(0).article_id) == 1


def test_an_update_replaces_the_row_and_keeps_the_old_text_apart(db_path: Path) -> None:
    load_batch(db_path, Batch(articles=[variant(0)]))
    newer = variant(1, fetched_at=BASE + timedelta(hours=2))
    result = load_batch(db_path, Batch(articles=[newer, newer]))
    assert result.articles_updated == 1 and rows_for(db_path, newer.article_id) == 1


def test_a_replace_batch_keeps_one_row(db_path: Path) -> None:
    load_batch(db_path, Batch(articles=[variant(0)]))
    load_batch(db_path, Batch(articles=[variant(1), variant(2)], replace=True))
    assert rows_for(db_path, variant(0).article_id) == 1


def test_a_staged_copy_of_a_loaded_batch_adds_nothing(db_path: Path, tmp_path: Path) -> None:
    # crash-retry: the batch reached the database and was also staged (or staged twice)
    batch = Batch(articles=[variant(0)])
    load_batch(db_path, batch)
    staging = tmp_path / "staging"
    stage_batch(Batch(articles=[variant(1)]).to_arrow(), staging, "retry-1")
    stage_batch(Batch(articles=[variant(2)], replace=True).to_arrow(), staging, "retry-2")
    results = load_staged(db_path, staging)
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert rows_for(db_path, variant(0).article_id) == 1


def test_concurrent_loads_of_one_id_store_it_once(db_path: Path) -> None:
    connect_write(db_path).close()
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def load(k: int) -> None:
        start.wait()
        try:
            outcomes.append(load_batch(db_path, Batch(articles=[variant(k)])).status)
        except duckdb.Error as exc:  # refused by the key: the other transaction won
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 4 and "loaded" in outcomes
    assert rows_for(db_path, variant(0).article_id) == 1


def test_the_key_refuses_a_duplicate_written_around_the_loader(db_path: Path) -> None:
    load_batch(db_path, Batch(articles=[variant(0)]))
    conn = connect_write(db_path)
    try:
        # apply_tables itself skips it ...
        counts = apply_tables(conn, Batch(articles=[variant(1)]).to_arrow())
        assert counts["articles_new"] == 0
        # ... and plain SQL that ignores the anti-join is refused by the schema
        with pytest.raises(duckdb.ConstraintException):
            conn.execute("INSERT INTO articles SELECT * FROM articles")
    finally:
        conn.close()
    assert rows_for(db_path, variant(0).article_id) == 1
