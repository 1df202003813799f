"""Live progress on stderr for long commands (rich), silent when stderr is not a terminal.

The flows report through plain callbacks (``flows.ingest.progress_hook`` and friends), so they
know nothing about rich; these classes turn the callbacks into bars.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def live_enabled(quiet: bool = False) -> bool:
    return not quiet and sys.stderr.isatty()


class IngestProgress:
    """Four bars: feeds polled, pages fetched, pages extracted, articles loaded."""

    STAGES = (("feeds", "feeds polled"), ("fetch", "pages fetched"), ("extract", "pages extracted"),
              ("load", "articles loaded"))

    def __init__(self, enabled: bool, feeds_total: int) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        if not enabled:
            return
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=Console(stderr=True), transient=False,
        )
        for key, label in self.STAGES:
            self._tasks[key] = self._progress.add_task(label, total=feeds_total if key == "feeds" else None)

    def __enter__(self) -> IngestProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def hook(self, stage: str, advance: int = 1, total: int | None = None) -> None:
        if self._progress is None or stage not in self._tasks:
            return
        with self._lock:
            task = self._tasks[stage]
            if total is not None:
                self._progress.update(task, total=total)
            if advance:
                self._progress.advance(task, advance)


def _archive_bytes(paths: list[str]) -> tuple[list[tuple[str, int]], int]:
    from extractors.sources.archives import discover

    files = []
    try:
        for p in discover([Path(x) for x in paths]):
            try:
                files.append((str(p), p.stat().st_size))
            except OSError:
                files.append((str(p), 0))
    except FileNotFoundError:
        pass
    return files, sum(s for _, s in files)


class RecordProgress:
    """Records done, rate and ETA for backfill (by archive bytes) and reprocess (by page count)."""

    def __init__(self, enabled: bool, label: str, *, total: int | None = None,
                 archive_paths: list[str] | None = None) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._files: dict[str, tuple[int, int]] = {}  # path -> (bytes before it, its bytes)
        self._bytes_total = 0
        if not enabled:
            return
        if archive_paths is not None:
            files, self._bytes_total = _archive_bytes(archive_paths)
            before = 0
            for path, size in files:
                self._files[path] = (before, size)
                before += size
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.fields[records]} records"), TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        by_bytes = archive_paths is not None and self._bytes_total > 0
        self._task = self._progress.add_task(label, total=self._bytes_total if by_bytes else total,
                                             records=0, rate="", detail="")

    def __enter__(self) -> RecordProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._progress is not None:
            if exc_type is None and self._task is not None:  # finished: the bar shows it
                task = self._progress.tasks[0]
                if task.total is not None:
                    self._progress.update(self._task, completed=task.total)
            self._progress.stop()

    def _show(self, records: int, seconds: float, completed: float | None, detail: str) -> None:
        if self._progress is None or self._task is None:
            return
        rate = f"{records / seconds:,.0f}/s" if seconds > 0 else ""
        kwargs: dict[str, Any] = {"records": f"{records:,}", "rate": rate, "detail": detail}
        if completed is not None:
            kwargs["completed"] = completed
        self._progress.update(self._task, **kwargs)

    def backfill(self, s: Any) -> None:
        """Hook for flows.backfill: a BackfillSummary after each record."""
        completed = None
        path = getattr(s, "path", None)
        if path is not None and path in self._files:
            before, _size = self._files[path]
            completed = before  # the current file counts once it is done
        self._show(s.read, s.seconds, completed,
                   f"loaded {s.loaded:,} · skipped {s.skipped:,} · rejected {s.rejected:,}")

    def reprocess(self, done: int, total: int, counts: dict[str, int], seconds: float) -> None:
        """Hook for flows.reprocess: pages done of total."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)
        self._show(done, seconds, done,
                   f"updated {counts.get('updated', 0):,} · unchanged {counts.get('unchanged', 0):,} · "
                   f"rejected {counts.get('rejected', 0):,}")

    def count(self, rows: int) -> None:
        """Hook for exports: rows written so far."""
        self._show(rows, 0.0, None, "")
