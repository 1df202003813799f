"""Real Prefect processes for the deployment integration test: server, CLI, worker.

Every process runs with a temporary PREFECT_HOME and an API on 127.0.0.1, so the user's
own Prefect profile and database are never touched, and every process started here is
killed with its children on the way out, even when the test fails.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
UUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def free_port() -> int:
    """A port nobody listens on right now (the server binds it moments later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_env(prefect_home: Path, api_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent environment minus any PREFECT_* setting, pointed at our own home and API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_CLI_PROMPT="false",
        DO_NOT_TRACK="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def kill_tree(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Terminate a process and everything it spawned (flow runs under a worker included)."""
    if proc.poll() is not None:
        return
    try:
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    for p in family:
        with suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(family, timeout=grace)
    for p in alive:
        with suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=grace)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()


def run_cli(args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float) -> str:
    """Run one `prefect` command; a failure raises with its whole output for the test report."""
    done = subprocess.run(
        [PREFECT, *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"`prefect {' '.join(args)}` exited {done.returncode}:\n{output}")
    return output


def wait_healthy(api_url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Poll /health until the server answers; give up early if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"prefect server exited {proc.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy after {timeout:.0f}s:\n{tail(log)}")


def tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class PrefectServer:
    api_url: str
    env: dict[str, str]
    log: Path


@contextmanager
def prefect_server(workdir: Path, timeout: float = 90.0,
                   extra: Mapping[str, str] | None = None) -> Iterator[PrefectServer]:
    """A real `prefect server start` on a free loopback port with a throwaway home.

    The scheduler service is off: the test checks the hourly schedule as stored on the
    deployment, and a run coming due mid-test must not start on the default settings.
    """
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    home = workdir / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    env = isolated_env(home, api_url)
    log = workdir / "prefect-server.log"
    server_env = dict(env, **(extra or {}))
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                PREFECT,
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-scheduler",
                "--no-ui",
            ],
            env=server_env,
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(api_url, proc, log, timeout)
        yield PrefectServer(api_url=api_url, env=env, log=log)
    finally:
        kill_tree(proc)


@contextmanager
def prefect_worker(
    pool: str, env: Mapping[str, str], cwd: Path, log: Path, *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`prefect worker start` for one pool (``args``: more options, e.g. ``--name``), killed
    (with its flow runs) on exit."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", pool, "--type", "process", *args],
            env=dict(env),
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        kill_tree(proc)


def flow_run_id_from(output: str) -> str:
    """The flow run id printed by `prefect deployment run`."""
    match = re.search(r"UUID:\s*(" + UUID_RE.pattern + ")", output) or UUID_RE.search(output)
    if match is None:
        raise AssertionError(f"no flow run id in `prefect deployment run` output:\n{output}")
    return match.group(1)


def deploy_all(env: Mapping[str, str], cwd: Path, timeout: float = 120.0,
               names: Sequence[str] | None = None) -> str:
    """`prefect --no-prompt deploy --all` from ``cwd`` (where prefect.yaml lives), or
    `deploy --name NAME` for each of ``names``; any non-zero exit fails."""
    commands = [["--all"]] if names is None else [["--name", name] for name in names]
    outputs = []
    for args in commands:
        output = run_cli(["--no-prompt", "deploy", *args], env, cwd, timeout)
        if "successfully created" not in output:
            raise AssertionError(f"`prefect deploy {' '.join(args)}` created no deployment:\n{output}")
        outputs.append(output)
    return "\n".join(outputs)
