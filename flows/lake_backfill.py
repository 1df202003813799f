"""Backfill on a Dask cluster: workers read their own shards and write Parquet batches to the lake;
the flow process commits them, the one DuckDB writer.

A shard is a reference: a group of small archive files, one file, or a byte range of a large
plain JSONL file or WARC (``extractors/sources/shards.py``). Its task gets the paths and offsets, never
records; the worker reads, extracts (``run_job``, in its own process) and writes the shard's
batch under a deterministic id (``warehouse.lake.batch_id``), complete or not at all. The flow
takes results in plan order and commits each batch (``flows/committer.py``) as it arrives.

Faults: a worker killed mid-shard loses nothing but time; the scheduler runs the shard again
elsewhere and it writes the same batch id. A rerun of the backfill skips shards whose batch is
loaded (``lake_batches``) and commits without recomputing those whose batch is finished in the
lake but not loaded (the committer died, or the database was locked). ``force`` recomputes and
replaces everything. When the scheduler is lost mid-run (``flows/cluster.py``: ``reconnect``,
``SCHEDULER_LOSSES``), the run waits for it to come back, commits the batches finished in the lake
meanwhile and submits the other shards again; their batch ids are the same, so nothing is doubled.

Workers must reach the archive paths and the lake at the same names as the flow (a shared
filesystem or object storage).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from extractors.content.recurring import RecurringLines
from extractors.sources.archives import ArchiveProblem, ArchiveRecord, discover
from extractors.sources.shards import Shard, iter_shard, plan_shards
from flows.cluster import (
    SHARDS_PER_THREAD,
    after_failure,
    client_for,
    cluster_threads,
    share,
)
from flows.committer import Committer
from flows.jobs import JobResult, PageJob, batch_enrichment, run_job
from schemas.records import Article, RawPage, Reject
from schemas.settings import Settings
from schemas.stories import StorySketch
from warehouse.batch import ArchiveRecordRow, Batch
from warehouse.lake import Lake, batch_id, loaded_batches

MAX_FILES_PER_SHARD = 256  # small files grouped into one task, at most this many


def code_version() -> str:
    try:
        return version("newsflow")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class ShardTask:
    """One Dask task's worth of work: references only."""

    batch_id: str
    pieces: tuple[Shard, ...]
    run_id: str
    outlet: str | None
    force: bool
    lake_uri: str


def plan(paths: list[str], settings: Settings, outlet: str | None) -> list[tuple[str, tuple[Shard, ...]]]:
    """``(batch id, pieces)`` for every shard of ``paths``, in reading order."""
    out: list[tuple[str, tuple[Shard, ...]]] = []
    group: list[Shard] = []
    target = settings.lake_shard_bytes
    options = {"outlet": outlet or ""}
    cv = code_version()

    def close() -> None:
        if group:
            key = "\x1f".join(f"{p.path}\x1e{p.size}" for p in group)
            bid = batch_id(source=key, start=0, end=None, size=sum(p.size for p in group), code_version=cv,
                           options=options)
            out.append((bid, tuple(group)))
            group.clear()

    for path in discover([Path(p) for p in paths]):
        pieces = plan_shards(path.resolve(), target)
        if len(pieces) == 1 and pieces[0].size < target:  # a small file: grouped with its neighbours
            group.append(pieces[0])
            if sum(p.size for p in group) >= target or len(group) >= MAX_FILES_PER_SHARD:
                close()
            continue
        close()
        for piece in pieces:
            bid = batch_id(source=piece.path, start=piece.start, end=piece.end, size=piece.size, code_version=cv,
                           options=options)
            out.append((bid, (piece,)))
    close()
    return out


def shards_to_do(paths: list[str], settings: Settings, outlet: str | None, force: bool, summary: Any
                 ) -> tuple[dict[str, str], dict[str, int], list[tuple[str, tuple[Shard, ...]]]]:
    """Each planned batch's first archive path, the batches an earlier run loaded
    (batch id → records; none with ``force``) and the shards left to do; the loaded shards'
    records count in ``summary`` as read and skipped. One plan for the Dask and Prefect paths."""
    shards = plan(paths, settings, outlet)
    where = {bid: pieces[0].path for bid, pieces in shards}
    loaded = {} if force else loaded_batches(settings.db, list(where))
    todo = [(bid, pieces) for bid, pieces in shards if bid not in loaded]
    summary.skipped += sum(loaded.values())  # records of shards loaded by an earlier run
    summary.read += sum(loaded.values())
    return where, loaded, todo


