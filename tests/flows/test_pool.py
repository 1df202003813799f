"""The extraction pool: order kept, bounded in flight, and a dead worker does not poison later runs."""

from __future__ import annotations

import os
import signal
from concurrent.futures.process import BrokenProcessPool

import pytest

from flows.pool import executor_for, get_pool, map_ordered


def _square(x: int) -> int:
    return x * x


def _die(_: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def test_map_ordered_keeps_input_order_across_workers() -> None:
    assert list(map_ordered(_square, range(50), workers=2, chunksize=3, window=6)) == [x * x for x in range(50)]
    assert list(map_ordered(_square, iter(range(5)), workers=1)) == [0, 1, 4, 9, 16]


def test_a_killed_worker_breaks_one_call_not_the_next() -> None:
    pool = get_pool(2)
    fut = pool.submit(_die, 0)
    with pytest.raises(BrokenProcessPool, match="terminated abruptly"):
        fut.result(timeout=60)
    fresh = executor_for(2)
    assert fresh is not pool
    assert fresh.submit(_square, 7).result(timeout=60) == 49
