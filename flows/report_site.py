"""``newsflow report``: one self-contained HTML page with charts drawn as inline SVG.

Nothing is fetched when the page opens (no script, font, stylesheet or image from anywhere);
every chart has its numbers in a table beside it and a tooltip (SVG ``<title>``) per mark.
The chart functions are pure (data in, SVG text out) so they are tested without a database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

from warehouse.report_data import ReportData, read_report_data

# Okabe–Ito: distinguishable with the common colour-vision deficiencies; grey for "other"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C6D31", "#332288", "#F0E442")
OTHER = "#9a9a9a"
STATUS_COLOURS = {"ok": "#009E73", "not_modified": "#56B4E9", "unchanged": "#56B4E9", "warning": "#E69F00",
                  "failed": "#D55E00", "backoff": "#CC79A7"}


def _colour(i: int, name: str) -> str:
    return OTHER if name == "other outlets" else PALETTE[i % len(PALETTE)]


def nice_step(top: float, ticks: int = 4) -> float:
    """A round axis step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def stacked_bars(labels: Sequence[str], series: dict[str, list[float]], *, percent: bool = False,
                 width: int = 880, height: int = 260, colours: dict[str, str] | None = None,
                 chart_id: str = "chart", title: str = "") -> str:
    """Vertical stacked bars, one bar per label; ``percent`` draws each bar's shares (0–100 %)."""
    n = len(labels)
    left, right, top, bottom = 52, 8, 10, 46
    pw, ph = width - left - right, height - top - bottom
    totals = [sum(s[i] for s in series.values()) for i in range(n)]
    ymax = 100.0 if percent else max(totals or [0]) or 1.0
    step = 25.0 if percent else nice_step(ymax)
    ymax = 100.0 if percent else math.ceil(ymax / step) * step
    out = [f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-label="{escape(title)}" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    # grid and y axis
    v = 0.0
    while v <= ymax + 1e-9:
        y = top + ph - ph * v / ymax
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="ytick">{_num(v)}{"%" if percent else ""}</text>')
        v += step
    slot = pw / max(n, 1)
    bw = max(slot * 0.8, 0.6)
    longest = max((len(t) for t in labels), default=1)
    every = max(1, math.ceil(n / max(1, pw // (longest * 7 + 14))))  # labels never overlap
    names = list(series)
    for i in range(n):
        x = left + i * slot + (slot - bw) / 2
        base = 0.0
        for k, name in enumerate(names):
            val = series[name][i]
            if not val:
                continue
            shown = val * 100.0 / totals[i] if percent and totals[i] else val
            h = ph * shown / ymax
            y = top + ph - ph * base / ymax - h
            colour = (colours or {}).get(name) or _colour(k, name)
            tip = f"{labels[i]} · {name}: {_num(val)}" + (f" ({shown:.0f}% of the day)" if percent else "")
            out.append(f'<rect x="{x:.2f}" y="{y:.2f}" width="{bw:.2f}" height="{max(h, 0.5):.2f}" '
                       f'fill="{colour}"><title>{escape(tip)}</title></rect>')
            base += shown
        if i % every == 0:
            cx = left + i * slot + slot / 2
            out.append(f'<text x="{cx:.1f}" y="{top + ph + 16}" class="xtick">{escape(labels[i])}</text>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" class="axis"/>')
    out.append("</svg>")
    return "".join(out)


def hbars(rows: Sequence[tuple[str, float]], *, width: int = 560, bar_h: int = 22, colour: str = PALETTE[0],
          colours: dict[str, str] | None = None, chart_id: str = "chart", title: str = "",
          fmt: str = "{:,.0f}") -> str:
    """Horizontal bars with the label on the left and the value at the end of the bar."""
    label_w, pad = 210, 70
    height = max(len(rows), 1) * (bar_h + 6) + 8
    vmax = max([v for _, v in rows] or [0]) or 1
    out = [f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-label="{escape(title)}" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, v) in enumerate(rows):
        y = 4 + i * (bar_h + 6)
        w = (width - label_w - pad) * v / vmax
        short = label if len(label) <= 32 else label[:31] + "…"
        c = (colours or {}).get(label, colour)
        out.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.1f}" class="ylabel">{escape(short)}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{max(w, 1):.2f}" height="{bar_h}" fill="{c}">'
                   f'<title>{escape(label)}: {escape(fmt.format(v))}</title></rect>')
        out.append(f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h * 0.7:.1f}" class="value">'
                   f'{escape(fmt.format(v))}</text>')
    out.append("</svg>")
    return "".join(out)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return f"{v:%Y-%m-%d %H:%M}"
    if isinstance(v, float):
        return f"{v:.1%}" if 0 <= v <= 1 else f"{v:,.1f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def html_table(cols: Sequence[str], rows: Sequence[Sequence[Any]], *, cls: str = "") -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        tds = "".join(
            f'<td class="num">{escape(_cell(v))}</td>' if isinstance(v, int | float) and not isinstance(v, bool)
            else f"<td>{escape(_cell(v))}</td>" for v in r)
        body.append(f"<tr>{tds}</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def legend(names: Sequence[str], colours: dict[str, str]) -> str:
    items = "".join(f'<span class="key"><i style="background:{colours[n]}"></i>{escape(n)}</span>' for n in names)
    return f'<div class="legend">{items}</div>'


CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2329;
       background: #f6f7f9; }
header { background: #1d2b3a; color: #fff; padding: 22px 32px 18px; }
header h1 { margin: 0 0 4px; font-size: 24px; } header p { margin: 0; opacity: .8; }
main { padding: 8px 32px 40px; max-width: 1500px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 6px; }
.kpi { background: #fff; border-radius: 8px; padding: 10px 16px; min-width: 120px; box-shadow: 0 1px 2px #0002; }
.kpi b { display: block; font-size: 22px; } .kpi span { color: #59636e; font-size: 12px; }
.kpi.alert { background: #fde7e1; }
section { background: #fff; border-radius: 10px; padding: 16px 20px; margin: 16px 0; box-shadow: 0 1px 2px #0002; }
section h2 { margin: 0 0 4px; font-size: 18px; } section p.note { margin: 0 0 10px; color: #59636e; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.row > div { min-width: 0; } .scroll { max-height: 340px; overflow: auto; }
svg.chart { max-width: 100%; height: auto; display: block; }
svg .grid { stroke: #e3e6ea; } svg .axis { stroke: #8a939c; }
svg text { font: 11px system-ui, sans-serif; fill: #3b444d; }
svg .ytick, svg .ylabel { text-anchor: end; } svg .xtick { text-anchor: middle; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eceef1; text-align: left; white-space: nowrap; }
th { position: sticky; top: 0; background: #fff; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 6px 0 0 52px; font-size: 12px; }
.key i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.empty { color: #59636e; font-style: italic; }
"""


def _section(title: str, note: str, body: str, sid: str) -> str:
    return (f'<section id="{sid}"><h2>{escape(title)}</h2>' + (f'<p class="note">{escape(note)}</p>' if note else "")
            + body + "</section>")


def _events_section(d: ReportData, parts: list[str]) -> int:
    """Append the events section; returns how many charts it drew."""
    charts = 0
    if d.weeks:
        types = list(d.events_by_type)
        tc = {t: OTHER if t == "other types" else PALETTE[i % len(PALETTE)] for i, t in enumerate(types)}
        labels = [f"{w:%b %d}" for w in d.weeks]
        chart = stacked_bars(labels, {t: [float(v) for v in d.events_by_type[t]] for t in types}, colours=tc,
                             chart_id="events-by-type", title="Events by type per week", width=640)
        charts += 1
        week_rows = [(f"{w:%Y-%m-%d}", *[d.events_by_type[t][i] for t in types],
                      sum(d.events_by_type[t][i] for t in types)) for i, w in enumerate(d.weeks)][::-1]
        by_type = (f'<div class="row"><div><h3>Events by type per week</h3>{chart}{legend(types, tc)}</div>'
                   f'<div class="scroll">{html_table(["week of", *types, "all"], week_rows)}</div></div>')
    else:
        by_type = '<p class="empty">No coded event with a date yet.</p>'
    if d.actor_pairs:
        pairs = [(f"{r['actor']} → {r['recipient']}", r["events"]) for r in d.actor_pairs]
        chart = hbars(pairs[:10], colour=PALETTE[7], chart_id="actor-pairs", title="Most active actor pairs",
                      width=520)
        charts += 1
        table = html_table(["actor", "recipient", "events", "articles", "main type", "conflict", "mean intensity",
                            "last event"],
                           [(r["actor"], r["recipient"], r["events"], r["articles"], r["main_type"], r["conflict"],
                             f"{r['mean_intensity']:+.1f}", r["last_event"]) for r in d.actor_pairs])
        by_pair = (f'<div class="row"><div><h3>Most active actor pairs</h3>{chart}</div>'
                   f'<div class="scroll">{table}</div></div>')
    else:
        by_pair = '<p class="empty">No event with both an actor and a recipient coded yet.</p>'
    parts.append(_section("Events", f"{d.events:,} coded events that happened (asserted or reported), by the week "
                          "of the event date (UTC, weeks start on Monday); actor codes are country + sector "
                          "(GDELT style).", by_type + by_pair, "events"))
    return charts


def render_html(d: ReportData, *, pending: str | None = None) -> tuple[str, int]:
    """The page, and how many charts it holds."""
    charts = 0
    parts: list[str] = []
    period = f"articles dated since {d.since:%Y-%m-%d}" if d.since else "all articles"
    kpis = [("articles", f"{d.articles:,}"), ("with a date", f"{d.dated:,}"), ("outlets", f"{d.outlets:,}"),
            ("feeds", f"{d.feeds:,}")]
    if d.days:
        kpis.append(("days", f"{d.days[0]:%Y-%m-%d} → {d.days[-1]:%Y-%m-%d}"))
    kpi_html = "".join(f'<div class="kpi"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for k, v in kpis)
    if pending and pending != "none":
        kpi_html += f'<div class="kpi alert"><b>staged</b><span>{escape(pending)}</span></div>'
    parts.append(f'<div class="kpis">{kpi_html}</div>')

    # attention over time
    names = list(d.per_day)
    colours = {n: _colour(i, n) for i, n in enumerate(names)}
    labels = [f"{x:%b %d}" for x in d.days]
    if d.days:
        per_day = stacked_bars(labels, {n: [float(v) for v in d.per_day[n]] for n in names}, colours=colours,
                               chart_id="attention-count", title="Articles per day per outlet")
        share = stacked_bars(labels, {n: [float(v) for v in d.per_day[n]] for n in names}, percent=True,
                             colours=colours, chart_id="attention-share", title="Each outlet's share of the day")
        charts += 2
        day_rows = [(f"{day:%Y-%m-%d}", *[d.per_day[n][i] for n in names], sum(d.per_day[n][i] for n in names))
                    for i, day in enumerate(d.days)][::-1]
        body = (f'<div class="row"><div><h3>Articles per day</h3>{per_day}{legend(names, colours)}'
                f'<h3>Share of the day</h3>{share}{legend(names, colours)}</div>'
                f'<div class="scroll">{html_table(["day", *names, "all"], day_rows)}</div></div>')
    else:
        body = '<p class="empty">No dated articles yet.</p>'
    parts.append(_section("Attention over time",
                          "Dated articles only (UTC publication day); the largest outlets by name, the rest as "
                          "'other outlets'.", body, "attention"))

    # top outlets
    if d.top_outlets:
        top = d.top_outlets[:15]
        chart = hbars([(r["outlet"], r["articles"]) for r in top], chart_id="top-outlets", title="Top outlets")
        charts += 1
        table = html_table(["outlet", "articles", "share", "dated", "first", "last", "language"],
                           [(r["outlet"], r["articles"], r["share"], r["dated"], r["first"], r["last"],
                             r["language"]) for r in d.top_outlets])
        body = f'<div class="row"><div>{chart}</div><div class="scroll">{table}</div></div>'
    else:
        body = '<p class="empty">No articles yet.</p>'
    parts.append(_section("Top outlets", "", body, "outlets"))

    # stories
    if d.stories:
        chart = hbars([(r["title"] or "(no title)", r["copies"]) for r in d.stories[:10]], width=640,
                      colour=PALETTE[3], chart_id="stories", title="Stories with the most copies")
        charts += 1
        table = html_table(["story", "copies", "outlets", "first seen", "carried by"],
                           [(r["title"], r["copies"], r["outlets"], r["first_seen"], r["outlet_list"])
                            for r in d.stories])
        body = f'<div class="row"><div>{chart}</div><div class="scroll">{table}</div></div>'
    else:
        body = '<p class="empty">No story was carried more than once.</p>'
    parts.append(_section("Stories with the most copies", f"Grouped by {d.stories_basis}.", body, "stories"))

    # events (issue 10): by PLOVER type per week, and the most active actor pairs
    if d.has_events:
        charts += _events_section(d, parts)

    # feed health
    blocks = []
    if d.runs:
        run_labels = [f"{r['started_at']:%m-%d %H:%M}" for r in d.runs]
        ser = {"ok": [float(r["feeds_ok"]) for r in d.runs],
               "not_modified": [float(r["feeds_not_modified"]) for r in d.runs],
               "failed": [float(r["feeds_failed"]) for r in d.runs]}
        hc = {k: STATUS_COLOURS[k] for k in ser}
        blocks.append(f'<div><h3>Feeds per ingest run</h3>'
                      f'{stacked_bars(run_labels, ser, colours=hc, chart_id="feed-health", title="Feed health")}'
                      f'{legend(list(ser), hc)}</div>')
        charts += 1
    if d.feed_status:
        blocks.append('<div><h3>Feeds by last status</h3>' + hbars(
            [(s, n) for s, n in d.feed_status], colours={s: STATUS_COLOURS.get(s, OTHER) for s, _ in d.feed_status},
            chart_id="feed-status", title="Feeds by status", width=460) + "</div>")
        charts += 1
    if d.rejects_by_reason:
        blocks.append('<div><h3>Rejects by reason</h3>' + hbars(
            d.rejects_by_reason, colour=PALETTE[4], chart_id="rejects", title="Rejects by reason", width=480)
            + "</div>")
        charts += 1
    failing = (html_table(["feed", "failures", "reason", "last ok", "last error"],
                          [(f["feed"], f["fails"], f["reason"], f["last_ok_at"], (f["last_error"] or "")[:90])
                           for f in d.failing_feeds])
               if d.failing_feeds else '<p class="empty">No feed is failing.</p>')
    body = f'<div class="row">{"".join(blocks)}</div><h3>Failing feeds</h3><div class="scroll">{failing}</div>'
    parts.append(_section("Feed health", "Each hourly run's feeds (ok, not modified, failed), the feeds' last "
                          "status, and what was rejected and why.", body, "health"))

    # languages
    if d.languages:
        body = f'<div class="row"><div>{hbars(d.languages, colour=PALETTE[2], chart_id="languages", title="Languages", width=460)}</div>' \
               f'<div>{html_table(["language", "articles"], d.languages)}</div></div>'
        charts += 1
    else:
        body = '<p class="empty">No articles yet.</p>'
    parts.append(_section("Languages", "", body, "languages"))

    title = f"newsflow report — {d.generated_at:%Y-%m-%d %H:%M} UTC"
    page = (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>News attention report</h1><p>{escape(period)} · generated {d.generated_at:%Y-%m-%d %H:%M} UTC "
        f"from {escape(d.db)}</p></header><main>{''.join(parts)}</main></body></html>\n"
    )
    return page, charts


def write_report(db: str | Path, out: Path, *, since: datetime | date | None = None,
                 staging_dir: str | Path | None = None) -> dict[str, Any]:
    """Read the warehouse and write the page atomically; returns what it holds."""
    import os
    import tempfile

    from warehouse.pending import pending_batches

    if isinstance(since, date) and not isinstance(since, datetime):
        from datetime import UTC

        since = datetime(since.year, since.month, since.day, tzinfo=UTC)
    data = read_report_data(db, since=since)
    pending = pending_batches(staging_dir).describe() if staging_dir else None
    page, charts = render_html(data, pending=pending)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"articles": data.articles, "outlets": data.outlets, "days": len(data.days), "charts": charts,
            "path": str(out)}


REPORT_NAME = "report.html"


def publish_report(db: str | Path, *, staging_dir: str | Path | None = None) -> Path | None:
    """After a run: the report beside the database, linked from the run's Prefect artifacts.

    Returns its path, or None when it could not be written (never fails the run).
    """
    import logging

    out = Path(db).parent / REPORT_NAME
    try:
        info = write_report(db, out, staging_dir=staging_dir)
    except Exception as exc:
        logging.getLogger("newsflow.report").warning("report not written: %s: %s", type(exc).__name__,
                                                     str(exc).splitlines()[0] if str(exc) else "")
        return None
    try:
        from prefect.artifacts import create_link_artifact

        create_link_artifact(key="latest-report", link=out.resolve().as_uri(), link_text=f"report ({out.name})",
                             description=f"{info['articles']} articles, {info['outlets']} outlets, "
                                         f"{info['days']} days, {info['charts']} charts")
    except Exception:  # artifacts are a report, not the job
        pass
    return out
