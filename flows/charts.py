"""The report's charts, drawn by matplotlib and kept as SVG text to inline in the page.

Pure functions (numbers in, ``<svg>`` text out), so they are tested without a database.
matplotlib is imported inside them only: commands that draw nothing never pay for it.

What the page gets from each chart:

- text stays text (``svg.fonttype='none'``), in the page's sans-serif font, so it is small,
  selectable and searchable;
- a tooltip per mark (an SVG ``<title>`` inside the mark);
- ids prefixed with the chart's id, so several charts live in one document without clashes;
- the same bytes for the same numbers (fixed ``svg.hashsalt``, no date or creator metadata).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Okabe–Ito: distinguishable with the common colour-vision deficiencies; grey for "other"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C6D31", "#332288", "#F0E442")
OTHER = "#9a9a9a"
STATUS_COLOURS = {"ok": "#009E73", "not_modified": "#56B4E9", "unchanged": "#56B4E9", "warning": "#E69F00",
                  "failed": "#D55E00", "backoff": "#CC79A7"}
INK = "#3b444d"
GRID = "#e3e6ea"
PX = 1 / 72  # matplotlib's SVG unit is the point (1/72 in); figures are sized so 1 unit = 1 CSS pixel
FONT_PX = 11
CHAR_PX = 6.6  # average label character width at FONT_PX, for spacing the date labels

RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "newsflow",  # replaced per chart by its id
    "font.family": "sans-serif",
    "font.sans-serif": ["system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "DejaVu Sans"],
    "font.size": FONT_PX,
    "text.color": INK,
    "axes.edgecolor": "#8a939c",
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.major.size": 0,
    "ytick.major.size": 0,
    "axes.unicode_minus": False,
}


def _style(**extra: Any) -> AbstractContextManager[None]:
    """The charts' matplotlib settings, for one block (never the process-wide defaults)."""
    import matplotlib

    settings: Any = {**RC, **{k.replace("__", "."): v for k, v in extra.items()}}
    return matplotlib.rc_context(settings)


def colour_of(i: int, name: str) -> str:
    return OTHER if name in ("other outlets", "other types") else PALETTE[i % len(PALETTE)]


