"""Raw page bodies in content-addressed files beside the warehouse (warehouse/pages.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from tests.support.factories import article, raw_page
from warehouse.batch import SCHEMAS, Batch
from warehouse.db import connect_read, connect_write
from warehouse.load import load_batch, load_staged
from warehouse.migrate import MigrationError, migrate
from warehouse.pages import (
    GZIP_LEVEL,
    BodyMissing,
    externalize,
    page_body,
    pages_root,
    path_of,
    read_body,
    store_body,
    store_compressed_many,
)
from warehouse.queries import raw_pages_since
from warehouse.staging import stage_batch


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_the_folder_sits_beside_the_database() -> None:
    assert pages_root(Path("data/newsflow.duckdb")) == Path("data/newsflow.pages")


def test_a_body_reads_back_and_equal_bodies_share_one_file(tmp_path: Path) -> None:
    body = b"<html><body>" + b"story " * 5000 + b"</body></html>"
    first = store_body(tmp_path, body)
    again = store_body(tmp_path, body)
    other = store_body(tmp_path, body + b"!")
    assert first == again != other
    assert read_body(tmp_path, first) == body and read_body(tmp_path, other) == body + b"!"
    assert len(files_in(tmp_path)) == 2


def test_the_same_body_compressed_at_different_times_is_one_file(tmp_path: Path) -> None:
    body = b"<p>same page</p>" * 100
    early, late = (gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=t) for t in (1_000_000, 2_000_000))
    assert early != late
    assert store_compressed_many(tmp_path, [early, late]) == [store_body(tmp_path, body)] * 2
    assert len(files_in(tmp_path)) == 1


def test_a_missing_or_damaged_file_is_reported_not_misread(tmp_path: Path) -> None:
    locator = store_body(tmp_path, b"original")
    path = path_of(tmp_path, locator)
    path.write_bytes(gzip.compress(b"something else"))
    with pytest.raises(BodyMissing, match="damaged"):
        read_body(tmp_path, locator)
    path.unlink()
    with pytest.raises(BodyMissing, match="missing"):
        read_body(tmp_path, locator)
    with pytest.raises(BodyMissing, match="not a body locator"):
        read_body(tmp_path, "../../etc/passwd")


def test_leftovers_of_a_crash_are_harmless(tmp_path: Path) -> None:
    # a crash after writing (before the rows were committed) leaves the finished file, or a
    # temporary one; storing the body again reuses the first and ignores the second
    body = b"<p>fetched before the crash</p>"
    locator = store_body(tmp_path, body)
    stray = path_of(tmp_path, locator).with_name(f".{locator}.deadbeef.tmp")
    stray.write_bytes(b"half a bo")
    assert store_body(tmp_path, body) == locator
    assert read_body(tmp_path, locator) == body


def test_externalize_moves_inline_bodies_and_keeps_the_rest(tmp_path: Path) -> None:
    pages = [raw_page(article(i)) for i in range(3)]
    table = Batch(raw_pages=pages).to_arrow()["raw_pages"]
    out = externalize(tmp_path, table)
    assert out.column("body_gz").null_count == 3
    refs = out.column("body_ref").to_pylist()
    assert [read_body(tmp_path, r) for r in refs] == [gzip.decompress(p.body_gz or b"") for p in pages]
    assert out.drop_columns(["body_gz", "body_ref"]).equals(table.drop_columns(["body_gz", "body_ref"]))
    assert externalize(tmp_path, out).equals(out)  # nothing inline left: unchanged


def test_loaded_pages_keep_only_a_locator_and_read_back(db_path: Path) -> None:
    pages = [raw_page(article(i)) for i in range(4)]
    load_batch(db_path, Batch(raw_pages=pages))
    load_batch(db_path, Batch(raw_pages=pages))  # idempotent: same rows, same files
    conn = connect_read(db_path)
    try:
        assert conn.execute("SELECT count(*), count(body_gz), count(body_ref) FROM raw_pages").fetchall() == [(4, 0, 4)]
    finally:
        conn.close()
    assert len(files_in(pages_root(db_path))) == 4
    stored = {p.page_id: p for p in raw_pages_since(db_path)}
    for p in pages:
        assert page_body(db_path, stored[p.page_id]) == gzip.decompress(p.body_gz or b"")


def test_a_batch_staged_with_inline_bodies_loads_them_into_files(db_path: Path, tmp_path: Path) -> None:
    # what a locked database left behind before bodies moved out: the staged Parquet holds them
    pages = [raw_page(article(i)) for i in range(2)]
    legacy = pa.table({n: Batch(raw_pages=pages).to_arrow()["raw_pages"].column(n)
                       for n in SCHEMAS["raw_pages"].names if n != "body_ref"})
    stage_batch({"raw_pages": legacy}, tmp_path / "staging", "old-batch")
    [result] = load_staged(db_path, tmp_path / "staging")
    assert result.status == "loaded" and result.pages_new == 2
    stored = list(raw_pages_since(db_path))
    assert all(p.body_gz is None and p.body_ref for p in stored)
    assert {page_body(db_path, p) for p in stored} == {gzip.decompress(p.body_gz or b"") for p in pages}


def test_a_database_with_inline_bodies_keeps_working_after_the_migration(db_path: Path) -> None:
    import duckdb

    db_path.parent.mkdir(parents=True)
    conn = duckdb.connect(str(db_path))
    migrate(conn, up_to=5)  # the database as release 5 left it (page bodies inline)
    html = b"<html><body><p>stored inline before issue 13</p></body></html>"
    conn.execute("INSERT INTO raw_pages (page_id, url, final_url, body_gz, body_bytes, origin, fetched_at, run_id) "
                 "VALUES ('old', 'https://x.example/a', 'https://x.example/a', ?, ?, 'rss', now(), 'r0')",
                 [gzip.compress(html), len(html)])
    conn.close()
    try:
        connect_write(db_path).close()  # migrates
    except MigrationError as exc:  # pragma: no cover - shows which statement failed
        raise AssertionError(str(exc)) from exc
    new = raw_page(article(1))
    load_batch(db_path, Batch(raw_pages=[new]))
    stored = {p.page_id: p for p in raw_pages_since(db_path)}
    assert stored["old"].body_gz is not None and stored["old"].body_ref is None
    assert page_body(db_path, stored["old"]) == html
    assert page_body(db_path, stored[new.page_id]) == gzip.decompress(new.body_gz or b"")


def test_a_page_without_any_body_is_reported(db_path: Path) -> None:
    page = raw_page(article(0)).model_copy(update={"body_gz": None, "body_ref": None})
    with pytest.raises(BodyMissing):
        page_body(db_path, page)
