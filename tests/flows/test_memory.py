"""flows/shared.py: release_free_memory hands the C heap's free pages back after a load."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from flows.shared import release_free_memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def test_it_is_safe_to_call_anywhere_and_says_what_it_did() -> None:
    first, again = release_free_memory(), release_free_memory()
    assert first in (True, False, None) and again in (True, False, None)
    if GLIBC:
        assert isinstance(first, bool)  # glibc has malloc_trim: it ran
    else:  # pragma: no cover - other platforms
        assert first is None


_FRAGMENTED_HEAP = """
import json, psutil
from flows.shared import release_free_memory
me = psutil.Process()
release_free_memory()
blocks, pins = [], []
for i in range(1500):  # ~96 MiB in 64 KiB blocks, below glibc's mmap threshold
    blocks.append(bytes([i % 251]) * (64 * 1024))
    pins.append(bytearray(600))
held = me.memory_info().rss
del blocks
before = me.memory_info().rss
released = release_free_memory()
print(json.dumps({"held": held, "before": before, "after": me.memory_info().rss, "released": released,
                  "pins": len(pins)}))
"""


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_freed_blocks_inside_the_heap_go_back_to_the_system() -> None:
    """Blocks freed in the middle of the heap (a small live object after each, so the heap's top
    cannot simply shrink) stay in the process's RSS until the heap is trimmed: what a load's freed
    batch looked like to the flow process. In a fresh interpreter, whose heap has not been shaped
    by other tests (glibc moves its mmap threshold as big blocks come and go)."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _FRAGMENTED_HEAP], capture_output=True, text=True, cwd=root,
                         check=True, timeout=120)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["held"] - got["before"] < 16 * 2**20  # freeing alone gave (almost) nothing back
    assert got["released"] is True
    assert got["before"] - got["after"] > 48 * 2**20, got


_ARROW_POOL = """
import json, sys
import pyarrow as pa
import flows.shared as shared
if sys.argv[1] == "off":
    shared.ARROW_MEMORY_POOL = None
before = pa.default_memory_pool().backend_name
shared.use_arrow_memory_pool()
system0 = pa.system_memory_pool().bytes_allocated()
table = pa.table({"text": ["word " * 200] * 2000})
print(json.dumps({"before": before, "after": pa.default_memory_pool().backend_name,
                  "system_bytes": pa.system_memory_pool().bytes_allocated() - system0, "rows": table.num_rows}))
"""


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_flow_process_builds_its_arrow_batches_on_the_system_allocator(setting: str) -> None:
    """Before each load the flow process points pyarrow at glibc's malloc (whose free pages
    release_free_memory returns) instead of its bundled allocator; ARROW_MEMORY_POOL = None
    leaves pyarrow's default. In a fresh interpreter: the pool is process-wide."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _ARROW_POOL, setting], capture_output=True, text=True, cwd=root,
                         check=True, timeout=120)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["before"] != "system"
    if setting == "on":
        assert got["after"] == "system" and got["system_bytes"] >= 2000 * 1000, got
    else:
        assert got["after"] == got["before"] and got["system_bytes"] == 0, got


def test_every_flow_load_sets_the_pool_before_the_batch_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_load (every flow's load) points pyarrow at the pool before the load task builds the
    batch's Arrow tables, and frees memory after it."""
    import flows.shared as shared
    from warehouse.batch import Batch
    from warehouse.load import LoadResult

    calls: list[str] = []

    def fake_load(batch: object, settings: object) -> LoadResult:
        calls.append("load")
        return LoadResult(status="loaded", batch_id="b")

    monkeypatch.setattr(shared, "use_arrow_memory_pool", lambda: calls.append("pool"))
    monkeypatch.setattr(shared, "release_free_memory", lambda: calls.append("release"))
    monkeypatch.setattr(shared, "load", fake_load)
    result = shared.run_load(Batch(), settings=None)  # type: ignore[arg-type]
    assert result.status == "loaded"
    assert calls == ["pool", "load", "release"]
