"""The fan-out's decisions (flows/fanout.py): which runs to start again, under which key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.fanout import MAX_ATTEMPTS, SILENT_HEARTBEATS, look_for_output, run_key, verdict, worker_alive

SEED = Path(__file__).resolve().parents[2] / "data" / "seed_archive"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def test_keys_are_deterministic_and_differ_by_run_work_and_attempt() -> None:
    assert run_key("run1", "abc", 1) == run_key("run1", "abc", 1)
    keys = {run_key(s, w, a) for s in ("run1", "run2") for w in ("abc", "abd", "commit") for a in (1, 2)}
    assert len(keys) == 12


def test_a_finished_batch_is_done_whatever_its_run_says() -> None:
    for state in ("RUNNING", "CRASHED", "FAILED", "COMPLETED", "PENDING", None):
        assert verdict(state, finished=True, alive=False, attempt=MAX_ATTEMPTS) == "done"


@pytest.mark.parametrize("state", ["FAILED", "CRASHED", "CANCELLED", None])
def test_a_run_that_ended_badly_is_resubmitted_until_the_attempts_run_out(state: str | None) -> None:
    assert verdict(state, finished=False, alive=True, attempt=1) == "resubmit"
    assert verdict(state, finished=False, alive=True, attempt=MAX_ATTEMPTS - 1) == "resubmit"
    assert verdict(state, finished=False, alive=True, attempt=MAX_ATTEMPTS) == "give_up"


def test_a_completed_run_without_its_batch_counts_as_failed() -> None:
    assert verdict("COMPLETED", finished=False, alive=True, attempt=1) == "resubmit"


@pytest.mark.parametrize("state", ["PENDING", "RUNNING", "CANCELLING"])
def test_a_run_held_by_a_vanished_worker_is_resubmitted(state: str) -> None:
    assert verdict(state, finished=False, alive=False, attempt=1) == "resubmit"
    assert verdict(state, finished=False, alive=False, attempt=MAX_ATTEMPTS) == "give_up"
    # a live worker, or one we know nothing about, keeps its run
    assert verdict(state, finished=False, alive=True, attempt=1) == "wait"
    assert verdict(state, finished=False, alive=None, attempt=1) == "wait"


@pytest.mark.parametrize("state", ["SCHEDULED", "PAUSED"])
def test_a_run_not_yet_taken_waits_even_without_workers(state: str) -> None:
    assert verdict(state, finished=False, alive=False, attempt=1) == "wait"


def test_the_database_is_looked_at_only_when_no_commit_run_may_be_writing_it() -> None:
    # a lake batch (not exclusive) may be looked for whatever its run does
    for state in ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", None):
        assert look_for_output(state, alive=True, exclusive=False)
    # the DuckDB file: opening it to read while the commit run opens it to write fails that run
    # (seen under load: the commit run FAILED once, locked, and ran again)
    for state in ("SCHEDULED", "PAUSED", "PENDING", "RUNNING", "CANCELLING"):
        assert not look_for_output(state, alive=True, exclusive=True), state
        assert not look_for_output(state, alive=None, exclusive=True), state
    for state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED", None):
        assert look_for_output(state, alive=True, exclusive=True), state
    # held by a worker that is gone: look (a commit that finished before it went is not repeated)
    assert look_for_output("RUNNING", alive=False, exclusive=True)


def test_a_worker_is_gone_after_missing_several_heartbeats() -> None:
    interval = 5.0
    assert worker_alive(NOW - timedelta(seconds=interval), interval, NOW) is True
    assert worker_alive(NOW - timedelta(seconds=SILENT_HEARTBEATS * interval), interval, NOW) is True
    assert worker_alive(NOW - timedelta(seconds=SILENT_HEARTBEATS * interval + 1), interval, NOW) is False
    assert worker_alive(None, interval, NOW) is None
    assert worker_alive(NOW, None, NOW) is None


def test_the_prefect_executor_without_a_prefect_server_is_one_line_at_start_up(tmp_path: Path) -> None:
    from newsflow.cli import EXIT_CONFIG
    from tests.support.cli import child_env, newsflow, one_line_error

    env = {k: v for k, v in child_env(NEWSFLOW_PREFECT_PROBE="false").items() if k != "PREFECT_API_URL"}
    db = tmp_path / "n.duckdb"
    proc = newsflow("backfill", str(SEED), "--db", str(db), "--executor", "prefect", env=env)
    line = one_line_error(proc)
    assert proc.returncode == EXIT_CONFIG
    assert "NEWSFLOW_EXECUTOR=prefect" in line and "PREFECT_API_URL" in line, line
    assert not db.exists()


def test_a_commit_run_against_a_held_database_fails_so_the_fanout_tries_again(tmp_path: Path) -> None:
    from flows.fanout import lake_commit
    from tests.support.cli import hold_database
    from warehouse.db import DatabaseLocked, connect_write

    db = tmp_path / "n.duckdb"
    connect_write(db).close()
    holder = hold_database(db, "rw")
    try:
        with pytest.raises(DatabaseLocked, match="is locked") as raised:
            lake_commit.fn(str(db), f"file://{tmp_path / 'lake'}", batch_ids=["0" * 32])
        assert raised.value.path == db and raised.value.detail == "1 lake batch(es) not loaded"
    finally:
        holder.release()
    assert lake_commit.fn(str(db), f"file://{tmp_path / 'lake'}", batch_ids=[]) == {"committed": [], "articles": 0}
