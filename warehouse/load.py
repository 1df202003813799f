"""Loading batches: one write connection, one transaction, set-based SQL over registered Arrow.

Idempotence comes from the primary keys: rows already present are skipped (or, for state
tables and replace batches, updated only where a value actually differs), so loading the same
batch twice changes nothing and reports zero. When another process holds the database file
the batch is staged to Parquet and loaded by a later ``load_staged`` call: never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from schemas.records import RunRecord
from warehouse.batch import (
    ENRICHED_IDS,
    ENRICHMENT_PREFIX,
    KEYS,
    SCHEMAS,
    SKETCH_QUEUE,
    Batch,
    conform,
    is_side_table,
    sketches_from_arrow,
)
from warehouse.db import DatabaseLocked, connect_write
from warehouse.events import replace_enrichment
from warehouse.pages import externalize, pages_root
from warehouse.queries import known_article_ids, known_record_ids, read_feed_states
from warehouse.staging import (
    StagingCorrupt,
    iter_staged,
    mark_failed,
    read_manifest,
    read_staged,
    remove_staged,
    stage_batch,
)
from warehouse.stories import Decide, sync_article_groups, update_story_index

log = logging.getLogger("newsflow.warehouse")

# The read helpers live in queries.py; re-exported here because the architecture names them.
__all__ = [
    "LoadResult",
    "apply_tables",
    "known_article_ids",
    "known_record_ids",
    "load_batch",
    "load_staged",
    "read_feed_states",
    "upsert_run",
]

LoadStatus = Literal["loaded", "staged", "failed"]


@dataclass
class LoadResult:
    """What one load did. ``status="staged"`` means the rows wait in ``path`` for a later run."""

    status: LoadStatus
    batch_id: str
    path: Path | None = None
    articles_new: int = 0
    articles_replaced: int = 0
    articles_updated: int = 0
    stories_indexed: int = 0
    events_new: int = 0  # stored articles whose text changed: earlier text kept in article_versions
    links_new: int = 0
    rejects_new: int = 0
    pages_new: int = 0
    feeds_updated: int = 0
    records_new: int = 0
    runs_written: int = 0
    error: str | None = None

    @classmethod
    def loaded(cls, batch_id: str, counts: dict[str, int], path: Path | None = None) -> LoadResult:
        result = cls(status="loaded", batch_id=batch_id, path=path)
        for name, value in counts.items():
            setattr(result, name, value)
        return result

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path) if self.path else None
        return out



# --- SQL building -----------------------------------------------------------------------------

# Columns that do not count as "a change" when deciding whether an existing row must be updated.
_IGNORED_IN_DIFF: dict[str, frozenset[str]] = {
    "articles": frozenset({"ingested_at", "run_id", "version"}),
    "archive_records": frozenset({"run_id", "loaded_at"}),
}

# Feeds keep a known name when the incoming state has none.
_SET_EXPR: dict[str, dict[str, str]] = {"feeds": {"name": "coalesce(b.name, a.name)"}}

# Feed states are only overwritten by states at least as recent (a late staged batch must not
# roll a feed's state back).
_UPDATE_GUARD: dict[str, str] = {
    "feeds": "(b.last_polled_at IS NULL OR a.last_polled_at IS NULL OR b.last_polled_at >= a.last_polled_at)",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _insert_new_sql(table: str, source: str) -> str:
    cols = ", ".join(_q(c) for c in SCHEMAS[table].names)
    match = " AND ".join(f"a.{_q(k)} = b.{_q(k)}" for k in KEYS[table])
    return (
        f"INSERT INTO {_q(table)} ({cols}) SELECT {cols} FROM {_q(source)} AS b "
        f"WHERE NOT EXISTS (SELECT 1 FROM {_q(table)} AS a WHERE {match})"
    )


def _update_changed_sql(table: str, source: str, *, diff_only: tuple[str, ...] | None = None) -> str:
    keys = KEYS[table]
    exprs = _SET_EXPR.get(table, {})
    cols = [c for c in SCHEMAS[table].names if c not in keys]
    assign = ", ".join(f"{_q(c)} = {exprs.get(c, 'b.' + _q(c))}" for c in cols)
    ignored = _IGNORED_IN_DIFF.get(table, frozenset())
    compared = [c for c in (diff_only or cols) if c not in ignored]
    differs = " OR ".join(f"a.{_q(c)} IS DISTINCT FROM {exprs.get(c, 'b.' + _q(c))}" for c in compared)
    match = " AND ".join(f"a.{_q(k)} = b.{_q(k)}" for k in keys)
    guard = _UPDATE_GUARD.get(table)
    where = f"{match} AND ({differs})" + (f" AND {guard}" if guard else "")
    return f"UPDATE {_q(table)} AS a SET {assign} FROM {_q(source)} AS b WHERE {where}"


def _delete_changed_sql(table: str, source: str) -> str:
    """Delete stored rows that a replace batch changes; re-inserting them is ~4x faster in
    DuckDB than an UPDATE of every column (list columns make UPDATE a delete+insert anyway)."""
    keys = KEYS[table]
    ignored = _IGNORED_IN_DIFF.get(table, frozenset())
    compared = [c for c in SCHEMAS[table].names if c not in keys and c not in ignored]
    differs = " OR ".join(f"a.{_q(c)} IS DISTINCT FROM b.{_q(c)}" for c in compared)
    match = " AND ".join(f"a.{_q(k)} = b.{_q(k)}" for k in keys)
    return f"DELETE FROM {_q(table)} AS a USING {_q(source)} AS b WHERE {match} AND ({differs})"


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = conn.execute(sql).fetchall()  # fetchall completes the result (DuckDB 2 insists)
    return int(rows[0][0]) if rows else 0


# --- versions ---------------------------------------------------------------------------------

# A stored article whose incoming copy has other text and was fetched later is an update: the
# stored row moves to article_versions (keyed by its version number) and the new one replaces it
# with the next number. Same text, or an older fetch (a late staged batch), changes nothing.
_CHANGED_IDS = """
CREATE OR REPLACE TEMP TABLE _versioned AS
SELECT a.article_id, a.version AS old_version
FROM articles AS a JOIN {src} AS b USING (article_id)
WHERE a.content_hash IS DISTINCT FROM b.content_hash
  AND b.fetched_at IS NOT NULL AND (a.fetched_at IS NULL OR b.fetched_at > a.fetched_at)
