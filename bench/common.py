"""Shared plumbing for the benchmarks: results files, machine facts, RSS sampling, child runs.

Benchmarks report figures, they never assert them: every result is written to
``bench/results/<name>.json`` together with the machine it was measured on, and the
targets are compared as ratios measured side by side in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PY = sys.executable


def cores() -> int:
    """Cores this process may use (the affinity mask, not just the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    vm = psutil.virtual_memory()
    return {
        "cores": cores(),
        "cpu_count": os.cpu_count(),
        "memory_gib": round(vm.total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpu": _cpu_model(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover
        return -1.0


@contextmanager
def writer_row_groups(size: int | None) -> Iterator[None]:
    """Write connections opened inside attach the warehouse with ``size``-row groups.

    For benchmarks that compare row-group sizes side by side; ``None`` keeps the writer's own
    (``warehouse.db.WRITE_ROW_GROUP_SIZE``, read by every ``connect_write``).
    """
    import warehouse.db as db

    if size is None:
        yield
        return
    before = db.WRITE_ROW_GROUP_SIZE
    db.WRITE_ROW_GROUP_SIZE = size
    try:
        yield
    finally:
        db.WRITE_ROW_GROUP_SIZE = before


def save_result(name: str, data: dict[str, Any], results_dir: Path | None = None) -> Path:
    """Write one benchmark's figures (plus machine and time) and return the file."""
    out = results_dir or RESULTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    doc = {"benchmark": name, "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": machine(), **data}
    path = out / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return path


def say(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------- memory


@dataclass
class RssSampler:
    """Samples the summed RSS of a process tree in a thread; ``peak`` is the largest sum seen.

    Summing RSS counts pages shared between a parent and its forked children twice, so the
    figure is an upper bound on real use; the summed PSS (shared pages split between their
    sharers) is sampled too and is the closer figure.
    """

    pid: int
    interval: float = 0.1
    exclude: frozenset[int] = frozenset()
    peak: int = 0
    peak_main: int = 0
    peak_children: int = 0
    peak_pss: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _tree(self) -> tuple[int, int, int]:
        """(RSS of the root, summed RSS of its descendants, summed PSS of the whole tree)."""
        try:
            root = psutil.Process(self.pid)
            main = root.memory_info().rss
        except psutil.Error:
            return 0, 0, 0
        kids = 0
        pss = _pss(root)
        try:
            children = root.children(recursive=True)
        except psutil.Error:
            children = []
        for child in children:
            if child.pid in self.exclude:
                continue
            try:
                kids += child.memory_info().rss
            except psutil.Error:
                continue
            pss += _pss(child)
        return main, kids, pss

    def sample(self) -> None:
        main, kids, pss = self._tree()
        self.samples += 1
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_main = max(self.peak_main, main)
        self.peak_children = max(self.peak_children, kids)
        self.peak = max(self.peak, main + kids)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def as_dict(self) -> dict[str, Any]:
        mib = 2**20
        return {"peak_rss_mib": round(self.peak / mib, 1), "peak_main_rss_mib": round(self.peak_main / mib, 1),
                "peak_children_rss_mib": round(self.peak_children / mib, 1),
                "peak_pss_mib": round(self.peak_pss / mib, 1), "rss_samples": self.samples}


def _pss(proc: psutil.Process) -> int:
    """Proportional set size: shared pages split between the processes sharing them."""
    try:
        return int(getattr(proc.memory_full_info(), "pss", 0))
    except (psutil.Error, OSError):
        return 0


# --------------------------------------------------------------------------- child processes


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for flow runs: quiet Prefect, no telemetry, private addresses allowed."""
    env = dict(os.environ)
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_LOGGING_LEVEL=os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"),
        NEWSFLOW_ALLOW_PRIVATE_NETWORKS="true",
        PYTHONUNBUFFERED="1",
    )
    pp = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + pp if pp else "")
    env.update(extra or {})
    return env


@dataclass
class ChildRun:
    result: dict[str, Any]
    wall: float
    memory: dict[str, Any]
    returncode: int
    stderr_tail: str


def run_child(args: Sequence[str], *, env: Mapping[str, str], timeout: float = 1800,
              sample_rss: bool = False, cwd: Path | None = None) -> ChildRun:
    """Run ``python -m bench.child ARGS`` and return the JSON it writes, its wall time and peak RSS.

    The child runs with a fresh interpreter, pool and heap, like a real ``newsflow`` run or
    a deployed flow run; the parent samples its process tree's RSS when asked.
    """
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        out = Path(tmp) / "result.json"
        err_path = Path(tmp) / "stderr.txt"
        cmd = [PY, "-m", "bench.child", "--out", str(out), *args]
        t0 = time.perf_counter()
        with err_path.open("wb") as err:
            proc = subprocess.Popen(cmd, env=dict(env), cwd=str(cwd or ROOT), stdout=err, stderr=subprocess.STDOUT)
            sampler = RssSampler(proc.pid)
            try:
                if sample_rss:
                    with sampler:
                        rc = proc.wait(timeout=timeout)
                else:
                    rc = proc.wait(timeout=timeout)
            except BaseException:
                kill_tree(proc.pid)
                raise
        wall = time.perf_counter() - t0
        tail = err_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        if rc != 0 or not out.exists():
            raise RuntimeError(f"bench child {' '.join(args[:1])} failed (exit {rc}):\n{tail}")
        result = json.loads(out.read_text(encoding="utf-8"))
    return ChildRun(result=result, wall=wall, memory=sampler.as_dict() if sample_rss else {},
                    returncode=rc, stderr_tail=tail)


def tree_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) a running process and its living children have used so far,
    with the children it has already waited for; ``None`` when there is no such process."""
    if pid is None:
        return None
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return None
    total = 0.0
    for i, p in enumerate(family):
        with suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system + (t.children_user + t.children_system if i == 0 else 0.0)
    return total


def kill_tree(pid: int, grace: float = 5.0) -> None:
    """Terminate one process we started and everything it spawned."""
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in family:
        with suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(family, timeout=grace)
    for p in alive:
        with suppress(psutil.NoSuchProcess):
            p.kill()


# --------------------------------------------------------------------------- Prefect server


def _free_port(host: str = "127.0.0.1") -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextmanager
def prefect_server(home: Path, *, timeout: float = 180) -> Iterator[tuple[str, int]]:
    """A real ``prefect server start`` on 127.0.0.1 with its own PREFECT_HOME; yields (api_url, pid).

    This is what ``make serve`` runs: flows measured against it see the same API round trips
    as the deployed worker's flow runs.
    """
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in base_env().items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_CLI_PROMPT="false", PREFECT_API_URL=api)
    log = (home / "server.log").open("wb")
    prefect_bin = str(Path(PY).parent / "prefect")
    proc = subprocess.Popen([prefect_bin, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(api):
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited during start-up; see {home / 'server.log'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server not healthy after {timeout:.0f}s")
            time.sleep(0.5)
        yield api, proc.pid
    finally:
        kill_tree(proc.pid)
        log.close()


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None
