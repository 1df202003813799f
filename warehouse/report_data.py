"""The numbers behind ``newsflow report``: plain Python values read on one read-only connection.

Works on both warehouse schemas: the outlet column is ``outlet`` (migration 003) or ``source``;
stories are groups of ``dup_group_id`` when that column exists, else exact copies (same
``content_hash``).
"""

from __future__ import annotations

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
        totals: dict[str, int] = {}
        for _, o, n in daily:
            totals[o] = totals.get(o, 0) + n
        keep = [o for o, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
        seen_days = sorted({d for d, _, _ in daily})
        days: list[date] = []
        if seen_days:  # every day of the span (a quiet day is a zero, not a gap), at most MAX_DAYS
            first = max(seen_days[0], seen_days[-1] - timedelta(days=MAX_DAYS - 1))
            days = [first + timedelta(days=i) for i in range((seen_days[-1] - first).days + 1)]
        index = {d: i for i, d in enumerate(days)}
        series: dict[str, list[int]] = {o: [0] * len(days) for o in keep}
        other = [0] * len(days)
        for d, o, n in daily:
            if d in index:
                series.get(o, other)[index[d]] += n
        if any(other):
            series["other outlets"] = other
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
    totals: dict[str, int] = {}
    for _, t, n in weekly:
        totals[t] = totals.get(t, 0) + n
    keep = [t for t, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_EVENT_TYPES]]
    seen = sorted({w for w, _, _ in weekly})
    weeks: list[date] = []
    if seen:  # every week of the span (a quiet week is a zero), at most MAX_WEEKS
        first = max(seen[0], seen[-1] - timedelta(weeks=MAX_WEEKS - 1))
        weeks = [first + timedelta(weeks=i) for i in range((seen[-1] - first).days // 7 + 1)]
    index = {w: i for i, w in enumerate(weeks)}
    series: dict[str, list[int]] = {t: [0] * len(weeks) for t in keep}
    other = [0] * len(weeks)
    for w, t, n in weekly:
        if w in index:
            series.get(t, other)[index[w]] += n
    if any(other):
        series["other types"] = other
    data.weeks, data.events_by_type = weeks, series
    # pairs with both sides coded; the main type is the pair's most frequent one
    data.actor_pairs = _dicts(conn.execute(
        f"SELECT actor_code AS actor, recipient_code AS recipient, count(DISTINCT event_id) AS events, "
        f"count(DISTINCT article_id) AS articles, mode(event_type) AS main_type, "
        f"count(DISTINCT event_id) FILTER (WHERE quad_class LIKE '%conflict') AS conflict, "
        f"avg(intensity) AS mean_intensity, max(event_date) AS last_event "
        f"{scope} AND actor_code IS NOT NULL AND recipient_code IS NOT NULL AND actor_code <> recipient_code "
        f"GROUP BY ALL ORDER BY events DESC, articles DESC, actor, recipient LIMIT ?", [*params, TOP_PAIRS]))
