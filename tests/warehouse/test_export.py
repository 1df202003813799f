"""Export: every row of a view, streamed through Arrow, timestamps in UTC, --since by the view's time column."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.dbrows import rows
from tests.support.desk import build
from warehouse.export import EXPORTS, arrow_reader, export_query, export_table, write_reader


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("desk") / "news.duckdb"
    build(db)
    return db


def test_parquet_has_the_views_columns_and_every_row(desk: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.parquet"
    n = export_table(desk, "articles", "parquet", out)
    t = pq.read_table(out)
    view_cols = [r[0] for r in rows(desk, "SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'v_articles' ORDER BY ordinal_position")]
    assert n == t.num_rows == rows(desk, "SELECT count(*) FROM articles")[0][0]
    assert t.column_names == view_cols
    assert t.schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert sorted(t.column("article_id").to_pylist()) == sorted(r[0] for r in rows(desk, "SELECT article_id FROM articles"))


def test_since_filters_on_the_tables_time_column(desk: Path, tmp_path: Path) -> None:
    since = datetime(2024, 3, 15, tzinfo=UTC)
    out = tmp_path / "a.jsonl"
    n = export_table(desk, "articles", "jsonl", out, since=since)
    got = [json.loads(x) for x in out.read_text().splitlines()]
    want = rows(desk, "SELECT count(*) FROM articles WHERE coalesce(published_at, ingested_at) >= ?", [since])[0][0]
    assert n == len(got) == want > 0
    assert all(datetime.fromisoformat(r["published_at"]) >= since for r in got if r["published_at"])
    assert all(r["published_at"] is None or r["published_at"].endswith("+00:00") for r in got)
    runs_out = tmp_path / "runs.csv"
    export_table(desk, "runs", "csv", runs_out, since=since)
    with runs_out.open() as fh:
        recs = list(csv.DictReader(fh))
    assert recs and all(r["started_at"] >= "2024-03-15" for r in recs)


def test_csv_writes_lists_as_json_and_keeps_commas_and_newlines(tmp_path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    reader = arrow_reader(con, "SELECT 'a,b\nc' AS text, ['x', 'y'] AS tags, NULL::VARCHAR AS nothing "
                               "UNION ALL SELECT 'plain', [], 'z'")
    out = tmp_path / "x.csv"
    assert write_reader(reader, "csv", out) == 2
    with out.open(newline="") as fh:
        recs = list(csv.DictReader(fh))
    assert recs[0]["text"] == "a,b\nc" and json.loads(recs[0]["tags"]) == ["x", "y"]
    assert json.loads(recs[1]["tags"]) == [] and recs[1]["nothing"] == "z"


def test_export_streams_in_batches_and_never_leaves_a_partial_file(tmp_path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    out = tmp_path / "big.parquet"
    seen: list[int] = []
    n = write_reader(arrow_reader(con, "SELECT range AS i, repeat('x', 50) AS pad FROM range(120000)", batch_rows=20000),
                     "parquet", out, progress=seen.append)
    assert n == 120000 and pq.ParquetFile(out).metadata.num_row_groups >= 3  # one per batch: it streamed
    assert len(seen) >= 3 and seen[-1] == 120000

    def broken() -> pa.RecordBatchReader:
        schema = pa.schema([("i", pa.int64())])

        def gen():  # type: ignore[no-untyped-def]
            yield pa.record_batch([pa.array([1, 2])], schema=schema)
            raise RuntimeError("connection lost")

        return pa.RecordBatchReader.from_batches(schema, gen())

    target = tmp_path / "partial.parquet"
    with pytest.raises(RuntimeError):
        write_reader(broken(), "parquet", target)
    assert not target.exists() and list(tmp_path.glob(".partial*")) == []


def test_sandboxed_connection_refuses_file_access_even_through_export(desk: Path, tmp_path: Path) -> None:
    import duckdb

    with pytest.raises(duckdb.Error):
        export_query(desk, f"SELECT * FROM read_csv('{tmp_path}/x.csv')", "csv", tmp_path / "o.csv")
    assert set(EXPORTS) >= {"articles", "feed_health", "daily_counts", "rejects", "runs"}


def test_snapshot_is_every_table_and_a_notebook_on_it_never_blocks_a_load(tmp_path: Path) -> None:
    import duckdb

    from tests.support.factories import article, link
    from warehouse.batch import Batch
    from warehouse.export import export_snapshot
    from warehouse.load import load_batch

    db = tmp_path / "news.duckdb"
    build(db)
    snap = tmp_path / "snapshot"
    counts = export_snapshot(db, snap)
    assert counts["articles"] == rows(db, "SELECT count(*) FROM articles")[0][0]
    assert counts["runs"] == rows(db, "SELECT count(*) FROM runs")[0][0]
    assert sorted(p.name for p in snap.iterdir()) == sorted(f"{k}.parquet" for k in counts)

    notebook = duckdb.connect()  # the analyst keeps this open on the snapshot
    assert notebook.execute(f"SELECT count(*) FROM '{snap}/articles.parquet'").fetchone() == (counts["articles"],)
    extra = [article(10_000 + i) for i in range(3)]
    result = load_batch(db, Batch(run=None, articles=extra, links=[link(a) for a in extra]))
    assert result.status == "loaded" and result.articles_new == 3  # not staged: nothing holds the file
    again = export_snapshot(db, snap)  # republished while the notebook is still open
    assert again["articles"] == counts["articles"] + 3
    assert notebook.execute(f"SELECT count(*) FROM '{snap}/articles.parquet'").fetchone() == (again["articles"],)
    notebook.close()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
