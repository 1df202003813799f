"""Batch ↔ Arrow conversion and Parquet staging."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from schemas.failures import Reason
from tests.support.factories import archive_row, article, feed_state, link, raw_page, reject, run_record
from warehouse.batch import KEYS, MODELS, SCHEMAS, Batch
from warehouse.db import connect_write
from warehouse.staging import StagingCorrupt, iter_staged, read_manifest, read_staged, stage_batch


def _full_batch(n: int = 5) -> Batch:
    arts = [article(i) for i in range(n)]
    return Batch(
        run=run_record(),
        articles=arts,
        links=[link(a) for a in arts],
        raw_pages=[raw_page(a) for a in arts[:2]],
        rejects=[reject(1), reject(2, reason=Reason.TIMEOUT)],
        feed_states=[feed_state("https://news0.example.com/rss.xml")],
        archive_records=[archive_row(1, article_id=arts[0].article_id), archive_row(2, status="rejected")],
    )


def test_arrow_schemas_cover_exactly_the_model_fields() -> None:
    for table, model in MODELS.items():
        assert set(SCHEMAS[table].names) == set(model.model_fields), table
        assert set(KEYS[table]) <= set(SCHEMAS[table].names)


def test_arrow_schemas_match_the_sql_tables(db_path: Path) -> None:
    conn = connect_write(db_path)
    for table, schema in SCHEMAS.items():
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()]
        assert cols == schema.names, table
    conn.close()


def test_to_arrow_types() -> None:
    batch = _full_batch()
    tables = batch.to_arrow()
    assert set(tables) == set(SCHEMAS)
    arts = tables["articles"]
    assert arts.num_rows == 5
    assert arts.schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert arts.schema.field("authors").type == pa.list_(pa.string())
    assert tables["rejects"].column("reason").to_pylist() == ["http_404", "timeout"]
    assert tables["runs"].num_rows == 1


def test_empty_batch() -> None:
    batch = Batch()
    assert batch.is_empty()
    assert all(t.num_rows == 0 for t in batch.to_arrow().values())
    assert Batch(run=run_record()).counts()["runs"] == 1


def test_stage_and_read_back(tmp_path: Path) -> None:
    batch = _full_batch()
    tables = batch.to_arrow()
    staging = tmp_path / "staging"
    path = stage_batch(tables, staging, batch.batch_id, meta={"replace": True})
    assert path.parent == staging and path.name.endswith(batch.batch_id)
    assert [p.name for p in staging.iterdir()] == [path.name]  # no temporary directory left behind
    manifest = read_manifest(path)
    assert manifest["replace"] is True and manifest["rows"]["articles"] == 5
    back = read_staged(path)
    assert back["articles"].equals(tables["articles"])
    assert back["raw_pages"].column("body_gz").to_pylist() == tables["raw_pages"].column("body_gz").to_pylist()
    assert list(iter_staged(staging)) == [path]


def test_iter_staged_orders_oldest_first_and_skips_incomplete(tmp_path: Path) -> None:
    tables = Batch(run=run_record()).to_arrow()
    first = stage_batch(tables, tmp_path, "aaa-second-by-name-but-first-in-time")
    second = stage_batch(tables, tmp_path, "000")
    (tmp_path / ".tmp-20990101T000000000000Z_crashed").mkdir()  # a crash while staging
    (tmp_path / "20990101T000000000000Z_nomanifest").mkdir()
    assert list(iter_staged(tmp_path)) == [first, second]


def test_read_staged_detects_truncated_parquet(tmp_path: Path) -> None:
    path = stage_batch(_full_batch().to_arrow(), tmp_path, "b")
    target = path / "articles.parquet"
    data = target.read_bytes()
    with open(target, "wb") as fh:
        fh.write(data[: len(data) // 2])
        os.fsync(fh.fileno())
    with pytest.raises(StagingCorrupt, match=r"articles\.parquet"):
        read_staged(path)
