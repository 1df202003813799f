"""The HTML report: the numbers behind it, the charts drawn from them, and the page in a real browser."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from flows.charts import PALETTE, hbars, label_every, stacked_bars
from flows.report_site import render_html, write_report
from tests.support.browser import png_pixels, render
from tests.support.dbrows import rows
from tests.support.desk import build, outlet_column
from warehouse.report_data import read_report_data


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    db = tmp_path_factory.mktemp("desk") / "news.duckdb"
    return db, build(db, events=True)


def test_report_numbers_match_the_warehouse(desk: tuple[Path, dict[str, int]]) -> None:
    db, built = desk
    d = read_report_data(db)
    assert (d.articles, d.dated, d.outlets) == (built["articles"], built["dated"], built["outlets"])
    # attention over time counts dated articles only, every day of the span, per outlet
    assert len(d.days) == built["days"] and sum(sum(v) for v in d.per_day.values()) == built["dated"]
    per_outlet = dict(rows(db, f"SELECT {outlet_column(db)}, count(*) FROM articles WHERE published_at IS NOT NULL "
                               "GROUP BY 1"))
    assert {o: sum(v) for o, v in d.per_day.items()} == per_outlet
    assert [r["outlet"] for r in d.top_outlets] == sorted(per_outlet, key=lambda o: -per_outlet[o])
    assert d.stories and d.stories[0]["copies"] == built["copies"] and d.stories[0]["outlets"] == built["copies"]
    assert dict(d.rejects_by_reason) == dict(rows(db, "SELECT reason, count(*) FROM rejects GROUP BY 1"))
    assert len(d.failing_feeds) == 1 and d.failing_feeds[0]["fails"] == 3
    later = read_report_data(db, since=datetime(2024, 3, 15, tzinfo=UTC))
    assert later.days[0].isoformat() == "2024-03-15" and later.articles < d.articles
    assert later.events < d.events and all(w >= later.weeks[0] for w in later.weeks)


def test_report_events_match_the_events_table(desk: tuple[Path, dict[str, int]]) -> None:
    """Counted again here from the events table itself (not the views the report reads)."""
    db, built = desk
    d = read_report_data(db)
    happened = rows(db, "SELECT event_id, event_type, event_date, actors, recipients FROM events "
                        "WHERE modality IN ('asserted', 'reported') AND event_date IS NOT NULL")
    assert d.has_events and d.events == len(happened) >= built["event_articles"] - 1
    per_week: Counter[tuple[date, str]] = Counter(
        (day - timedelta(days=day.weekday()), kind) for _, kind, day, _, _ in happened)
    got = {(w, t): n for t, counts in d.events_by_type.items() for w, n in zip(d.weeks, counts, strict=True) if n}
    assert got == dict(per_week)
    assert all(w.weekday() == 0 for w in d.weeks) and len(d.weeks) == (d.weeks[-1] - d.weeks[0]).days // 7 + 1

    def code(side: dict) -> str | None:
        return ((side["country"] or "") + (side["sector"] or "")) or None

    pairs: dict[tuple[str, str], set[str]] = {}
    for event_id, _, _, actors, recipients in happened:
        for a in actors:
            for r in recipients:
                if code(a) and code(r) and code(a) != code(r):
                    pairs.setdefault((code(a), code(r)), set()).add(event_id)
    assert {(p["actor"], p["recipient"]): p["events"] for p in d.actor_pairs} == {k: len(v) for k, v in pairs.items()}
    assert [p["events"] for p in d.actor_pairs] == sorted((len(v) for v in pairs.values()), reverse=True)
    assert (d.actor_pairs[0]["actor"], d.actor_pairs[0]["recipient"]) == ("RUS", "UKR")  # the most reported pair


def _marks(svg: str) -> list[tuple[str, float, float]]:
    """Each mark of a chart: its tooltip, width and height (from the rectangle's path)."""
    out = []
    for d, tip in re.findall(r'<path d="([^"]+)"[^>]*><title>([^<]*)</title></path>', svg):
        nums = [float(v) for v in re.findall(r"-?[\d.]+", d)]
        xs, ys = nums[0::2], nums[1::2]
        out.append((tip, max(xs) - min(xs), max(ys) - min(ys)))
    return out


def test_stacked_bars_scale_and_shares() -> None:
    svg = stacked_bars(["d1", "d2"], {"a": [3.0, 0.0], "b": [1.0, 2.0]}, percent=True, height=260, chart_id="s")
    marks = _marks(svg)
    assert [m[0] for m in marks] == ["d1 · a: 3 (75% of the day)", "d1 · b: 1 (25% of the day)",
                                     "d2 · b: 2 (100% of the day)"]  # nothing drawn for a zero
    (_, _, a1), (_, _, b1), (_, _, b2) = marks
    assert a1 + b1 == pytest.approx(b2, abs=0.05)  # every day fills the plot: shares, not counts
    assert a1 == pytest.approx(3 * b1, abs=0.05)
    counts = _marks(stacked_bars(["d1", "d2"], {"a": [3.0, 0.0], "b": [1.0, 2.0]}, chart_id="c"))
    assert counts[0][2] == pytest.approx(3 * counts[1][2], abs=0.05)
    assert counts[0][2] + counts[1][2] == pytest.approx(2 * counts[2][2], abs=0.05)  # day 1 holds 4, day 2 holds 2
    bars = _marks(hbars([("x", 10), ("y", 5)], chart_id="h"))
    assert [m[0] for m in bars] == ["x: 10", "y: 5"]
    assert bars[0][1] == pytest.approx(2 * bars[1][1], abs=0.05)
    # date labels are thinned so they never overlap: 366 days on 820 px show about one in six
    assert label_every([f"Mar {i:02d}" for i in range(366)], 820) * 1 >= 6
    assert label_every(["a", "b"], 820) == 1


def test_charts_are_text_scoped_and_reproducible() -> None:
    """Text stays text, ids are the chart's own, and the same numbers give the same bytes."""
    args = (["Mar 01", "Mar 02"], {"harbour-times.example": [3.0, 1.0], "other outlets": [1.0, 1.0]})
    one = stacked_bars(*args, chart_id="first", title="Articles per day")
    assert one == stacked_bars(*args, chart_id="first", title="Articles per day")
    assert one.startswith('<svg class="chart" id="first" role="img" aria-label="Articles per day"')
    assert "<?xml" not in one and "<metadata" not in one and "<style" not in one and "Matplotlib" not in one
    assert re.search(r"<text[^>]*>Mar 01</text>", one)  # a label is text, not glyph outlines
    assert "#9a9a9a" in one  # 'other outlets' in grey
    ids = re.findall(r'\bid="([^"]+)"', one)
    assert ids[0] == "first" and all(i.startswith("first-") for i in ids[1:])
    other = stacked_bars(*args, chart_id="second", title="Articles per day")
    assert not set(ids) & set(re.findall(r'\bid="([^"]+)"', other))
    refs = re.findall(r'(?:url\(#|xlink:href="#)([^)"]+)', one)
    assert refs and set(refs) <= set(ids)  # every internal reference resolves inside the chart


def test_page_is_self_contained(desk: tuple[Path, dict[str, int]]) -> None:
    data = read_report_data(desk[0], now=datetime(2024, 4, 1, tzinfo=UTC))
    page, charts = render_html(data)
    assert charts >= 9
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"url\((?!#)", page) and not re.search(r'(?:\ssrc=|href=")(?!#)', page)
    assert "<title>" in page and page.count("<svg") == charts
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # ten charts in one document, no id twice
    assert render_html(data)[0] == page  # the same warehouse gives the same file
    assert len(page.encode()) < 400_000