"""
_ARCHIVE_VERSIONS = """
INSERT INTO article_versions
SELECT a.article_id, coalesce(a.version, 1), a.content_hash, a.title, a.text, a.word_count,
       a.published_at, a.fetched_at, a.ingested_at, now(), b.run_id
FROM articles AS a JOIN {src} AS b USING (article_id)
WHERE a.article_id IN (SELECT article_id FROM _versioned)
ON CONFLICT DO NOTHING
"""
_DELETE_VERSIONED = "DELETE FROM articles WHERE article_id IN (SELECT article_id FROM _versioned)"
_UPDATE_FINGERPRINTS = """
UPDATE article_feeds AS a SET entry_fingerprint = b.entry_fingerprint FROM {src} AS b
WHERE a.article_id = b.article_id AND a.feed_url = b.feed_url AND a.guid = b.guid
  AND b.entry_fingerprint IS NOT NULL AND a.entry_fingerprint IS DISTINCT FROM b.entry_fingerprint
"""


def _archive_changed_versions(conn: duckdb.DuckDBPyConnection, src: str) -> int:
    """Move the stored rows the batch updates to article_versions; return how many."""
    conn.execute(_CHANGED_IDS.format(src=_q(src)))
    n = _count(conn, "SELECT count(*) FROM _versioned")
    if n:
        conn.execute(_ARCHIVE_VERSIONS.format(src=_q(src)))
        conn.execute(_DELETE_VERSIONED)
    return n


def _replace_articles(conn: duckdb.DuckDBPyConnection, src: str) -> int:
    """A replace batch (re-extraction) rewrites changed rows but keeps their version number."""
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _versioned AS SELECT a.article_id, a.version AS old_version "
        f"FROM articles AS a JOIN {_q(src)} AS b USING (article_id)"
    )
    return _count(conn, _delete_changed_sql("articles", src))


def _restore_versions(conn: duckdb.DuckDBPyConnection, *, bump: bool = False) -> None:
    step = "+ 1" if bump else ""
    conn.execute(
        f"UPDATE articles AS a SET version = coalesce(v.old_version, 1) {step} FROM _versioned AS v "
        "WHERE a.article_id = v.article_id AND a.version IS DISTINCT FROM coalesce(v.old_version, 1) " + step
    )
    conn.execute("DROP TABLE IF EXISTS _versioned")


# --- in-batch deduplication ---------------------------------------------------------------------


def dedupe(data: pa.Table, keys: tuple[str, ...], *, keep: Literal["first", "last"] = "first") -> pa.Table:
    """Drop rows whose key repeats within the batch (DuckDB refuses duplicate keys in one INSERT)."""
    n = data.num_rows
    if n < 2:
        return data
    if len(keys) == 1 and pc.count_distinct(data.column(keys[0])).as_py() == n:
        return data
    probe = data.select(list(keys)).append_column("__row", pa.array(range(n), type=pa.int64()))
    agg = "min" if keep == "first" else "max"
    grouped = probe.group_by(list(keys), use_threads=False).aggregate([("__row", agg)])
    if grouped.num_rows == n:
        return data
    rows = grouped.column(f"__row_{agg}")
    return data.take(pc.take(rows, pc.sort_indices(rows)))


# --- the load itself ----------------------------------------------------------------------------

_UPSERT_TABLES = ("feeds", "runs", "archive_records")


def _prepare(tables: dict[str, pa.Table], replace: bool) -> dict[str, pa.Table]:
    ready: dict[str, pa.Table] = {}
    for table in SCHEMAS:
        data = tables.get(table)
        if data is None or data.num_rows == 0:
            continue
        data = conform(table, data)
        keep: Literal["first", "last"] = "last" if (table in _UPSERT_TABLES or replace) else "first"
        ready[table] = dedupe(data, KEYS[table], keep=keep)
    return ready


def apply_tables(
    conn: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], *, replace: bool = False,
    stories: Decide | None = None, before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> dict[str, int]:
    """Upsert prepared Arrow tables in ONE transaction; return per-table counts of rows written.

    ``before_commit`` runs inside that transaction after the rows (the lake's committer records
    the batch id there, so rows and record commit or vanish together).

    Story sketches riding with the batch go to the story index in the same transaction, after the
    articles, grouped by ``stories`` (the flows pass ``extractors.stories.assign_groups``); without
    it they are left out (the articles keep no group until a reprocess).
    """
    tables = dict(tables)
    enriched = tables.pop(ENRICHED_IDS, None)
    enrichment = {name[len(ENRICHMENT_PREFIX):]: tables.pop(name) for name in list(tables)
                  if name.startswith(ENRICHMENT_PREFIX)}
    sketch_table = tables.pop(SKETCH_QUEUE, None)
    sketches = sketches_from_arrow(sketch_table) if sketch_table is not None and stories is not None else []
    ready = _prepare(tables, replace)
    counts = dict.fromkeys(
        ("articles_new", "articles_replaced", "articles_updated", "links_new", "rejects_new", "pages_new",
         "feeds_updated", "records_new", "runs_written", "stories_indexed", "events_new"),
        0,
    )
    if not ready and not sketches and enriched is None and before_commit is None:
        return counts
    sources = {table: f"_batch_{table}" for table in ready}
    for table, data in ready.items():
        conn.register(sources[table], data)
    try:
        conn.begin()
        try:
            # before the articles go in: which of the coded articles this load stores for the first time
            first_stored = _not_stored(conn, enriched, ready.get("articles"))
            for table in ready:
                src = sources[table]
                if table == "articles":
                    if replace:
                        replaced = _replace_articles(conn, src)
                        counts["articles_replaced"] = replaced
                        counts["articles_new"] = _count(conn, _insert_new_sql(table, src)) - replaced
                        _restore_versions(conn)
                    else:
                        updated = _archive_changed_versions(conn, src)
                        counts["articles_updated"] = updated
                        counts["articles_new"] = _count(conn, _insert_new_sql(table, src)) - updated
                        _restore_versions(conn, bump=True)
                elif table == "article_feeds":
                    counts["links_new"] = _count(conn, _insert_new_sql(table, src))
                    _count(conn, _UPDATE_FINGERPRINTS.format(src=_q(src)))
                elif table in ("feeds", "runs"):
                    updated = _count(conn, _update_changed_sql(table, src))
                    inserted = _count(conn, _insert_new_sql(table, src))
                    counts["feeds_updated" if table == "feeds" else "runs_written"] = updated + inserted
                elif table == "archive_records":
                    # A record's status may change (rejected → loaded on a retry); --force rewrites it.
                    diff = None if replace else ("status", "article_id")
                    updated = _count(conn, _update_changed_sql(table, src, diff_only=diff))
                    counts["records_new"] = updated + _count(conn, _insert_new_sql(table, src))
                else:
                    key = {"article_feeds": "links_new", "raw_pages": "pages_new", "rejects": "rejects_new"}
                    counts[key[table]] = _count(conn, _insert_new_sql(table, src))
            if enriched is not None and enriched.num_rows:
                done = replace_enrichment(conn, enriched.column("article_id").to_pylist(), enrichment,
                                          transaction=False, new_ids=first_stored)
                counts["events_new"] = done.get("events", 0)
            if sketches and stories is not None:
                update_story_index(conn, sketches, stories, transaction=False)
                counts["stories_indexed"] = len(sketches)
                if replace:
                    sync_article_groups(conn)  # rewritten rows came back without their group
            if before_commit is not None:
                before_commit(conn)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    finally:
        for src in sources.values():
            conn.unregister(src)
    return counts


def _not_stored(conn: duckdb.DuckDBPyConnection, enriched: pa.Table | None,
                articles: pa.Table | None) -> set[str]:
    """The batch's articles with coder rows that are not in ``articles`` yet (read before the load
    writes them): their old coder rows cannot exist, so the load deletes none for them."""
    if enriched is None or not enriched.num_rows or articles is None or not articles.num_rows:
        return set()
    ids = set(enriched.column("article_id").to_pylist()) & set(articles.column("article_id").to_pylist())
    if not ids:
        return set()
    conn.register("_enrich_batch_ids", pa.table({"article_id": pa.array(sorted(ids), pa.string())}))
    try:
        stored = conn.execute("SELECT article_id FROM articles WHERE article_id IN "
                              "(SELECT article_id FROM _enrich_batch_ids)").fetchall()
    finally:
        conn.unregister("_enrich_batch_ids")
    return ids - {r[0] for r in stored}


def _default_staging(db_path: Path, staging_dir: str | Path | None) -> Path:
    return Path(staging_dir) if staging_dir is not None else Path(db_path).parent / "staging"


def load_batch(db_path: str | Path, batch: Batch, *, staging_dir: str | Path | None = None,
               stories: Decide | None = None) -> LoadResult:
    """Load one batch in one transaction; stage it to Parquet if another process holds the file.

    Any other error propagates: a load that fails must fail the flow.
    """
    db_path = Path(db_path)
    if batch.is_empty():
        return LoadResult(status="loaded", batch_id=batch.batch_id)
    tables = _bodies_to_files(db_path, batch.to_arrow())
    try:
        conn = connect_write(db_path)
    except DatabaseLocked as exc:
        path = stage_batch(
            tables,
            _default_staging(db_path, staging_dir),
            batch.batch_id,
            meta={"replace": batch.replace, "why": str(exc)},
        )
        log.warning("%s; batch %s staged at %s", exc, batch.batch_id, path)
        return LoadResult(status="staged", batch_id=batch.batch_id, path=path, error=str(exc))
    try:
        counts = apply_tables(conn, tables, replace=batch.replace, stories=stories)
    finally:
        conn.close()
    return LoadResult.loaded(batch.batch_id, counts)


def _bodies_to_files(db_path: Path, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """Raw page bodies go to their files beside the database before any row naming them is
    committed (or staged); the rows keep only the locator."""
    raw = tables.get("raw_pages")
    if raw is not None and raw.num_rows:
        tables = {**tables, "raw_pages": externalize(pages_root(db_path), raw)}
    return tables


def upsert_run(db_path: str | Path, run: RunRecord, *, staging_dir: str | Path | None = None) -> LoadResult:
    """Write (or overwrite) one run record; staged like any batch if the file is locked."""
    return load_batch(db_path, Batch(run=run), staging_dir=staging_dir)


def load_staged(db_path: str | Path, staging_dir: str | Path | None = None, *,
                stories: Decide | None = None) -> list[LoadResult]:
    """Load every staged batch, oldest first, each in its own transaction.

    A batch's directory is deleted only after its transaction committed. If the database is
    still locked, nothing is loaded and each batch is reported as still ``staged``. A batch that
    fails to load stays where it is for the next run; only an unreadable one is renamed
    ``*.failed`` (kept, never deleted).
    """
    db_path = Path(db_path)
    pending = list(iter_staged(_default_staging(db_path, staging_dir)))
    if not pending:
        return []
    try:
        conn = connect_write(db_path)
    except DatabaseLocked as exc:
        return [LoadResult(status="staged", batch_id=_batch_id_of(p), path=p, error=str(exc)) for p in pending]
    results: list[LoadResult] = []
    try:
        for path in pending:
            results.append(_load_one_staged(conn, db_path, path, stories))
    finally:
        conn.close()
    return results


def _batch_id_of(path: Path) -> str:
    return path.name.split("_", 1)[-1]


def _load_one_staged(conn: duckdb.DuckDBPyConnection, db_path: Path, path: Path,
                     stories: Decide | None = None) -> LoadResult:
    batch_id = _batch_id_of(path)
    try:
        manifest = read_manifest(path)
        batch_id = str(manifest.get("batch_id") or batch_id)
        tables = read_staged(path)
        for table in list(tables):
            if is_side_table(table):
                continue
            if table not in SCHEMAS:
                raise StagingCorrupt(f"{path}: unknown table {table}")
            tables[table] = conform(table, tables[table])
        tables = _bodies_to_files(db_path, tables)  # batches staged by older code carry bodies inline
    except (StagingCorrupt, ValueError, pa.ArrowException) as exc:
        failed = mark_failed(path)
        log.error("staged batch %s is unreadable, set aside at %s: %s", batch_id, failed, exc)
        return LoadResult(status="failed", batch_id=batch_id, path=failed, error=f"corrupt: {exc}")
    try:
        counts = apply_tables(conn, tables, replace=bool(manifest.get("replace", False)), stories=stories)
    except duckdb.Error as exc:
        log.error("staged batch %s failed to load, kept at %s: %s", batch_id, path, exc)
        return LoadResult(status="failed", batch_id=batch_id, path=path, error=str(exc))
    remove_staged(path)
    return LoadResult.loaded(batch_id, counts, path=path)
