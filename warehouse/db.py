"""Opening the DuckDB file: one writer at a time, readers read-only, lock conflicts named clearly."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from warehouse.migrate import migrate

_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
_LOCK_MARKERS = ("could not set lock on file", "conflicting lock")
# This process already has the file open: in the other mode (read-only vs read-write), or as the
# writer's attached database (DuckDB refuses a second handle on one file within a process).
_SAME_PROCESS = ("different configuration", "unique file handle conflict")


class DatabaseLocked(Exception):
    """Another process (or another connection of this one) holds the database file."""

    def __init__(self, path: Path, *, pid: int | None = None, program: str | None = None, detail: str = ""):
        self.path = Path(path)
        self.pid = pid
        self.program = program
        self.detail = detail
        holder = ""
        if pid is not None:
            holder = f" by PID {pid}" + (f" ({program})" if program else "")
        super().__init__(
            f"database {self.path} is locked{holder or ' by another process'}; "
            "a load may be running — try again when it has finished"
        )


class DatabaseMissing(Exception):
    """The database file does not exist yet (nothing has been loaded)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        super().__init__(f"database {self.path} does not exist yet; run an ingest or backfill first")


def _lock_error(path: Path, exc: Exception) -> DatabaseLocked | None:
    """Translate DuckDB's lock complaints into DatabaseLocked; None for any other error."""
    text = str(exc)
    lowered = text.lower()
    if any(marker in lowered for marker in _LOCK_MARKERS):
        match = _HOLDER.search(text)
        if match:
            return DatabaseLocked(path, pid=int(match["pid"]), program=match["program"], detail=text)
        return DatabaseLocked(path, detail=text)
    if isinstance(exc, (duckdb.ConnectionException, duckdb.ResourceInUseException)) and any(
            marker in lowered for marker in _SAME_PROCESS):
        return DatabaseLocked(path, pid=os.getpid(), program="this process", detail=text)
    return None


def _open(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except (duckdb.IOException, duckdb.ConnectionException, duckdb.ResourceInUseException) as exc:
        locked = _lock_error(path, exc)
        if locked is not None:
            raise locked from None
        raise


WRITE_MEMORY_LIMIT = "512MB"
# Rows per row group the writer creates. DuckDB writes a bulk insert's row groups to the file,
# compressed, as each one fills (on several threads); a batch smaller than one row group (the
# default is 122,880 rows) stays in memory until the commit, spills under the memory cap and is
# compressed on one thread by the checkpoint. 100,000 articles under the 512 MB cap: 7–9 CPU-s
# with the default, 1–4 with 4,096–16,384 (bench/RESULTS.md §5). 4,096 rather than 16,384: a
# long backfill's flow process peaks lower (20,000 pages: 1,118–1,124 vs 1,163–1,178 MiB for
# the tree, ×1.14–1.15 vs ×1.20 of 5,000; §6), with no query on 1M articles slower beyond
# run-to-run spread; the cost is file size (+6–7 % on the backfill, +27 % on text with no
# repeated paragraph; §5). A size of the attached database, not of the file: older files keep
# their row groups and read the same.
WRITE_ROW_GROUP_SIZE = 4_096
# When DuckDB returns freed memory to the operating system. These wheels have no jemalloc:
# DuckDB allocates through glibc's malloc and, after a task whose allocations peaked above
# ``allocator_flush_threshold`` or after a bulk deallocation above
# ``allocator_bulk_deallocation_flush_threshold``, calls glibc's ``malloc_trim`` (at most every
# 100 ms, with a pad of threads × threshold; DuckDB's defaults 128 MB / 512 MB). At 0 the load's
# freed memory goes back as the load goes, not only at release_free_memory() after it: ~20 MiB
# off the flow process's in-load peaks, the loads no slower (bench/RESULTS.md §6, seventh round).
# None keeps DuckDB's defaults.
WRITE_ALLOCATOR_FLUSH: str | None = "0MB"
_ALIAS = "warehouse"


def _open_write(path: Path) -> duckdb.DuckDBPyConnection:
    """The file attached to an in-memory instance: only ATTACH takes a row-group size."""
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH ? AS {_ALIAS} (ROW_GROUP_SIZE {WRITE_ROW_GROUP_SIZE})", [str(path)])
        conn.execute(f"USE {_ALIAS}")
        # spill files beside the database, where a file-backed connection puts them (not the cwd)
        conn.execute("SET temp_directory = ?", [f"{path}.tmp"])
    except (duckdb.IOException, duckdb.ConnectionException, duckdb.ResourceInUseException) as exc:
        conn.close()
        locked = _lock_error(path, exc)
        if locked is not None:
            raise locked from None
        raise
    except BaseException:
        conn.close()
        raise
    return conn


def connect_write(path: str | Path, *, run_migrations: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the database for writing (creating it and its directory) and bring its schema up to date.

    Raises DatabaseLocked when another process holds the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _open_write(path)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        # a loader's memory stays flat however large the file grows: without a cap DuckDB's buffer
        # pool grows with the database (page bodies are kept out of it, in warehouse/pages.py)
        conn.execute(f"SET memory_limit = '{WRITE_MEMORY_LIMIT}'")
        if WRITE_ALLOCATOR_FLUSH is not None:
            conn.execute(f"SET allocator_flush_threshold = '{WRITE_ALLOCATOR_FLUSH}'")
            conn.execute(f"SET allocator_bulk_deallocation_flush_threshold = '{WRITE_ALLOCATOR_FLUSH}'")
        if run_migrations:
            migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def connect_read(path: str | Path, *, sandbox: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database read-only, for analysts and the pipeline's look-ups.

    ``sandbox=True`` also disables access to other files (no ATTACH, COPY TO or file readers), for
    running SQL typed by a user. Raises DatabaseMissing or DatabaseLocked.
    """
    path = Path(path)
    if not path.exists():
        raise DatabaseMissing(path)
    conn = _open(path, read_only=True)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        if sandbox:
            conn.execute("SET enable_external_access = false")
            conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn
