"""Starting the extraction pool before it is needed.

A pool worker's first page costs far more than the next ones: the forkserver imports lxml and
trafilatura, each worker then imports the job code and loads the language model, the MinHash
permutations and the event coder's tables (about 1–2 s of CPU per process). A flow that knows
it will extract (a backfill, an ingest with new stories) starts the workers on that work at
once, so it runs on the other core while this process imports Prefect, polls or fetches,
instead of after the first page arrives. Light on purpose: importing this module loads nothing.
"""

from __future__ import annotations

import threading

_SAMPLE = (
    "Council approves new harbour wall\n\n"
    "The town council approved the plan for a new harbour wall on Monday after a long debate, "
    "the mayor said. Work on the wall will start in the spring and should take two years, "
    "according to the engineers who presented the plan to residents in the town hall."
)


def worker_ready() -> None:
    """Run in a pool worker: one small text job through ``run_job``, which loads everything a
    real page needs (extraction, language model, story sketch, event coder)."""
    from flows.jobs import PageJob, run_job

    run_job(PageJob(key="warm-up", url="https://warm-up.invalid/story", origin="archive", run_id="warm-up",
                    tolerance_hours=24.0, text=_SAMPLE))


def warm_pool(workers: int, cluster: str | None = None) -> None:
    """Start the local pool's ``workers`` processes now, each getting ready in the background.

    Nothing to do when extraction runs in this process (workers ≤ 1) or on a Dask cluster, or
    when this process's pool is already up.
    """
    if cluster or workers <= 1:
        return
    from flows.pool import executor_for, pool_started

    if pool_started(workers):
        return
    ex = executor_for(workers)

    def start() -> None:
        # submitting blocks until the forkserver has imported its preloads (~1 s): in a thread,
        # so this process goes on meanwhile; the pool starts one process per job while none is idle
        for _ in range(workers):
            ex.submit(worker_ready)

    threading.Thread(target=start, name="pool-warm-up", daemon=True).start()
