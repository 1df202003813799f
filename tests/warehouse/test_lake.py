"""The lake: batches visible only when whole, deterministic ids, loaded exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.support.factories import archive_row, article, raw_page
from warehouse.batch import Batch
from warehouse.db import connect_write
from warehouse.lake import SUCCESS, BatchRecord, Lake, batch_id, commit_batch, loaded_batches


def _batch(n: int) -> Batch:
    arts = [article(i) for i in range(n)]
    return Batch(articles=arts, raw_pages=[raw_page(a) for a in arts],
                 archive_records=[archive_row(i, article_id=a.article_id) for i, a in enumerate(arts)])


def _record(bid: str, records: int = 3) -> BatchRecord:
    return BatchRecord(batch_id=bid, source="/a.jsonl", byte_start=0, byte_end=None, records=records,
                       articles=records, run_id="run-1")


def test_batch_ids_are_deterministic_and_name_what_changes_the_result() -> None:
    base = {"source": "/data/a.jsonl", "start": 0, "end": 1000, "size": 5000, "code_version": "0.1.0"}
    assert batch_id(**base) == batch_id(**base)
    others = [{**base, "start": 1000, "end": 2000}, {**base, "source": "/data/b.jsonl"}, {**base, "size": 6000},
              {**base, "code_version": "0.2.0"}]
    ids = {batch_id(**o) for o in others} | {batch_id(**base, options={"outlet": "herald"})}
    assert batch_id(**base) not in ids and len(ids) == 5


def test_a_written_batch_reads_back_whole(tmp_path: Path) -> None:
    lake = Lake(f"file://{tmp_path / 'lake'}")
    tables = _batch(3).to_arrow()
    manifest = lake.write("b1", tables, meta={"records": 3})
    assert lake.finished() == ["b1"] and manifest["rows"] == {"articles": 3, "raw_pages": 3, "archive_records": 3}
    got_manifest, got = lake.read("b1")
    assert got_manifest["records"] == 3 and set(got) == {"articles", "raw_pages", "archive_records"}
    assert got["articles"].equals(tables["articles"])


def test_a_batch_without_its_manifest_is_not_visible(tmp_path: Path) -> None:
    lake = Lake(f"file://{tmp_path / 'lake'}")
    lake.write("b1", _batch(2).to_arrow())
    (tmp_path / "lake" / "batches" / "b1" / SUCCESS).unlink()  # as if the writer died before the marker
    assert lake.finished() == [] and lake.manifest("b1") is None
    with pytest.raises(FileNotFoundError):
        lake.read("b1")


def test_a_rewritten_batch_is_the_last_complete_attempt(tmp_path: Path) -> None:
    lake = Lake(f"file://{tmp_path / 'lake'}")
    lake.write("b1", _batch(2).to_arrow())
    # a second attempt that died after some of its files: those files are named by no manifest
    (tmp_path / "lake" / "batches" / "b1" / "articles-deadbeef.parquet").write_bytes(b"half a file")
    lake.write("b1", _batch(3).to_arrow())
    _, tables = lake.read("b1")
    assert tables["articles"].num_rows == 3


def test_a_batch_is_committed_once(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    connect_write(db).close()
    tables = _batch(3).to_arrow()
    first = commit_batch(db, tables, _record("b1"))
    again = commit_batch(db, tables, _record("b1"))
    assert (first.articles_new, first.records_new, first.error) == (3, 3, None)
    assert (again.articles_new, again.error) == (0, "already loaded")
    assert loaded_batches(db, ["b1", "b2"]) == {"b1": 3}
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchall() == [(3, 3)]
    con.close()


def test_a_failed_commit_records_nothing(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    connect_write(db).close()
    tables = _batch(3).to_arrow()
    bad = {**tables, "articles": tables["articles"].drop_columns(["text"])}  # a required column missing
    with pytest.raises(ValueError):
        commit_batch(db, bad, _record("b1"))
    assert loaded_batches(db, ["b1"]) == {}
    assert commit_batch(db, tables, _record("b1")).articles_new == 3


@pytest.fixture
def s3_lake(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from tests.support.s3 import s3_server

    with s3_server() as env:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        yield "s3://newsflow-lake/lake"


def test_an_s3_lake_holds_whole_batches_and_commits_them_once(s3_lake: str, tmp_path: Path) -> None:
    import fsspec

    fsspec.core.url_to_fs(s3_lake)[0].clear_instance_cache()  # a fresh client for this server
    lake = Lake(s3_lake)
    lake.write("b1", _batch(3).to_arrow(), meta={"records": 3})
    lake.write("b2", _batch(2).to_arrow(), meta={"records": 2})
    lake.fs.rm(f"{lake.root}/batches/b2/{SUCCESS}")  # b2's writer "died" before its marker
    lake.fs.invalidate_cache()
    assert lake.finished() == ["b1"] and lake.manifest("b2") is None
    manifest, tables = lake.read("b1")
    assert manifest["records"] == 3 and tables["articles"].num_rows == 3
    db = tmp_path / "n.duckdb"
    connect_write(db).close()
    assert commit_batch(db, tables, _record("b1")).articles_new == 3
    assert commit_batch(db, tables, _record("b1")).error == "already loaded"
    assert loaded_batches(db, ["b1", "b2"]) == {"b1": 3}
