"""What the three flows (ingest, backfill, reprocess) share: the load task, run ids, raw pages.

``run_load`` is the only way any flow writes: it runs the ``load`` task (or, inside another
task, that task's function), which opens the write connection (or stages the batch to Parquet
when the file is locked). Raw pages are built here for both origins, so a fetched page and an
archive record are stored the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gzip
import hashlib
import json
import logging
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from extractors.net.fetcher import FetchResult
from extractors.sources.archives import ArchiveRecord, record_url
from extractors.stories import assign_groups
from flows.identity import KnownTitle, follow, resolve_exact_duplicates
from flows.jobs import RAW_GZIP_LEVEL
from schemas.records import Article, RawPage, utcnow
from schemas.settings import Settings
from warehouse.batch import Batch
from warehouse.db import DatabaseLocked, connect_write
from warehouse.load import LoadResult, load_batch, load_staged
from warehouse.queries import titles_near

# Tasks move bodies and batches in memory; Prefect's default cache policy would hash every
# input (megabytes of HTML per call) for a cache nobody reads, so caching is off.


@task(name="load", timeout_seconds=1800, cache_policy=NO_CACHE)
def load(batch: Batch, settings: Settings) -> LoadResult:
    """The only step that opens the write connection; stages to Parquet if the file is locked."""
    return load_batch(settings.db, batch, staging_dir=settings.staging_path, stories=assign_groups)


def load_pending(settings: Settings) -> list[LoadResult]:
    """Load batches staged while the database was locked (their story sketches included)."""
    return load_staged(settings.db, settings.staging_path, stories=assign_groups)


def run_load(batch: Batch, settings: Settings, *, task_run: bool = True) -> LoadResult:
    """Run the ``load`` task with the batch quoted, so Prefect does not walk its records.

    ``task_run=False``: the same load without a task run of its own, for loads made inside
    another task (the busy hour's part loads run in one ``load-parts`` task: a task run costs
    the Prefect server ~50 ms of CPU, and the flow process a few ms).

    Then queue the batch's articles for the search index (staged ones too: staging never loses
    rows, so they are searchable before they reach the database).
    """
    use_arrow_memory_pool()
    result = load(quote(batch), settings) if task_run else load.fn(batch, settings)  # type: ignore[call-overload]
    if batch.articles and getattr(result, "status", None) in ("loaded", "staged"):
        index_articles(batch.articles, settings)
    release_free_memory()
    return result


# The pool the flow process's Arrow buffers (a batch's tables, built in every load) come from:
# "system" is glibc's malloc, whose freed pages release_free_memory() hands back; pyarrow's own
# default here is its bundled mimalloc, which keeps freed pages for reuse where malloc_trim cannot
# reach them (~30 MiB more in the flow process all through a backfill; bench/RESULTS.md §6).
# None keeps pyarrow's default.
ARROW_MEMORY_POOL: str | None = "system"


def use_arrow_memory_pool() -> None:
    """Point pyarrow's default pool at ARROW_MEMORY_POOL (before each load; buffers already
    allocated stay with their own pool)."""
    if ARROW_MEMORY_POOL == "system" and pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool | None:
    """Hand the C heap's free pages back to the operating system; called after each load.

    A load frees a batch's worth of Arrow buffers, DuckDB's work memory and the batch's strings,
    but glibc keeps freed chunks inside its heaps (and one heap per thread that allocated), so the
    flow process's RSS stayed at its highest load's level and crept up with the run
    (bench/RESULTS.md §6). ``malloc_trim(0)`` returns every whole free page. Returns True if
    memory was released, False if there was none to release, None where there is no
    ``malloc_trim`` (then it does nothing)."""
    trim = _malloc_trim()
    if trim is None:
        return None
    return bool(trim(0))


# Articles wait here for the search index and are committed together (a tantivy commit has a
# fixed cost of about 0.1 s): when INDEX_FLUSH_DOCS have gathered or their texts take
# INDEX_FLUSH_BYTES of memory, and when a flow ends. Their ids are noted in the index's pending file first,
# so a crash before the commit loses nothing.
# A commit started because the buffer filled runs in a background thread (tantivy tokenises
# without the GIL), overlapping the flow's next fetches, extraction and load; the next commit and
# the flow's closing flush wait for it, so one process never runs two writers on one index.
# The buffer holds the article texts, so it is bounded by their memory too (a text with one curly
# quote is stored 2 bytes a character): 5,000 of the memory benchmark's pages were ~63 MiB, and
# while one buffer is committed the next one fills (bench/RESULTS.md §6).
INDEX_FLUSH_DOCS = 5000
INDEX_FLUSH_BYTES = 16 * 2**20
_index_buffer: dict[Path, list[Any]] = {}
_index_bytes: dict[Path, int] = {}
_index_commits: dict[Path, threading.Thread] = {}
_index_lock = threading.Lock()


def index_articles(articles: list[Article], settings: Settings, *, flush: bool = False) -> None:
    """Queue articles for the search index; a busy or broken index never fails the load."""
    from warehouse import search

    index_dir = search.index_dir_for(settings.db)
    if articles:
        with contextlib.suppress(OSError):
            search.remember_pending(index_dir, [a.article_id for a in articles])
        docs = [search.doc_from_article(a) for a in articles]
        with _index_lock:
            _index_buffer.setdefault(index_dir, []).extend(docs)
            _index_bytes[index_dir] = _index_bytes.get(index_dir, 0) + sum(
                sys.getsizeof(d.text) + sys.getsizeof(d.title) for d in docs)
    if (flush or len(_index_buffer.get(index_dir, ())) >= INDEX_FLUSH_DOCS
            or _index_bytes.get(index_dir, 0) >= INDEX_FLUSH_BYTES):
        flush_index(settings, wait=flush)


def _commit(index_dir: Path, docs: list[Any], db: Path) -> None:
    from warehouse import search

    try:
        search.upsert(index_dir, docs, db=db)
    except Exception as exc:
        logging.getLogger("newsflow.search").warning(
            "search index %s not updated (%s: %s); %d article(s) stay pending for the next load",
            index_dir, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "", len(docs))


def wait_index(settings: Settings) -> None:
    """Wait for a background index commit of this warehouse, if one is running."""
    from warehouse import search

    with _index_lock:
        running = _index_commits.pop(search.index_dir_for(settings.db), None)
    if running is not None:
        running.join()


def flush_index(settings: Settings, *, wait: bool = True) -> None:
    """Commit the queued articles (and any left pending earlier) to the search index.

    ``wait=False``: commit in a background thread and return at once (the next flush waits for it).
    """
    from warehouse import search

    index_dir = search.index_dir_for(settings.db)
    wait_index(settings)  # one writer at a time
    with _index_lock:
        docs = _index_buffer.pop(index_dir, [])
        _index_bytes.pop(index_dir, None)
    if not docs and not (index_dir / search.PENDING_FILE).exists():
        return
    if wait:
        _commit(index_dir, docs, Path(settings.db))
        return
    worker = threading.Thread(target=_commit, args=(index_dir, docs, Path(settings.db)),
                              name="search-index-commit")
    with _index_lock:
        _index_commits[index_dir] = worker
    worker.start()


def new_run_id() -> str:
    """The Prefect flow-run id when running inside a flow, else a random hex id."""
    rid = flow_run.get_id()
    return str(rid) if rid else uuid.uuid4().hex


def raw_page_from_fetch(
    article_id: str, res: FetchResult, run_id: str, now: datetime, body_gz: bytes | None
) -> RawPage:
    """A fetched page as stored: id from final URL + body, headers as JSON, body gzipped."""
    digest = hashlib.sha256(res.final_url.encode() + b"\x00" + res.body).hexdigest()[:32]
    return RawPage(
        page_id=digest,
        article_id=article_id,
        url=res.url,
        final_url=res.final_url,
        http_status=res.status,
        content_type=res.content_type,
        headers_json=json.dumps(res.headers, sort_keys=True),
        body_gz=body_gz if body_gz is not None else gzip.compress(res.body, compresslevel=RAW_GZIP_LEVEL),
        body_bytes=len(res.body),
        origin="rss",
        fetched_at=now,
        run_id=run_id,
    )


def raw_page_from_archive(
    rec: ArchiveRecord, article_id: str | None, run_id: str, body_gz: bytes | None = None
) -> RawPage:
    """An archive record as stored: its content-addressed id, where it came from in a header.

    The body is kept (gzipped) only when the archive cannot give it back by seeking (a JSONL
    line, a WARC gzipped as one stream); otherwise ``reprocess`` re-reads it from the archive."""
    body = rec.html if rec.html is not None else (rec.text or "").encode("utf-8", "surrogatepass")
    ctype = rec.content_type or ("text/html" if rec.html is not None else "text/plain; charset=utf-8")
    meta = {"archive_path": rec.path, "locator": rec.locator, "kind": rec.kind}
    if rec.title:
        meta["title"] = rec.title
    if rec.published_at_raw:
        meta["published_at"] = rec.published_at_raw
    if rec.kind == "warc" and rec.fetched_at is not None:
        meta["captured_at"] = rec.fetched_at.isoformat()  # the WARC-Date: capture, not publication
    return RawPage(
        page_id=rec.record_id,
        article_id=article_id,
        url=rec.url or record_url(rec),
        final_url=rec.url or record_url(rec),
        http_status=None,
        content_type=ctype,
        headers_json=json.dumps({**rec.http_headers, "x-newsflow-archive": json.dumps(meta)}, sort_keys=True),
        body_gz=None if rec.rereadable else body_gz if body_gz is not None else gzip.compress(
            body, compresslevel=RAW_GZIP_LEVEL),
        body_bytes=len(body),
        origin="archive",
        fetched_at=getattr(rec, "fetched_at", None) or utcnow(),
        run_id=run_id,
    )


def prepare_warehouse(settings: Settings) -> None:
    """Bring the database's schema up to date before the flow reads it (a locked file is left
    as it is: reads then see what is there, and the load stages)."""
    with contextlib.suppress(DatabaseLocked):
        connect_write(settings.db).close()


def merge_exact_duplicates(
    batch: Batch, settings: Settings
) -> dict[str, str]:
    """Fold exact duplicates (same outlet, same normalised title within a week) into the story
    already stored or first in the batch: the copy is not stored; its feed links, raw page and
    archive record point at the kept article. Returns the redirect map (copy id → kept id)."""
    keys = [(a.outlet, a.title_key) for a in batch.articles if a.title_key]
    if not keys:
        return {}
    known = [KnownTitle(article_id=aid, outlet=o, title_key=k, when=w) for aid, o, k, w in titles_near(settings.db, keys)]
    keep, redirect = resolve_exact_duplicates(batch.articles, known)
    if not redirect:
        return {}
    batch.articles = keep

    def moved(aid: str | None) -> str | None:
        return follow(redirect, aid) if aid else aid

    batch.links = [
        ln if ln.article_id not in redirect else ln.model_copy(update={"article_id": moved(ln.article_id)})
        for ln in batch.links
    ]
    batch.raw_pages = [
        p if p.article_id not in redirect else p.model_copy(update={"article_id": moved(p.article_id)})
        for p in batch.raw_pages
    ]
    batch.sketches = [s for s in batch.sketches if s.article_id not in redirect]
    batch.enriched_ids = [i for i in batch.enriched_ids if i not in redirect]
    batch.enrichment = {t: [r for r in rows if r["article_id"] not in redirect] for t, rows in batch.enrichment.items()}
    batch.archive_records = [
        r if r.article_id not in redirect else r.model_copy(update={"article_id": moved(r.article_id)})
        for r in batch.archive_records
    ]
    return redirect

