"""Read helpers for the pipeline and the CLI.

Each call opens a read-only connection and closes it before returning, so the pipeline never
holds the file while a load needs it. Id lists travel as registered Arrow tables and are joined,
never spliced into SQL text.

``strict=False`` (the default) turns a missing or locked database into an empty answer (a
first run has nothing to look up; a locked one only costs some duplicate work that the
idempotent load absorbs). ``strict=True`` raises DatabaseMissing / DatabaseLocked instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from schemas.records import Article, FeedState, RawPage
from warehouse.batch import SCHEMAS
from warehouse.db import DatabaseLocked, DatabaseMissing, connect_read
from warehouse.migrate import schema_version

log = logging.getLogger("newsflow.warehouse")

TABLES = ("feeds", "articles", "article_feeds", "raw_pages", "runs", "rejects", "archive_records")


def arrow_query(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
    """Run a read query and return Arrow without the extra copy a DB-API cursor makes.

    Works across DuckDB versions (``fetch_arrow_table``/``arrow`` became ``to_arrow_table``).
    """
    rel = conn.sql(sql, params=list(params)) if params else conn.sql(sql)
    if rel is None:
        return pa.table({})
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        fetch = getattr(rel, name, None)
        if fetch is not None:
            return fetch()
    raise RuntimeError("this DuckDB version cannot return Arrow tables")


@contextmanager
def _reader(db_path: str | Path | duckdb.DuckDBPyConnection, strict: bool) -> Iterator[duckdb.DuckDBPyConnection | None]:
    if isinstance(db_path, duckdb.DuckDBPyConnection):  # a connection the caller holds (and closes)
        yield db_path
        return
    try:
        conn = connect_read(db_path)
    except DatabaseMissing:
        if strict:
            raise
        yield None
        return
    except DatabaseLocked as exc:
        if strict:
            raise
        log.warning("%s; continuing without stored state", exc)
        yield None
        return
    try:
        yield conn
    finally:
        conn.close()


def database_status(db_path: str | Path) -> Literal["ok", "missing", "locked"]:
    """Whether the database can be read right now."""
    try:
        with _reader(db_path, strict=True):
            return "ok"
    except DatabaseMissing:
        return "missing"
    except DatabaseLocked:
        return "locked"


def _cols(table: str) -> str:
    return ", ".join(f't."{c}"' for c in SCHEMAS[table].names)


def read_feed_states(
    db_path: str | Path, urls: Iterable[str] | None = None, *, strict: bool = False
) -> dict[str, FeedState]:
    """Stored polling state per feed URL (all feeds, or only ``urls``)."""
    with _reader(db_path, strict) as conn:
        if conn is None:
            return {}
        sql = f"SELECT {_cols('feeds')} FROM feeds AS t"
        if urls is not None:
            conn.register("_want", pa.table({"feed_url": pa.array(list(urls), pa.string())}))
            sql += " SEMI JOIN _want AS w ON t.feed_url = w.feed_url"
        rows = arrow_query(conn, sql).to_pylist()
    return {row["feed_url"]: FeedState.model_validate(row) for row in rows}


def _known(db_path: str | Path | duckdb.DuckDBPyConnection, table: str, key: str, ids: Iterable[str], strict: bool, extra: str = "",
           params: Sequence[Any] = ()) -> set[str]:
    wanted = list(ids)
    if not wanted:
        return set()
    with _reader(db_path, strict) as conn:
        if conn is None:
            return set()
        conn.register("_want", pa.table({"id": pa.array(wanted, pa.string())}))
        sql = f'SELECT DISTINCT t."{key}" FROM {table} AS t SEMI JOIN _want AS w ON t."{key}" = w.id {extra}'
        found = arrow_query(conn, sql, params).column(0).to_pylist()
    return set(found)


def known_article_ids(db_path: str | Path, ids: Iterable[str], *, strict: bool = False) -> set[str]:
    """The subset of ``ids`` already stored as articles."""
    return _known(db_path, "articles", "article_id", ids, strict)


def known_record_ids(
    db_path: str | Path | duckdb.DuckDBPyConnection,
    ids: Iterable[str],
    *,
    statuses: Sequence[str] = ("loaded", "rejected"),
    strict: bool = False,
) -> set[str]:
    """The subset of archive ``ids`` a backfill already handled (with one of ``statuses``)."""
    return _known(
        db_path, "archive_records", "record_id", ids, strict,
        extra="WHERE list_contains(?, t.status)", params=[list(statuses)],
    )


def _pairs_table(pairs: Sequence[tuple[str, str]], names: tuple[str, str]) -> pa.Table:
    return pa.table({
        names[0]: pa.array([p[0] for p in pairs], pa.string()),
        names[1]: pa.array([p[1] for p in pairs], pa.string()),
    })


def _per_feed_item(
    db_path: str | Path, pairs: Iterable[tuple[str, str]], value_sql: str, strict: bool, *, width: int = 1
) -> dict[tuple[str, str], Any]:
    """(feed_url, guid) → the aggregated ``article_feeds`` value (a tuple when ``width`` > 1),
    for the pairs stored."""
    wanted = list(pairs)
    if not wanted:
        return {}
    with _reader(db_path, strict) as conn:
        if conn is None:
            return {}
        conn.register("_want", _pairs_table(wanted, ("feed_url", "guid")))
        table = arrow_query(
            conn,
            f"SELECT t.feed_url, t.guid, {value_sql} FROM article_feeds AS t "
            "SEMI JOIN _want AS w ON t.feed_url = w.feed_url AND t.guid = w.guid GROUP BY 1, 2",
        )
    cols = [table.column(i).to_pylist() for i in range(2 + width)]
    if width == 1:
        return {(f, g): v for f, g, v in zip(*cols, strict=True)}
    return {(row[0], row[1]): tuple(row[2:]) for row in zip(*cols, strict=True)}


def linked_articles(
    db_path: str | Path, pairs: Iterable[tuple[str, str]], *, strict: bool = False
) -> dict[tuple[str, str], str]:
    """(feed_url, guid) pairs already linked, mapped to the article each carried."""
    return _per_feed_item(db_path, pairs, "min(t.article_id)", strict)


def articles_by_id(db_path: str | Path, ids: Iterable[str], *, strict: bool = False) -> dict[str, Article]:
    """Stored articles for ``ids`` (those that exist)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    with _reader(db_path, strict) as conn:
        if conn is None:
            return {}
        conn.register("_want", pa.table({"id": pa.array(wanted, pa.string())}))
        rows = arrow_query(conn, f"SELECT {_cols('articles')} FROM articles AS t "
                                 "SEMI JOIN _want AS w ON t.article_id = w.id").to_pylist()
    return {r["article_id"]: Article.model_validate(r) for r in rows}


