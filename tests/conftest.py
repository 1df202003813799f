"""Shared fixtures: isolated settings, a temp database, one Prefect test harness per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Tests talk to servers on 127.0.0.1, so lift the private-network guard for the suite
# (tests of the guard itself pass allow_private explicitly).
os.environ.setdefault("NEWSFLOW_ALLOW_PRIVATE_NETWORKS", "true")
os.environ.setdefault("NEWSFLOW_RESPECT_ROBOTS", "true")
os.environ.setdefault("NEWSFLOW_PER_HOST_DELAY", "0")
os.environ.setdefault("NEWSFLOW_RETRY_BACKOFF", "0.05")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# the CLI would use a Prefect server answering on 127.0.0.1:4200 (`make serve`); tests use their own
os.environ.setdefault("NEWSFLOW_PREFECT_PROBE", "false")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "newsflow.duckdb"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One ephemeral Prefect API for the whole session (it takes 10-20 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED
