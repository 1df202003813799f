"""Event coder tables (migration 005): replace-by-article loading and the analyst views."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from extractors.events import enrich
from tests.support.factories import article, run_record
from warehouse.batch import Batch, models_to_arrow
from warehouse.db import connect_read, connect_write
from warehouse.events import load_enrichment, replace_enrichment, to_arrow
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


_OLD_KEYS = {"entities": ("article_id", "entity_id"), "mentions": ("article_id", "start_offset"),
             "events": ("event_id",), "quotes": ("quote_id",)}


def _all_rows(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_a_database_at_migration_10_upgrades_to_keyless_event_tables(db_path: Path) -> None:
    """Migration 011 rebuilds the four event-coder tables without their PRIMARY KEY (ART) indexes: every
    row stays, the checks still guard the values, the views read the same, and replace-by-article
    loading still leaves one row per former key however often an article is loaded."""
    from warehouse.migrate import migrate, schema_version

    db_path.parent.mkdir(parents=True, exist_ok=True)
    old = duckdb.connect(str(db_path))
    migrate(old, up_to=10)  # the database as release 10 left it
    a1, a2 = article(1).article_id, article(2).article_id
    old.register("_arts", models_to_arrow("articles", [article(1, text=TEXT, published=PUB), article(2)]))
    old.execute("INSERT INTO articles BY NAME SELECT * FROM _arts")  # coder rows need their articles
    replace_enrichment(old, [a1, a2], {t: _rows(a1)[t] + _rows(a2, "Iran rejected the proposal by Russia.")[t]
                                       for t in ("entities", "mentions", "events", "quotes")})
    keyed = ("SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
             "AND table_name IN ('entities', 'mentions', 'events', 'quotes') ORDER BY 1")
    assert old.execute(keyed).fetchall() == [("entities",), ("events",), ("mentions",), ("quotes",)]
    before = {t: _all_rows(old, t) for t in ("entities", "mentions", "events", "quotes")}
    speakers = old.execute("SELECT * FROM v_quotes_by_speaker ORDER BY ALL").fetchall()
    assert all(before.values()) and speakers
    old.close()

    c = connect_write(db_path)  # migrates
    try:
        assert schema_version(c) >= 11
        assert c.execute(keyed).fetchall() == []
        assert c.execute("SELECT count(*) FROM duckdb_indexes() WHERE table_name IN ('entities', 'mentions', 'events', 'quotes')"
                         ).fetchall() == [(0,)]
        assert {t: _all_rows(c, t) for t in before} == before
        assert c.execute("SELECT * FROM v_quotes_by_speaker ORDER BY ALL").fetchall() == speakers
        with pytest.raises(duckdb.ConstraintException):
            c.execute("INSERT INTO entities SELECT * REPLACE ('bogus' AS kind) FROM entities LIMIT 1")
        with pytest.raises(duckdb.ConstraintException):
            c.execute("INSERT INTO mentions SELECT * REPLACE (NULL AS article_id) FROM mentions LIMIT 1")
        with pytest.raises(duckdb.ConstraintException):
            c.execute("INSERT INTO quotes SELECT * REPLACE (NULL AS quote_id) FROM quotes LIMIT 1")
        with pytest.raises(duckdb.ConstraintException):
            c.execute("INSERT INTO events SELECT * REPLACE ('HUG' AS event_type) FROM events LIMIT 1")
        # the same article loaded again, and twice within one batch: still one row per former key
        rows = _rows(a1)
        replace_enrichment(c, [a1], rows)
        replace_enrichment(c, [a1, a1], {t: rows[t] + rows[t] for t in rows})
        for table, key in _OLD_KEYS.items():
            cols = ", ".join(key)
            assert c.execute(f"SELECT {cols} FROM {table} GROUP BY ALL HAVING count(*) > 1").fetchall() == []
        assert {t: _all_rows(c, t) for t in before} == before
    finally:
        c.close()


# --- the load's replace: deletes only where old rows can exist ----------------------------------

OTHER = ("Iran rejected the proposal by Russia on Monday.\n"
         "“We will not negotiate under pressure,” the minister said.\n")
_TABLES = ("entities", "mentions", "events", "quotes")


def _coded(arts: list, texts: dict[str, str] | None = None) -> tuple[list[str], dict[str, list[dict]]]:
    rows: dict[str, list[dict]] = {}
    for a in arts:
        text = (texts or {}).get(a.article_id, a.text)
        for t, got in enrich(text, article_id=a.article_id, published_at=PUB).table_rows().items():
            rows.setdefault(t, []).extend(got)
    return [a.article_id for a in arts], rows


def _load_coded(db: Path, arts: list, *, replace: bool = False, staging: Path,
                texts: dict[str, str] | None = None) -> None:
    ids, rows = _coded(arts, texts)
    load_batch(db, Batch(articles=arts, enriched_ids=ids, enrichment=rows, replace=replace), staging_dir=staging)


def _rows_of(db: Path, aid: str) -> dict[str, list[tuple]]:
    return {t: fetch(db, f"SELECT * EXCLUDE (article_id) FROM {t} WHERE article_id = ? ORDER BY ALL", [aid])
            for t in _TABLES}


def _expected(aid: str, text: str) -> dict[str, int]:
    return {t: len(r) for t, r in enrich(text, article_id=aid, published_at=PUB).table_rows().items()}


def _counts(db: Path, aid: str) -> dict[str, int]:
    return {t: fetch(db, f"SELECT count(*) FROM {t} WHERE article_id = ?", [aid])[0][0] for t in _TABLES}


class _Recorder:
    """A write connection that remembers the SQL it ran."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn, self.sql = conn, []

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        self.sql.append(sql)
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)


