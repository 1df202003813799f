"""Re-run extraction and cleaning over stored raw pages, without fetching anything.

Improvements to the extractor or cleaner reach old rows this way: each stored page (HTML
from the web or an archive, or an archive's plain text) is extracted again and its article
replaced. Facts that only the feed knew (feed URL, the feed's date) are carried over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow

from extractors.sources.archives import ArchiveProblem, read_record_at
from extractors.sources.feedlist import load_feed_list
from flows.cluster import connect_executor
from flows.jobs import JobResult, PageJob, batch_enrichment, enrich_stored, run_job
from flows.pool import map_ordered
from flows.report import publish_run_artifact
from flows.shared import flush_index, new_run_id, prepare_warehouse, run_load
from schemas.failures import Reason
from schemas.records import Article, FeedEntry, RawPage, Reject, RunRecord, utcnow
from schemas.settings import Settings, load_settings
from schemas.stories import StorySketch
from warehouse.batch import Batch
from warehouse.pages import page_body
from warehouse.queries import articles_by_id, iter_article_texts, raw_pages_since


def _feed_outlets(settings: Settings) -> dict[str, str]:
    """feed URL → outlet name from the feed list (an unreadable list only loses the names)."""
    try:
        specs = load_feed_list(settings.feeds_file)
    except Exception:
        return {}
    return {s.url: s.outlet_name for s in specs if s.outlet_name}


class Unreadable(Exception):
    """A stored page whose body was left in its archive, and the archive cannot give it back."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def _archive_body(page: RawPage, meta: dict[str, Any] | None) -> bytes:
    """The body of an archive record stored without it, read again from its archive file."""
    if not meta or not meta.get("archive_path"):
        raise Unreadable(Reason.INVALID_RECORD, "no body stored and no archive to read it from")
    rec = read_record_at(str(meta["archive_path"]), str(meta.get("locator") or ""))
    if isinstance(rec, ArchiveProblem):
        raise Unreadable(rec.reason, f"{rec.message} (the stored article is kept)")
    if rec.record_id != page.page_id:
        raise Unreadable(Reason.INVALID_RECORD, f"the record at {meta['archive_path']} {rec.locator or ''} changed "
                         "since it was loaded (the stored article is kept)")
    return rec.html if rec.html is not None else (rec.text or "").encode("utf-8", "surrogatepass")


def _job(page: RawPage, old: Article | None, run_id: str, settings: Settings,
         feed_outlets: dict[str, str] | None = None) -> PageJob:
    """The extraction job of a stored page; raises ``Unreadable`` when its body cannot be had."""
    headers = json.loads(page.headers_json or "{}")
    archive_meta = json.loads(headers.get("x-newsflow-archive", "null") or "null")
    stored = page.body_gz is not None or page.body_ref is not None
    body = page_body(settings.db, page) if stored else _archive_body(page, archive_meta)
    is_text = (page.content_type or "").startswith("text/plain")
    entry = None
    if old is not None and old.origin == "rss":
        entry = FeedEntry(
            feed_url=old.feed_url or "",
            link=old.url,
            title=old.title,
            published_at=old.published_at if old.published_at_source == "feed" else None,
        )
    return PageJob(
        key=page.page_id,
        url=page.final_url or page.url,
        origin=page.origin,
        run_id=run_id,
        html=None if is_text else body,
        text=body.decode("utf-8", "replace") if is_text else None,
        content_type=page.content_type,
        entry=entry,
        feed_url=old.feed_url if old else None,
        fetched_at=page.fetched_at,
        archive_path=(archive_meta or {}).get("archive_path") if archive_meta else (old.archive_path if old else None),
        archive_record=page.page_id if page.origin == "archive" else None,
        # the feed list names the outlet; an archive record's own outlet (one that is not just the
        # page's site name) is kept
        feed_outlet=(feed_outlets or {}).get(old.feed_url or "") if old else None,
        record_outlet=old.outlet if old is not None and old.origin == "archive" and old.outlet != old.site_name
        else None,
        title_hint=(archive_meta or {}).get("title") if archive_meta else None,
        published_hint=old.published_at if old and old.published_at_source == "archive" else None,
        tolerance_hours=settings.future_tolerance_hours,
    )


# The CLI sets this to draw progress: hook(pages done, pages total, counts, seconds).
progress_hook: Callable[[int, int, dict[str, int], float], None] | None = None


