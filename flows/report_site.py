"""``newsflow report``: one self-contained HTML page, charts by matplotlib inlined as SVG.

Nothing is fetched when the page opens (no script, font, stylesheet or image from anywhere);
every chart has its numbers in a table beside it and a tooltip (SVG ``<title>``) per mark.
The charts themselves are drawn in flows/charts.py; this module lays out the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

from flows.charts import OTHER, PALETTE, STATUS_COLOURS, colour_of, hbars, stacked_bars
from warehouse.report_data import ReportData, read_report_data


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
svg.chart * { stroke-linejoin: round; stroke-linecap: butt; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eceef1; text-align: left; white-space: nowrap; }
th { position: sticky; top: 0; background: #fff; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 2px 0 0 48px; font-size: 12px; }
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
        tc = {t: colour_of(i, t) for i, t in enumerate(types)}
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
    colours = {n: colour_of(i, n) for i, n in enumerate(names)}
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
    parts.append(_section("Stories with the most copies", f"Grouped by {d.stories_basis}.", body, "top-stories"))

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
    parts.append(_section("Languages", "", body, "language-mix"))

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
