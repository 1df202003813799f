"""The ``newsflow`` command line (typer + rich).

Options go before or after the command (``newsflow -v ingest`` and ``newsflow ingest -v``).
Every error is one line on stderr and a non-zero exit, never a traceback: 2 for configuration
and usage errors, 3 when the database or run lock is held, 1 otherwise. Configuration is checked
before any work starts. Only the commands that run a flow (ingest, backfill, reprocess) import
Prefect; the others answer in well under a second.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer

from schemas.settings import ConfigError, Settings, load_settings

EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_LOCKED = 3


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- options

DbOpt = Annotated[str | None, typer.Option("--db", help="DuckDB file (default: $NEWSFLOW_DB or data/newsflow.duckdb)",
                                           show_default=False)]
VerboseOpt = Annotated[bool, typer.Option("-v", "--verbose", help="show Prefect's run logs")]
WideOpt = Annotated[bool, typer.Option("--wide", help="never cut table cells (wider than the terminal)")]
FeedsOpt = Annotated[str | None, typer.Option("--feeds", help="feed list (default: $NEWSFLOW_FEEDS_FILE or feeds.yaml)",
                                              show_default=False)]
ExecutorOpt = Annotated[str | None, typer.Option(
    "--executor", help="where extraction runs: local (default: $NEWSFLOW_EXECUTOR or local), "
    "dask://HOST:PORT (an existing Dask scheduler) or prefect (backfill only: shards as deployment runs "
    "on Prefect workers)", show_default=False)]
TableFmt = Annotated[Literal["table", "csv", "json"], typer.Option("--format", help="table, csv or json")]


@dataclass
class Opts:
    db: str | None = None
    verbose: bool = False
    wide: bool = False


def _opts(ctx: typer.Context, db: str | None = None, verbose: bool = False, wide: bool = False) -> Opts:
    """Options given after the command win over the same ones given before it."""
    root = ctx.find_root().obj if ctx.find_root().obj is not None else Opts()
    return Opts(db=db or root.db, verbose=verbose or root.verbose, wide=wide or root.wide)


app = typer.Typer(
    name="newsflow", help="News event-stream ingestion into DuckDB: ingest, search, export and report.",
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
feeds_app = typer.Typer(help="Manage the feed list and see each feed's health.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")


@app.callback()
def _root(ctx: typer.Context, db: DbOpt = None, verbose: VerboseOpt = False, wide: WideOpt = False) -> None:
    ctx.obj = Opts(db=db, verbose=verbose, wide=wide)


# --------------------------------------------------------------------------- helpers


def _settings(o: Opts, **extra: object) -> Settings:
    return load_settings(db=Path(o.db) if o.db else None, **extra)


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


def _parse_since(value: str | None, flag: str = "--since") -> datetime | None:
    if not value:
        return None
    try:
        since = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag}: not an ISO date: {value!r}") from None
    return since.replace(tzinfo=UTC) if since.tzinfo is None else since


def _prefect_env(verbose: bool) -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    os.environ.setdefault("PREFECT_INTERNAL_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    # With no server running, Prefect starts a temporary one and gives up after 20 s; on a busy
    # machine (or a first run, which creates Prefect's database) that start alone took 35-60 s
    # here, and the command failed with "Timed out ... ephemeral Prefect API server".
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _prefect_api(verbose: bool) -> str | None:
    """The Prefect server to use: a configured or local running one; say so when falling back
    to a temporary API.

    A server configured by PREFECT_API_URL is Prefect's own setting (None is returned: nothing to
    change); otherwise one answering on 127.0.0.1:4200 (the port of ``make serve``) is returned
    for ``_run_flow`` to hand to Prefect for the flow's duration, unless NEWSFLOW_PREFECT_PROBE=false.
    The process environment is left as it is.
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    probe = os.environ.get("NEWSFLOW_PREFECT_PROBE", "true").lower() not in ("0", "false", "no", "off")
    url = f"http://127.0.0.1:{os.environ.get('NEWSFLOW_PREFECT_PORT', '4200')}/api"
    if probe:
        import urllib.request

        try:
            with urllib.request.urlopen(url + "/health", timeout=0.3) as resp:
                if resp.status == 200:
                    if verbose or sys.stderr.isatty():
                        print(f"newsflow: using the Prefect server at {url}", file=sys.stderr)
                    return url
        except (OSError, ValueError):
            pass
    if verbose or sys.stderr.isatty():
        print("newsflow: no Prefect server configured or running; starting a temporary local API "
              "(takes ~10 s; `make serve` or PREFECT_API_URL avoids it)", file=sys.stderr)
    return None


