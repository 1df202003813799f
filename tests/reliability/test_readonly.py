"""Scenario 9 — read-only analysts: ``newsflow query`` cannot change the warehouse or write files.

Every statement runs as a real ``newsflow query`` subprocess (concurrently: read-only connections
do not exclude each other). Afterwards the database file is byte-for-byte unchanged and no file
has appeared anywhere in the test directory.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.support.cli import ROOT, child_env
from tests.support.factories import article, link, raw_page, run_record
from warehouse.batch import Batch
from warehouse.load import load_batch


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _queries(db: Path, statements: dict[str, str]) -> dict[str, subprocess.CompletedProcess[str]]:
    procs = {name: subprocess.Popen([sys.executable, "-m", "newsflow", "--db", str(db), "query", sql],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                    env=child_env())
             for name, sql in statements.items()}
    out = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        out[name] = subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
    return out


def _refusals(results: dict[str, subprocess.CompletedProcess[str]]) -> list[str]:
    problems = []
    for name, proc in results.items():
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        if proc.returncode == 0:
            problems.append(f"{name}: accepted (stdout {proc.stdout.strip()[:200]!r})")
        elif "Traceback" in proc.stderr or len(lines) != 1:
            problems.append(f"{name}: not a one-line refusal: {proc.stderr[:300]!r}")
    return problems


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "wh" / "news.duckdb"
    arts = [article(i) for i in range(20)]
    load_batch(db, Batch(run=run_record("run-1"), articles=arts, links=[link(a) for a in arts],
                         raw_pages=[raw_page(a) for a in arts[:5]]))
    other = tmp_path / "wh" / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    return db


def test_query_refuses_every_change_to_the_warehouse(warehouse: Path, tmp_path: Path) -> None:
    other = warehouse.parent / "other.duckdb"
    statements = {
        "insert": "INSERT INTO runs (run_id, flow, started_at, status) VALUES ('x', 'hourly_ingest', now(), 'completed')",
        "update": "UPDATE articles SET title = 'defaced'",
        "delete": "DELETE FROM articles",
        "drop": "DROP TABLE articles",
        "drop view": "DROP VIEW v_articles",
        "create": "CREATE TABLE loot AS SELECT * FROM articles",
        "alter": "ALTER TABLE articles ADD COLUMN pwned INTEGER",
        "select then drop": "SELECT 1; DROP TABLE articles",
        "attach a new file": f"ATTACH '{tmp_path / 'new.duckdb'}' AS n",
        "attach then write": f"ATTACH '{other}' AS o; INSERT INTO o.t VALUES (1)",
    }
    db_before, files_before = _sha(warehouse), _tree(tmp_path)
    results = _queries(warehouse, {**statements, "read": "SELECT count(*) AS n FROM articles"})
    read = results.pop("read")
    assert read.returncode == 0 and "20" in read.stdout, read.stderr  # reading works alongside
    problems = _refusals(results)
    assert not problems, "\n".join(problems)
    # one representative message says why
    assert "read-only" in results["insert"].stderr
    assert _sha(warehouse) == db_before
    assert _tree(tmp_path) == files_before, f"files appeared: {_tree(tmp_path) - files_before}"
    con = duckdb.connect(str(other), read_only=True)
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    con.close()


def test_query_cannot_write_or_read_other_files(warehouse: Path, tmp_path: Path) -> None:
    target = tmp_path / "exfil"
    other = warehouse.parent / "other.duckdb"
    statements = {
        "attach another database read-write": f"ATTACH '{other}' AS o (READ_WRITE); INSERT INTO o.t VALUES (1)",
        "copy to": f"COPY articles TO '{target}.csv'",
        "copy query to": f"COPY (SELECT text FROM articles) TO '{target}.parquet' (FORMAT parquet)",
        "export": f"EXPORT DATABASE '{target}-dir'",
        "read a local file": "SELECT content FROM read_text('/etc/hostname')",
        "re-enable files": "SET enable_external_access = true",
    }
    db_before, other_before, files_before = _sha(warehouse), _sha(other), _tree(tmp_path)
    results = _queries(warehouse, statements)
    assert _sha(warehouse) == db_before
    assert _tree(tmp_path) == files_before, f"files appeared: {_tree(tmp_path) - files_before}"
    assert _sha(other) == other_before, "another database file was written through ATTACH"
    problems = _refusals(results)
    assert not problems, "\n".join(problems)
