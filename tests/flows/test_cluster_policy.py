"""The cluster's fault policy as plain functions: which failures mean "the scheduler went away"
(the shards are submitted again) and how many such losses a run survives."""

from __future__ import annotations

import concurrent.futures

import pytest

from flows.cluster import (
    SCHEDULER_LOSSES,
    ClusterLost,
    ClusterUnavailable,
    after_failure,
    lost_scheduler,
    reconnect,
    survives,
)


def test_a_future_cancelled_for_a_lost_connection_is_a_scheduler_loss() -> None:
    from distributed.client import FutureCancelledError

    exc = FutureCancelledError("k", reason="scheduler-connection-lost", msg="gone")
    assert lost_scheduler(exc, "running")  # even once the client is back
    assert lost_scheduler(exc, "connecting")
    # a restarted scheduler cancels keys it no longer knows (seen in the restart test, by timing)
    assert lost_scheduler(FutureCancelledError("k", reason="lost dependencies"), "running")


def test_a_closed_dask_connection_is_a_loss_even_after_the_client_reconnected() -> None:
    from distributed.comm.core import CommClosedError

    # seen in a fresh-clone CI run: gathering from a worker that went with the killed scheduler
    assert lost_scheduler(CommClosedError("in <TCP (closed) Gather local=tcp://127.0.0.1:1>"), "running")
    assert not lost_scheduler(OSError("archive unreadable"), "running")  # a plain OSError with a live client is the shard's


def test_a_shard_that_fails_by_itself_is_not_a_scheduler_loss() -> None:
    from distributed.client import FutureCancelledError

    assert not lost_scheduler(ValueError("bad record"), "running")
    assert not lost_scheduler(ValueError("bad record"), "connecting")  # its own error, whatever the client does
    # cancelled by someone, the client connected: not a loss either
    assert not lost_scheduler(FutureCancelledError("k", reason="user"), "running")
    # cancelled or cut off while the client has no scheduler: a loss
    assert lost_scheduler(concurrent.futures.CancelledError(), "connecting")
    assert lost_scheduler(OSError("connection reset"), "closed")


def test_a_run_survives_a_bounded_number_of_scheduler_losses() -> None:
    assert all(survives(n) for n in range(1, SCHEDULER_LOSSES + 1))
    assert not survives(SCHEDULER_LOSSES + 1)
    assert survives(1, limit=1) and not survives(2, limit=1)
    assert not survives(1, limit=0)  # a limit of 0: the first loss fails the run


def test_a_scheduler_that_does_not_come_back_fails_the_run_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import flows.cluster

    monkeypatch.setattr(flows.cluster, "CONNECT_TIMEOUT", 0.5)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ClusterLost, match=rf"dask://127\.0\.0\.1:{port}.*within 1s.*rerun") as err:
        reconnect(f"tcp://127.0.0.1:{port}", within=1.0)
    assert isinstance(err.value, ClusterUnavailable)  # the CLI reports it as it reports an unreachable scheduler


def test_after_a_failure_a_shards_own_error_is_raised_and_one_loss_too_many_gives_up() -> None:
    from types import SimpleNamespace

    connected = SimpleNamespace(status="running")
    own = ValueError("bad record")
    with pytest.raises(ValueError, match="bad record"):
        after_failure(own, connected, "tcp://127.0.0.1:1", 0)
    cut = OSError("connection reset")
    with pytest.raises(ClusterLost, match=rf"{SCHEDULER_LOSSES + 1} times in one run; giving up \(a rerun\)"):
        after_failure(cut, SimpleNamespace(status="closed"), "tcp://127.0.0.1:1", SCHEDULER_LOSSES, " (a rerun)")
