"""The ``newsflow`` command line.

Every error is one line on stderr and a non-zero exit, never a traceback. Configuration is
checked before any work starts; Prefect is imported only by the commands that run flows.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from schemas.settings import ConfigError, Settings, load_settings

EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_LOCKED = 3


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- helpers


def _settings(args: argparse.Namespace, **extra: object) -> Settings:
    db = getattr(args, "db", None)
    return load_settings(db=Path(db) if db else None, **extra)


def _check_db_writable(db: Path) -> None:
    """Fail before any work if the database cannot be created or written."""
    parent = db.parent if str(db.parent) else Path(".")
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"database path {db}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"database path {db}: directory {probe} is not writable")
    if db.exists() and (db.is_dir() or not os.access(db, os.W_OK)):
        raise ConfigError(f"database path {db} is not a writable file")
    if db.exists() and db.stat().st_size > 0:
        with db.open("rb") as fh:
            head = fh.read(12)
        if head[8:12] != b"DUCK":
            raise ConfigError(f"database path {db} is not a DuckDB database")


def _prefect_env(verbose: bool) -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    os.environ.setdefault("PREFECT_INTERNAL_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")


def _run_flow(fn: Any, verbose: bool, **params: Any) -> Any:
    """Call a Prefect flow and turn its failure into one line."""
    if not verbose:
        # Prefect's background services log to the root logger (e.g. "EventsWorker - Still
        # processing items" while a refused run exits); the CLI prints its own summary instead
        import logging

        logging.getLogger().setLevel(logging.CRITICAL)
    try:
        return fn(**params)
    except (ConfigError, CliError):
        raise
    except Exception as exc:
        import traceback

        from warehouse.db import DatabaseLocked
        from warehouse.runlock import RunInProgress

        # drop the frames now: native objects they hold would otherwise report leaks at exit
        traceback.clear_frames(exc.__traceback__)

        if isinstance(exc, RunInProgress):
            raise CliError(str(exc), EXIT_LOCKED) from None
        if isinstance(exc, DatabaseLocked):
            raise CliError(str(exc), EXIT_LOCKED) from None
        raise CliError(f"{fn.__name__ if hasattr(fn, '__name__') else 'flow'} failed: "
                       f"{type(exc).__name__}: {exc}".splitlines()[0]) from None


def _fmt_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if v.tzinfo else v.isoformat(sep=" ")
    if isinstance(v, list):
        return ", ".join(_fmt_cell(x) for x in v)
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return str(v).replace("\n", " ")


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return str(v)


def render_rows(cols: list[str], rows: Sequence[Sequence[Any]], fmt: str, max_width: int = 60) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(cols, r, strict=True)) for r in rows], default=_json_default,
                          ensure_ascii=False, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if v is None else (_fmt_cell(v) if not isinstance(v, str) else v) for v in r])
        return buf.getvalue().rstrip("\n")
    cells = [[_fmt_cell(v) for v in r] for r in rows]
    widths = [min(max([len(c)] + [len(r[i]) for r in cells]), max_width) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(widths[i]) for i, c in enumerate(cols))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in cells:
        out.append("  ".join((v if len(v) <= widths[i] else v[: widths[i] - 1] + "…").ljust(widths[i])
                             for i, v in enumerate(r)))
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


# --------------------------------------------------------------------------- commands


def cmd_ingest(args: argparse.Namespace) -> int:
    from extractors.sources.feedlist import load_feed_list

    feeds = Path(args.feeds) if args.feeds else None
    settings = _settings(args, feeds_file=feeds)
    specs = load_feed_list(settings.feeds_file)
    if not specs:
        raise ConfigError(f"{settings.feeds_file}: no feeds listed")
    _check_db_writable(settings.db)
    from warehouse.runlock import RunInProgress, run_lock

    try:
        with run_lock(settings.db, 0.0):
            pass
    except RunInProgress as exc:
        if settings.run_lock_wait <= 0:
            raise CliError(str(exc), EXIT_LOCKED) from None

    from flows.ingest import hourly_ingest
    from flows.report import render_text

    summary = _run_flow(hourly_ingest, args.verbose, feeds_file=str(settings.feeds_file), db=str(settings.db))
    print(render_text(summary))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    settings = _settings(args)
    for p in args.paths:
        if not Path(p).exists():
            raise ConfigError(f"archive path not found: {p}")
    _check_db_writable(settings.db)
    import flows.backfill as bf

    bar = _Progress(enabled=not args.quiet)
    bf.progress_hook = bar.update
    try:
        summary = _run_flow(bf.backfill, args.verbose, paths=[str(p) for p in args.paths], db=str(settings.db),
                            outlet=args.outlet, force=args.force)
    finally:
        bar.close()
        bf.progress_hook = None
    reasons = ", ".join(f"{k} {v}" for k, v in summary["rejects_by_reason"].items()) or "none"
    print(f"backfill: read {summary['read']}, loaded {summary['loaded']}, skipped {summary['skipped']} "
          f"(already loaded), rejected {summary['rejected']} (by reason: {reasons}) "
          f"in {summary['seconds']:.1f}s" + (f"; {summary['staged_batches']} batch(es) staged: database busy"
                                              if summary.get("staged_batches") else ""))
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    settings = _settings(args)
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            raise ConfigError(f"--since: not an ISO date: {args.since!r}") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    _check_db_writable(settings.db)
    from flows.reprocess import reprocess

    summary = _run_flow(reprocess, args.verbose, since=since.isoformat() if since else None, db=str(settings.db))
    print(f"reprocess: pages {summary['pages']}, articles updated {summary['updated']}, "
          f"unchanged {summary['unchanged']}, rejected {summary['rejected']}")
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    from extractors.sources.feedlist import (
        feed_key,
        load_feed_list,
        merge_feed_specs,
        parse_opml,
        save_feed_list,
    )
    from schemas.records import FeedSpec

    settings = _settings(args, feeds_file=Path(args.feeds) if args.feeds else None)
    path = settings.feeds_file
    if args.feeds_cmd == "list":
        specs = load_feed_list(path)
        print(render_rows(["name", "url", "tags"], [(s.name, s.url, s.tags) for s in specs], args.format))
        return 0
    if args.feeds_cmd == "add":
        from extractors.normalize.urls import canonicalize_url

        if canonicalize_url(args.url) is None:
            raise ConfigError(f"not an http(s) feed URL: {args.url!r}")
        specs = load_feed_list(path) if path.exists() else []
        if any(feed_key(s.url) == feed_key(args.url) for s in specs):
            print(f"already listed: {args.url}")
            return 0
        specs.append(FeedSpec(url=args.url, name=args.name, tags=args.tag or []))
        save_feed_list(path, specs)
        print(f"added {args.url} to {path} ({len(specs)} feeds)")
        return 0
    if args.feeds_cmd == "import":
        src = Path(args.file)
        try:
            data = src.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {src}: {exc.strerror}") from None
        new = parse_opml(data, source=str(src))
        specs, added = merge_feed_specs(load_feed_list(path) if path.exists() else [], new)
        save_feed_list(path, specs)
        print(f"imported {len(added)} new feed(s) from {src} into {path} ({len(new) - len(added)} already listed)")
        return 0
    if args.feeds_cmd == "health":
        return _print_query(settings.db, "SELECT * FROM v_feed_health ORDER BY consecutive_failures DESC, feed_url",
                            args.format)
    raise CliError(f"unknown feeds command {args.feeds_cmd}")


def _print_query(db: Path, sql: str, fmt: str) -> int:
    import duckdb

    from warehouse.db import DatabaseLocked, DatabaseMissing, connect_read

    try:
        conn = connect_read(db, sandbox=True)
    except DatabaseLocked as exc:
        raise CliError(str(exc), EXIT_LOCKED) from None
    except DatabaseMissing:
        raise CliError(f"database {db} does not exist yet: run 'newsflow ingest' or 'newsflow backfill' first") from None
    try:
        cur = conn.execute(sql)
        if cur.description is None:
            return 0
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except duckdb.Error as exc:
        msg = str(exc).splitlines()[0]
        if "read-only" in msg.lower():
            raise CliError(f"query refused: the database is opened read-only for queries ({msg})") from None
        raise CliError(f"query failed: {msg}") from None
    finally:
        conn.close()
    print(render_rows(cols, rows, fmt))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return _print_query(settings.db, args.sql, args.format)


def cmd_stats(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from warehouse.db import DatabaseLocked, DatabaseMissing
    from warehouse.queries import stats

    try:
        st = stats(settings.db, strict=True)
    except DatabaseLocked:
        st = stats(settings.db)  # says the database is locked, with what could still be read
    except DatabaseMissing:
        raise CliError(f"database {settings.db} does not exist yet") from None
    if args.format == "json":
        print(json.dumps(st, default=_json_default, indent=2))
    else:
        for k, v in st.items():
            print(f"{k:>24}: {_fmt_cell(v) if not isinstance(v, dict) else json.dumps(v, default=_json_default)}")
    return 0


class _Progress:
    """A one-line progress display on stderr (counts and rate)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.last = 0.0

    def update(self, s: Any) -> None:
        if not self.enabled:
            return
        import time

        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        rate = s.read / s.seconds if s.seconds else 0.0
        sys.stderr.write(f"\rbackfill: {s.read} read, {s.loaded} loaded, {s.skipped} skipped, "
                         f"{s.rejected} rejected  [{rate:.1f} rec/s]   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsflow", description="News event-stream ingestion into DuckDB.")
    p.add_argument("--db", help="DuckDB file (default: $NEWSFLOW_DB or data/newsflow.duckdb)")
    p.add_argument("-v", "--verbose", action="store_true", help="show Prefect's run logs")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def dbopt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--db", default=argparse.SUPPRESS, help="DuckDB file")

    sp = sub.add_parser("ingest", help="one pass of the hourly ingest flow")
    sp.add_argument("--feeds", help="feed list (default: $NEWSFLOW_FEEDS_FILE or feeds.yaml)")
    dbopt(sp)
    sp.set_defaults(func=cmd_ingest)

    sp = sub.add_parser("backfill", help="load archives (txt, html, jsonl, warc; files or directories)")
    sp.add_argument("paths", nargs="+", metavar="PATH")
    sp.add_argument("--outlet", "--source", dest="outlet",
                    help="outlet name for records that carry none (a JSONL 'outlet' field wins)")
    sp.add_argument("--force", action="store_true", help="re-extract and replace records already loaded")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    dbopt(sp)
    sp.set_defaults(func=cmd_backfill)

    sp = sub.add_parser("reprocess", help="re-run extraction and cleaning over stored raw pages")
    sp.add_argument("--since", help="only pages fetched since this ISO date")
    dbopt(sp)
    sp.set_defaults(func=cmd_reprocess)

    fp = sub.add_parser("feeds", help="manage the feed list")
    fsub = fp.add_subparsers(dest="feeds_cmd", required=True, metavar="SUBCOMMAND")
    for name, helptext in (("list", "show the feed list"), ("health", "per-feed health from the database")):
        s = fsub.add_parser(name, help=helptext)
        s.add_argument("--feeds", help="feed list file")
        s.add_argument("--format", choices=["table", "csv", "json"], default="table")
        dbopt(s)
    s = fsub.add_parser("add", help="add a feed URL")
    s.add_argument("url")
    s.add_argument("--name")
    s.add_argument("--tag", action="append")
    s.add_argument("--feeds", help="feed list file")
    s = fsub.add_parser("import", help="import feeds from an OPML file")
    s.add_argument("file", metavar="FILE.opml")
    s.add_argument("--feeds", help="feed list file")
    fp.set_defaults(func=cmd_feeds)

    sp = sub.add_parser("query", help="run read-only SQL against the warehouse")
    sp.add_argument("sql", metavar="SQL")
    sp.add_argument("--format", choices=["table", "csv", "json"], default="table")
    dbopt(sp)
    sp.set_defaults(func=cmd_query)

    sp = sub.add_parser("stats", help="table counts and the latest runs")
    sp.add_argument("--format", choices=["table", "json"], default="table")
    dbopt(sp)
    sp.set_defaults(func=cmd_stats)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "verbose"):
        args.verbose = False
    _prefect_env(args.verbose)  # before anything imports prefect: its settings are read at import
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"newsflow: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CliError as exc:
        print(f"newsflow: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("newsflow: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one line, no traceback
        from schemas.failures import PipelineError

        if isinstance(exc, PipelineError):
            print(f"newsflow: {exc.reason.value}: {exc.message}", file=sys.stderr)
        else:
            print(f"newsflow: unexpected error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                  file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