def _prefect_settings(api_url: str | None) -> Any:
    """A context in which Prefect talks to ``api_url`` (its own settings when None) and, unless
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY is set, sends no flow-run heartbeats.

    A heartbeat is an event for an automation that marks a silent run crashed; newsflow defines
    none, and the heartbeat thread sleeps in whole seconds, so ending a flow run waited for it
    0-1 s (0.5 s on average) in every command. Deployed runs keep Prefect's setting.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    updates: dict[Any, Any] = {}
    if api_url is not None:
        updates[PREFECT_API_URL] = api_url
    if not os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY") and not os.environ.get(
            "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"):
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    return temporary_settings(updates=updates)


def _check_executor(settings: Settings) -> None:
    """With a Dask executor, reach its scheduler before any work (one line when it cannot)."""
    if settings.dask_address is None:
        return
    from flows.cluster import ClusterUnavailable, connect_executor

    try:
        connect_executor(settings.dask_address)
    except ClusterUnavailable as exc:
        raise ConfigError(str(exc)) from None


_ran_flow = False  # a flow command ran in this process: the program ends it with end_process
_gc_default: tuple[int, int, int] | None = None  # the collector's thresholds while imports defer it

IMPORT_GC_THRESHOLD = 50_000


def defer_collection() -> None:
    """While the command imports what it needs (Prefect alone makes ~170k objects that live as
    long as the process), run the collector's youngest generation every 50,000 allocations
    instead of every 700: those collections find nothing to free and cost ~0.15 s of CPU in a
    ~3 s command. ``restore_collection`` puts the thresholds back before a flow runs."""
    global _gc_default
    if _gc_default is None:
        _gc_default = gc.get_threshold()
        gc.set_threshold(max(_gc_default[0], IMPORT_GC_THRESHOLD), _gc_default[1], _gc_default[2])


def restore_collection() -> None:
    """Undo ``defer_collection`` (no-op when it did not run)."""
    global _gc_default
    if _gc_default is not None:
        gc.set_threshold(*_gc_default)
        _gc_default = None


def _run_flow(fn: Any, verbose: bool, api_url: str | None = None, **params: Any) -> Any:
    """Call a Prefect flow (against the server at ``api_url`` when given) and turn its failure
    into one line."""
    global _ran_flow
    _ran_flow = True
    if not verbose:
        # Prefect's background services log to the root logger (e.g. "EventsWorker - Still
        # processing items" while a refused run exits); the CLI prints its own summary instead
        import logging

        logging.getLogger().setLevel(logging.CRITICAL)
    restore_collection()  # the flow's work makes garbage: collect it as usual
    try:
        with _prefect_settings(api_url):
            return fn(**params)
    except (ConfigError, CliError):
        raise
    except Exception as exc:
        import traceback

        from warehouse.db import DatabaseLocked
        from warehouse.runlock import RunInProgress

        # drop the frames now: native objects they hold would otherwise report leaks at exit
        traceback.clear_frames(exc.__traceback__)

        if isinstance(exc, RunInProgress | DatabaseLocked):
            raise CliError(str(exc), EXIT_LOCKED) from None
        raise CliError(f"{fn.__name__ if hasattr(fn, '__name__') else 'flow'} failed: "
                       f"{type(exc).__name__}: {exc}".splitlines()[0]) from None


def _read_errors(db: Path) -> Any:
    """A context that turns read-side database problems into one-line CLI errors."""
    import contextlib

    import duckdb

    from warehouse.db import DatabaseLocked, DatabaseMissing

    @contextlib.contextmanager
    def guard() -> Any:
        try:
            yield
        except DatabaseLocked as exc:
            raise CliError(str(exc), EXIT_LOCKED) from None
        except DatabaseMissing:
            raise CliError(f"database {db} does not exist yet: run 'newsflow ingest' or 'newsflow backfill' "
                           "first") from None
        except duckdb.Error as exc:
            msg = str(exc).splitlines()[0]
            if "read-only" in msg.lower():
                raise CliError(f"query refused: the database is opened read-only for queries ({msg})") from None
            raise CliError(f"query failed: {msg}") from None

    return guard()


def _query_rows(db: Path, sql: str, params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    from warehouse.db import connect_read

    with _read_errors(db):
        conn = connect_read(db, sandbox=True)
        try:
            cur = conn.execute(sql, list(params) if params else [])
            if cur is None or cur.description is None:
                return [], []
            return [d[0] for d in cur.description], cur.fetchall()
        finally:
            conn.close()


def _print_query(db: Path, sql: str, fmt: str, wide: bool, params: Sequence[Any] | None = None) -> int:
    from newsflow.tables import print_rows

    cols, rows = _query_rows(db, sql, params)
    if cols:
        print_rows(cols, rows, fmt, wide=wide)
    return 0


def _age(ts: datetime | None, now: datetime) -> str:
    if ts is None:
        return ""
    secs = (now - ts).total_seconds()
    future = secs < 0
    secs = abs(secs)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            text = f"{secs / size:.0f}{unit}"
            break
    else:
        text = f"{secs:.0f}s"
    return f"in {text}" if future else f"{text} ago"


# --------------------------------------------------------------------------- flow commands


@app.command()
def ingest(ctx: typer.Context, feeds: FeedsOpt = None, db: DbOpt = None, verbose: VerboseOpt = False,
           wide: WideOpt = False,
           quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no live progress")] = False,
           executor: ExecutorOpt = None) -> int:
    """One pass of the hourly ingest flow over the feed list."""
    from extractors.sources.feedlist import load_feed_list

    o = _opts(ctx, db, verbose, wide)
    settings = _settings(o, feeds_file=Path(feeds) if feeds else None, executor=executor)
    specs = load_feed_list(settings.feeds_file)
    if not specs:
        listed = load_feed_list(settings.feeds_file, include_disabled=True)
        raise ConfigError(f"{settings.feeds_file}: no feeds listed" if not listed
                          else f"{settings.feeds_file}: all {len(listed)} feeds are disabled")
    _check_db_writable(settings.db)
    _check_executor(settings)
    from warehouse.runlock import RunInProgress, run_lock

    lock_free = True
    try:
        with run_lock(settings.db, 0.0):
            pass
    except RunInProgress as exc:
        if settings.run_lock_wait <= 0:
            raise CliError(str(exc), EXIT_LOCKED) from None
        lock_free = False

    api_url = _prefect_api(o.verbose)
    from flows.poll import start_early_poll
    from newsflow.progress import IngestProgress, live_enabled

    bar = IngestProgress(live_enabled(quiet or o.verbose), len(specs))
    # with a server, the poll's politeness waits overlap Prefect's import and the flow run's
    # creation; the flow uses it only if it polled the very states the flow reads under its
    # lock (a run that holds the lock now would change them: then no early poll, not two).
    # With Prefect's temporary API the command stays as it was (like the backfill's pool).
    # Started before the progress bar's refresh thread: with no thread running, the poll can
    # run in a forked child (flows.poll.fork_is_safe).
    with_server = bool(api_url or os.environ.get("PREFECT_API_URL"))
    early = (start_early_poll(settings, specs, tick=(lambda: bar.hook("feeds", 1, None)) if bar.enabled else None)
             if lock_free and with_server else None)
    with bar:
        import flows.ingest as fi

        fi.progress_hook = bar.hook
        fi.early_poll = early
        try:
            summary = _run_flow(fi.hourly_ingest, o.verbose, api_url, feeds_file=str(settings.feeds_file),
                                db=str(settings.db), executor=settings.executor)
        finally:
            fi.progress_hook = None
            fi.early_poll = None
            if early is not None:
                early.cancel()  # a poll the flow did not take (or a failed run's) stops now
    _print_ingest(summary, settings, o.wide)
    return 0


FOLD_UNCHANGED_FEEDS = 20  # more unchanged feeds than this are one line in the ingest's output


def _print_ingest(summary: dict[str, Any], settings: Settings, wide: bool) -> None:
    from flows.report import feed_table, render_markdown
    from newsflow.tables import console, make_table
    from warehouse.pending import pending_batches

    con = console(wide)
    rows = feed_table(summary)
    # a quiet hour of a long feed list is hundreds of identical "unchanged" rows (and a costly table):
    # those fold into one line; the feeds that failed or brought news are always listed
    quiet = [r for r in rows if r["status"] in ("not_modified", "unchanged")]
    if len(quiet) > FOLD_UNCHANGED_FEEDS:
        rows = [r for r in rows if r["status"] not in ("not_modified", "unchanged")]
    cols = ["feed", "status", "http", "entries", "new", "reason", "detail"]
    if rows:
        con.print(make_table(cols, [[r[c] for c in cols] for r in rows], wide=wide, fold=("feed", "detail"),
                             width=con.width))
    if len(quiet) > FOLD_UNCHANGED_FEEDS:
        con.print(f"{'and ' if rows else ''}{len(quiet)} feed(s) unchanged (304, or the same body again); "
                  "'newsflow feeds health' lists every feed", highlight=False, markup=False)
    con.print()
    body = render_markdown(summary, failed_table=False).split("\n", 2)[2].replace("**", "").replace("`", "")
    con.print(body, highlight=False, markup=False)
    if summary["load_status"] == "staged":
        pend = pending_batches(settings.staging_path)
        msg = (f"NOT LOADED: the database {settings.db} is held by another process (an open notebook?). "
               f"This run's {summary['articles_new']} new article(s) are staged, not in the database; "
               f"waiting now: {pend.describe()}. The next run loads them; close the other connection.")
        from rich.text import Text

        con.print(Text(msg, style="bold red"))
        print(f"newsflow: warning: load staged, not loaded ({pend.batches} batch(es) waiting)", file=sys.stderr)


@app.command()
def backfill(ctx: typer.Context,
             paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="txt, html, jsonl, warc; files or "
                                                        "directories")],
             outlet: Annotated[str | None, typer.Option("--outlet", "--source", help="outlet name for records that carry none (a JSONL 'outlet' field wins)")] = None,
             force: Annotated[bool, typer.Option("--force", help="re-extract and replace records already loaded")]
             = False,
             quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress bar")] = False,
             db: DbOpt = None, verbose: VerboseOpt = False, wide: WideOpt = False,
             executor: ExecutorOpt = None) -> int:
    """Load archives (txt, html, jsonl, warc; files or directories)."""
    o = _opts(ctx, db, verbose, wide)
    settings = _settings(o, executor=executor)
    for p in paths:
        if not Path(p).exists():
            raise ConfigError(f"archive path not found: {p}")
    _check_db_writable(settings.db)
    _check_executor(settings)
    api_url = _prefect_api(o.verbose)
    if settings.executor == "prefect" and not (api_url or os.environ.get("PREFECT_API_URL")):
        raise ConfigError("NEWSFLOW_EXECUTOR=prefect needs a Prefect server with the backfill-shard and lake-commit "
                          "deployments and workers on their pool (`make serve`, or PREFECT_API_URL)")
    if api_url or os.environ.get("PREFECT_API_URL"):
        # with a server, the pool's workers get ready while Prefect loads (with Prefect's temporary
        # API they would compete with its start-up for the cores: they start with the first record)
        from flows.warm import warm_pool

        warm_pool(settings.workers, settings.dask_address)
    import flows.backfill as bf
    from newsflow.progress import RecordProgress, live_enabled

    with RecordProgress(live_enabled(quiet or o.verbose), "backfill", archive_paths=paths) as bar:
        bf.progress_hook = bar.backfill
        try:
            summary = _run_flow(bf.backfill, o.verbose, api_url, paths=[str(p) for p in paths], db=str(settings.db),
                                outlet=outlet, force=force, executor=settings.executor)
        finally:
            bf.progress_hook = None
    reasons = ", ".join(f"{k} {v}" for k, v in summary["rejects_by_reason"].items()) or "none"
    print(f"backfill: read {summary['read']}, loaded {summary['loaded']}, skipped {summary['skipped']} "
          f"(already loaded), rejected {summary['rejected']} (by reason: {reasons}) "
          f"in {summary['seconds']:.1f}s" + (f" ({summary['rate_per_s']} records/s)" if summary.get("rate_per_s")
                                              else ""))
    if summary.get("lake_batches") is not None:
        line, warning = lake_batches_text(summary["lake_batches"])
        print(line)
        if warning:
            print(f"newsflow: warning: {warning}", file=sys.stderr)
    if summary.get("staged_batches"):
        from warehouse.pending import pending_batches

        print(f"NOT LOADED: {summary['staged_batches']} batch(es) staged because the database was busy; "
              f"waiting now: {pending_batches(settings.staging_path).describe()}; the next run loads them")
        print(f"newsflow: warning: {summary['staged_batches']} batch(es) staged, not loaded", file=sys.stderr)
    return 0


def lake_batches_text(counts: dict[str, int]) -> tuple[str, str | None]:
    """What a cluster backfill says about its lake batches: one line for stdout, and a warning for
    stderr when batches were left in the lake unloaded (None otherwise)."""
    committed, reused = counts.get("committed", 0), counts.get("reused", 0)
    skipped, pending = counts.get("skipped", 0), counts.get("pending", 0)
    line = (f"lake batches: {committed} committed"
            + (f" ({reused} finished in the lake by an earlier run, not recomputed)" if reused else "")
            + f", {skipped} skipped (loaded by an earlier run), {pending} left pending")
    if not pending:
        return line, None
    line += (f". NOT LOADED: {pending} finished batch(es) wait in the lake because the database was busy; "
             "the next backfill (or python -m flows.committer) loads them")
    return line, f"{pending} lake batch(es) finished, not loaded"


@app.command()
def reprocess(ctx: typer.Context,
              since: Annotated[str | None, typer.Option(help="only pages fetched since this ISO date")] = None,
              quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress bar")] = False,
              enrich: Annotated[bool, typer.Option("--enrich", help="only re-run the event coder (entities, "
                                                   "events, quotes) over stored articles")] = False,
              db: DbOpt = None, verbose: VerboseOpt = False, wide: WideOpt = False,
              executor: ExecutorOpt = None) -> int:
    """Re-run extraction and cleaning over stored raw pages (or, with --enrich, only the event coder)."""
    o = _opts(ctx, db, verbose, wide)
    settings = _settings(o, executor=executor)
    since_dt = _parse_since(since)
    _check_db_writable(settings.db)
    _check_executor(settings)
    api_url = _prefect_api(o.verbose)
    import flows.reprocess as rp
    from newsflow.progress import RecordProgress, live_enabled

    with RecordProgress(live_enabled(quiet or o.verbose), "reprocess") as bar:
        rp.progress_hook = bar.reprocess
        try:
            summary = _run_flow(rp.reprocess, o.verbose, api_url, since=since_dt.isoformat() if since_dt else None,
                                db=str(settings.db), enrich_only=enrich, executor=settings.executor)
        finally:
            rp.progress_hook = None
    if enrich:
        print(f"reprocess --enrich: articles {summary['articles']}, events {summary['events']}, "
              f"coder failures {summary['failed']}")
        return 0
    print(f"reprocess: pages {summary['pages']}, articles updated {summary['updated']}, "
          f"unchanged {summary['unchanged']}, rejected {summary['rejected']}")
    return 0


@app.command()
def events(path: Annotated[str, typer.Argument(help="a plain-text document, or - for standard input")] = "-",
           date: Annotated[str | None, typer.Option("--date", help="its publication date, YYYY-MM-DD (UTC)")] = None
           ) -> int:
    """Code one plain-text document: one JSON object per event (the fields of the events table)."""
    import json as _json
    from datetime import date as _date

    from extractors.events import code_document

    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {path}: {exc}") from None
    published = None
    if date:
        try:
            published = _date.fromisoformat(date)
        except ValueError:
            raise CliError(f"--date must be YYYY-MM-DD, got {date!r}", EXIT_CONFIG) from None
    for event in code_document(text, published):
        print(_json.dumps(event, ensure_ascii=False, default=str))
    return 0


# --------------------------------------------------------------------------- feeds


def _feed_list_path(o: Opts, feeds: str | None) -> Path:
    return _settings(o, feeds_file=Path(feeds) if feeds else None).feeds_file


@feeds_app.command("list")
def feeds_list(ctx: typer.Context, feeds: FeedsOpt = None, fmt: TableFmt = "table", db: DbOpt = None,
               wide: WideOpt = False) -> int:
    """Show the feed list (disabled feeds included, marked)."""
    from extractors.sources.feedlist import load_feed_list
    from newsflow.tables import print_rows

    o = _opts(ctx, db, False, wide)
    specs = load_feed_list(_feed_list_path(o, feeds), include_disabled=True)
    print_rows(["name", "url", "tags", "enabled"], [(s.name, s.url, s.tags, s.enabled) for s in specs], fmt,
               wide=o.wide)
    return 0


@feeds_app.command("add")
def feeds_add(ctx: typer.Context, url: Annotated[str, typer.Argument(help="feed URL")],
              name: Annotated[str | None, typer.Option(help="display name")] = None,
              tag: Annotated[list[str] | None, typer.Option(help="a tag (repeatable)")] = None,
              feeds: FeedsOpt = None) -> int:
    """Add a feed URL."""
    from extractors.normalize.urls import canonicalize_url
    from extractors.sources.feedlist import feed_key, load_feed_list, save_feed_list
    from schemas.records import FeedSpec

    path = _feed_list_path(_opts(ctx), feeds)
    if canonicalize_url(url) is None:
        raise ConfigError(f"not an http(s) feed URL: {url!r}")
    specs = load_feed_list(path, include_disabled=True) if path.exists() else []
    if any(feed_key(s.url) == feed_key(url) for s in specs):
        print(f"already listed: {url}")
        return 0
    specs.append(FeedSpec(url=url, name=name, tags=tag or []))
    save_feed_list(path, specs)
    print(f"added {url} to {path} ({len(specs)} feeds)")
    return 0


@feeds_app.command("import")
def feeds_import(ctx: typer.Context, file: Annotated[str, typer.Argument(metavar="FILE.opml")],
                 feeds: FeedsOpt = None) -> int:
    """Import feeds from an OPML file."""
    from extractors.sources.feedlist import load_feed_list, merge_feed_specs, parse_opml, save_feed_list

    path = _feed_list_path(_opts(ctx), feeds)
    src = Path(file)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {src}: {exc.strerror}") from None
    new = parse_opml(data, source=str(src))
    specs, added = merge_feed_specs(load_feed_list(path, include_disabled=True) if path.exists() else [], new)
    save_feed_list(path, specs)
    print(f"imported {len(added)} new feed(s) from {src} into {path} ({len(new) - len(added)} already listed)")
    return 0


def _edit_feed(ctx: typer.Context, feed: str, feeds: str | None, action: str) -> int:
    from extractors.sources.feedlist import feed_key, load_feed_list, save_feed_list

    path = _feed_list_path(_opts(ctx), feeds)
    specs = load_feed_list(path, include_disabled=True)
    want = feed_key(feed)
    matches = [i for i, s in enumerate(specs) if feed_key(s.url) == want or (s.name and s.name == feed)]
    if not matches:
        raise CliError(f"no feed {feed!r} in {path} (give its URL or exact name; see 'newsflow feeds list')")
    if len(matches) > 1:
        raise CliError(f"{feed!r} names {len(matches)} feeds in {path}; give the URL instead")
    i = matches[0]
    spec = specs[i]
    if action == "remove":
        del specs[i]
        done = "removed"
    else:
        enabled = action == "enable"
        if spec.enabled == enabled:
            print(f"already {action}d: {spec.url}")
            return 0
        specs[i] = spec.model_copy(update={"enabled": enabled})
        done = f"{action}d"
    save_feed_list(path, specs)
    active = sum(s.enabled for s in specs)
    print(f"{done} {spec.url} in {path} ({active} of {len(specs)} feeds enabled)")
    return 0


@feeds_app.command("remove")
def feeds_remove(ctx: typer.Context, feed: Annotated[str, typer.Argument(help="URL or exact name")],
                 feeds: FeedsOpt = None) -> int:
    """Remove a feed from the list (its stored articles stay)."""
    return _edit_feed(ctx, feed, feeds, "remove")


@feeds_app.command("disable")
def feeds_disable(ctx: typer.Context, feed: Annotated[str, typer.Argument(help="URL or exact name")],
                  feeds: FeedsOpt = None) -> int:
    """Keep a feed in the list but skip it in ingests."""
    return _edit_feed(ctx, feed, feeds, "disable")


@feeds_app.command("enable")
def feeds_enable(ctx: typer.Context, feed: Annotated[str, typer.Argument(help="URL or exact name")],
                 feeds: FeedsOpt = None) -> int:
    """Poll a disabled feed again."""
    return _edit_feed(ctx, feed, feeds, "enable")


HEALTH_SQL = """
SELECT coalesce(name, feed_url) AS feed, last_status AS status, last_http_status AS http,
       consecutive_failures AS fails, last_ok_at, backoff_until, articles,
       coalesce(last_reason || ': ', '') || coalesce(last_error, '') AS problem