def run_reprocess(settings: Settings, *, since: datetime | None, run_id: str) -> dict[str, Any]:
    counts = {"pages": 0, "updated": 0, "unchanged": 0, "rejected": 0, "batches": 0}
    t0 = time.perf_counter()
    done = 0
    pages = list(raw_pages_since(settings.db, since))
    counts["pages"] = len(pages)
    olds = articles_by_id(settings.db, [p.article_id for p in pages if p.article_id])
    feed_outlets = _feed_outlets(settings)
    for start in range(0, len(pages), settings.batch_size):
        articles: list[Article] = []
        sketches: list[StorySketch] = []  # every re-extracted article is (re-)indexed and re-coded
        final: list[Article] = []
        coded: list[JobResult] = []
        rejects: list[Reject] = []
        chunk: list[RawPage] = []
        jobs: list[PageJob] = []
        for p in pages[start : start + settings.batch_size]:
            try:
                jobs.append(_job(p, olds.get(p.article_id or ""), run_id, settings, feed_outlets))
            except Unreadable as exc:  # its article stays as stored
                done += 1
                counts["rejected"] += 1
                rejects.append(Reject.make(run_id=run_id, stage="extract", reason=exc.reason, message=exc.message,
                                           source=p.url, url=p.final_url, payload=f"raw page {p.page_id}"))
                continue
            chunk.append(p)
        for page, r in zip(chunk, map_ordered(run_job, jobs, workers=settings.workers,
                                              cluster=settings.dask_address, shard_size=settings.shard_size),
                           strict=True):
            done += 1
            if progress_hook is not None:
                progress_hook(done, len(pages), counts, time.perf_counter() - t0)
            old = olds.get(page.article_id or "")
            if r.article is None:
                counts["rejected"] += 1
                rejects.append(Reject.make(run_id=run_id, stage="extract", reason=r.reason or Reason.NO_TEXT,
                                           message=r.message, source=page.url, url=page.final_url))
                continue
            a = r.article
            if r.sketch is not None:
                sid = old.article_id if old is not None else a.article_id
                sketches.append(r.sketch.model_copy(update={"article_id": sid}))
            if old is not None:
                a = a.model_copy(update={"article_id": old.article_id, "url": old.url, "ingested_at": old.ingested_at,
                                         "dup_group_id": old.dup_group_id, "dup_similarity": old.dup_similarity,
                                         "version": old.version})
            final.append(a)
            coded.append(r)
            if old is not None:
                same = ("content_hash", "title", "outlet", "domain", "site_name", "language")
                if all(getattr(old, f) == getattr(a, f) for f in same):
                    counts["unchanged"] += 1
                    continue
            counts["updated"] += 1
            articles.append(a)
        batch = Batch(run=None, articles=articles, links=[], raw_pages=[], rejects=rejects, feed_states=[],
                      archive_records=[], replace=True, sketches=sketches)
        batch.enriched_ids, batch.enrichment = batch_enrichment(final, coded)
        run_load(batch, settings)
        counts["batches"] += 1
    return counts


def run_enrich(settings: Settings, *, since: datetime | None) -> dict[str, Any]:
    """Re-run the event coder over stored articles (no re-extraction): their entities, events and
    quotes are replaced, chunk by chunk, each chunk in one load."""
    counts = {"articles": 0, "events": 0, "failed": 0, "batches": 0}
    for chunk in iter_article_texts(settings.db, since=since, chunk=settings.batch_size):
        rows: dict[str, list[dict[str, Any]]] = {}
        for e in map_ordered(enrich_stored, chunk, workers=settings.workers, cluster=settings.dask_address,
                             shard_size=settings.shard_size):
            counts["articles"] += 1
            if e is None:
                counts["failed"] += 1
                continue
            for table, items in e.table_rows().items():
                rows.setdefault(table, []).extend(items)
            counts["events"] += len(e.events)
        ok_ids = [item[0] for item in chunk]
        run_load(Batch(enriched_ids=ok_ids, enrichment=rows), settings)
        counts["batches"] += 1
    return counts


@flow(name="reprocess")
def reprocess(since: str | None = None, db: str | None = None, enrich_only: bool = False,
              executor: str | None = None) -> dict[str, Any]:
    """Re-extract stored pages fetched since ``since`` (ISO date; all when None); with
    ``enrich_only``, re-run only the event coder over stored articles ingested since then.
    ``executor`` ('local' or 'dask://HOST:PORT') overrides NEWSFLOW_EXECUTOR."""
    settings = load_settings(db=Path(db) if db else None, executor=executor)
    connect_executor(settings.dask_address)
    prepare_warehouse(settings)
    run_id = new_run_id()
    started = utcnow()
    when = datetime.fromisoformat(since) if since else None
    try:
        if enrich_only:
            counts = run_enrich(settings, since=when)
            counts.update(updated=0, rejected=0)
        else:
            counts = run_reprocess(settings, since=when, run_id=run_id)
    finally:
        flush_index(settings)
    run = RunRecord(run_id=run_id, flow="reprocess", started_at=started, finished_at=utcnow(), status="completed",
                    pages_fetched=0, articles_updated=counts["updated"], rejects=counts["rejected"],
                    details_json=json.dumps(counts))
    run_load(Batch(run=run, articles=[], links=[], raw_pages=[], rejects=[], feed_states=[], archive_records=[]),
         settings)
    publish_run_artifact("reprocess", run_id, counts)
    return counts
