"""``python -m bench`` (``make bench``): run the benchmark suite and refresh ``bench/RESULTS.md``.

Every size has a flag and an environment variable (``BENCH_<FLAG>``), e.g.
``python -m bench --only backfill --pages 20000`` or ``BENCH_PAGES=20000 make bench``.
Defaults are the sizes of issue 5 and keep the whole suite under 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ALL = ("extraction", "textdump", "events", "dedup", "warehouse", "search", "backfill", "memory", "busy_hour", "quiet_hour")
NEEDS_PREFECT = frozenset({"backfill", "memory", "busy_hour", "quiet_hour"})

# flag → (type, default); the env var is BENCH_<FLAG upper-cased, dashes as underscores>
SIZES: dict[str, tuple[Callable[[str], Any], Any, str]] = {
    "eval-pages": (int, 500, "real pages for the extraction benchmark (0 = all)"),
    "textdump-pages": (int, 500, "real pages dumped as text for the text-dump benchmark (0 = all)"),
    "events-pages": (int, 300, "real pages for the event-enrichment benchmark (0 = all)"),
    "pages": (int, 5000, "generated pages for the backfill benchmark"),
    "raw-sample": (int, 300, "pages timed with raw trafilatura for the backfill limit"),
    "memory-pages": (int, 20000, "pages of the big backfill in the memory benchmark"),
    "format": (str, "warc,dir,text", "generated archive kinds for the backfill, comma-separated: warc, jsonl, "
                                     "dir (HTML files) or text (plain-text dumps); memory uses the first"),
    "feeds": (int, 200, "feeds in the busy hour"),
    "items": (int, 20, "new items per feed in the busy hour"),
    "hosts": (int, 50, "hosts the busy-hour feeds are spread over"),
    "slow-hosts": (int, 3, "slow hosts among them"),
    "per-host-delay": (float, 0.25, "NEWSFLOW_PER_HOST_DELAY for the hourly runs (s)"),
    "quiet-feeds": (int, 500, "feeds in the quiet hour"),
    "quiet-items": (int, 3, "items per feed primed before the quiet hour"),
    "quiet-hosts": (int, 100, "hosts the quiet-hour feeds are spread over"),
    "upsert-rows": (int, 100_000, "articles bulk-upserted through load_batch"),
    "query-rows": (int, 1_000_000, "articles in the warehouse the queries run on"),
    "search-rows": (int, 1_000_000, "articles indexed for the full-text search benchmark"),
    "dedup-index": (int, 100_000, "articles in the story index for the dedup benchmark"),
    "dedup-pages": (int, 500, "real pages extracted and deduplicated against that index"),
    "dedup-batch": (int, 500, "new articles per story-index update (one load batch, = batch_size)"),
    "row-group-sizes": (str, "", "writer rows per row group to compare side by side, comma-separated, in the "
                                 "warehouse and memory benchmarks (repeat a size to alternate; default: the "
                                 "writer's own only)"),
    "allocators": (str, "", "the flow process's allocator set-ups to compare side by side in the memory benchmark, "
                            "comma-separated: default (DuckDB's flush thresholds, pyarrow's mimalloc pool) or trim "
                            "(the writer's flush thresholds at 0, Arrow on glibc), e.g. default,trim,trim,default "
                            "(default: the code's own only)"),
}


def _env_name(flag: str) -> str:
    return "BENCH_" + flag.upper().replace("-", "_")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""),
                    help=f"comma-separated subset of: {', '.join(ALL)}")
    for flag, (typ, default, helptext) in SIZES.items():
        env = os.environ.get(_env_name(flag))
        ap.add_argument(f"--{flag}", type=typ, default=typ(env) if env else default,
                        help=f"{helptext} (default {default}; env {_env_name(flag)})")
    ap.add_argument("--corpus", type=Path, default=None, help="trafilatura-eval directory (default ../shared/...)")
    ap.add_argument("--profile", action="store_true", help="also write pyinstrument profiles to bench/results/")
    ap.add_argument("--no-cli", action="store_true", help="skip timing the CLI with an ephemeral Prefect API")
    ap.add_argument("--api-url", default=os.environ.get("BENCH_API_URL"),
                    help="use this running Prefect API instead of starting a server")
    ap.add_argument("--workdir", type=Path, default=None, help="scratch directory (default: a temp dir, removed)")
    ap.add_argument("--results-dir", type=Path, default=None, help="where the JSON results go")
    ap.add_argument("--no-report", action="store_true", help="do not rewrite bench/RESULTS.md")
    return ap.parse_args(argv)


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from bench import report
    from bench.common import RESULTS_DIR, machine, prefect_server, say

    selected = [b.strip() for b in args.only.split(",") if b.strip()] or list(ALL)
    unknown = [b for b in selected if b not in ALL]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ALL)}")
    results_dir = args.results_dir or RESULTS_DIR
    results_dir.mkdir(parents=True, exist_ok=True)
    mach = machine()
    say(f"bench: {', '.join(selected)} on {mach['cores']} cores, {mach['memory_gib']} GiB")
    t_all = time.perf_counter()
    done: dict[str, Any] = {}
    with ExitStack() as stack:
        work = args.workdir or Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        if args.workdir is None:
            stack.callback(shutil.rmtree, work, True)
        api = args.api_url
        api_pid: int | None = None  # the Prefect server's process when this run started it

        def prefect_api() -> str:
            nonlocal api, api_pid
            if api is None:
                t0 = time.perf_counter()
                api, api_pid = stack.enter_context(prefect_server(work / "prefect-server-home"))
                say(f"bench: Prefect server up at {api} in {time.perf_counter() - t0:.1f}s")
            return api

        for name in ALL:
            if name not in selected:
                continue
            t0 = time.perf_counter()
            if name == "extraction":
                from bench import extraction

                kw: dict[str, Any] = {"corpus": args.corpus} if args.corpus else {}
                done[name] = extraction.run(limit=args.eval_pages or None, profile=args.profile,
                                            results_dir=results_dir, **kw)
            elif name == "textdump":
                from bench import textdump

                kw = {"corpus": args.corpus} if args.corpus else {}
                done[name] = textdump.run(limit=args.textdump_pages or None, results_dir=results_dir, **kw)
            elif name == "events":
                from bench import events

                kw = {"corpus": args.corpus} if args.corpus else {}
                done[name] = events.run(limit=args.events_pages or None, results_dir=results_dir, **kw)
            elif name == "warehouse":
                from bench import warehouse

                done[name] = warehouse.run(workdir=work / "warehouse", upsert_rows=args.upsert_rows,
                                           query_rows=args.query_rows, results_dir=results_dir,
                                           row_group_sizes=_sizes(args.row_group_sizes))
                shutil.rmtree(work / "warehouse", ignore_errors=True)
            elif name == "search":
                from bench import search

                done[name] = search.run(workdir=work / "search", rows=args.search_rows, results_dir=results_dir)
                shutil.rmtree(work / "search", ignore_errors=True)
            elif name == "backfill":
                from bench import backfill

                done[name] = backfill.run(workdir=work / "backfill", api_url=prefect_api(), pages=args.pages,
                                          fmt=args.format, raw_sample=args.raw_sample, profile=args.profile,
                                          results_dir=results_dir)
            elif name == "memory":
                from bench import memory

                small = None
                if "backfill" in done:
                    found = sorted((work / "backfill" / "archive").glob(f"pages-0-{args.pages}*"))
                    small = found[0] if found else None
                done[name] = memory.run(workdir=work / "memory", api_url=prefect_api(), small=args.pages,
                                        large=args.memory_pages, fmt=args.format.split(",")[0].strip(), small_archive=small,
                                        small_result=done.get("backfill"), results_dir=results_dir,
                                        row_group_sizes=_sizes(args.row_group_sizes),
                                        allocators=[a.strip() for a in args.allocators.split(",") if a.strip()])
                shutil.rmtree(work / "memory", ignore_errors=True)
                shutil.rmtree(work / "backfill", ignore_errors=True)
            elif name == "busy_hour":
                from bench import busy_hour

                done[name] = busy_hour.run(workdir=work / "busy", api_url=prefect_api(), api_pid=api_pid, feeds=args.feeds,
                                           items=args.items, hosts=args.hosts, slow_hosts=args.slow_hosts,
                                           per_host_delay=args.per_host_delay, profile=args.profile,
                                           results_dir=results_dir)
            elif name == "quiet_hour":
                from bench import quiet_hour

                done[name] = quiet_hour.run(workdir=work / "quiet", api_url=prefect_api(), feeds=args.quiet_feeds,
                                            items=args.quiet_items, hosts=args.quiet_hosts,
                                            per_host_delay=args.per_host_delay, cli=not args.no_cli,
                                            profile=args.profile, results_dir=results_dir)
            elif name == "dedup":
                from bench import dedup

                kw = {"corpus": args.corpus} if args.corpus else {}
                done[name] = dedup.run(workdir=work / "dedup", index=args.dedup_index, pages=args.dedup_pages,
                                       batch=args.dedup_batch, results_dir=results_dir, **kw)
                shutil.rmtree(work / "dedup", ignore_errors=True)
            say(f"bench: {name} took {time.perf_counter() - t0:.0f}s")
    total = time.perf_counter() - t_all
    say(f"bench: all done in {total / 60:.1f} min")
    if not args.no_report:
        path = report.write_results_md(results_dir)
        say(f"bench: table written to {path}")
    say(report.table(results_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