FROM v_feed_health
ORDER BY consecutive_failures DESC, feed_url
"""


@feeds_app.command("health")
def feeds_health(ctx: typer.Context, fmt: TableFmt = "table", feeds: FeedsOpt = None, db: DbOpt = None,
                 wide: WideOpt = False) -> int:
    """Per-feed health from the database (csv/json: every column of v_feed_health)."""
    o = _opts(ctx, db, False, wide)
    settings = _settings(o)
    if fmt != "table":
        return _print_query(settings.db, "SELECT * FROM v_feed_health ORDER BY consecutive_failures DESC, feed_url",
                            fmt, o.wide)
    from newsflow.tables import console, make_table

    _cols, rows = _query_rows(settings.db, HEALTH_SQL)
    now = datetime.now(UTC)
    shown = [(r[0], r[1], r[2], r[3], _age(r[4], now), _age(r[5], now) if r[5] and r[5] > now else "", r[6], r[7])
             for r in rows]
    con = console(o.wide)
    con.print(make_table(["feed", "status", "http", "fails", "last ok", "backoff", "articles", "problem"], shown,
                         wide=o.wide, fold=("feed", "problem"), width=con.width))
    failing = sum(1 for r in rows if (r[3] or 0) > 0)
    con.print(f"({len(rows)} feeds, {failing} failing)", highlight=False)
    return 0


# --------------------------------------------------------------------------- analyst commands


QueryFmt = Annotated[Literal["table", "csv", "json", "jsonl", "parquet"],
                     typer.Option("--format", help="table, csv, json, jsonl or parquet (parquet needs -o)")]


@app.command()
def query(ctx: typer.Context, sql: Annotated[str | None, typer.Argument(metavar="SQL", help="the SQL text")] = None,
          file: Annotated[str | None, typer.Option("-f", "--file", help="read the SQL from this file")] = None,
          fmt: QueryFmt = "table",
          out: Annotated[str | None, typer.Option("-o", "--out", help="write the rows to this file")] = None,
          db: DbOpt = None, wide: WideOpt = False) -> int:
    """Run read-only SQL against the warehouse."""
    o = _opts(ctx, db, False, wide)
    settings = _settings(o)
    if (sql is None) == (file is None):
        raise CliError("give the SQL as an argument or with -f FILE.sql (one of them)", EXIT_CONFIG)
    if file is not None:
        try:
            sql = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read SQL file {file}: {getattr(exc, 'strerror', None) or exc}") from None
    assert sql is not None
    if not sql.strip():
        raise CliError("the SQL is empty", EXIT_CONFIG)
    if out is not None:
        file_fmt: str = fmt
        if fmt == "table":  # a file: the format its name says, else JSON Lines
            file_fmt = {".parquet": "parquet", ".csv": "csv", ".json": "json"}.get(Path(out).suffix.lower(), "jsonl")
        from warehouse.export import export_query

        with _read_errors(settings.db):
            n = export_query(settings.db, sql, file_fmt, out)
        print(f"wrote {n} row(s) to {out} ({file_fmt})")
        return 0
    if fmt == "parquet":
        raise CliError("--format parquet writes a file: add -o FILE.parquet", EXIT_CONFIG)
    if fmt == "jsonl":
        from newsflow.tables import json_default

        cols, rows = _query_rows(settings.db, sql)
        for r in rows:
            print(json.dumps(dict(zip(cols, r, strict=True)), default=json_default, ensure_ascii=False))
        return 0
    return _print_query(settings.db, sql, fmt, o.wide)


@app.command()
def stats(ctx: typer.Context,
          fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table",
          db: DbOpt = None, wide: WideOpt = False) -> int:
    """Table counts, the latest run, staged batches waiting, lake batches and the search index."""
    o = _opts(ctx, db, False, wide)
    settings = _settings(o)
    from warehouse.db import DatabaseLocked, DatabaseMissing
    from warehouse.lake import lake_state
    from warehouse.pending import pending_batches
    from warehouse.queries import stats as db_stats
    from warehouse.search import index_dir_for, indexed_count

    try:
        st = db_stats(settings.db, strict=True)
    except DatabaseLocked:
        st = db_stats(settings.db)  # says the database is locked, with what could still be read
    except DatabaseMissing:
        raise CliError(f"database {settings.db} does not exist yet") from None
    pend = pending_batches(settings.staging_path)
    st["pending"] = {"batches": pend.batches, "articles": pend.articles, "rows": pend.rows,
                     "oldest": pend.oldest, "failed": pend.failed, "staging_dir": str(settings.staging_path)}
    lake = lake_state(settings.db, settings.lake_location)
    st["lake"] = {"uri": lake.uri, "batches_loaded": lake.loaded, "records": lake.records,
                  "articles": lake.articles, "last_loaded": lake.last_loaded,
                  "batches_waiting": lake.waiting, "error": lake.error}
    idx = index_dir_for(settings.db)
    try:
        st["search_index"] = {"path": str(idx), "documents": indexed_count(idx)}
    except Exception as exc:  # a damaged index is reported, not fatal
        st["search_index"] = {"path": str(idx), "documents": None, "error": str(exc).splitlines()[0]}
    if fmt == "json":
        from newsflow.tables import json_default

        print(json.dumps(st, default=json_default, indent=2))
        return 0
    _print_stats(st, pend.describe(), lake.describe(), o.wide)
    return 0


def _print_stats(st: dict[str, Any], pending_text: str, lake_text: str, wide: bool) -> None:
    from rich.table import Table

    from newsflow.tables import console, fmt_cell, make_table

    con = console(wide)
    size = st.get("size_bytes")
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("database", str(st["path"]))
    head.add_row("status", str(st["status"]))
    if st.get("available"):
        head.add_row("schema version", str(st.get("schema_version")))
        head.add_row("size", f"{size / 1e6:,.1f} MB" if size is not None else "")
    head.add_row("staged, not loaded", pending_text if pending_text != "none" else "none")
    head.add_row("lake batches", lake_text)
    si = st.get("search_index") or {}
    docs = si.get("documents")
    articles = (st.get("tables") or {}).get("articles")
    if docs is None:
        idx_text = si.get("error") or "none (newsflow search --rebuild)"
    else:
        idx_text = f"{docs:,} documents" + (f" of {articles:,} articles: run newsflow search --rebuild"
                                            if articles is not None and docs < articles else "")
    head.add_row("search index", idx_text)
    con.print(head)
    pend = st["pending"]
    if pend["batches"]:
        con.print(f"[bold red]{pend['batches']} staged batch(es) ({pend['articles']} articles) wait since "
                  f"{fmt_cell(pend['oldest'])} UTC: the database was busy; the next ingest or backfill loads "
                  "them[/]", highlight=False)
    waiting = (st.get("lake") or {}).get("batches_waiting")
    if waiting:
        con.print(f"[bold red]{waiting} lake batch(es) finished but not loaded: the next cluster backfill of "
                  f"the same archives, or python -m flows.committer --db {st['path']}, loads them[/]",
                  highlight=False)
    if st.get("tables"):
        con.print()
        con.print(make_table(["table", "rows"], list(st["tables"].items()), wide=wide, width=con.width))
    run = st.get("latest_run")
    if run:
        con.print()
        keys = ["flow", "status", "started_at", "finished_at", "feeds_total", "feeds_ok", "feeds_failed",
                "pages_fetched", "articles_new", "articles_updated", "rejects", "staged"]
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        t.title = "latest run " + str(run.get("run_id", ""))
        for k in keys:
            if k in run:
                t.add_row(k.replace("_", " "), fmt_cell(run[k]))
        con.print(t)


def _table_names() -> list[str]:
    from warehouse.tables import EXPORTS, OPTIONAL_VIEWS

    return [*EXPORTS, *(v.removeprefix("v_") for v in OPTIONAL_VIEWS)]


@app.command()
def export(ctx: typer.Context,
           out: Annotated[str, typer.Option("-o", "--out", help="output file (a directory with --all)")],
           fmt: Annotated[Literal["parquet", "csv", "jsonl", "json"],
                          typer.Option("--format", help="parquet, csv, jsonl or json")] = "parquet",
           table: Annotated[str, typer.Option("--table", help=f"one of: {', '.join(_table_names())}")] = "articles",
           since: Annotated[str | None, typer.Option(help="only rows at or after this ISO date (UTC)")] = None,
           all_tables: Annotated[bool, typer.Option("--all", help="every table as OUT/<table>.parquet: a "
                                                     "snapshot a notebook can keep open without blocking loads")]
           = False,
           quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress")] = False,
           db: DbOpt = None) -> int:
    """Stream a table or view to Parquet, CSV or JSON Lines (constant memory, UTC timestamps)."""
    from newsflow.progress import RecordProgress, live_enabled
    from warehouse.export import export_snapshot, export_table

    o = _opts(ctx, db)
    settings = _settings(o)
    since_dt = _parse_since(since)
    t0 = time.perf_counter()
    if all_tables:
        with _read_errors(settings.db), RecordProgress(live_enabled(quiet), "snapshot") as bar:
            counts = export_snapshot(settings.db, out, since=since_dt, progress=bar.count)
        print(f"snapshot of {len(counts)} tables ({sum(counts.values())} rows) in {out}/ "
              f"in {time.perf_counter() - t0:.1f}s: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return 0
    with _read_errors(settings.db), RecordProgress(live_enabled(quiet), f"export {table}") as bar:
        try:
            n = export_table(settings.db, table, fmt, out, since=since_dt, progress=bar.count)
        except KeyError:
            raise CliError(f"unknown table {table!r} (choose from: {', '.join(_table_names())})",
                           EXIT_CONFIG) from None
        except ValueError as exc:
            raise CliError(str(exc), EXIT_CONFIG) from None
    print(f"exported {n} row(s) of {table} to {out} ({fmt}) in {time.perf_counter() - t0:.1f}s")
    return 0


def _warn_if_index_behind(db: Path, indexed: int) -> None:
    """One line on stderr when the warehouse holds more articles than the index (an older index)."""
    from warehouse.db import connect_read

    try:
        conn = connect_read(db)
    except Exception:  # missing or busy: the search itself still answers
        return
    try:
        row = conn.execute("SELECT count(*) FROM articles").fetchone()
    finally:
        conn.close()
    stored = int(row[0]) if row else 0
    if stored > indexed:
        print(f"newsflow: note: the search index holds {indexed} of {stored} articles; "
              "'newsflow search --rebuild' adds the rest", file=sys.stderr)


@app.command()
def search(ctx: typer.Context,
           text: Annotated[str | None, typer.Argument(metavar="QUERY", help='words, "phrases", AND/OR/NOT, '
                                                      "title:word")] = None,
           outlet: Annotated[str | None, typer.Option(help="only this outlet (exact name)")] = None,
           since: Annotated[str | None, typer.Option(help="only articles dated on or after this ISO date")] = None,
           limit: Annotated[int, typer.Option(min=1, max=1000, help="hits to show")] = 10,
           rebuild: Annotated[bool, typer.Option("--rebuild", help="rebuild the index from the warehouse")] = False,
           fmt: TableFmt = "table", db: DbOpt = None, wide: WideOpt = False) -> int:
    """Full-text search (BM25 ranking, snippets) over the index beside the database."""
    from warehouse import search as ws

    o = _opts(ctx, db, False, wide)
    settings = _settings(o)
    index_dir = ws.index_dir_for(settings.db)
    if rebuild:
        from newsflow.progress import RecordProgress, live_enabled

        t0 = time.perf_counter()
        with _read_errors(settings.db), RecordProgress(live_enabled(), "indexing") as bar:
            try:
                n = ws.rebuild(settings.db, index_dir, progress=bar.count)
            except ws.IndexBusy as exc:
                raise CliError(f"search index {index_dir} is being written by another process: {exc}",
                               EXIT_LOCKED) from None
        print(f"search index rebuilt: {n} article(s) in {time.perf_counter() - t0:.1f}s ({index_dir})")
        if text is None:
            return 0
    if text is None:
        raise CliError("give a QUERY (or --rebuild)", EXIT_CONFIG)
    if not ws.exists(index_dir):
        what = "an index of an older version" if ws.stale(index_dir) else "no search index"
        raise CliError(f"{what} at {index_dir}: run 'newsflow search --rebuild'")
    try:
        res = ws.search(index_dir, text, outlet=outlet, since=_parse_since(since), limit=limit, db=settings.db)
    except ws.SearchError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None
    _warn_if_index_behind(settings.db, res.indexed)
    rows = [(round(h.score, 2), h.day.date() if h.day else None, h.outlet, h.title, h.snippet, h.url)
            for h in res.hits]
    cols = ["score", "day", "outlet", "title", "snippet", "url"]
    if fmt != "table":
        from newsflow.tables import print_rows

        print_rows([*cols, "article_id"], [(*r, h.article_id) for r, h in zip(rows, res.hits, strict=True)], fmt)
        return 0
    from rich.padding import Padding
    from rich.text import Text

    from newsflow.tables import console

    con = console(o.wide)
    con.print(f"{res.total:,} match(es) in {res.indexed:,} indexed articles ({res.seconds * 1000:.0f} ms)",
              highlight=False)
    for i, h in enumerate(res.hits, 1):
        line = Text(f"{i:>3}. ", style="bold")
        line.append(h.title or "(no title)", style="bold")
        line.append(f"  {h.outlet} · {h.day:%Y-%m-%d} · {h.score:.2f}" if h.day else f"  {h.outlet} · {h.score:.2f}",
                    style="dim")
        con.print(line, no_wrap=not o.wide, overflow="ellipsis")
        snip = Text()
        if con.is_terminal:  # matches in colour; when piped, they stay between « and »
            for k, part in enumerate(h.snippet.replace("»", "«").split("«")):
                snip.append(part, style="bold yellow" if k % 2 else "")
        else:
            snip.append(h.snippet)
        con.print(Padding(snip, (0, 0, 0, 5), expand=False))
        con.print(Padding(Text(h.url, style="cyan", no_wrap=not o.wide, overflow="ellipsis"), (0, 0, 0, 5),
                          expand=False))
    return 0


@app.command()
def report(ctx: typer.Context,
           out: Annotated[str, typer.Option("-o", "--out", help="the HTML file to write")] = "report.html",
           since: Annotated[str | None, typer.Option(help="only articles dated on or after this ISO date")] = None,
           db: DbOpt = None) -> int:
    """Write a self-contained HTML report (charts and tables; opens offline)."""
    from flows.report_site import write_report

    o = _opts(ctx, db)
    settings = _settings(o)
    with _read_errors(settings.db):
        info = write_report(settings.db, Path(out), since=_parse_since(since), staging_dir=settings.staging_path)
    print(f"wrote {out}: {info['articles']} article(s), {info['outlets']} outlet(s), {info['days']} day(s), "
          f"{info['charts']} chart(s)")
    return 0


# --------------------------------------------------------------------------- entry point


def _wants_verbose(argv: Sequence[str]) -> bool:
    for a in argv:
        if a == "--":
            break
        if a == "--verbose" or (a.startswith("-") and not a.startswith("--") and "v" in a[1:] and a[1:].isalpha()):
            return True
    return False


def drain_prefect() -> None:
    """Send what Prefect's background services still hold: the run logs of the API log handler
    and the events client's events (both drained at interpreter exit otherwise)."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all()


