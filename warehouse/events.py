"""Bulk loading of the event coder's output: replace every row of the given articles in
``entities``, ``mentions``, ``events`` and ``quotes`` in one transaction (delete by article_id,
insert from registered Arrow). Takes plain rows or Arrow tables; knows nothing of the coder.

Rows are only stored for articles in ``articles`` (rows of any other article are refused), so an
article that was not stored before a load has no rows to delete: a load that inserts an article
passes it as new and its delete, a scan of the four tables, is skipped.

Rows use the column names of migration 005 (``schemas.events.Enrichment.table_rows()`` produces
them from the coder's records).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.db import connect_write

_PARTY = pa.struct([("text", pa.string()), ("country", pa.string()), ("sector", pa.string()),
                    ("entity_id", pa.string())])

SCHEMAS: dict[str, pa.Schema] = {
    "entities": pa.schema([
        ("article_id", pa.string()), ("entity_id", pa.string()), ("kind", pa.string()), ("name", pa.string()),
        ("code", pa.string()), ("country", pa.string()), ("sector", pa.string()),
        ("mention_count", pa.int32()), ("first_offset", pa.int32()), ("coder_version", pa.string())]),
    "mentions": pa.schema([
        ("article_id", pa.string()), ("start_offset", pa.int32()), ("end_offset", pa.int32()),
        ("entity_id", pa.string()), ("text", pa.string()), ("sentence_index", pa.int32())]),
    "events": pa.schema([
        ("event_id", pa.string()), ("article_id", pa.string()), ("sentence_index", pa.int32()),
        ("sentence", pa.string()), ("trigger", pa.string()), ("trigger_start", pa.int32()),
        ("trigger_end", pa.int32()), ("event_type", pa.string()), ("quad_class", pa.string()),
        ("intensity", pa.float64()), ("actors", pa.list_(_PARTY)), ("recipients", pa.list_(_PARTY)),
        ("event_date", pa.date32()), ("date_precision", pa.string()), ("date_text", pa.string()),
        ("location_text", pa.string()), ("location_country", pa.string()), ("modality", pa.string()),
        ("confidence", pa.float64()), ("rule_id", pa.string()), ("coder_version", pa.string())]),
    "quotes": pa.schema([
        ("quote_id", pa.string()), ("article_id", pa.string()), ("kind", pa.string()), ("text", pa.string()),
        ("start_offset", pa.int32()), ("end_offset", pa.int32()), ("speaker_text", pa.string()),
        ("speaker_entity_id", pa.string()), ("speaker_country", pa.string()), ("cue", pa.string()),
        ("sentence_index", pa.int32()), ("coder_version", pa.string())]),
}
TABLES = tuple(SCHEMAS)
_KEYS = {"entities": ("article_id", "entity_id"), "mentions": ("article_id", "start_offset"),
         "events": ("event_id",), "quotes": ("quote_id",)}


def to_arrow(table: str, rows: pa.Table | Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts) or an Arrow table → an Arrow table with the table's exact schema."""
    schema = SCHEMAS[table]
    if isinstance(rows, pa.Table):
        missing = set(schema.names) - set(rows.column_names)
        if missing:
            raise ValueError(f"{table}: missing columns {sorted(missing)}")
        return rows.select(schema.names).cast(schema)
    rows = list(rows)
    names = set(schema.names)
    for row in rows:
        if not names.issuperset(row):
            raise ValueError(f"{table}: unknown columns {sorted(set(row) - names)}")
    # column by column: no intermediate dict per row
    return pa.Table.from_pydict({k: [row.get(k) for row in rows] for k in schema.names}, schema=schema)


def _dedupe(table: str, data: pa.Table) -> pa.Table:
    """Keep the last row per key: a batch may hold the same article twice (re-enriched).

    The tables have no key index (migration 011): this and the delete of every row of the batch's
    articles before the insert are what keep one row per key."""
    keys = _KEYS[table]
    seen: dict[tuple, int] = {}
    cols = [data.column(k).to_pylist() for k in keys]
    for i, key in enumerate(zip(*cols, strict=True)):
        seen[key] = i
    if len(seen) == data.num_rows:
        return data
    return data.take(sorted(seen.values()))


def replace_enrichment(conn: duckdb.DuckDBPyConnection, article_ids: Sequence[str],
                       tables: Mapping[str, pa.Table | Iterable[Mapping[str, Any]]], *,
                       transaction: bool = True, new_ids: Collection[str] = ()) -> dict[str, int]:
    """Replace the rows of ``article_ids`` in the four tables, inside the caller's connection.

    Every article in ``article_ids`` loses its old rows, also when ``tables`` has none for it (an
    article that no longer yields events). Rows of articles not listed, or not in ``articles``,
    are refused. ``new_ids``: those of ``article_ids`` that were not in ``articles`` before the
    caller's transaction (the load inserting them); they can have no rows, so nothing is deleted
    for them. Returns rows inserted per table. Runs in one transaction (``transaction=False``:
    inside the caller's, e.g. the load's).
    """
    ids = sorted(set(article_ids))
    data = {t: _dedupe(t, to_arrow(t, tables.get(t, []))) for t in TABLES}
    allowed = set(ids)
    with_rows: set[str] = set()
    for t, tbl in data.items():
        present = set(tbl.column("article_id").to_pylist())
        stray = present - allowed
        if stray:
            raise ValueError(f"{t}: rows for articles not being replaced: {sorted(stray)[:3]}")
        with_rows |= present
    fresh = allowed & set(new_ids)
    stored = [i for i in ids if i not in fresh]
    counts: dict[str, int] = {}
    if transaction:
        conn.begin()
    try:
        _refuse_unstored(conn, with_rows)
        if stored:
            conn.register("_enrich_ids", pa.table({"article_id": pa.array(stored, pa.string())}))
            for t in TABLES:
                conn.execute(f"DELETE FROM {t} WHERE article_id IN (SELECT article_id FROM _enrich_ids)")
            conn.unregister("_enrich_ids")
        for t in TABLES:
            src = f"_enrich_{t}"
            conn.register(src, data[t])
            cols = ", ".join(SCHEMAS[t].names)
            conn.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM {src}")
            conn.unregister(src)
            counts[t] = data[t].num_rows
        if transaction:
            conn.commit()
    except Exception:
        if transaction:
            conn.rollback()
        raise
    return counts


def _refuse_unstored(conn: duckdb.DuckDBPyConnection, article_ids: set[str]) -> None:
    """Raise unless every one of ``article_ids`` is in ``articles`` (what lets a load skip the
    delete of an article it stores for the first time)."""
    if not article_ids:
        return
    conn.register("_enrich_rows_ids", pa.table({"article_id": pa.array(sorted(article_ids), pa.string())}))
    try:
        stored = {r[0] for r in conn.execute(
            "SELECT article_id FROM articles WHERE article_id IN (SELECT article_id FROM _enrich_rows_ids)").fetchall()}
    finally:
        conn.unregister("_enrich_rows_ids")
    missing = article_ids - stored
    if missing:
        raise ValueError(f"rows for articles not stored: {sorted(missing)[:3]}")


def load_enrichment(db_path: str | Path, article_ids: Sequence[str],
                    tables: Mapping[str, pa.Table | Iterable[Mapping[str, Any]]]) -> dict[str, int]:
    """Open the warehouse for writing (migrating it) and replace the articles' enrichment rows."""
    conn = connect_write(db_path)
    try:
        return replace_enrichment(conn, article_ids, tables)
    finally:
        conn.close()
