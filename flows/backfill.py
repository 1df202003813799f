"""Backfill from saved archives (text dumps, HTML, JSONL, WARC) through the hourly path.

Records stream from disk into the extraction pool and are loaded in batches as they
complete, so an interrupted backfill resumes where it stopped: every record has a
content-addressed id, and ids already in ``archive_records`` are skipped unless ``force``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from prefect import flow, get_run_logger

from extractors.content.recurring import RecurringLines
from extractors.normalize.dates import normalize_date
from extractors.sources.archives import (
    ArchiveProblem,
    ArchiveRecord,
    detect_kind,
    discover,
    iter_records,
    record_url,
)
from flows.cluster import connect_executor
from flows.jobs import JobResult, PageJob, batch_enrichment, run_job
from flows.pool import map_ordered
from flows.report import publish_run_artifact
from flows.shared import (
    flush_index,
    load_pending,
    merge_exact_duplicates,
    new_run_id,
    prepare_warehouse,
    raw_page_from_archive,
    run_load,
)
from schemas.failures import Reason
from schemas.records import Article, RawPage, Reject, RunRecord, utcnow
from schemas.settings import Settings, load_settings
from schemas.stories import StorySketch
from warehouse.batch import ArchiveRecordRow, Batch
from warehouse.queries import known_record_ids


@dataclass
class BackfillSummary:
    run_id: str
    read: int = 0
    loaded: int = 0
    skipped: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    # records skipped on purpose, not articles: WARC requests/metadata, non-HTML or non-2xx responses
    not_articles: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    staged_batches: int = 0
    # a cluster backfill's lake batches (None for a local run): committed by this run, of which
    # "reused" were finished in the lake by an earlier run; "skipped", loaded by an earlier run;
    # "pending", finished but left in the lake (the database was busy) for the next run
    lake_batches: dict[str, int] | None = None
    seconds: float = 0.0
    path: str | None = None  # the archive file being read (for a progress display)

    def add_reject(self, reason: Reason) -> None:
        self.rejected += 1
        self.rejects_by_reason[reason.value] = self.rejects_by_reason.get(reason.value, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rate_per_s"] = round(self.read / self.seconds, 1) if self.seconds else None
        return d


ProgressFn = Callable[[BackfillSummary], None]


RECURRING_FIRST_PASS = 5000  # text records read by the first pass, at most


def _source_of(rec: ArchiveRecord, outlet: str | None) -> str:
    """Which source a record's furniture belongs to: its outlet, its host, else its folder."""
    if rec.outlet or outlet:
        return f"outlet:{rec.outlet or outlet}"
    if rec.url:
        host = urlsplit(rec.url).hostname
        if host:
            return f"host:{host.removeprefix('www.')}"
    return f"folder:{Path(rec.path).parent}"


def learn_recurring(paths: list[str], outlet: str | None, *, limit: int = RECURRING_FIRST_PASS) -> RecurringLines:
    """Cheap first pass over the text dumps of ``paths`` (HTML and WARC files are not read):
    per source, the lines that recur across its documents — its menus, prompts and footers."""
    learnt = RecurringLines()
    seen = 0
    for path in discover([Path(p) for p in paths]):
        if detect_kind(path) not in ("text", "jsonl"):
            continue
        for read, rec in enumerate(iter_records(path), start=1):
            if not isinstance(rec, ArchiveRecord) or rec.html is not None or not rec.text:
                if read >= 100 and not seen:
                    break  # a JSONL file of HTML pages: nothing to learn from here
                continue
            learnt.add(_source_of(rec, outlet), _dump_text(rec) or "")
            seen += 1
            if seen >= limit:
                return learnt
    return learnt


def _dump_text(rec: ArchiveRecord) -> str | None:
    text = rec.text
    if text is not None and rec.title and not text.lstrip().startswith(rec.title.strip()):
        text = f"{rec.title.strip()}\n\n{text}"
    return text


def _job_for(rec: ArchiveRecord, run_id: str, outlet: str | None, settings: Settings,
             recurring: RecurringLines | None = None) -> PageJob:
    text = _dump_text(rec)
    is_text = text is not None and rec.html is None
    return PageJob(
        key=rec.record_id,
        url=rec.url or record_url(rec),
        origin="archive",
        run_id=run_id,
        html=rec.html,
        text=text if rec.html is None else None,
        content_type=rec.content_type,
        fetched_at=rec.fetched_at,
        archive_path=rec.path,
        archive_record=rec.record_id,
        record_outlet=rec.outlet or outlet,  # the record's own outlet wins; --outlet fills the rest
        title_hint=rec.title,
        published_hint=normalize_date(rec.published_at or rec.published_at_raw,
                                      tolerance_hours=settings.future_tolerance_hours) if rec.kind == "jsonl" else None,
        tolerance_hours=settings.future_tolerance_hours,
        compress_raw=not rec.rereadable,  # a record found again by seeking is not copied (raw_pages)
        recurring_lines=recurring.lines(_source_of(rec, outlet)) if recurring and is_text else None,
    )