def _figure(width: float, height: float, *, left: float, right: float = 10, top: float = 8,
            bottom: float = 8) -> Figure:
    """A figure of ``width`` × ``height`` CSS pixels with fixed margins (pixels) around one plot area."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * PX, height * PX), dpi=72)
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)
    FigureCanvasAgg(fig)  # the Agg canvas, set on this figure only: no pyplot, no global backend switch
    return fig


def _titled(text: str, gid: str, marks: Sequence[str]) -> str:
    """Give the marks (``<path .../>``) in group ``gid``, in drawing order, one tooltip each."""
    start = text.index(f'<g id="{gid}">')
    end = text.index("</g>", start)
    group = iter(marks)
    body = re.sub(r"<path ([^>]*?)/>", lambda m: f"<path {m.group(1)}><title>{escape(next(group))}</title></path>",
                  text[start:end], count=len(marks))
    return text[:start] + body + text[end:]


def _svg(fig: Figure, chart_id: str, title: str, tips: dict[str, list[str]]) -> str:
    """The figure as inline SVG: header, metadata and global style dropped, ids scoped, tooltips added."""
    buf = io.StringIO()
    with _style(svg__hashsalt=chart_id):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\s*<defs>\s*<style type="text/css">[^<]*</style>\s*</defs>', "", text)
    # coordinates to 1/100 px, inside tags only (labels and tooltips keep their digits)
    text = re.sub(r"<[^>]+>", lambda tag: re.sub(r"(\d\.\d\d)\d+", r"\1", tag.group(0)), text)
    text = re.sub(r">\s+<", "><", re.sub(r"\s*\n\s*", " ", text))  # layout whitespace only (text has none)
    for gid, marks in tips.items():
        text = _titled(text, gid, marks)
    text = re.sub(r'(\bid="|url\(#|xlink:href="#)', rf"\g<1>{chart_id}-", text)
    # the root: CSS pixels instead of points (the viewBox keeps the drawing), and the chart's identity
    head_end = text.index(">") + 1
    head = re.sub(r'\swidth="([\d.]+)pt"', r' width="\1"', text[:head_end])
    head = re.sub(r'\sheight="([\d.]+)pt"', r' height="\1"', head)
    head = head.replace("<svg ", f'<svg class="chart" id="{escape(chart_id)}" role="img" '
                                 f'aria-label="{escape(title)}" ', 1)
    return head + text[head_end:].rstrip() + "\n"


def _plain(ax: Axes, *, keep: str) -> None:
    """No frame but the baseline (``keep``: 'bottom' or 'left'), light grid behind the marks."""
    for side, spine in ax.spines.items():
        spine.set_visible(side == keep)
    ax.set_axisbelow(True)


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def label_every(labels: Sequence[str], plot_px: float) -> int:
    """Show every n-th category label so that labels never overlap."""
    longest = max((len(t) for t in labels), default=1)
    fits = max(1, int(plot_px // (longest * CHAR_PX + 14)))
    return max(1, math.ceil(len(labels) / fits))


def stacked_bars(labels: Sequence[str], series: dict[str, list[float]], *, percent: bool = False,
                 width: int = 880, height: int = 260, colours: dict[str, str] | None = None,
                 chart_id: str = "chart", title: str = "") -> str:
    """Vertical stacked bars, one bar per label; ``percent`` draws each bar's shares (0–100 %).

    Each series is one collection of rectangles (a year of days × nine outlets is 3,300 bars: as
    separate patches they would take seconds to draw), with a tooltip per rectangle.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    with _style():
        fig = _figure(width, height, left=50, bottom=26)
        ax = fig.add_subplot()
        n = len(labels)
        totals = [sum(s[i] for s in series.values()) for i in range(n)]
        base = [0.0] * n
        tips: dict[str, list[str]] = {}
        half = 0.4  # bars 0.8 of their slot wide
        for k, (name, values) in enumerate(series.items()):
            shown = [v * 100.0 / t if percent and t else v for v, t in zip(values, totals, strict=True)]
            keep = [i for i in range(n) if values[i]]  # nothing drawn for a zero
            rects = [[(i - half, base[i]), (i + half, base[i]), (i + half, base[i] + shown[i]),
                      (i - half, base[i] + shown[i])] for i in keep]
            marks = PolyCollection(rects, facecolors=(colours or {}).get(name) or colour_of(k, name),
                                   linewidths=0, antialiaseds=True, clip_on=False)
            marks.set_gid(f"series{k}")
            ax.add_collection(marks)
            if keep:
                tips[f"series{k}"] = [f"{labels[i]} · {name}: {_num(values[i])}"
                                      + (f" ({shown[i]:.0f}% of the day)" if percent else "") for i in keep]
            for i in keep:
                base[i] += shown[i]
        _plain(ax, keep="bottom")
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_xlim(-0.6, max(n, 1) - 0.4)
        every = label_every(labels, width - 60)
        ax.set_xticks(range(0, n, every), [labels[i] for i in range(0, n, every)])
        if percent:
            ax.set_ylim(0, 100)
            ax.yaxis.set_major_locator(MultipleLocator(25))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
        else:
            ax.set_ylim(0, max(max(totals or [0]), 1) * 1.04)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _num(v)))
        return _svg(fig, chart_id, title, tips)


def hbars(rows: Sequence[tuple[str, float]], *, width: int = 560, bar_h: int = 22, colour: str = PALETTE[0],
          colours: dict[str, str] | None = None, chart_id: str = "chart", title: str = "",
          fmt: str = "{:,.0f}") -> str:
    """Horizontal bars in the order given (the first on top): the label on the left and the value
    at the end of the bar."""
    with _style():
        names = [label for label, _ in rows]
        shown = [t if len(t) <= 32 else t[:31] + "…" for t in names]
        label_px = max((len(t) for t in shown), default=1) * CHAR_PX + 12
        fig = _figure(width, max(len(rows), 1) * (bar_h + 6) + 8, left=min(label_px, width * 0.45), top=4,
                      bottom=4)
        ax = fig.add_subplot()
        values = [float(v) for _, v in rows]
        bars = ax.barh(range(len(rows)), values, height=bar_h / (bar_h + 6), linewidth=0, clip_on=False,
                       color=[(colours or {}).get(label, colour) for label in names])
        tips: dict[str, list[str]] = {}
        for k, (label, v, patch) in enumerate(zip(names, values, bars.patches, strict=True)):
            patch.set_gid(f"bar{k}")
            tips[f"bar{k}"] = [f"{label}: {fmt.format(v)}"]
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], padding=4)
        ax.set_yticks(range(len(rows)), shown)
        ax.set_ylim(len(rows) - 0.5, -0.5)  # the first row on top
        ax.set_xlim(0, max(values or [0]) * 1.18 or 1)
        ax.xaxis.set_visible(False)
        _plain(ax, keep="left")
        return _svg(fig, chart_id, title, tips)
