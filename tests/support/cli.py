"""The one CLI runner: ``newsflow(*args)`` runs ``python -m newsflow`` as a user would, plus the
helpers around child processes (their environment, one-line errors, killing a process group,
a second process holding the database).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    """The environment a user would have: suite defaults kept, Prefect log level left to the CLI."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def newsflow(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m newsflow ARGS`` to completion (``env`` defaults to ``child_env()``)."""
    return subprocess.run([sys.executable, "-m", "newsflow", *args], capture_output=True, text=True,
                          env=env or child_env(), cwd=cwd or ROOT, timeout=timeout)


def stderr_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.strip()]


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """Assert the process failed with exactly one stderr line and no traceback; return the line."""
    assert proc.returncode != 0, f"expected failure, got 0:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = stderr_lines(proc)
    assert len(lines) == 1, f"expected one error line, got {len(lines)}:\n{proc.stderr}"
    return lines[0]


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL a child started with ``start_new_session=True`` and everything it started."""
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@dataclass
class Holder:
    """A subprocess keeping the database open until its stdin is closed."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def release(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


_HOLD_SCRIPT = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
conn.execute("SELECT count(*) FROM information_schema.tables").fetchall()
print("holding", flush=True)
sys.stdin.read()
conn.close()
"""


def hold_database(db: Path, mode: str) -> Holder:
    """Start an analyst (``ro``) or a writer (``rw``) holding ``db`` open in another process."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_SCRIPT, str(db), mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "holding":
        err = proc.stderr.read() if proc.stderr else ""
        proc.kill()
        raise AssertionError(f"database holder did not start: {line!r} {err}")
    return Holder(proc, [line])


# --------------------------------------------------------------------------- memory probe (child side)
