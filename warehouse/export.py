"""Taking data out: stream a query's rows to Parquet, CSV or JSON Lines through Arrow.

The analyst's connection is sandboxed (no ``COPY ... TO``), so rows leave DuckDB as a stream of
Arrow record batches and pyarrow writes the file: memory stays flat however many rows there are.
Timestamps are written in UTC. The file appears only when complete (written to a temporary name
beside it, then renamed).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from warehouse.db import connect_read
from warehouse.staging import swap_directory
from warehouse.tables import EXPORTS, OPTIONAL_VIEWS, ExportSpec

Format = Literal["parquet", "csv", "jsonl", "json"]
FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl", "json")
BATCH_ROWS = 50_000




def available_exports(conn: duckdb.DuckDBPyConnection) -> dict[str, ExportSpec]:
    """EXPORTS plus the optional views this database has (named without the ``v_``)."""
    names = {r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    out = {k: v for k, v in EXPORTS.items() if v.relation in names}
    for view in OPTIONAL_VIEWS:
        if view in names:
            out[view.removeprefix("v_")] = ExportSpec(view, None, "1")
    return out


def arrow_reader(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None,
                 batch_rows: int = BATCH_ROWS) -> pa.RecordBatchReader:
    """A streaming Arrow reader over a query (works across DuckDB versions)."""
    rel = conn.sql(sql, params=list(params)) if params else conn.sql(sql)
    if rel is None:  # a statement with no result
        return pa.RecordBatchReader.from_batches(pa.schema([]), iter(()))
    for name in ("to_arrow_reader", "fetch_arrow_reader", "fetch_record_batch", "record_batch"):
        fn = getattr(rel, name, None)
        if fn is not None:
            return fn(batch_rows)
    raise RuntimeError("this DuckDB version cannot stream Arrow record batches")


def _json_value(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return str(v)


def _csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """CSV has no lists or structs: such columns become JSON text; binary becomes a length note."""
    cols = []
    for col, field in zip(batch.columns, batch.schema, strict=True):
        t = field.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) or pa.types.is_map(t):
            col = pa.array([None if v is None else json.dumps(v, default=_json_value, ensure_ascii=False)
                            for v in col.to_pylist()], pa.string())
        elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
            col = pa.array([None if v is None else f"<{len(v)} bytes>" for v in col.to_pylist()], pa.string())
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, names=batch.schema.names)


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reader(reader: pa.RecordBatchReader, fmt: str, out: Path,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write every batch of ``reader`` to ``out`` in ``fmt``; returns the row count."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    rows = 0
    with _atomic(out) as tmp:
        if fmt == "parquet":
            with pq.ParquetWriter(tmp, reader.schema, compression="zstd") as w:
                for batch in reader:
                    w.write_batch(batch)
                    rows += batch.num_rows
                    if progress:
                        progress(rows)
        elif fmt == "csv":
            writer: pacsv.CSVWriter | None = None
            with tmp.open("wb") as fh:
                for batch in reader:
                    b = _csv_ready(batch)
                    if writer is None:
                        writer = pacsv.CSVWriter(fh, b.schema)
                    writer.write_batch(b)
                    rows += batch.num_rows
                    if progress:
                        progress(rows)
                if writer is None:  # no rows: still write the header
                    empty = _csv_ready(pa.RecordBatch.from_pylist([], schema=reader.schema))
                    writer = pacsv.CSVWriter(fh, empty.schema)
                writer.close()
        else:
            with tmp.open("w", encoding="utf-8") as fh:
                if fmt == "json":
                    fh.write("[")
                for batch in reader:
                    for rec in batch.to_pylist():
                        line = json.dumps(rec, default=_json_value, ensure_ascii=False)
                        if fmt == "json":
                            fh.write(("\n" if rows == 0 else ",\n") + line)
                        else:
                            fh.write(line + "\n")
                        rows += 1
                    if progress:
                        progress(rows)
                if fmt == "json":
                    fh.write("\n]\n" if rows else "]\n")
    return rows


def export_sql(spec: ExportSpec, since: datetime | date | None) -> tuple[str, list[Any]]:
    """The SELECT for one export (``since`` as a ``?`` parameter)."""
    sql = f"SELECT * FROM {spec.relation}"
    params: list[Any] = []
    if since is not None:
        if spec.time_expr is None:
            raise ValueError(f"{spec.relation} has no time column: --since does not apply")
        sql += f" WHERE {spec.time_expr} >= ?"
        params.append(since)
    return sql + f" ORDER BY {spec.order}", params


def export_table(db: str | Path, table: str, fmt: str, out: str | Path, *, since: datetime | date | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
    """Export one analyst table (see EXPORTS) to ``out``; returns rows written.

    Raises KeyError for an unknown table, DatabaseMissing / DatabaseLocked as connect_read does.
    """
    conn = connect_read(db, sandbox=True)
    try:
        specs = available_exports(conn)
        if table not in specs:
            raise KeyError(table)
        sql, params = export_sql(specs[table], since)
        return write_reader(arrow_reader(conn, sql, params), fmt, Path(out), progress)
    finally:
        conn.close()


def export_query(db: str | Path, sql: str, fmt: str, out: str | Path,
                 progress: Callable[[int], None] | None = None) -> int:
    """Run analyst SQL on the sandboxed read connection and stream its rows to ``out``."""
    conn = connect_read(db, sandbox=True)
    try:
        return write_reader(arrow_reader(conn, sql), fmt, Path(out), progress)
    finally:
        conn.close()


def export_snapshot(db: str | Path, out_dir: str | Path, *, since: datetime | date | None = None,
                    progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Every analyst table as ``<out_dir>/<table>.parquet``, swapped in as a whole.

    A notebook reading the snapshot never holds the database's lock, so loads are never staged
    because of it. The new snapshot is written beside the old one and renamed into place, so a
    reader sees the old or the new set of files, never a mix (for an instant, during the two
    renames, the directory is absent). Returns rows per table.
    """
    import shutil

    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f".{out_dir.name}.new-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    counts: dict[str, int] = {}
    done = 0
    try:
        conn = connect_read(db, sandbox=True)
        try:
            for name, spec in available_exports(conn).items():
                sql, params = export_sql(spec, since if spec.time_expr is not None else None)

                def step(n: int, base: int = done) -> None:
                    if progress is not None:
                        progress(base + n)

                counts[name] = write_reader(arrow_reader(conn, sql, params), "parquet", tmp / f"{name}.parquet", step)
                done += counts[name]
        finally:
            conn.close()
        swap_directory(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts
