"""Numbered SQL migrations, applied in order and recorded in ``schema_migrations``.

Files live in the ``warehouse/migrations`` package data as ``NNN_name.sql``. Each pending file
runs in its own transaction together with its bookkeeping row, so a crash leaves the schema at
a recorded version and the next start-up simply carries on.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib.resources import files

import duckdb

_NAME = re.compile(r"^(\d{3,})_([A-Za-z0-9_]+)\.sql$")

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class MigrationError(Exception):
    """The migration files or the database's recorded schema are inconsistent."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.version:03d}_{self.name}"


def available_migrations() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    return list(_shipped_migrations())


@functools.cache
def _shipped_migrations() -> tuple[Migration, ...]:
    """Read once per process: every write connection checks the schema, and the files do not change."""
    found: dict[int, Migration] = {}
    for entry in files("warehouse").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations share version {version}: {found[version].label}, {entry.name}")
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return tuple(found[v] for v in sorted(found))


def applied_versions(conn: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Versions recorded in the database (empty when it has never been migrated)."""
    # duckdb_tables(), not information_schema.tables: the view costs ~20 ms of CPU on its first use in
    # a process (0.2 s of wall under load), at every command's first write connection
    exists = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations' AND schema_name = 'main'"
    ).fetchall()
    if not exists[0][0]:
        return {}
    rows = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    return {int(v): str(n) for v, n in rows}


def migrate(conn: duckdb.DuckDBPyConnection, *, up_to: int | None = None) -> list[str]:
    """Apply pending migrations in order; return the labels of those applied (empty if none).

    ``up_to``: stop after that version (a database as an older release left it, for upgrade tests)."""
    migrations = available_migrations()
    applied = applied_versions(conn)
    newest_known = migrations[-1].version if migrations else 0
    unknown = [v for v in applied if v > newest_known]
    if unknown:
        raise MigrationError(
            f"database schema is at version {max(unknown)}, newer than this code knows ({newest_known}); "
            "upgrade newsflow"
        )
    pending = [m for m in migrations if m.version not in applied and (up_to is None or m.version <= up_to)]
    if not pending:
        return []
    conn.execute(_BOOKKEEPING)
    done: list[str] = []
    for migration in pending:
        conn.begin()
        try:
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                [migration.version, migration.name],
            )
            conn.commit()
        except Exception as exc:
            conn.rollback()
            raise MigrationError(f"migration {migration.label} failed: {exc}") from exc
        done.append(migration.label)
    return done


def schema_version(conn: duckdb.DuckDBPyConnection) -> int:
    """Highest applied version, 0 for an empty database."""
    applied = applied_versions(conn)
    return max(applied) if applied else 0
