"""Printing result rows: rich tables that fit the terminal (or ``--wide``), CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import numbers
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

WIDE = 1_000_000  # columns: a console this wide never cuts a cell


def fmt_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if v.tzinfo else v.isoformat(sep=" ")
    if isinstance(v, list):
        return ", ".join(fmt_cell(x) for x in v)
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 1e15 else str(v)
    return str(v).replace("\n", " ")


def json_default(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    return str(v)


PIPED_WIDTH = 132


def console(wide: bool = False, *, stderr: bool = False) -> Console:
    """A console for tables: the terminal's width ($COLUMNS, or 132 when piped), or unbounded."""
    if wide:
        return Console(width=WIDE, stderr=stderr, soft_wrap=False, highlight=False)
    stream = sys.stderr if stderr else sys.stdout
    if not os.environ.get("COLUMNS") and not stream.isatty():
        # piped or logged (`make run`, cron): 80 columns squeeze a seven-column table to nothing
        return Console(width=PIPED_WIDTH, stderr=stderr, highlight=False)
    return Console(stderr=stderr, highlight=False)


def make_table(cols: Sequence[str], rows: Sequence[Sequence[Any]], *, wide: bool = False,
               title: str | None = None, numeric: Sequence[bool] | None = None) -> Table:
    if numeric is None:
        numeric = [bool(rows) and all(isinstance(r[i], numbers.Number) and not isinstance(r[i], bool)
                                      for r in rows if r[i] is not None) and any(r[i] is not None for r in rows)
                   for i in range(len(cols))]
    t = Table(title=title, title_justify="left", show_edge=False, pad_edge=False, header_style="bold",
              expand=False)
    for c, is_num in zip(cols, numeric, strict=True):
        t.add_column(c, justify="right" if is_num else "left", no_wrap=True,
                     overflow="fold" if wide else "ellipsis")
    for r in rows:
        t.add_row(*[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else fmt_cell(v) for v in r])
    return t


def print_rows(cols: list[str], rows: Sequence[Sequence[Any]], fmt: str, *, wide: bool = False,
               title: str | None = None, footer: bool = True) -> None:
    out = sys.stdout
    if fmt == "json":
        out.write(json.dumps([dict(zip(cols, r, strict=True)) for r in rows], default=json_default,
                             ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if v is None else (v if isinstance(v, str) else fmt_cell(v)) for v in r])
        out.write(buf.getvalue())
        return
    con = console(wide)
    con.print(make_table(cols, rows, wide=wide, title=title))
    if footer:
        con.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", highlight=False)
