"""A batch of records bound for the warehouse, and its columnar (Arrow) form.

Arrow schemas here are the single description of each table's load shape; they match the
SQL types of ``migrations/001_initial.sql`` (timestamps are microsecond UTC, lists are
``VARCHAR[]``). Conversion is column by column with plain attribute access, which is several
times faster than building Arrow from ``model_dump()`` dicts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel

from schemas.records import (
    Article,
    ArticleFeedLink,
    FeedState,
    RawPage,
    Reject,
    RunRecord,
    Strict,
    UTCDateTime,
    utcnow,
)
from schemas.stories import StorySketch
from warehouse.events import TABLES as EVENT_TABLES
from warehouse.events import to_arrow as events_to_arrow


class ArchiveRecordRow(Strict):
    """One archive record a backfill has dealt with (loaded or rejected), for resuming."""

    record_id: str
    path: str
    locator: str | None = None
    article_id: str | None = None
    status: Literal["loaded", "rejected"]
    run_id: str
    loaded_at: UTCDateTime


_TS = pa.timestamp("us", tz="UTC")
_STR = pa.string()
_LIST = pa.list_(pa.string())
_I32 = pa.int32()


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(name, typ, nullable=nullable) for name, typ, nullable in fields])


SCHEMAS: dict[str, pa.Schema] = {
    "runs": _schema(
        ("run_id", _STR, False),
        ("flow", _STR, False),
        ("started_at", _TS, False),
        ("finished_at", _TS, True),
        ("status", _STR, False),
        ("feeds_total", _I32, False),
        ("feeds_ok", _I32, False),
        ("feeds_not_modified", _I32, False),
        ("feeds_failed", _I32, False),
        ("entries_seen", _I32, False),
        ("pages_fetched", _I32, False),
        ("articles_new", _I32, False),
        ("articles_updated", _I32, False),
        ("links_new", _I32, False),
        ("rejects", _I32, False),
        ("staged", pa.bool_(), False),
        ("details_json", _STR, False),
    ),
    "articles": _schema(
        ("article_id", _STR, False),
        ("url", _STR, False),
        ("outlet", _STR, False),
        ("feed_url", _STR, True),
        ("title", _STR, True),
        ("authors", _LIST, False),
        ("published_at", _TS, True),
        ("published_at_source", _STR, True),
        ("language", _STR, True),
        ("text", _STR, False),
        ("summary", _STR, True),
        ("word_count", _I32, False),
        ("content_hash", _STR, False),
        ("origin", _STR, False),
        ("text_source", _STR, False),
        ("tags", _LIST, False),
        ("archive_path", _STR, True),
        ("archive_record", _STR, True),
        ("fetched_at", _TS, True),
        ("ingested_at", _TS, False),
        ("run_id", _STR, False),
        ("domain", _STR, True),
        ("site_name", _STR, True),
        ("text_source_reason", _STR, True),
        ("title_key", _STR, True),
        ("dup_group_id", _STR, True),
        ("dup_similarity", pa.float64(), True),
        ("version", _I32, False),
    ),
    "article_feeds": _schema(
        ("article_id", _STR, False),
        ("feed_url", _STR, False),
        ("guid", _STR, False),
        ("entry_url", _STR, True),
        ("first_seen_at", _TS, False),
        ("run_id", _STR, False),
        ("entry_fingerprint", _STR, True),
    ),
    "raw_pages": _schema(
        ("page_id", _STR, False),
        ("article_id", _STR, True),
        ("url", _STR, False),
        ("final_url", _STR, False),
        ("http_status", _I32, True),
        ("content_type", _STR, True),
        ("headers_json", _STR, False),
        ("body_gz", pa.binary(), True),  # inline only until the load moves it to a file
        ("body_bytes", pa.int64(), False),
        ("origin", _STR, False),
        ("fetched_at", _TS, False),
        ("run_id", _STR, False),
        ("body_ref", _STR, True),  # locator of the body's file (warehouse/pages.py)
    ),
    "rejects": _schema(
        ("reject_id", _STR, False),
        ("run_id", _STR, False),
        ("stage", _STR, False),
        ("source", _STR, True),
        ("url", _STR, True),
        ("reason", _STR, False),
        ("reason_class", _STR, False),
        ("message", _STR, False),
        ("payload", _STR, True),
        ("created_at", _TS, False),
    ),
    "feeds": _schema(
        ("feed_url", _STR, False),
        ("name", _STR, True),
        ("tags", _LIST, False),
        ("etag", _STR, True),
        ("last_modified", _STR, True),
        ("body_hash", _STR, True),
        ("last_status", _STR, True),
        ("last_http_status", _I32, True),
        ("last_reason", _STR, True),
        ("last_error", _STR, True),
        ("consecutive_failures", _I32, False),
        ("backoff_until", _TS, True),
        ("last_polled_at", _TS, True),
        ("last_ok_at", _TS, True),
        ("entries_last_seen", _I32, False),
    ),
    "archive_records": _schema(
        ("record_id", _STR, False),
        ("path", _STR, False),
        ("locator", _STR, True),
        ("article_id", _STR, True),
        ("status", _STR, False),
        ("run_id", _STR, False),
        ("loaded_at", _TS, False),
    ),
}

MODELS: dict[str, type[BaseModel]] = {
    "runs": RunRecord,
    "articles": Article,
    "article_feeds": ArticleFeedLink,
    "raw_pages": RawPage,
    "rejects": Reject,
    "feeds": FeedState,
    "archive_records": ArchiveRecordRow,
}

# Primary key of each table: what "already loaded" means.
KEYS: dict[str, tuple[str, ...]] = {
    "runs": ("run_id",),
    "articles": ("article_id",),
    "article_feeds": ("article_id", "feed_url", "guid"),
    "raw_pages": ("page_id",),
    "rejects": ("reject_id",),
    "feeds": ("feed_url",),
    "archive_records": ("record_id",),
}

# Batch attribute holding each table's records.
_ATTRS: dict[str, str] = {
    "articles": "articles",
    "article_feeds": "links",
    "raw_pages": "raw_pages",
    "rejects": "rejects",
    "feeds": "feed_states",
    "archive_records": "archive_records",
}


def models_to_arrow(table: str, models: Sequence[BaseModel]) -> pa.Table:
    """Build one table from model instances, typed by SCHEMAS[table].

    Arrow converts the models' ``__dict__`` mappings as one struct array in C++, about three
    times faster than per-column Python lists (enum members are ``str`` subclasses and convert
    as their values).
    """
    schema = SCHEMAS[table]
    if not models:
        return schema.empty_table()
    structs = pa.array([m.__dict__ for m in models], type=pa.struct(list(schema)))
    return pa.Table.from_struct_array(structs)


def conform(table: str, data: pa.Table) -> pa.Table:
    """Reorder/cast an Arrow table (e.g. read back from Parquet) to the load schema.

    Missing nullable columns are filled with nulls so older staged files still load.
    """
    schema = SCHEMAS[table]
    columns = []
    for fld in schema:
        if fld.name in data.column_names:
            col = data.column(fld.name)
            columns.append(col if col.type == fld.type else col.cast(fld.type))
        elif fld.nullable:
            columns.append(pa.nulls(data.num_rows, type=fld.type))
        else:
            raise ValueError(f"{table}: column {fld.name} is missing")
    return pa.Table.from_arrays(columns, schema=schema)


def _new_batch_id() -> str:
    return uuid.uuid4().hex


# Story sketches travel with a batch (and are staged with it) but are not a table of their own:
# the load hands them to the story index (warehouse/stories.py), which decides their groups.
SKETCH_QUEUE = "_story_sketches"
SKETCH_SCHEMA = pa.schema([
    pa.field("article_id", _STR, nullable=False),
    pa.field("first_seen", _TS, nullable=False),
    pa.field("version", _I32, nullable=False),
    pa.field("tokens", _I32, nullable=False),
    pa.field("shingles", _I32, nullable=False),
    pa.field("lead_shingles", _I32, nullable=False),
    pa.field("signature", pa.binary(), nullable=False),
    pa.field("lead_signature", pa.binary(), nullable=False),
    pa.field("band_keys", pa.list_(pa.int64()), nullable=False),
])


# The event coder's rows travel the same way (warehouse/events.py owns their schemas).
ENRICHED_IDS = "_enriched_ids"
ENRICHMENT_PREFIX = "_enrichment_"


def is_side_table(name: str) -> bool:
    """A batch table that is not a warehouse table of its own (sketches, enrichment)."""
    return name in (SKETCH_QUEUE, ENRICHED_IDS) or name.startswith(ENRICHMENT_PREFIX)


def sketches_to_arrow(sketches: Sequence[StorySketch]) -> pa.Table:
    return pa.table({name: pa.array([getattr(s, name) for s in sketches], type=SKETCH_SCHEMA.field(name).type)
                     for name in SKETCH_SCHEMA.names}, schema=SKETCH_SCHEMA)


def sketches_from_arrow(table: pa.Table) -> list[StorySketch]:
    table = table.select(SKETCH_SCHEMA.names).cast(SKETCH_SCHEMA)
    return [StorySketch.model_validate(row) for row in table.to_pylist()]


@dataclass
class Batch:
    """Everything one flow step wants to write, loaded in one transaction.

    ``replace=True`` (backfill ``--force``, reprocess) overwrites existing articles and archive
    records instead of keeping the first version.
    """

    run: RunRecord | None = None
    articles: list[Article] = field(default_factory=list)
    links: list[ArticleFeedLink] = field(default_factory=list)
    raw_pages: list[RawPage] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    feed_states: list[FeedState] = field(default_factory=list)
    archive_records: list[ArchiveRecordRow] = field(default_factory=list)
    sketches: list[StorySketch] = field(default_factory=list)  # for the story index, applied in the load
    # entities/mentions/events/quotes rows (plain dicts, migration 005 columns) of the articles in
    # ``enriched_ids``; those articles' old rows are replaced in the load's transaction
    enrichment: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    enriched_ids: list[str] = field(default_factory=list)
    replace: bool = False
    batch_id: str = field(default_factory=_new_batch_id)
    created_at: datetime = field(default_factory=utcnow)

    def is_empty(self) -> bool:
        return (self.run is None and not self.sketches and not self.enriched_ids
                and not any(getattr(self, attr) for attr in _ATTRS.values()))

    def counts(self) -> dict[str, int]:
        out = {table: len(getattr(self, attr)) for table, attr in _ATTRS.items()}
        out["runs"] = 0 if self.run is None else 1
        return out

    def to_arrow(self) -> dict[str, pa.Table]:
        """One Arrow table per warehouse table (all seven, empty ones included)."""
        tables = {"runs": models_to_arrow("runs", [self.run] if self.run is not None else [])}
        for table, attr in _ATTRS.items():
            tables[table] = models_to_arrow(table, getattr(self, attr))
        if self.sketches:
            tables[SKETCH_QUEUE] = sketches_to_arrow(self.sketches)
        if self.enriched_ids:
            tables[ENRICHED_IDS] = pa.table({"article_id": pa.array(sorted(set(self.enriched_ids)), _STR)})
            for name in EVENT_TABLES:
                tables[ENRICHMENT_PREFIX + name] = events_to_arrow(name, self.enrichment.get(name, []))
        return tables

