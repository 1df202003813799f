"""DuckDB warehouse: migrations, bulk idempotent loads, Parquet staging and read helpers.

Only ``load.py`` opens the write connection, and only for the duration of one load.

The names below are resolved on first use (PEP 562), so importing one light module of the
package (``warehouse.db``, ``warehouse.tables``) does not load DuckDB's Arrow path, the loader
and every query helper: the CLI's commands import only what they use.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ArchiveRecordRow": "warehouse.batch",
    "Batch": "warehouse.batch",
    "DatabaseLocked": "warehouse.db",
    "DatabaseMissing": "warehouse.db",
    "connect_read": "warehouse.db",
    "connect_write": "warehouse.db",
    "LoadResult": "warehouse.load",
    "load_batch": "warehouse.load",
    "load_staged": "warehouse.load",
    "upsert_run": "warehouse.load",
    "migrate": "warehouse.migrate",
    "page_body": "warehouse.pages",
    "pages_root": "warehouse.pages",
    "read_body": "warehouse.pages",
    "store_body": "warehouse.pages",
    "database_status": "warehouse.queries",
    "known_article_ids": "warehouse.queries",
    "known_record_ids": "warehouse.queries",
    "raw_pages_since": "warehouse.queries",
    "read_feed_states": "warehouse.queries",
    "stats": "warehouse.queries",
    "RunInProgress": "warehouse.runlock",
    "run_lock": "warehouse.runlock",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'warehouse' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_WHERE)
