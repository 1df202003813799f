"""The numbers behind ``newsflow report``: plain Python values read on one read-only connection.

Works on both warehouse schemas: the outlet column is ``outlet`` (migration 003) or ``source``;
stories are groups of ``dup_group_id`` when that column exists, else exact copies (same
``content_hash``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import connect_read

TOP_OUTLETS = 8
MAX_DAYS = 366  # the attention chart shows at most the last year of the span
MAX_WEEKS = 104  # the events chart shows at most the last two years of the span
TOP_EVENT_TYPES = 8
TOP_PAIRS = 15
# events that happened (as v_actor_pairs counts them): not negated, hypothetical or future
HAPPENED = ("asserted", "reported")


@dataclass
class ReportData:
    generated_at: datetime
    db: str
    since: datetime | None
    articles: int = 0
    dated: int = 0
    outlets: int = 0
    feeds: int = 0
    days: list[date] = field(default_factory=list)
    # outlet -> counts aligned with ``days`` (top outlets; the rest summed as "other outlets")
    per_day: dict[str, list[int]] = field(default_factory=dict)
    top_outlets: list[dict[str, Any]] = field(default_factory=list)
    languages: list[tuple[str, int]] = field(default_factory=list)
    feed_status: list[tuple[str, int]] = field(default_factory=list)
    failing_feeds: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)  # feed health over time, one row per run
    rejects_by_reason: list[tuple[str, int]] = field(default_factory=list)
    stories: list[dict[str, Any]] = field(default_factory=list)
    stories_basis: str = "exact copies (same text)"
    has_events: bool = False  # the warehouse has the events tables (migration 005)
    events: int = 0  # events that happened, with a date, in scope
    weeks: list[date] = field(default_factory=list)  # Mondays
    # PLOVER event type -> events per week aligned with ``weeks`` (top types; the rest as "other types")
    events_by_type: dict[str, list[int]] = field(default_factory=dict)
    actor_pairs: list[dict[str, Any]] = field(default_factory=list)


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def read_report_data(db: str | Path, *, since: datetime | None = None, top: int = TOP_OUTLETS,
                     now: datetime | None = None) -> ReportData:
    """Everything the report shows. Raises DatabaseMissing / DatabaseLocked like connect_read."""
    from schemas.records import utcnow

    conn = connect_read(db)
    try:
        cols = _columns(conn, "articles")
        outlet = "outlet" if "outlet" in cols else "source"
        data = ReportData(generated_at=now or utcnow(), db=str(db), since=since)
        # the articles in scope: dated on or after --since (undated ones count when no --since)
        scope_sql = (
            f"WITH scope AS (SELECT article_id, {outlet} AS outlet, language, published_at, content_hash, title, url"
            + (", dup_group_id" if "dup_group_id" in cols else "")
            + " FROM articles WHERE ?::TIMESTAMPTZ IS NULL OR coalesce(published_at, ingested_at) >= ?::TIMESTAMPTZ) ")

        def q(sql: str) -> duckdb.DuckDBPyConnection:
            return conn.execute(scope_sql + sql, [since, since])

        data.articles, data.dated, data.outlets = q(
            "SELECT count(*), count(published_at), count(DISTINCT outlet) FROM scope").fetchone() or (0, 0, 0)
        data.feeds = int((conn.execute("SELECT count(*) FROM feeds").fetchone() or (0,))[0])

        top_rows = _dicts(q(
            "SELECT outlet, count(*) AS articles, count(published_at) AS dated, "
            "min(published_at) AS first, max(published_at) AS last, "
            "mode(language) AS language FROM scope GROUP BY outlet ORDER BY articles DESC, outlet LIMIT 25"))
        for r in top_rows:
            r["share"] = r["articles"] / data.articles if data.articles else 0.0
        data.top_outlets = top_rows

        # attention over time: dated articles only, per UTC day, top outlets by dated articles
        daily = q(
            "SELECT CAST(timezone('UTC', published_at) AS DATE) AS day, outlet, count(*) FROM scope "
            "WHERE published_at IS NOT NULL GROUP BY ALL ORDER BY day").fetchall()
        days, series = top_series(daily, step=timedelta(days=1), most=MAX_DAYS, top=top, other="other outlets")
        data.days, data.per_day = days, series

        data.languages = [(r[0] or "unknown", r[1]) for r in q(
            "SELECT language, count(*) FROM scope GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 12").fetchall()]
        data.feed_status = [(r[0] or "never polled", r[1]) for r in conn.execute(
            "SELECT last_status, count(*) FROM feeds GROUP BY 1 ORDER BY 2 DESC").fetchall()]
        data.failing_feeds = _dicts(conn.execute(
            "SELECT coalesce(name, feed_url) AS feed, consecutive_failures AS fails, last_reason AS reason, "
            "last_ok_at, last_error FROM feeds WHERE consecutive_failures > 0 "
            "ORDER BY consecutive_failures DESC, feed_url LIMIT 20"))
        data.runs = _dicts(conn.execute(
            "SELECT started_at, feeds_total, feeds_ok, feeds_not_modified, feeds_failed, articles_new, rejects, "
            "staged FROM runs WHERE flow = 'hourly_ingest' AND (?::TIMESTAMPTZ IS NULL OR started_at >= ?::TIMESTAMPTZ) "
            "ORDER BY started_at DESC LIMIT 200", [since, since]))[::-1]
        data.rejects_by_reason = [(r[0], r[1]) for r in conn.execute(
            "SELECT reason, count(*) FROM rejects WHERE ?::TIMESTAMPTZ IS NULL OR created_at >= ?::TIMESTAMPTZ "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 15", [since, since]).fetchall()]

        # near-duplicate groups where the story index has placed an article, exact copies (same
        # text) for articles it has not (loaded without sketches, or before migration 004)
        key = "coalesce(dup_group_id, content_hash)" if "dup_group_id" in cols else "content_hash"
        data.stories_basis = ("near-duplicate groups (dup_group_id), else exact copies" if "dup_group_id" in cols
                              else "exact copies (same text)")
        data.stories = _dicts(q(
            f"SELECT arg_min(title, coalesce(published_at, TIMESTAMPTZ '9999-12-31')) AS title, count(*) AS copies, "
            f"count(DISTINCT outlet) AS outlets, min(published_at) AS first_seen, "
            f"string_agg(DISTINCT outlet, ', ' ORDER BY outlet) AS outlet_list "
            f"FROM scope WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1 "
            "ORDER BY copies DESC, outlets DESC, first_seen LIMIT 15"))
        _read_events(conn, data, since)
        return data
    finally:
        conn.close()


def _read_events(conn: duckdb.DuckDBPyConnection, data: ReportData, since: datetime | None) -> None:
    """Events by PLOVER type per week and the most active actor pairs (views of migration 005).

    Counts events that happened (asserted or reported) with an event date on or after ``since``;
    an event with two actors or recipients counts once per week and type, once per pair.
    """
    has = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'v_events_dyadic'"
                       ).fetchone()
    data.has_events = bool(has and has[0])
    if not data.has_events:
        return
    scope = ("FROM v_events_dyadic WHERE modality IN (?, ?) AND event_date IS NOT NULL "
             "AND (?::DATE IS NULL OR event_date >= ?::DATE)")
    day = since.date() if since else None
    params = [*HAPPENED, day, day]
    weekly = conn.execute(
        f"SELECT CAST(date_trunc('week', event_date) AS DATE) AS week, event_type, count(DISTINCT event_id) "
        f"{scope} GROUP BY ALL ORDER BY week", params).fetchall()
    data.events = int((conn.execute(f"SELECT count(DISTINCT event_id) {scope}", params).fetchone() or (0,))[0])
    weeks, series = top_series(weekly, step=timedelta(weeks=1), most=MAX_WEEKS, top=TOP_EVENT_TYPES,
                               other="other types")
    data.weeks, data.events_by_type = weeks, series
    # pairs with both sides coded; the main type is the pair's most frequent one
    data.actor_pairs = _dicts(conn.execute(
        f"SELECT actor_code AS actor, recipient_code AS recipient, count(DISTINCT event_id) AS events, "
        f"count(DISTINCT article_id) AS articles, mode(event_type) AS main_type, "
        f"count(DISTINCT event_id) FILTER (WHERE quad_class LIKE '%conflict') AS conflict, "
        f"avg(intensity) AS mean_intensity, max(event_date) AS last_event "
        f"{scope} AND actor_code IS NOT NULL AND recipient_code IS NOT NULL AND actor_code <> recipient_code "
        f"GROUP BY ALL ORDER BY events DESC, articles DESC, actor, recipient LIMIT ?", [*params, TOP_PAIRS]))


def top_series(rows: Sequence[tuple[date, str, int]], *, step: timedelta, most: int, top: int,
               other: str) -> tuple[list[date], dict[str, list[int]]]:
    """Counts ``(period, name, n)`` as one series per name over every period of the span (a quiet
    period is a zero, not a gap; at most ``most`` periods, the latest), for the ``top`` names by
    total; the rest summed as ``other`` when any."""
    totals: dict[str, int] = {}
    for _, name, n in rows:
        totals[name] = totals.get(name, 0) + n
    keep = [name for name, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    seen = sorted({p for p, _, _ in rows})
    periods: list[date] = []
    if seen:
        first = max(seen[0], seen[-1] - step * (most - 1))
        periods = [first + step * i for i in range((seen[-1] - first) // step + 1)]
    index = {p: i for i, p in enumerate(periods)}
    series: dict[str, list[int]] = {name: [0] * len(periods) for name in keep}
    rest = [0] * len(periods)
    for p, name, n in rows:
        if p in index:
            series.get(name, rest)[index[p]] += n
    if any(rest):
        series[other] = rest
    return periods, series