def _problem_reject(prob: ArchiveProblem, run_id: str) -> Reject:
    return Reject.make(run_id=run_id, stage="archive", reason=prob.reason, message=prob.message, source=prob.path,
                       url=None, payload=(prob.payload or "") + (f" @{prob.locator}" if prob.locator else ""))


@dataclass(frozen=True)
class Steps:
    """The local backfill's own steps, handed over by ``flows.backfill`` (which imports this module):
    a new summary, a record's job, and a result's rows."""

    new_summary: Callable[[str], Any]
    job_for: Callable[..., PageJob]
    collect: Callable[..., None]


def process_shard(task: ShardTask, settings: Settings, recurring: RecurringLines | None,
                  steps: Steps) -> dict[str, Any]:
    """A Dask task: read the shard's records, extract them here, write the shard's lake batch.

    Returns the shard's counts (the same as the batch manifest's ``summary``)."""
    t0 = time.process_time()
    summary = steps.new_summary(task.run_id)
    stats: Counter[str] = Counter()
    articles: list[Article] = []
    raws: list[RawPage] = []
    rows: list[ArchiveRecordRow] = []
    rejects: list[Reject] = []
    sketches: list[StorySketch] = []
    done: list[JobResult] = []
    seen: set[str] = set()
    for piece in task.pieces:
        for item in iter_shard(piece, stats=stats):
            summary.read += 1
            if isinstance(item, ArchiveProblem):
                summary.add_reject(item.reason)
                rejects.append(_problem_reject(item, task.run_id))
                continue
            assert isinstance(item, ArchiveRecord)
            if item.record_id in seen:
                summary.duplicates += 1
                continue
            seen.add(item.record_id)
            r = run_job(steps.job_for(item, task.run_id, task.outlet, settings, recurring))
            steps.collect(r, item, task.run_id, summary, articles, raws, rows, rejects)
            if r.article is not None:
                done.append(r)
                if r.sketch is not None:
                    sketches.append(r.sketch)
    batch = Batch(run=None, articles=articles, links=[], raw_pages=raws, rejects=rejects, feed_states=[],
                  archive_records=rows, replace=task.force, sketches=sketches)
    batch.enriched_ids, batch.enrichment = batch_enrichment(articles, done)
    counts = {"read": summary.read, "extracted": summary.loaded, "rejected": summary.rejected,
              "rejects_by_reason": summary.rejects_by_reason, "duplicates": summary.duplicates,
              "not_articles": dict(stats), "worker_pid": os.getpid(), "worker_host": socket.gethostname(),
              "cpu_s": round(time.process_time() - t0, 3)}
    first = task.pieces[0]
    Lake(task.lake_uri).write(task.batch_id, batch.to_arrow(), meta={
        "records": summary.read, "summary": counts, "run_id": task.run_id,
        "shard": {"path": first.path if len(task.pieces) == 1 else f"{first.path} (+{len(task.pieces) - 1} files)",
                  "start": first.start if len(task.pieces) == 1 else 0,
                  "end": first.end if len(task.pieces) == 1 else None},
    })
    return counts


