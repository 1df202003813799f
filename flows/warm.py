"""Starting the extraction pool before it is needed.

The pool's start costs seconds of CPU: its forkserver imports and warms the whole per-document
path (``flows/warmup.py``: lxml, trafilatura, the language and line models, the event coder's
tables, the story sketcher), then each worker forks from it. Left alone, that starts when the
first page is submitted. A flow that knows it will extract (a backfill, an ingest whose poll
found a changed feed) starts it at once instead, in a background thread, so it runs on the other
core while this process imports Prefect, parses feeds or fetches the first pages. Light on
purpose: importing this module loads nothing.
"""

from __future__ import annotations

import threading


def worker_ready() -> None:
    """Run in a pool worker: nothing left to load (the forkserver did it); starting the worker
    is the point."""


def warm_pool(workers: int, cluster: str | None = None) -> None:
    """Start the local pool's ``workers`` processes now, in the background.

    Nothing to do when extraction runs on a Dask cluster or when this process's pool is already up.
    """
    if cluster:
        return
    from flows.pool import executor_for, pool_started

    if workers <= 1 or pool_started(workers):
        return
    ex = executor_for(workers)

    def start() -> None:
        # submitting blocks until the forkserver has imported and warmed its preload: in a thread,
        # so this process goes on meanwhile; the pool starts one process per job while none is idle
        for _ in range(workers):
            ex.submit(worker_ready)

    threading.Thread(target=start, name="pool-warm-up", daemon=True).start()