def end_process(code: int) -> NoReturn:
    """End the process with ``code`` now, skipping only the interpreter's teardown.

    After a flow, Python's teardown (collecting and finalising the ~170k objects Prefect's import
    and the flow engine leave) took 0.4-0.5 s of every command. Everything that would have run
    before that teardown runs here, in the interpreter's own order: Prefect's run logs and events
    sent to the API, the thread-exit hooks (Prefect's services, executor threads) and every
    non-daemon thread joined (the search-index commit), then the ``atexit`` handlers (the
    extraction pool shut down, the Dask clients closed, logging flushed, temporary directories
    removed), the extraction pool's idle fork server and multiprocessing's resource tracker
    stopped; standard output and error flushed.
    The flows close their DuckDB connections themselves, so no commit waits for a finaliser.
    """
    import atexit
    import contextlib
    import threading

    with contextlib.suppress(Exception):  # as at exit: a service that cannot send does not keep the process
        drain_prefect()

    shutdown = getattr(threading, "_shutdown", None)  # the interpreter's first step at exit
    if shutdown is not None:
        shutdown()
    else:  # pragma: no cover - every CPython has it; join the non-daemon threads as it would
        for t in threading.enumerate():
            if t is not threading.main_thread() and not t.daemon:
                t.join()
    atexit._run_exitfuncs()
    pool = sys.modules.get("flows.pool")
    if pool is not None:  # the extraction pool is shut down by now; its fork server need not outlive us
        with contextlib.suppress(Exception):
            pool.stop_forkserver()
            pool.stop_resource_tracker()  # it holds our stderr until it has left
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None, *, fast_exit: bool | None = None) -> int:
    """Run the command in ``argv`` (default ``sys.argv``) and return its exit code.

    ``fast_exit`` (default: only when called as the program, with no ``argv``): after a command
    that ran a flow, end the process here with ``end_process`` instead of returning. Code that
    calls ``main([...])`` in its own process (tests) always gets the code back.
    """
    if argv is None:  # the program: its imports run with the collector deferred
        defer_collection()
    try:
        code = _main(argv)
    finally:
        restore_collection()
    if (argv is None if fast_exit is None else fast_exit) and _ran_flow:
        end_process(code)
    return code


def _main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _prefect_env(_wants_verbose(args))  # before anything imports prefect: its settings are read at import
    try:
        rv = app(args=args, prog_name="newsflow", standalone_mode=False)
        return int(rv) if isinstance(rv, int) else 0
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except (typer.Abort, KeyboardInterrupt):
        print("newsflow: interrupted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:  # usage errors (unknown option, bad value, missing argument)
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help(), file=sys.stderr)
            return EXIT_CONFIG
        msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        print(f"newsflow: usage error: {' '.join(str(msg).split())}{where}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(f"newsflow: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CliError as exc:
        print(f"newsflow: {exc}", file=sys.stderr)
        return exc.code
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


__all__ = ["EXIT_CONFIG", "EXIT_ERROR", "EXIT_LOCKED", "CliError", "app", "main"]
