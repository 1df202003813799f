"""DuckDB warehouse: migrations, bulk idempotent loads, Parquet staging and read helpers.

Only ``load.py`` opens the write connection, and only for the duration of one load.
"""

from warehouse.batch import ArchiveRecordRow, Batch
from warehouse.db import DatabaseLocked, DatabaseMissing, connect_read, connect_write
from warehouse.load import LoadResult, load_batch, load_staged, upsert_run
from warehouse.migrate import migrate
from warehouse.pages import page_body, pages_root, read_body, store_body
from warehouse.queries import (
    database_status,
    known_article_ids,
    known_record_ids,
    raw_pages_since,
    read_feed_states,
    stats,
)
from warehouse.runlock import RunInProgress, run_lock

__all__ = [
    "ArchiveRecordRow",
    "Batch",
    "DatabaseLocked",
    "DatabaseMissing",
    "LoadResult",
    "RunInProgress",
    "connect_read",
    "connect_write",
    "database_status",
    "known_article_ids",
    "known_record_ids",
    "load_batch",
    "load_staged",
    "migrate",
    "page_body",
    "pages_root",
    "raw_pages_since",
    "read_body",
    "read_feed_states",
    "run_lock",
    "stats",
    "store_body",
    "upsert_run",
]
