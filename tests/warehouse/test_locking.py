"""Another process holding the file: loads stage to Parquet, readers get a clear error, nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.factories import article, link, reject, run_record
from warehouse.batch import Batch
from warehouse.db import DatabaseLocked, connect_read, connect_write
from warehouse.load import load_batch, load_staged
from warehouse.queries import database_status, known_article_ids
from warehouse.runlock import RunInProgress, run_lock
from warehouse.staging import iter_staged, stage_batch

HOLD_DB = textwrap.dedent(
    """
    import sys, duckdb
    conn = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
    conn.execute("SELECT 1").fetchall()
    print("holding", flush=True)
    sys.stdin.read()  # hold until the test closes our stdin
    conn.close()
    """
)

HOLD_RUNLOCK = textwrap.dedent(
    """
    import sys
    from warehouse.runlock import run_lock
    with run_lock(sys.argv[1]):
        print("holding", flush=True)
        sys.stdin.read()
    """
)


@contextmanager
def holder(script: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """Run ``script`` in another process and wait until it reports that it holds the lock."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "holding":
            raise AssertionError(f"holder did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        yield proc
    finally:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()
        proc.wait(timeout=20)


def batch_of(ids: range, run_id: str) -> Batch:
    arts = [article(i, run_id=run_id) for i in ids]
    return Batch(run=run_record(run_id), articles=arts, links=[link(a, run_id=run_id) for a in arts],
                 rejects=[reject(ids.start, run_id=run_id)])


def article_count(db: Path) -> tuple[int, int]:
    conn = connect_read(db)
    try:
        return conn.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize("mode", ["rw", "ro"])
def test_locked_file_stages_the_batch_and_next_run_loads_it_once(db_path: Path, tmp_path: Path, mode: str) -> None:
    staging = tmp_path / "staging"
    load_batch(db_path, batch_of(range(0, 3), "run-0"), staging_dir=staging)
    blocked = batch_of(range(3, 8), "run-1")

    with holder(HOLD_DB, str(db_path), mode) as proc:
        result = load_batch(db_path, blocked, staging_dir=staging)
        assert result.status == "staged" and result.path is not None
        assert result.path.parent == staging and (result.path / "articles.parquet").is_file()
        assert str(proc.pid) in (result.error or "")
        # while still locked, load_staged leaves the batch where it is
        still = load_staged(db_path, staging)
        assert [r.status for r in still] == ["staged"]
        assert list(iter_staged(staging)) == [result.path]

    loaded = load_staged(db_path, staging)
    assert [(r.status, r.articles_new, r.links_new, r.rejects_new, r.runs_written) for r in loaded] == [
        ("loaded", 5, 5, 1, 1)]
    assert list(iter_staged(staging)) == []
    assert article_count(db_path) == (8, 8)
    assert known_article_ids(db_path, [a.article_id for a in blocked.articles]) == {
        a.article_id for a in blocked.articles}
    assert load_staged(db_path, staging) == []  # exactly once
    assert article_count(db_path) == (8, 8)


def test_connect_read_names_the_file_and_the_holder(db_path: Path) -> None:
    connect_write(db_path).close()
    with holder(HOLD_DB, str(db_path), "rw") as proc:
        with pytest.raises(DatabaseLocked) as info:
            connect_read(db_path)
        assert info.value.pid == proc.pid
        message = str(info.value)
        assert str(db_path) in message and f"PID {proc.pid}" in message and "locked" in message
        assert database_status(db_path) == "locked"
        assert known_article_ids(db_path, ["x" * 32]) == set()  # lenient by default
        with pytest.raises(DatabaseLocked):
            known_article_ids(db_path, ["x" * 32], strict=True)
    assert database_status(db_path) == "ok"


def test_readers_do_not_block_each_other(db_path: Path) -> None:
    load_batch(db_path, batch_of(range(2), "run-0"))
    with holder(HOLD_DB, str(db_path), "ro"):
        assert article_count(db_path) == (2, 2)


def test_same_process_conflicting_mode_counts_as_locked(db_path: Path, tmp_path: Path) -> None:
    load_batch(db_path, batch_of(range(2), "run-0"))
    reader = connect_read(db_path)
    try:
        result = load_batch(db_path, batch_of(range(2, 4), "run-1"), staging_dir=tmp_path / "st")
        assert result.status == "staged"
    finally:
        reader.close()
    assert [r.status for r in load_staged(db_path, tmp_path / "st")] == ["loaded"]
    assert article_count(db_path) == (4, 4)


def test_a_second_writer_in_the_same_process_counts_as_locked(db_path: Path, tmp_path: Path) -> None:
    # the writer attaches the file; DuckDB refuses a second handle on it within one process
    load_batch(db_path, batch_of(range(2), "run-0"))
    writer = connect_write(db_path)
    try:
        result = load_batch(db_path, batch_of(range(2, 4), "run-1"), staging_dir=tmp_path / "st")
        assert result.status == "staged"
        with pytest.raises(DatabaseLocked, match="this process"):
            connect_read(db_path)
    finally:
        writer.close()
    assert [r.status for r in load_staged(db_path, tmp_path / "st")] == ["loaded"]
    assert article_count(db_path) == (4, 4)


def test_staged_batches_load_oldest_first_and_a_failing_one_stays(db_path: Path, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    load_batch(db_path, batch_of(range(1), "run-0"))
    good_early = stage_batch(batch_of(range(10, 12), "run-1").to_arrow(), staging, "early")
    bad_article = article(20).model_copy(update={"origin": "carrier-pigeon"})  # violates the table's CHECK
    failing = stage_batch(Batch(articles=[bad_article]).to_arrow(), staging, "failing")
    corrupt = stage_batch(batch_of(range(30, 31), "run-3").to_arrow(), staging, "corrupt")
    (corrupt / "articles.parquet").write_bytes(b"PAR1 not really parquet")
    good_late = stage_batch(batch_of(range(40, 43), "run-4").to_arrow(), staging, "late")

    results = load_staged(db_path, staging)
    assert [(r.batch_id, r.status) for r in results] == [
        ("early", "loaded"), ("failing", "failed"), ("corrupt", "failed"), ("late", "loaded")]
    assert article_count(db_path) == (6, 6)
    assert failing.is_dir() and list(iter_staged(staging)) == [failing]  # kept for the next run
    assert not corrupt.exists() and corrupt.with_name(corrupt.name + ".failed").is_dir()  # set aside, not deleted
    assert not good_early.exists() and not good_late.exists()

    again = load_staged(db_path, staging)
    assert [(r.batch_id, r.status) for r in again] == [("failing", "failed")]
    assert article_count(db_path) == (6, 6)


def test_run_lock_excludes_another_process(db_path: Path) -> None:
    with holder(HOLD_RUNLOCK, str(db_path)) as proc:
        with pytest.raises(RunInProgress) as info, run_lock(db_path, wait_seconds=0.3):
            pass
        assert f"PID {proc.pid}" in str(info.value)
        assert info.value.waited >= 0.3
    with run_lock(db_path):  # released when the holder exits
        pass


def test_run_lock_excludes_a_second_holder_in_the_same_process(db_path: Path) -> None:
    with run_lock(db_path) as lock_file:
        assert lock_file.name == db_path.name + ".lock"
        with pytest.raises(RunInProgress, match="in progress"), run_lock(db_path):
            pass
    with run_lock(db_path):
        pass


def test_run_lock_waits_for_release(db_path: Path) -> None:
    proc_ctx = holder(HOLD_RUNLOCK, str(db_path))
    proc = proc_ctx.__enter__()
    import threading

    release = threading.Timer(0.3, lambda: proc.stdin.close() if proc.stdin else None)
    release.start()
    try:
        with run_lock(db_path, wait_seconds=15):
            pass
    finally:
        release.join()
        proc_ctx.__exit__(None, None, None)
