"""One hourly ingest at a time per database, via ``flock`` on ``<db>.lock``.

Only ``hourly_ingest`` (and the CLI's pre-check before it) takes this lock: two overlapping
ingests would poll and fetch the same feeds twice. Backfill and reprocess do not take it; they
may run beside an ingest because every write goes through ``load_batch`` (one transaction,
idempotent keys, staged to Parquet when another process holds the database file).

The lock is tied to an open file description: the kernel releases it when the holder exits,
even on SIGKILL, so a crashed run never leaves a stale lock behind. The file itself stays
(deleting it would let two processes lock two different inodes).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

_POLL_SECONDS = 0.1


class RunInProgress(Exception):
    """Another run holds the run lock of this database."""

    def __init__(self, lock_path: Path, holder: str, waited: float):
        self.lock_path = lock_path
        self.holder = holder
        self.waited = waited
        who = f" ({holder})" if holder else ""
        waited_text = f" after waiting {waited:.0f}s" if waited > 0 else ""
        super().__init__(f"another newsflow run is in progress{who}; lock {lock_path} still held{waited_text}")


def lock_path_for(db_path: str | Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


def _holder_info(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 512).decode("utf-8", "replace").strip()
    except OSError:
        return ""


@contextmanager
def run_lock(db_path: str | Path, wait_seconds: float = 0.0, *, label: str = "run") -> Iterator[Path]:
    """Hold the run lock for the duration of the block; raise RunInProgress if it stays taken."""
    path = lock_path_for(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= wait_seconds:
                    raise RunInProgress(path, _holder_info(fd), waited) from None
                time.sleep(min(_POLL_SECONDS, max(wait_seconds - waited, 0.0)))
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{label} PID {os.getpid()} since {started}\n".encode())
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