def _chunks(items: Iterable[ArchiveRecord | ArchiveProblem], size: int) -> Iterator[list[ArchiveRecord | ArchiveProblem]]:
    buf: list[ArchiveRecord | ArchiveProblem] = []
    for it in items:
        buf.append(it)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def run_backfill(
    paths: list[str],
    settings: Settings,
    *,
    run_id: str,
    outlet: str | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
    load_fn: Callable[[Batch, Settings], Any] | None = None,
) -> BackfillSummary:
    """Stream every record of ``paths`` through extraction and load it in batches."""
    t0 = time.perf_counter()
    summary = BackfillSummary(run_id=run_id)
    loader = load_fn or run_load
    for p in paths:
        if not Path(p).exists():
            raise FileNotFoundError(f"archive path not found: {p}")

    if settings.executor == "prefect":  # shard runs on Prefect workers write lake batches, a commit run loads them
        from flows.fanout import run_prefect_backfill

        return run_prefect_backfill(paths, settings, run_id=run_id, outlet=outlet, force=force, summary=summary,
                                    recurring=lambda: learn_recurring(paths, outlet), progress=progress)
    if settings.dask_address:  # a cluster: workers write lake batches, this process commits them
        from flows.lake_backfill import Steps, run_lake_backfill

        steps = Steps(new_summary=BackfillSummary, job_for=_job_for, collect=_collect)
        return run_lake_backfill(paths, settings, run_id=run_id, outlet=outlet, force=force, summary=summary,
                                 steps=steps, recurring=lambda: learn_recurring(paths, outlet), progress=progress)

    skipped_on_purpose: Counter[str] = Counter()

    def stream() -> Iterator[ArchiveRecord | ArchiveProblem]:
        for path in discover([Path(p) for p in paths]):
            yield from iter_records(path, stats=skipped_on_purpose)

    pending: dict[str, ArchiveRecord] = {}
    rejects: list[Reject] = []
    recurring = learn_recurring(paths, outlet)

    def jobs() -> Iterator[PageJob]:
        for chunk in _chunks(stream(), settings.batch_size):
            recs = [r for r in chunk if isinstance(r, ArchiveRecord)]
            for prob in (r for r in chunk if isinstance(r, ArchiveProblem)):
                summary.read += 1
                summary.add_reject(prob.reason)
                rejects.append(Reject.make(run_id=run_id, stage="archive", reason=prob.reason,
                                           message=prob.message, source=prob.path, url=None,
                                           payload=(prob.payload or "") + (f" @{prob.locator}" if prob.locator else "")))
            known = set() if force else known_record_ids(settings.db, [r.record_id for r in recs])
            seen_here: set[str] = set()
            for rec in recs:
                summary.read += 1
                if rec.record_id in known:
                    summary.skipped += 1
                    continue
                if rec.record_id in seen_here:
                    summary.duplicates += 1
                    continue
                seen_here.add(rec.record_id)
                pending[rec.record_id] = rec
                yield _job_for(rec, run_id, outlet, settings, recurring)

    articles: list[Article] = []
    raws: list[RawPage] = []
    rows: list[ArchiveRecordRow] = []
    sketches: list[StorySketch] = []
    done: list[JobResult] = []

    def flush() -> None:
        nonlocal articles, raws, rows, rejects, sketches, done
        if not (articles or raws or rows or rejects):
            return
        batch = Batch(run=None, articles=articles, links=[], raw_pages=raws, rejects=rejects,
                      feed_states=[], archive_records=rows, replace=force, sketches=sketches)
        batch.enriched_ids, batch.enrichment = batch_enrichment(articles, done)
        copies = merge_exact_duplicates(batch, settings)
        summary.loaded -= len(copies)
        summary.duplicates += len(copies)
        res = loader(batch, settings)
        summary.batches += 1
        if getattr(res, "status", "loaded") == "staged":
            summary.staged_batches += 1
        articles, raws, rows, rejects, sketches, done = [], [], [], [], [], []

    count_in_batch = 0
    for r in map_ordered(run_job, jobs(), workers=settings.workers, chunksize=4, window=8 * settings.workers,
                           cluster=settings.dask_address, shard_size=settings.shard_size):
        rec = pending.pop(r.key)
        summary.path = rec.path
        _collect(r, rec, run_id, summary, articles, raws, rows, rejects)
        if r.article is not None and r.sketch is not None:
            sketches.append(r.sketch)
        if r.article is not None:
            done.append(r)
        count_in_batch += 1
        if count_in_batch >= settings.batch_size:
            flush()
            count_in_batch = 0
        summary.seconds = time.perf_counter() - t0
        if progress is not None:
            progress(summary)
    flush()
    summary.not_articles = dict(sorted(skipped_on_purpose.items()))
    summary.seconds = time.perf_counter() - t0
    if progress is not None:
        progress(summary)
    return summary


