"""newsflow/tables.py: tables that fit, piped or not, without ever cutting a status or a code."""

from __future__ import annotations

import subprocess
import sys

from tests.support.cli import ROOT, child_env

INGEST_TABLE = """
from flows.decisions import FeedOutcome
from flows.report import IngestSummary
from newsflow.cli import _print_ingest
from schemas.records import FeedSpec
from schemas.settings import Settings

outcomes = [
    FeedOutcome(FeedSpec(url="https://harbour-times.example/feeds/all-the-news.xml", name="Harbour Times"), "ok",
                http_status=200, entries=30, new_items=12),
    FeedOutcome(FeedSpec(url="https://valley-post.example/rss/world/europe/politics.xml"), "failed",
                reason="connect_error", message="connection refused by the server after three attempts over "
                                                "ninety seconds; the host answered nothing at all"),
    FeedOutcome(FeedSpec(url="https://c.example/rss"), "not_modified", http_status=304),
]
summary = IngestSummary.build(run_id="r", outcomes=outcomes, articles=[], rejects=[], pages_fetched=0)
_print_ingest(summary.as_dict(), Settings(), False)
"""
DETAIL = ("connection refused by the server after three attempts over ninety seconds; the host answered "
          "nothing at all")


def _ingest_table(**env: str) -> list[str]:
    environ = child_env(**env)
    if "COLUMNS" not in env:
        environ.pop("COLUMNS", None)
    # captured: stdout is a pipe, not a terminal
    proc = subprocess.run([sys.executable, "-c", INGEST_TABLE], capture_output=True, text=True, cwd=ROOT,
                          env=environ, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("\n\n")[0].splitlines()


def _column(lines: list[str], index: int) -> list[str]:
    return [ln.split("│")[index].strip() for ln in lines[2:] if "│" in ln]


def test_the_ingest_feed_table_keeps_statuses_whole_when_piped() -> None:
    for env in ({}, {"COLUMNS": "80"}):
        lines = _ingest_table(**env)
        assert max(len(ln) for ln in lines) <= (132 if not env else 80), lines
        assert [c.strip() for c in lines[0].split("┃")] == ["feed", "status", "http", "entries", "new", "reason",
                                                             "detail"], lines[0]
        assert [s for s in _column(lines, 1) if s] == ["ok", "failed", "not_modified"], lines
        assert [s for s in _column(lines, 5) if s] == ["connect_error"]
        assert "…" not in "\n".join(lines)  # long text wraps onto more lines: nothing is cut
        # the detail and the URL, folded over several lines, read whole again
        assert " ".join(s for s in _column(lines, 6) if s) == DETAIL
        assert "".join(_column(lines, 0)).count("https://valley-post.example/rss/world/europe/politics.xml") == 1


def test_long_columns_share_what_the_short_ones_leave() -> None:
    import io

    from rich.console import Console

    from newsflow.tables import make_table, share_width

    assert share_width([4, 50, 100], 60) == [4, 28, 28]
    assert share_width([4, 10], 60) == [4, 10]  # room to spare: nothing shrinks
    out = io.StringIO()
    con = Console(file=out, width=40)
    con.print(make_table(["id", "status", "text"], [(7, "not_modified", "word " * 30)], width=con.width))
    head, _, row = out.getvalue().splitlines()
    assert max(len(head), len(row)) <= 40
    assert row.split("│")[0].strip() == "7" and row.split("│")[1].strip() == "not_modified"
    assert row.rstrip().endswith("…")  # the long cell, and only it, is cut
