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


SHORT = 16  # a column whose cells all fit in this many characters (status, codes, counts) is never cut
GAP = 3  # " │ " between two columns (no outer edge, no padding at the edges)


def share_width(natural: Sequence[int], room: int) -> list[int]:
    """Widths for columns wanting ``natural`` characters in ``room``: narrow ones keep theirs, the
    widest share what is left equally (at least one character each)."""
    widths = list(natural)
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    left = room
    for k, i in enumerate(order):
        fair = max(left // (len(order) - k), 1)
        widths[i] = min(widths[i], fair)
        left -= widths[i]
    return widths


def make_table(cols: Sequence[str], rows: Sequence[Sequence[Any]], *, wide: bool = False,
               title: str | None = None, numeric: Sequence[bool] | None = None,
               fold: Sequence[str] = (), width: int | None = None) -> Table:
    """A table ``width`` columns wide at most (the console's; ``wide``: unbounded, nothing cut).

    Short columns (status, codes, counts: every cell within ``SHORT`` characters) always keep
    their full width; the long ones share the rest, the ``fold`` columns (a URL, an error
    message) wrapping onto more lines and any other long column cut with an ellipsis.
    """
    if numeric is None:
        numeric = [bool(rows) and all(isinstance(r[i], numbers.Number) and not isinstance(r[i], bool)
                                      for r in rows if r[i] is not None) and any(r[i] is not None for r in rows)
                   for i in range(len(cols))]
    cells = [[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else fmt_cell(v) for v in r] for r in rows]
    natural = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(cols)]
    long = [i for i, n in enumerate(natural) if n > SHORT]
    caps: dict[int, int] = {}
    if width is not None and not wide and long:
        room = width - GAP * (len(cols) - 1) - sum(n for i, n in enumerate(natural) if i not in long)
        caps = dict(zip(long, share_width([natural[i] for i in long], room), strict=True))
    t = Table(title=title, title_justify="left", show_edge=False, pad_edge=False, header_style="bold",
              expand=False)
    for i, (c, is_num) in enumerate(zip(cols, numeric, strict=True)):
        folds = c in fold and not wide
        t.add_column(c, justify="right" if is_num else "left", no_wrap=not folds,
                     overflow="fold" if wide or folds else "ellipsis",
                     min_width=None if i in long else natural[i], max_width=caps.get(i))
    for r in cells:
        t.add_row(*r)
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
    con.print(make_table(cols, rows, wide=wide, title=title, width=con.width))
    if footer:
        con.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", highlight=False)
