"""The lake: Parquet batches written by cluster workers, loaded into DuckDB by one committer.

Layout under the lake URI (``file://DIR`` or ``s3://BUCKET/PREFIX``, through fsspec)::

    batches/<batch_id>/<table>-<attempt>.parquet   one file per non-empty table of the batch
    batches/<batch_id>/_SUCCESS                    the manifest, written last

A batch is visible only once its ``_SUCCESS`` exists, and the manifest names the files of the
attempt that wrote it, so a reader never sees a partial batch: a worker killed mid-write leaves
files no manifest names. Every file is written whole before it gets its name (a temporary name
and a rename on a local disk; one PUT, atomic by itself, on object storage). Batch ids are
deterministic (``batch_id``), so a shard run twice, e.g. after its worker died, writes the
same batch again; whichever attempt's manifest lands last is the batch, and both are complete.

Loading (``commit_batch``) is the only step that writes DuckDB: the batch's rows go through the
ordinary load (``apply_tables``) and its id into ``lake_batches`` in the same transaction, so a
committer killed mid-load leaves nothing, and a batch already recorded is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.batch import SCHEMAS, SKETCH_SCHEMA
from warehouse.db import DatabaseLocked, DatabaseMissing, connect_read, connect_write
from warehouse.load import LoadResult, apply_tables
from warehouse.stories import Decide

LAKE_FORMAT = 1
SUCCESS = "_SUCCESS"
BATCHES = "batches"


def schema_digest() -> str:
    """What the batch tables look like; part of every batch id, so a schema change never
    reuses batches written by an older version."""
    text = json.dumps({name: str(schema) for name, schema in sorted(SCHEMAS.items())}, sort_keys=True)
    return hashlib.sha256((text + str(SKETCH_SCHEMA)).encode()).hexdigest()[:16]


def batch_id(*, source: str, start: int, end: int | None, size: int, code_version: str,
             options: dict[str, Any] | None = None) -> str:
    """A shard's batch id: its archive (absolute path and size), byte range, the code and schema
    versions, and the run options that change what it produces (``--outlet``)."""
    key = [LAKE_FORMAT, code_version, schema_digest(), source, size, start, end, sorted((options or {}).items())]
    return hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:32]


class Lake:
    """A lake folder reached through fsspec (``file://`` and ``s3://`` tested)."""

    def __init__(self, uri: str, **storage_options: Any) -> None:
        from fsspec.core import url_to_fs

        self.uri = uri.rstrip("/")
        self.fs, self.root = url_to_fs(self.uri, **storage_options)
        self.local = "file" in _protocols(self.fs)

    def _dir(self, bid: str) -> str:
        return f"{self.root}/{BATCHES}/{bid}"

    def _put(self, path: str, write: Callable[[Any], None]) -> None:
        """Write ``path`` whole before it has its name."""
        if self.local:
            tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
            try:
                with open(tmp, "wb") as fh:
                    write(fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        else:
            with self.fs.open(path, "wb") as fh:  # one PUT: the object appears complete or not at all
                write(fh)

    def write(self, bid: str, tables: dict[str, pa.Table], meta: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write one batch (its tables, then the manifest last); returns the manifest."""
        where = self._dir(bid)
        self.fs.makedirs(where, exist_ok=True)
        attempt = uuid.uuid4().hex[:12]
        files: dict[str, str] = {}
        rows: dict[str, int] = {}
        for table, data in tables.items():
            if data.num_rows == 0:
                continue
            name = f"{table}-{attempt}.parquet"
            self._put(f"{where}/{name}", _parquet_writer(data))
            files[table], rows[table] = name, data.num_rows
        manifest = {"format": LAKE_FORMAT, "batch_id": bid, "attempt": attempt, "files": files, "rows": rows,
                    "written_at": datetime.now(UTC).isoformat(), **(meta or {})}
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        self._put(f"{where}/{SUCCESS}", lambda fh: fh.write(body))
        if self.local:
            _fsync_dir(where)
        return manifest

    def manifest(self, bid: str) -> dict[str, Any] | None:
        """The batch's manifest, or None while it is not (completely) written."""
        try:
            raw = self.fs.cat_file(f"{self._dir(bid)}/{SUCCESS}")
        except FileNotFoundError:
            return None
        data = json.loads(raw)
        return data if isinstance(data, dict) else None

    def read(self, bid: str) -> tuple[dict[str, Any], dict[str, pa.Table]]:
        """A finished batch: its manifest and tables (row counts checked against the manifest)."""
        manifest = self.manifest(bid)
        if manifest is None:
            raise FileNotFoundError(f"lake batch {bid} is not finished")
        tables: dict[str, pa.Table] = {}
        for table, name in manifest["files"].items():
            with self.fs.open(f"{self._dir(bid)}/{name}", "rb") as fh:
                data = pq.read_table(fh)
            if data.num_rows != manifest["rows"][table]:
                raise ValueError(f"lake batch {bid}: {name} has {data.num_rows} rows, manifest says "
                                 f"{manifest['rows'][table]}")
            tables[table] = data
        return manifest, tables

    def put_object(self, name: str, body: bytes) -> None:
        """Store ``body`` under ``objects/<name>`` in the lake, whole before it has its name (what a
        fan-out hands its shard runs by reference, e.g. the learnt recurring lines)."""
        path = f"{self.root}/objects/{name}"
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self._put(path, lambda fh: fh.write(body))

    def get_object(self, name: str) -> bytes:
        data = self.fs.cat_file(f"{self.root}/objects/{name}")
        return bytes(data)

    def finished(self) -> list[str]:
        """Ids of every finished batch in the lake."""
        try:
            found = self.fs.glob(f"{self.root}/{BATCHES}/*/{SUCCESS}")
        except FileNotFoundError:
            return []
        return sorted(str(p).rstrip("/").split("/")[-2] for p in found)


def _parquet_writer(data: pa.Table) -> Callable[[Any], None]:
    def write(fh: Any) -> None:
        pq.write_table(data, fh, compression="zstd")

    return write


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = fs.protocol
    return (proto,) if isinstance(proto, str) else tuple(proto)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def loaded_batches(db: str | Path | duckdb.DuckDBPyConnection, ids: Iterable[str]) -> dict[str, int]:
    """Which of ``ids`` are committed to the warehouse, with the archive records each read
    (``db``: a path, or a connection the caller holds)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    held = isinstance(db, duckdb.DuckDBPyConnection)
    try:
        conn = db if isinstance(db, duckdb.DuckDBPyConnection) else connect_read(db)
    except (DatabaseMissing, DatabaseLocked):
        return {}
    try:
        rows = conn.execute("SELECT batch_id, records FROM lake_batches WHERE list_contains(?, batch_id)",
                            [wanted]).fetchall()
    except duckdb.CatalogException:  # a warehouse older than the lake
        return {}
    finally:
        if not held:
            conn.close()
    return {r[0]: int(r[1]) for r in rows}


@dataclass(frozen=True)
class BatchRecord:
    """What ``lake_batches`` keeps about a committed batch."""

    batch_id: str
    source: str
    byte_start: int
    byte_end: int | None
    records: int
    articles: int
    run_id: str


def commit_batch(db: str | Path | duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], record: BatchRecord, *,
                 replace: bool = False, stories: Decide | None = None,
                 in_transaction: Callable[[str], None] | None = None) -> LoadResult:
    """Load one lake batch and record its id in the same transaction; a batch already recorded
    is not loaded again (``status="loaded"`` with zero counts and ``error="already loaded"``).
    ``replace`` (backfill --force) loads it again even so, overwriting the stored rows.
    ``in_transaction(batch_id)`` is called with the rows written, just before the commit.
    ``db`` is a path (a write connection is opened and closed) or a write connection held by the
    caller across batches (what a committer does: no open and checkpoint per batch)."""
    held = isinstance(db, duckdb.DuckDBPyConnection)
    conn = db if isinstance(db, duckdb.DuckDBPyConnection) else connect_write(db)
    try:
        if not replace and conn.execute("SELECT 1 FROM lake_batches WHERE batch_id = ?",
                                        [record.batch_id]).fetchall():
            return LoadResult(status="loaded", batch_id=record.batch_id, error="already loaded")

        def note(c: duckdb.DuckDBPyConnection) -> None:
            c.execute("DELETE FROM lake_batches WHERE batch_id = ?", [record.batch_id])
            c.execute("INSERT INTO lake_batches VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                      [record.batch_id, record.source, record.byte_start, record.byte_end, record.records,
                       record.articles, record.run_id])
            if in_transaction is not None:
                in_transaction(record.batch_id)

        counts = apply_tables(conn, tables, replace=replace, stories=stories, before_commit=note)
    finally:
        if not held:
            conn.close()
    return LoadResult.loaded(record.batch_id, counts)


@dataclass(frozen=True)
class LakeState:
    """What ``newsflow stats`` shows of the lake: batches committed to the warehouse
    (``lake_batches``) and batches finished in the lake but not loaded (the committer was killed,
    the database was busy, or the run failed before committing them)."""

    uri: str
    loaded: int | None  # None: the warehouse could not be read
    records: int = 0
    articles: int = 0
    last_loaded: datetime | None = None
    waiting: int | None = None  # None: the lake could not be read
    error: str | None = None

    def describe(self) -> str:
        if self.loaded is None and self.waiting is None:
            return "unknown" + (f" ({self.error})" if self.error else "")
        parts = []
        if self.loaded is not None:
            parts.append("none loaded" if not self.loaded else
                         f"{self.loaded:,} loaded ({self.records:,} records, {self.articles:,} articles"
                         + (f", last {self.last_loaded:%Y-%m-%d %H:%M} UTC" if self.last_loaded else "") + ")")
        if self.waiting is None:
            parts.append(f"lake unreadable ({self.error})" if self.error else "lake unreadable")
        else:
            parts.append(f"{self.waiting:,} finished, not loaded" if self.waiting else "none waiting")
        return "; ".join(parts)


def lake_state(db: str | Path, uri: str) -> LakeState:
    """Batches loaded into the warehouse at ``db`` and batches finished in the lake at ``uri`` but
    not loaded (a batch counts once whatever the number of attempts that wrote it)."""
    loaded: int | None = None
    records = articles = 0
    last: datetime | None = None
    ids: set[str] = set()
    error = None
    try:
        conn = connect_read(db)
    except (DatabaseMissing, DatabaseLocked) as exc:
        error = type(exc).__name__
    else:
        try:
            ids = {r[0] for r in conn.execute("SELECT batch_id FROM lake_batches").fetchall()}
            (records, articles, last), = conn.execute(
                "SELECT coalesce(sum(records), 0), coalesce(sum(articles), 0), max(loaded_at) FROM lake_batches"
            ).fetchall()
            loaded = len(ids)
        except duckdb.CatalogException:  # a warehouse older than the lake
            loaded = 0
        finally:
            conn.close()
    waiting: int | None = None
    try:
        finished = Lake(uri).finished()
        waiting = len(set(finished) - ids) if loaded is not None else None
    except Exception as exc:  # an unreachable object store is reported, not fatal
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if isinstance(last, datetime) and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return LakeState(uri=uri, loaded=loaded, records=int(records), articles=int(articles), last_loaded=last,
                     waiting=waiting, error=error)