def run_lake_backfill(paths: list[str], settings: Settings, *, run_id: str, outlet: str | None, force: bool,
                      summary: Any, steps: Steps, recurring: Callable[[], RecurringLines],
                      progress: Any = None) -> Any:
    """The cluster backfill (``NEWSFLOW_EXECUTOR=dask://…``); fills and returns ``summary``
    (a ``flows.backfill.BackfillSummary``). ``recurring()`` learns the text dumps' furniture."""
    assert settings.dask_address is not None
    t0 = time.perf_counter()
    where, loaded, todo = shards_to_do(paths, settings, outlet, force, summary)
    lake = Lake(settings.lake_location)
    lake_counts = summary.lake_batches = {"committed": 0, "reused": 0, "skipped": len(loaded), "pending": 0}
    address = settings.dask_address
    client = client_for(address)
    learnt = recurring() if todo else None
    shared: Any = None
    not_articles: Counter[str] = Counter(summary.not_articles)

    shares = 0

    def share_learnt() -> None:  # the learnt furniture, once per run (again after a scheduler loss)
        nonlocal shared, shares
        shares += 1
        shared = share(client, learnt, f"newsflow-learnt-{run_id[:8]}-{shares}") if learnt is not None else None

    found: set[str] = set()  # batches an earlier run finished in the lake and never loaded

    def start(bid: str, pieces: tuple[Shard, ...], first: bool = True, attempt: int = 0) -> Any:
        """The shard's counts when its batch is already finished in the lake, else its future.
        A resubmission after a scheduler loss (``attempt`` > 0) gets a key of its own: under the
        first key the reconnected client could hand back the lost future, which fails at once and
        would count as another loss."""
        made = None if force else lake.manifest(bid)
        if made is not None:  # finished in the lake earlier, never loaded: commit it as it is
            if first:
                found.add(bid)
            return dict(made.get("summary", {}))
        task = ShardTask(bid, pieces, run_id, outlet, force, settings.lake_location)
        return client.submit(process_shard, task, settings, shared, steps, pure=False,
                             key=f"newsflow-shard-{bid[:16]}-{run_id[:8]}" + (f"-{attempt}" if attempt else ""),
                             retries=1)

    def results() -> Iterator[tuple[str, dict[str, Any]]]:
        nonlocal client
        pending: list[tuple[str, tuple[Shard, ...], Any]] = []
        limit = SHARDS_PER_THREAD * cluster_threads(client)
        losses = 0

        def take() -> tuple[str, dict[str, Any]]:
            nonlocal client, losses
            while True:
                bid, _, fut = pending[0]
                if isinstance(fut, dict):
                    pending.pop(0)
                    return bid, fut
                try:
                    counts = fut.result()
                    pending.pop(0)
                    return bid, counts
                except Exception as exc:
                    client, losses = after_failure(exc, client, address, losses,
                                                   " (the batches committed so far stay, a rerun does the rest)")
                    share_learnt()
                    pending[:] = [(b, p, f if isinstance(f, dict) else start(b, p, first=False, attempt=losses)) for b, p, f in pending]

        try:
            if todo:
                share_learnt()
            for bid, pieces in todo:
                pending.append((bid, pieces, start(bid, pieces)))
                while len(pending) >= limit:
                    yield take()
            while pending:
                yield take()
        finally:
            left = [f for _, _, f in pending if not isinstance(f, dict)]
            if left:
                with contextlib.suppress(Exception):  # a client without its scheduler has nothing to free
                    client.cancel(left)

    with Committer(settings, lake) as committer:  # the one writer, one connection for the run
        for bid, counts in results():
            summary.read += int(counts.get("read", 0))
            summary.duplicates += int(counts.get("duplicates", 0))
            for reason, n in dict(counts.get("rejects_by_reason", {})).items():
                summary.rejected += n
                summary.rejects_by_reason[reason] = summary.rejects_by_reason.get(reason, 0) + n
            not_articles.update(dict(counts.get("not_articles", {})))
            done = committer.commit(bid, run_id=run_id, replace=force)
            summary.batches += 1
            if done.status == "locked":
                lake_counts["pending"] += 1  # waits in the lake for the next run
            elif done.status == "already":  # loaded meanwhile by another committer
                lake_counts["skipped"] += 1
            else:
                lake_counts["committed"] += 1
                lake_counts["reused"] += bid in found
            summary.loaded += done.articles
            summary.skipped += done.skipped
            summary.duplicates += done.duplicates
            summary.path = where[bid]
            summary.seconds = time.perf_counter() - t0
            if progress is not None:
                progress(summary)
    summary.not_articles = dict(sorted(not_articles.items()))
    summary.seconds = time.perf_counter() - t0
    return summary

