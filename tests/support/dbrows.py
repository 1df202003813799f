"""Read a test's DuckDB file the way an analyst would: a short read-only connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
