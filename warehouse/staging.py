"""Atomic Parquet staging for batches that could not be loaded because the database was locked.

Layout: ``<staging_dir>/<UTC timestamp>_<batch_id>/`` holding one ``<table>.parquet`` per
non-empty table and a ``manifest.json``. The directory is written under a hidden ``.tmp-``
name, fsynced, then renamed into place, so a reader only ever sees complete batches; names sort
oldest first. A batch that cannot be read is renamed to ``*.failed`` — never deleted.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
FAILED_SUFFIX = ".failed"
_TMP_PREFIX = ".tmp-"


class StagingCorrupt(Exception):
    """A staged batch directory is unreadable or inconsistent with its manifest."""


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stage_batch(
    tables: dict[str, pa.Table],
    staging_dir: str | Path,
    batch_id: str,
    *,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write ``tables`` as one staged batch and return its directory (complete or absent, never half)."""
    staging_dir = Path(staging_dir)
    staging_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}_{batch_id}"
    tmp = staging_dir / f"{_TMP_PREFIX}{name}"
    final = staging_dir / name
    tmp.mkdir()
    try:
        rows: dict[str, int] = {}
        for table, data in tables.items():
            if data.num_rows == 0:
                continue
            target = tmp / f"{table}.parquet"
            pq.write_table(data, target, compression="zstd")
            _fsync_path(target)
            rows[table] = data.num_rows
        manifest = {
            "format": FORMAT_VERSION,
            "batch_id": batch_id,
            "staged_at": datetime.now(UTC).isoformat(),
            "rows": rows,
            **(meta or {}),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        _fsync_path(tmp / MANIFEST)
        _fsync_path(tmp, directory=True)
        os.rename(tmp, final)
        _fsync_path(staging_dir, directory=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def iter_staged(staging_dir: str | Path) -> Iterator[Path]:
    """Complete staged batches, oldest first (half-written and failed ones are skipped)."""
    staging_dir = Path(staging_dir)
    if not staging_dir.is_dir():
        return
    for entry in sorted(staging_dir.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name.endswith(FAILED_SUFFIX) or not entry.is_dir():
            continue
        if (entry / MANIFEST).is_file():
            yield entry


def read_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StagingCorrupt(f"{path}: unreadable manifest: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("rows"), dict):
        raise StagingCorrupt(f"{path}: manifest has no row counts")
    return manifest


def read_staged(path: str | Path) -> dict[str, pa.Table]:
    """Read every table of a staged batch, checking row counts against the manifest."""
    path = Path(path)
    manifest = read_manifest(path)
    tables: dict[str, pa.Table] = {}
    for table, expected in manifest["rows"].items():
        try:
            data = pq.read_table(path / f"{table}.parquet")
        except (OSError, pa.ArrowException) as exc:
            raise StagingCorrupt(f"{path}: cannot read {table}.parquet: {exc}") from exc
        if data.num_rows != expected:
            raise StagingCorrupt(f"{path}: {table}.parquet has {data.num_rows} rows, manifest says {expected}")
        tables[table] = data
    return tables


def mark_failed(path: str | Path) -> Path:
    """Set a corrupt batch aside (kept for inspection) so it no longer blocks later loads."""
    path = Path(path)
    target = path.with_name(path.name + FAILED_SUFFIX)
    os.rename(path, target)
    return target


def remove_staged(path: str | Path) -> None:
    """Delete a staged batch; only call after its rows are committed to the database.

    The directory is first renamed to a hidden name (atomic), so a crash halfway through the
    deletion cannot leave a half-deleted batch that looks loadable or corrupt.
    """
    path = Path(path)
    doomed = path.with_name(f".del-{path.name}")
    os.rename(path, doomed)
    shutil.rmtree(doomed)


def swap_directory(new: Path, target: Path) -> None:
    """Put the finished directory ``new`` in place of ``target`` (readers see the old one or the
    new one, never a half-written one); the old one is removed afterwards."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)
