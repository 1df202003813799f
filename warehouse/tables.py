"""The tables and views analysts take out (``newsflow export --table``): names only, no DuckDB.

Kept apart from ``warehouse.export`` so the CLI can list them in its help without loading
DuckDB and Arrow on every command.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportSpec:
    """What ``--table NAME`` exports: a relation, its time column for ``--since``, a stable order."""

    relation: str
    time_expr: str | None
    order: str


# Analyst-facing tables: the views where one exists (same columns as a notebook sees), raw HTML never.
EXPORTS: dict[str, ExportSpec] = {
    "articles": ExportSpec("v_articles", "coalesce(published_at, ingested_at)", "article_id"),
    "daily_counts": ExportSpec("v_daily_counts", "day", "day, 2"),
    "feed_health": ExportSpec("v_feed_health", "last_polled_at", "feed_url"),
    "feeds": ExportSpec("feeds", "last_polled_at", "feed_url"),
    "article_feeds": ExportSpec("article_feeds", "first_seen_at", "article_id, feed_url, guid"),
    "rejects": ExportSpec("rejects", "created_at", "created_at, reject_id"),
    "runs": ExportSpec("runs", "started_at", "started_at, run_id"),
    "archive_records": ExportSpec("archive_records", "loaded_at", "record_id"),
}
# Views added by later migrations are exported when the database has them.
OPTIONAL_VIEWS = ("v_outlets", "v_stories")
