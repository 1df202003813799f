"""The committer: the one DuckDB writer of a cluster backfill, loading finished lake batches.

Workers write Parquet batches into the lake (``warehouse/lake.py``); this loads them, one
transaction each, with the batch id recorded in ``lake_batches`` in that transaction, so a
batch is loaded once even if the committer is killed mid-load and run again. Before a batch
goes in, what the local backfill decides against the warehouse is decided here the same way,
on the batch's Arrow tables: records a backfill already handled are left out (unless
``replace``), and exact duplicates of stored stories (same outlet and headline within a week)
are folded into them.

``python -m flows.committer --db FILE [--lake URI] [BATCH_ID ...]`` loads the finished batches
named (all finished batches not loaded yet when none are named) and prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from extractors.stories import assign_groups
from flows.identity import KnownTitle, follow, resolve_exact_duplicates
from schemas.settings import Settings, load_settings
from warehouse import search
from warehouse.batch import ENRICHED_IDS, ENRICHMENT_PREFIX, SKETCH_QUEUE
from warehouse.db import DatabaseLocked, connect_write
from warehouse.lake import BatchRecord, Lake, commit_batch, loaded_batches
from warehouse.queries import known_record_ids, titles_near


@dataclass(frozen=True)
class _Titled:
    """The fields of a stored article that exact-duplicate folding reads."""

    article_id: str
    outlet: str
    title_key: str | None
    published_at: datetime | None
    fetched_at: datetime | None
    ingested_at: datetime


@dataclass
class Committed:
    """What committing one batch did."""

    batch_id: str
    status: str  # loaded | already | locked
    records: int = 0
    articles: int = 0  # articles loaded (new, or replaced with --force)
    skipped: int = 0  # records a backfill had already handled
    duplicates: int = 0  # exact duplicates folded into a stored or earlier story
    counts: dict[str, int] = field(default_factory=dict)


def _drop_articles(tables: dict[str, pa.Table], ids: set[str]) -> None:
    """Remove the articles ``ids`` and what rides with them (sketches, coder rows)."""
    if not ids:
        return
    keep = pa.array(sorted(ids), pa.string())
    for name in list(tables):
        data = tables[name]
        rides = name in ("articles", SKETCH_QUEUE, ENRICHED_IDS) or name.startswith(ENRICHMENT_PREFIX)
        if rides and "article_id" in data.column_names and data.num_rows:
            tables[name] = data.filter(pc.invert(pc.is_in(data.column("article_id"), keep)))


def _redirect_column(data: pa.Table, redirect: dict[str, str]) -> pa.Table:
    if not data.num_rows or "article_id" not in data.column_names:
        return data
    col = data.column("article_id").to_pylist()
    moved = pa.array([follow(redirect, a) if a in redirect else a for a in col], pa.string())
    return data.set_column(data.column_names.index("article_id"), "article_id", moved)


def fold_known(tables: dict[str, pa.Table], db: Path | duckdb.DuckDBPyConnection, *,
               replace: bool) -> tuple[int, int]:
    """Apply the backfill's warehouse-dependent decisions to a batch's tables, in place.

    Returns ``(records skipped as already handled, exact duplicates folded)``.
    """
    skipped = 0
    recs = tables.get("archive_records")
    if not replace and recs is not None and recs.num_rows:
        known = known_record_ids(db, recs.column("record_id").to_pylist())
        if known:
            skipped = len(known)
            gone = pa.array(sorted(known), pa.string())
            tables["archive_records"] = recs.filter(pc.invert(pc.is_in(recs.column("record_id"), gone)))
            pages = tables.get("raw_pages")
            if pages is not None:
                tables["raw_pages"] = pages.filter(pc.invert(pc.is_in(pages.column("page_id"), gone)))
            arts = tables.get("articles")
            if arts is not None:
                drop = arts.filter(pc.is_in(arts.column("archive_record"), gone)).column("article_id").to_pylist()
                _drop_articles(tables, set(drop))
    arts = tables.get("articles")
    if arts is None or not arts.num_rows:
        return skipped, 0
    rows = [_Titled(**r) for r in arts.select(["article_id", "outlet", "title_key", "published_at",
                                               "fetched_at", "ingested_at"]).to_pylist()]
    keys = [(r.outlet, r.title_key) for r in rows if r.title_key]
    if not keys:
        return skipped, 0
    known_titles = [KnownTitle(article_id=aid, outlet=o, title_key=k, when=w) for aid, o, k, w in titles_near(db, keys)]
    _, redirect = resolve_exact_duplicates(rows, known_titles)
    if redirect:
        _drop_articles(tables, set(redirect))
        for name in ("article_feeds", "raw_pages", "archive_records"):
            if name in tables:
                tables[name] = _redirect_column(tables[name], redirect)
    return skipped, len(redirect)


class Committer:
    """Commits lake batches through one write connection, opened at the first batch and held until
    ``close`` (a connection per batch would cost an open and a checkpoint each time)."""

    def __init__(self, settings: Settings, lake: Lake | None = None) -> None:
        self.settings = settings
        self.lake = lake or Lake(settings.lake_location)
        self.conn: duckdb.DuckDBPyConnection | None = None
        self.locked = False

    def __enter__(self) -> Committer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self) -> duckdb.DuckDBPyConnection | None:
        if self.conn is None and not self.locked:
            try:
                self.conn = connect_write(self.settings.db)
            except DatabaseLocked:
                self.locked = True  # the batches wait in the lake for the next run
        return self.conn

    def commit(self, batch_id: str, *, run_id: str, replace: bool = False,
               on_start: Callable[[str], None] | None = None,
               in_transaction: Callable[[str], None] | None = None) -> Committed:
        """Load one finished batch (skipped when already loaded); ``on_start(batch_id)`` is called
        once the batch is read and about to be written, ``in_transaction(batch_id)`` with its rows
        written and the transaction not yet committed."""
        conn = self._connection()
        if conn is None:
            return Committed(batch_id, "locked")
        if not replace and loaded_batches(conn, [batch_id]):
            return Committed(batch_id, "already")
        manifest, tables = self.lake.read(batch_id)
        records = int(manifest.get("records", 0))
        skipped, copies = fold_known(tables, conn, replace=replace)
        shard = manifest.get("shard", {})
        record = BatchRecord(batch_id=batch_id, source=str(shard.get("path", "")),
                             byte_start=int(shard.get("start", 0)), byte_end=shard.get("end"), records=records,
                             articles=int(manifest.get("rows", {}).get("articles", 0)), run_id=run_id)
        if on_start is not None:
            on_start(batch_id)
        res = commit_batch(conn, tables, record, replace=replace, stories=assign_groups,
                           in_transaction=in_transaction)
        if res.error == "already loaded":
            return Committed(batch_id, "already")
        arts = tables.get("articles")
        ids = arts.column("article_id").to_pylist() if arts is not None else []
        if ids:  # the search index picks them up from the warehouse at the flow's closing flush
            with contextlib.suppress(OSError):
                search.remember_pending(search.index_dir_for(self.settings.db), ids)
        return Committed(batch_id, "loaded", records=records, articles=len(ids), skipped=skipped,
                         duplicates=copies, counts={k: v for k, v in res.as_dict().items() if isinstance(v, int)})


def commit_all(settings: Settings, *, run_id: str, batch_ids: Iterable[str] | None = None,
               replace: bool = False, on_start: Callable[[str], None] | None = None,
               in_transaction: Callable[[str], None] | None = None) -> list[Committed]:
    """Load the finished batches named (default: every finished batch not loaded yet), in id order."""
    with Committer(settings) as committer:
        ids = list(batch_ids) if batch_ids is not None else committer.lake.finished()
        return [committer.commit(bid, run_id=run_id, replace=replace, on_start=on_start,
                                 in_transaction=in_transaction) for bid in ids]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.committer", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--lake", default=None)
    ap.add_argument("--run-id", default="committer")
    ap.add_argument("--hold-in-transaction", type=float, default=0.0, metavar="SECONDS",
                    help="fault drills: wait this long inside each batch's transaction, rows written, "
                         "before committing (a kill then lands mid-load)")
    ap.add_argument("batch_ids", nargs="*")
    args = ap.parse_args(argv)
    settings = load_settings(db=Path(args.db), lake_uri=args.lake)

    def started(bid: str) -> None:
        print(json.dumps({"loading": bid}), file=sys.stderr, flush=True)

    def written(bid: str) -> None:
        print(json.dumps({"written": bid}), file=sys.stderr, flush=True)
        time.sleep(args.hold_in_transaction)

    out = commit_all(settings, run_id=args.run_id, batch_ids=args.batch_ids or None, on_start=started,
                     in_transaction=written)
    from flows.shared import flush_index

    flush_index(settings)
    print(json.dumps({"committed": [c.batch_id for c in out if c.status == "loaded"],
                      "articles": sum(c.articles for c in out)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