def raw_pages_since(
    db_path: str | Path,
    since: datetime | None = None,
    *,
    origin: str | None = None,
    chunk_size: int = 200,
    strict: bool = False,
) -> Iterator[RawPage]:
    """Stored raw pages fetched at or after ``since``, oldest first, for re-extraction.

    Pages are read in chunks with keyset pagination and the connection is closed between
    chunks, so the caller may load new batches while iterating.
    """
    cursor: tuple[datetime, str] | None = None
    while True:
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("t.fetched_at >= ?")
            params.append(since)
        if origin is not None:
            clauses.append("t.origin = ?")
            params.append(origin)
        if cursor is not None:
            clauses.append("(t.fetched_at > ? OR (t.fetched_at = ? AND t.page_id > ?))")
            params.extend([cursor[0], cursor[0], cursor[1]])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_cols('raw_pages')} FROM raw_pages AS t {where} ORDER BY t.fetched_at, t.page_id LIMIT ?"
        with _reader(db_path, strict) as conn:
            if conn is None:
                return
            rows = arrow_query(conn, sql, [*params, chunk_size]).to_pylist()
        for row in rows:
            yield RawPage.model_validate(row)
        if len(rows) < chunk_size:
            return
        cursor = (rows[-1]["fetched_at"], rows[-1]["page_id"])


