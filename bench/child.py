"""Flow runs measured in a fresh interpreter: ``python -m bench.child {backfill|ingest} ...``.

A fresh process per measured run gives what a user (``newsflow backfill``) or a deployed
worker (one process per flow run) gets: a cold pool, a clean heap, the imports paid once.
The parent samples this process tree's memory; this side times the flow and its tasks and
writes the figures as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

_T_START = time.perf_counter()


def _tree_cpu() -> dict[int, float]:
    """CPU seconds (user+system) of every live descendant of this process."""
    out: dict[int, float] = {}
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            out[child.pid] = t.user + t.system
        except psutil.Error:
            continue
    return out


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


class _Profile:
    """pyinstrument around the flow call when asked (main process only: orchestration cost)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.prof: Any = None

    def __enter__(self) -> _Profile:
        if self.path:
            from pyinstrument import Profiler

            self.prof = Profiler(interval=0.002)
            self.prof.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.prof is not None:
            self.prof.stop()
            Path(self.path or "").parent.mkdir(parents=True, exist_ok=True)
            Path(self.path or "").write_text(self.prof.output_text(unicode=True, color=False), encoding="utf-8")


def cmd_backfill(args: argparse.Namespace) -> dict[str, Any]:
    t_imp = time.perf_counter()
    import flows.backfill as bf

    import_s = time.perf_counter() - t_imp
    progress: list[tuple[float, int]] = []

    def hook(summary: Any) -> None:
        progress.append((time.perf_counter(), summary.read))

    bf.progress_hook = hook
    if args.row_group_size is not None:
        import warehouse.db

        warehouse.db.WRITE_ROW_GROUP_SIZE = args.row_group_size  # this process is the only writer
    if args.allocators is not None:
        import flows.shared
        import warehouse.db

        # "default": DuckDB's own flush thresholds and pyarrow's own pool; "trim": the writer's
        # flush thresholds at 0 and Arrow on glibc's malloc
        trim = args.allocators == "trim"
        warehouse.db.WRITE_ALLOCATOR_FLUSH = "0MB" if trim else None
        flows.shared.ARROW_MEMORY_POOL = "system" if trim else None
    cpu_main0, kids0 = time.process_time(), _tree_cpu()
    t0 = time.perf_counter()
    with _Profile(args.profile):
        summary = bf.backfill(paths=args.paths, db=args.db)
    wall = time.perf_counter() - t0
    result: dict[str, Any] = {
        "flow_wall_s": round(wall, 3),
        "import_s": round(import_s, 3),
        "main_cpu_s": round(time.process_time() - cpu_main0, 3),
        "children_cpu_s": round(_cpu_delta(kids0, _tree_cpu()), 3),
        "summary": summary,
    }
    # steady state: the middle 80 % of the records, once the pool is up and before the tail
    if len(progress) > 20:
        n = progress[-1][1]
        lo = next(p for p in progress if p[1] >= 0.1 * n)
        hi = next(p for p in progress if p[1] >= 0.9 * n)
        if hi[0] > lo[0]:
            result["steady_rate_per_s"] = round((hi[1] - lo[1]) / (hi[0] - lo[0]), 1)
        result["first_record_s"] = round(progress[0][0] - t0, 3)
    return result


def _timed(name: str, fn: Callable[..., Any], spent: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0

    return wrapper


def cmd_ingest(args: argparse.Namespace) -> dict[str, Any]:
    t_imp = time.perf_counter()
    import flows.ingest as ing
    import flows.shared as shared

    import_s = time.perf_counter() - t_imp
    spent: dict[str, float] = {}
    cpu: dict[str, float] = {}
    # tasks (called inside the flow, so they still run as Prefect task runs) and helpers
    for name in ("poll_feeds", "parse_feeds", "fetch_pages", "load", "load_pending", "read_feed_states",
                 "linked_items", "known_article_ids", "publish_artifacts", "load_feed_list"):
        fn = getattr(ing, name, None) or getattr(shared, name, None)
        if fn is None:
            continue
        if hasattr(fn, "fn") and hasattr(fn, "submit"):
            # a Prefect task: time its function in place, so .submit() and task runs still work
            fn.fn = _timed(name, fn.fn, spent)
        else:
            setattr(ing, name, _timed(name, fn, spent))
    extract = getattr(ing, "extract_pages", None)
    if extract is not None:
        def extract_measured(*a: Any, **k: Any) -> Any:
            before = _tree_cpu()
            main0 = time.process_time()
            try:
                return extract(*a, **k)
            finally:
                cpu["extract_workers_cpu_s"] = _cpu_delta(before, _tree_cpu())
                cpu["extract_main_cpu_s"] = time.process_time() - main0

        if hasattr(extract, "fn"):
            inner = extract.fn

            def extract_fn_measured(*a: Any, **k: Any) -> Any:
                before = _tree_cpu()
                main0 = time.process_time()
                try:
                    return inner(*a, **k)
                finally:
                    cpu["extract_workers_cpu_s"] = _cpu_delta(before, _tree_cpu())
                    cpu["extract_main_cpu_s"] = time.process_time() - main0

            extract.fn = _timed("extract_pages", extract_fn_measured, spent)
        else:
            ing.extract_pages = _timed("extract_pages", extract_measured, spent)  # type: ignore[assignment]
    cpu_main0 = time.process_time()
    t0 = time.perf_counter()
    with _Profile(args.profile):
        summary = ing.hourly_ingest(feeds_file=args.feeds, db=args.db)
    wall = time.perf_counter() - t0
    return {
        "flow_wall_s": round(wall, 3),
        "import_s": round(import_s, 3),
        "process_to_flow_end_s": round(time.perf_counter() - _T_START + _interpreter_start_s(), 3),
        "main_cpu_s": round(time.process_time() - cpu_main0, 3),
        "tasks_s": {k: round(v, 3) for k, v in spent.items()},
        **{k: round(v, 3) for k, v in cpu.items()},
        "summary": summary,
    }


def _interpreter_start_s() -> float:
    """Seconds between this process's creation and this module's import (interpreter start-up)."""
    try:
        created = psutil.Process().create_time()
    except psutil.Error:
        return 0.0
    return max(0.0, (time.time() - (time.perf_counter() - _T_START)) - created)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.child")
    ap.add_argument("--out", required=True, type=Path)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("backfill")
    b.add_argument("--db", required=True)
    b.add_argument("--profile")
    b.add_argument("--row-group-size", type=int, default=None,
                   help="rows per row group of the writer (default: warehouse.db.WRITE_ROW_GROUP_SIZE)")
    b.add_argument("--allocators", choices=("default", "trim"), default=None,
                   help="the flow process's allocator set-up: 'default' (DuckDB's flush thresholds, pyarrow's "
                        "mimalloc pool) or 'trim' (flush thresholds 0, Arrow on glibc); default: the code's own")
    b.add_argument("paths", nargs="+")
    i = sub.add_parser("ingest")
    i.add_argument("--db", required=True)
    i.add_argument("--feeds", required=True)
    i.add_argument("--profile")
    args = ap.parse_args()
    result = cmd_backfill(args) if args.cmd == "backfill" else cmd_ingest(args)
    result["pid"] = os.getpid()
    args.out.write_text(json.dumps(result, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
