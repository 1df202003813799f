"""Event coder tables (migration 005): replace-by-article loading and the analyst views."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from extractors.events import enrich
from tests.support.factories import article, run_record
from warehouse.batch import Batch
from warehouse.db import connect_read
from warehouse.events import load_enrichment, to_arrow
from warehouse.load import load_batch

TEXT = ("UK Foreign Secretary Liz Truss will be asking Russia and China to join together.\n"
        "Russia vocally rejected the allegations on Tuesday.\n"
        "“We must act as one with our partners,” Truss said.\n")
PUB = datetime(2021, 9, 22, 12, tzinfo=UTC)


def fetch(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    conn = connect_read(db)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


@pytest.fixture
def db(db_path: Path, tmp_path: Path) -> Path:
    arts = [article(1, text=TEXT, published=PUB), article(2)]
    load_batch(db_path, Batch(run=run_record("run-1"), articles=arts), staging_dir=tmp_path / "staging")
    return db_path


def _rows(article_id: str, text: str = TEXT) -> dict:
    return enrich(text, article_id=article_id, published_at=PUB).table_rows()


def test_enrichment_round_trip_and_views(db: Path) -> None:
    aid = article(1).article_id
    counts = load_enrichment(db, [aid], _rows(aid))
    assert counts["events"] == 2 and counts["quotes"] == 1 and counts["entities"] >= 4
    dyads = fetch(db, "SELECT event_type, actor_code, recipient_code, modality, event_date, date_precision "
                      "FROM v_events_dyadic ORDER BY event_type, recipient_code")
    assert dyads == [
        ("REJECT", "RUS", None, "asserted", date(2021, 9, 21), "day"),
        ("REQUEST", "GBRGOV", "CHN", "future", date(2021, 9, 22), "pubdate"),
        ("REQUEST", "GBRGOV", "RUS", "future", date(2021, 9, 22), "pubdate"),
    ]
    # only what happened is counted per pair and month
    assert fetch(db, "SELECT month, actor_code, recipient_code, event_type, events FROM v_actor_pairs") == [
        (date(2021, 9, 1), "RUS", None, "REJECT", 1)]
    assert fetch(db, "SELECT speaker_key, speaker, speaker_country, quotes FROM v_quotes_by_speaker") == [
        ("person:truss", "Liz Truss", "GBR", 1)]
    # offsets point into the stored article text
    (text,) = fetch(db, "SELECT text FROM articles WHERE article_id = ?", [aid])[0]
    for start, end, trigger in fetch(db, "SELECT trigger_start, trigger_end, trigger FROM events"):
        assert text[start:end] == trigger
    for start, end, quoted in fetch(db, "SELECT start_offset, end_offset, text FROM quotes"):
        assert text[start:end] == quoted


def test_replace_by_article_leaves_no_stale_rows(db: Path) -> None:
    a1, a2 = article(1).article_id, article(2).article_id
    load_enrichment(db, [a1], _rows(a1))
    load_enrichment(db, [a2], _rows(a2, "Iran rejected the proposal."))
    load_enrichment(db, [a1], _rows(a1))  # idempotent
    assert fetch(db, "SELECT article_id, count(*) FROM events GROUP BY 1 ORDER BY 1") == sorted(
        [(a1, 2), (a2, 1)])
    # the rules changed and article 1 now yields nothing: its old rows go, article 2 keeps its own
    load_enrichment(db, [a1], {})
    for table in ("entities", "mentions", "events", "quotes"):
        assert fetch(db, f"SELECT count(*) FROM {table} WHERE article_id = ?", [a1]) == [(0,)]
    assert fetch(db, "SELECT count(*) FROM events WHERE article_id = ?", [a2]) == [(1,)]


def test_loader_accepts_arrow_and_refuses_strays(db: Path) -> None:
    aid = article(1).article_id
    rows = _rows(aid)
    arrow = {t: to_arrow(t, r) for t, r in rows.items()}
    assert isinstance(arrow["events"], pa.Table)
    assert load_enrichment(db, [aid], arrow)["events"] == 2
    with pytest.raises(ValueError, match="not being replaced"):
        load_enrichment(db, [article(2).article_id], rows)
    with pytest.raises(ValueError, match="unknown columns"):
        to_arrow("quotes", [{"quote_id": "q", "speaker": "x"}])
    # a failed load changes nothing
    assert fetch(db, "SELECT count(*) FROM events") == [(2,)]


def test_check_constraints_guard_the_vocabularies(db: Path) -> None:
    aid = article(1).article_id
    rows = _rows(aid)
    rows["events"][0]["event_type"] = "HUG"
    with pytest.raises(Exception, match=r"(?i)constraint"):
        load_enrichment(db, [aid], rows)