def test_a_load_deletes_coder_rows_only_of_articles_stored_before_it(db_path: Path, tmp_path: Path) -> None:
    from warehouse.load import apply_tables

    stored = article(1, text=TEXT, published=PUB)
    load_batch(db_path, Batch(articles=[stored]), staging_dir=tmp_path / "staging")
    new = article(7, text=OTHER, published=PUB)

    def load(arts: list) -> list[str]:
        ids, rows = _coded(arts)
        conn = connect_write(db_path)
        try:
            rec = _Recorder(conn)
            apply_tables(rec, Batch(articles=arts, enriched_ids=ids, enrichment=rows).to_arrow())  # type: ignore[arg-type]
        finally:
            conn.close()
        return [s for s in rec.sql if s.lstrip().upper().startswith("DELETE")]

    assert load([new]) == []  # nothing of it can be stored yet: no table scanned for it
    deletes = load([new, stored])  # both are stored now: both replaced
    assert {t for t in _TABLES if any(f"DELETE FROM {t} " in s for s in deletes)} == set(_TABLES)
    for a in (stored, new):
        assert _counts(db_path, a.article_id) == _expected(a.article_id, a.text)


def test_loading_the_same_coded_batch_again_keeps_one_copy_of_each_row(db_path: Path, tmp_path: Path) -> None:
    arts = [article(1, text=TEXT, published=PUB), article(7, text=OTHER, published=PUB)]
    _load_coded(db_path, arts, staging=tmp_path / "staging")
    first = {a.article_id: _rows_of(db_path, a.article_id) for a in arts}
    assert all(first[a.article_id]["events"] for a in arts)
    _load_coded(db_path, arts, staging=tmp_path / "staging")  # stored now: replaced, not added
    _load_coded(db_path, arts + arts, staging=tmp_path / "staging")  # twice within one batch
    assert {a.article_id: _rows_of(db_path, a.article_id) for a in arts} == first


def test_an_updated_article_loses_its_old_coder_rows(db_path: Path, tmp_path: Path) -> None:
    """A stored article whose text changed is deleted and inserted again by the load (its old row
    goes to article_versions): it is not new, so its old events must still be deleted."""
    old = article(1, text=TEXT, published=PUB)
    _load_coded(db_path, [old], staging=tmp_path / "staging")
    assert _counts(db_path, old.article_id)["events"] == 2
    updated = old.model_copy(update={"text": OTHER, "content_hash": "changed",
                                     "fetched_at": old.fetched_at + timedelta(hours=1)})
    _load_coded(db_path, [updated], staging=tmp_path / "staging")
    assert fetch(db_path, "SELECT version FROM articles WHERE article_id = ?", [old.article_id]) == [(2,)]
    assert _counts(db_path, old.article_id) == _expected(old.article_id, OTHER)
    assert fetch(db_path, "SELECT trigger FROM events WHERE article_id = ? ORDER BY 1", [old.article_id]) == \
        sorted((e["trigger"],) for e in enrich(OTHER, article_id=old.article_id, published_at=PUB).table_rows()["events"])


def test_a_replace_load_and_a_coder_only_load_replace_stored_rows(db_path: Path, tmp_path: Path) -> None:
    a = article(1, text=TEXT, published=PUB)
    _load_coded(db_path, [a], staging=tmp_path / "staging")
    # re-extraction (replace batch) of the same article, the coder now finding the other text's events
    _load_coded(db_path, [a], replace=True, staging=tmp_path / "staging", texts={a.article_id: OTHER})
    assert _counts(db_path, a.article_id) == _expected(a.article_id, OTHER)
    # ``reprocess --enrich``: coder rows without their article in the batch
    ids, rows = _coded([a])
    load_batch(db_path, Batch(enriched_ids=ids, enrichment=rows), staging_dir=tmp_path / "staging")
    assert _counts(db_path, a.article_id) == _expected(a.article_id, TEXT)


def test_coder_rows_of_an_article_not_stored_are_refused(db: Path, tmp_path: Path) -> None:
    """What makes skipping the new articles' deletes safe: no coder row outlives or precedes its article."""
    ghost = article(9, text=TEXT, published=PUB)
    ids, rows = _coded([ghost])
    with pytest.raises(ValueError, match="not stored"):
        load_enrichment(db, ids, rows)
    with pytest.raises(ValueError, match="not stored"):
        load_batch(db, Batch(enriched_ids=ids, enrichment=rows), staging_dir=tmp_path / "staging")
    assert fetch(db, "SELECT count(*) FROM events") == [(0,)]
    load_enrichment(db, ids, {})  # no rows: nothing to refuse
    # once the article is stored, a load of it with its rows leaves one copy
    _load_coded(db, [ghost], staging=tmp_path / "staging")
    _load_coded(db, [ghost], staging=tmp_path / "staging")
    assert _counts(db, ghost.article_id) == _expected(ghost.article_id, TEXT)
