"""Migrations: applied in order, recorded, safe to re-run, atomic per file."""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb
import pytest

from warehouse.db import connect_write
from warehouse.migrate import Migration, MigrationError, available_migrations, migrate, schema_version

# The package re-exports the function ``migrate``; patch the module itself.
migrate_mod = importlib.import_module("warehouse.migrate")


def test_shipped_migrations_are_numbered_and_complete() -> None:
    found = available_migrations()
    versions = [m.version for m in found]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert versions[:2] == [1, 2]


def test_fresh_database_gets_every_table_and_view(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = duckdb.connect(str(db_path))
    applied = migrate(conn)
    assert applied == [m.label for m in available_migrations()]
    names = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for expected in ("feeds", "articles", "article_feeds", "raw_pages", "runs", "rejects", "archive_records",
                     "v_articles", "v_daily_counts", "v_feed_health", "schema_migrations"):
        assert expected in names
    recorded = conn.execute("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").fetchall()
    assert [(v, n) for v, n, _ in recorded] == [(m.version, m.name) for m in available_migrations()]
    assert all(ts is not None for _, _, ts in recorded)
    conn.close()


def test_rerun_is_a_no_op_and_keeps_data(db_path: Path) -> None:
    conn = connect_write(db_path)
    conn.execute("INSERT INTO runs (run_id, flow, started_at, status) VALUES ('r', 'hourly_ingest', now(), 'running')")
    assert migrate(conn) == []
    conn.close()
    conn = connect_write(db_path)  # start-up again: migrates nothing, data intact
    assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(available_migrations())
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    conn.close()


def test_failed_migration_rolls_back_and_is_not_recorded(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect_write(db_path)
    before = schema_version(conn)
    broken = Migration(before + 1, "broken", "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;")
    shipped = available_migrations()
    monkeypatch.setattr(migrate_mod, "available_migrations", lambda: [*shipped, broken])
    with pytest.raises(MigrationError, match="broken"):
        migrate(conn)
    assert schema_version(conn) == before
    tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "half_done" not in tables

    fixed = Migration(before + 1, "fixed", "CREATE TABLE half_done (x INTEGER);")
    monkeypatch.setattr(migrate_mod, "available_migrations", lambda: [*shipped, fixed])
    assert migrate(conn) == [fixed.label]
    assert schema_version(conn) == before + 1
    conn.close()


def test_database_newer_than_code_is_refused(db_path: Path) -> None:
    conn = connect_write(db_path)
    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')")
    with pytest.raises(MigrationError, match="newer"):
        migrate(conn)
    conn.close()


def test_a_database_can_be_left_at_an_older_version_and_upgraded_later(tmp_path: Path) -> None:
    # what the upgrade tests build: the file as an older release left it
    conn = duckdb.connect(str(tmp_path / "old.duckdb"))
    try:
        assert migrate(conn, up_to=5) == [m.label for m in available_migrations() if m.version <= 5]
        assert schema_version(conn) == 5
        assert migrate(conn, up_to=5) == []
        newest = available_migrations()[-1].version
        assert len(migrate(conn)) == newest - 5
        assert schema_version(conn) == newest
    finally:
        conn.close()