def _collect(r: JobResult, rec: ArchiveRecord, run_id: str, summary: BackfillSummary,
             articles: list[Article], raws: list[RawPage], rows: list[ArchiveRecordRow],
             rejects: list[Reject]) -> None:
    now = utcnow()
    status: Literal["loaded", "rejected"]
    if r.article is not None:
        articles.append(r.article)
        summary.loaded += 1
        status = "loaded"
    else:
        reason = r.reason or Reason.NO_TEXT
        rejects.append(Reject.make(run_id=run_id, stage="archive" if r.stage == "extract" else r.stage,
                                   reason=reason, message=r.message, source=rec.path,
                                   url=rec.url, payload=f"record {rec.record_id} @{rec.locator or 'file'}"))
        summary.add_reject(reason)
        status = "rejected"
    raws.append(raw_page_from_archive(rec, r.article.article_id if r.article else None, run_id, r.raw_gz))
    rows.append(ArchiveRecordRow(record_id=rec.record_id, path=rec.path, locator=rec.locator,
                                 article_id=r.article.article_id if r.article else None, status=status,
                                 run_id=run_id, loaded_at=now))


@flow(name="backfill-shard", timeout_seconds=6 * 3600)
def backfill_shard(batch_id: str, pieces: list[dict[str, Any]], run_id: str, lake_uri: str,
                   settings: dict[str, Any] | None = None, outlet: str | None = None, force: bool = False,
                   recurring: str | None = None) -> dict[str, Any]:
    """One shard of a backfill fanned out over Prefect workers (``flows/fanout.py``), one lake batch:
    the ``backfill-shard`` deployment. Parameters are references: batch id, paths and byte ranges
    (``pieces``), the lake, the backfill's settings and the name of its learnt recurring lines."""
    from flows.fanout import run_shard
    from flows.lake_backfill import Steps

    return run_shard(batch_id, pieces, run_id, lake_uri, settings=settings, outlet=outlet, force=force,
                     recurring=recurring, steps=Steps(new_summary=BackfillSummary, job_for=_job_for,
                                                      collect=_collect))


# The CLI sets this to draw its progress bar; flow parameters must stay serialisable.
progress_hook: ProgressFn | None = None


@flow(name="backfill", timeout_seconds=24 * 3600)
def backfill(paths: list[str], db: str | None = None, outlet: str | None = None,
             force: bool = False, executor: str | None = None) -> dict[str, Any]:
    """Backfill archives into the warehouse; returns counts (read, loaded, skipped, rejected).
    ``executor`` ('local', 'prefect' or 'dask://HOST:PORT') overrides NEWSFLOW_EXECUTOR."""
    settings = load_settings(db=Path(db) if db else None, executor=executor)
    connect_executor(settings.dask_address)
    logger = get_run_logger()
    run_id = new_run_id()
    started = utcnow()
    prepare_warehouse(settings)
    load_pending(settings)
    try:
        summary = run_backfill(paths, settings, run_id=run_id, outlet=outlet, force=force,
                               progress=progress_hook)
    finally:
        flush_index(settings)
    # rejects by reason are counted from what went to the rejects table
    run = RunRecord(run_id=run_id, flow="backfill", started_at=started, finished_at=utcnow(), status="completed",
                    entries_seen=summary.read, articles_new=summary.loaded, rejects=summary.rejected,
                    staged=summary.staged_batches > 0 or bool((summary.lake_batches or {}).get("pending")),
                    details_json=json.dumps(summary.as_dict()))
    run_load(Batch(run=run, articles=[], links=[], raw_pages=[], rejects=[], feed_states=[], archive_records=[]),
         settings)
    logger.info("backfill %s: %s", run_id, summary.as_dict())
    publish_run_artifact("backfill", run_id, summary.as_dict())
    return summary.as_dict()