def test_report_renders_in_headless_chromium(desk: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    info = write_report(desk[0], out, staging_dir=tmp_path / "staging")
    shown = render(out, tmp_path, width=1000, height=1400)
    assert shown.console == [], shown.console  # no error, no warning, nothing logged
    for chart in ("attention-count", "attention-share", "top-outlets", "stories", "feed-health", "rejects",
                  "languages", "events-by-type", "actor-pairs"):
        assert f'id="{chart}"' in shown.dom, chart
    assert shown.dom.count("<title>") > 200 and info["charts"] == shown.dom.count("<svg")  # a tooltip per mark
    width, height, pixels = png_pixels(shown.screenshot)
    assert (width, height) == (1000, 1400)
    colours: Counter[str] = Counter()
    for row in pixels[::3]:
        for x in range(0, len(row), 9):
            colours[row[x : x + 3].hex()] += 1
    # the charts' colours are on screen, not just in the markup
    on_screen = [c for c in PALETTE[:4] if colours[c.lstrip("#").lower()] > 200]
    assert len(on_screen) == 4, colours.most_common(12)
    assert colours.most_common(1)[0][1] < 0.8 * sum(colours.values())  # not a blank page


def test_the_browser_check_catches_a_console_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><html><body><p>x</p><script>console.error('broken chart')</script></body></html>")
    shown = render(bad, tmp_path, width=400, height=300)
    assert any("broken chart" in ln for ln in shown.console)