def stats(db_path: str | Path, *, strict: bool = False) -> dict[str, Any]:
    """Row counts per table, schema version, file size and the latest run."""
    path = Path(db_path)
    with _reader(path, strict) as conn:
        if conn is None:
            status = database_status(path)
            return {"path": str(path), "available": False, "status": status}
        counts = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in TABLES}
        latest = arrow_query(
            conn, f"SELECT {_cols('runs')} FROM runs AS t ORDER BY t.started_at DESC LIMIT 1"
        ).to_pylist()
        version = schema_version(conn)
    return {
        "path": str(path),
        "available": True,
        "status": "ok",
        "schema_version": version,
        "size_bytes": path.stat().st_size,
        "tables": counts,
        "latest_run": latest[0] if latest else None,
    }


def linked_items(
    db_path: str | Path, pairs: Iterable[tuple[str, str]], *, strict: bool = False
) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(feed_url, guid) already linked → (the article it carried, the item's fingerprint when last
    seen; None when stored before fingerprints existed), in one read of ``article_feeds``."""
    found = _per_feed_item(db_path, pairs, "min(t.article_id), max(t.entry_fingerprint)", strict, width=2)
    return {k: (v[0], v[1]) for k, v in found.items()}


def page_validators(
    db_path: str | Path, article_ids: Iterable[str], *, strict: bool = False
) -> dict[str, tuple[str | None, str | None]]:
    """article_id → (ETag, Last-Modified) of its most recently fetched page, for a conditional re-fetch."""
    wanted = list(article_ids)
    if not wanted:
        return {}
    with _reader(db_path, strict) as conn:
        if conn is None:
            return {}
        conn.register("_want", pa.table({"id": pa.array(wanted, pa.string())}))
        table = arrow_query(
            conn,
            "SELECT t.article_id, arg_max(json_extract_string(t.headers_json, '$.etag'), t.fetched_at), "
            "arg_max(json_extract_string(t.headers_json, '$.\"last-modified\"'), t.fetched_at) "
            "FROM raw_pages AS t SEMI JOIN _want AS w ON t.article_id = w.id GROUP BY 1",
        )
    cols = [table.column(i).to_pylist() for i in range(3)]
    return {a: (e, m) for a, e, m in zip(*cols, strict=True)}


def titles_near(
    db_path: str | Path | duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, str]], *, strict: bool = False
) -> list[tuple[str, str, str, datetime]]:
    """Stored articles sharing an (outlet, title_key) with ``keys``:
    ``(article_id, outlet, title_key, published_at or ingested_at)``. The caller applies the window."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    with _reader(db_path, strict) as conn:
        if conn is None:
            return []
        conn.register("_want", _pairs_table(wanted, ("outlet", "title_key")))
        table = arrow_query(
            conn,
            "SELECT t.article_id, t.outlet, t.title_key, coalesce(t.published_at, t.fetched_at, t.ingested_at) "
            "FROM articles AS t SEMI JOIN _want AS w ON t.outlet = w.outlet AND t.title_key = w.title_key",
        )
    return list(zip(*(table.column(i).to_pylist() for i in range(4)), strict=True))


def iter_article_texts(
    db_path: str | Path, *, since: datetime | None = None, chunk: int = 500
) -> Iterator[list[tuple[str, str, datetime | None]]]:
    """(article_id, text, published_at) of stored articles ingested since ``since``, in chunks
    (for re-running enrichment over what is stored). The id list is read first, each chunk's
    texts then, so memory follows the chunk, not the table."""
    with _reader(db_path, True) as conn:
        assert conn is not None
        where, params = ("WHERE ingested_at >= ?", [since]) if since is not None else ("", [])
        ids = arrow_query(conn, f"SELECT article_id FROM articles {where} ORDER BY article_id", params)
    all_ids = ids.column(0).to_pylist() if ids.num_columns else []
    for start in range(0, len(all_ids), chunk):
        part = all_ids[start : start + chunk]
        with _reader(db_path, True) as conn:
            assert conn is not None
            conn.register("_want", pa.table({"id": pa.array(part, pa.string())}))
            table = arrow_query(conn, "SELECT t.article_id, t.text, t.published_at FROM articles AS t "
                                      "SEMI JOIN _want AS w ON t.article_id = w.id ORDER BY t.article_id")
        yield list(zip(*(table.column(i).to_pylist() for i in range(3)), strict=True))
