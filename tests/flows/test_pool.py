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


# a process that used the pool, then ends as the CLI ends a flow command (``os._exit``)
_ENDS_LIKE_THE_CLI = """
import os, sys
from multiprocessing import resource_tracker
from flows import pool

assert pool.get_pool(1).submit(abs, -3).result(timeout=120) == 3
tracker = resource_tracker._resource_tracker._pid
pool.shutdown_pool()
pool.stop_forkserver()
gone = pool.stop_resource_tracker()
print(tracker, gone, pool.stop_resource_tracker(), flush=True)
os._exit(0)
"""


def test_a_process_ending_after_the_pool_leaves_no_resource_tracker_behind() -> None:
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", _ENDS_LIKE_THE_CLI], capture_output=True, text=True, timeout=240,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    tracker, gone, again = done.stdout.split()
    assert (gone, again) == ("True", "True")  # stopped and reaped; a second call finds nothing to stop
    # reaped by the process itself before it ended: not left running (holding its stderr) after it
    assert not (Path("/proc") / tracker).exists()
    assert "leaked" not in done.stderr, done.stderr[-2000:]
