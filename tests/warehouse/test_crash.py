"""A loader killed with SIGKILL inside its transaction leaves no partial batch; a re-run loads it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.factories import article, link, run_record
from warehouse.batch import Batch
from warehouse.db import connect_read
from warehouse.load import load_batch

N = 3000

# The child loads the same batch as the test, but pauses after the first statement of the
# transaction (articles inserted, links not yet, nothing committed) so the kill lands mid-load.
CHILD = textwrap.dedent(
    f"""
    import sys, time
    import warehouse.load as load
    from tests.support.factories import article, link, run_record
    from warehouse.batch import Batch

    real_count = load._count
    def pausing_count(conn, sql):
        n = real_count(conn, sql)
        if sql.startswith('INSERT INTO "articles"'):
            print("mid-transaction", n, flush=True)
            time.sleep(60)
        return n
    load._count = pausing_count
    arts = [article(i, run_id="run-2") for i in range({N})]
    load.load_batch(sys.argv[1], Batch(run=run_record("run-2"), articles=arts, links=[link(a) for a in arts]))
    """
)


def _counts(db: Path) -> tuple[int, int, int]:
    conn = connect_read(db)
    try:
        return conn.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_feeds), (SELECT count(*) FROM runs)"
        ).fetchall()[0]
    finally:
        conn.close()


def test_sigkill_mid_transaction_then_rerun(db_path: Path) -> None:
    load_batch(db_path, Batch(articles=[article(i) for i in range(10)]))  # existing rows
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=root)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("mid-transaction"), proc.stderr.read() if proc.stderr else line
        assert int(line.split()[1]) == N - 10  # the child had inserted its articles, uncommitted
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
    finally:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert _counts(db_path) == (10, 0, 0)  # nothing of the killed batch survived

    arts = [article(i, run_id="run-2") for i in range(N)]
    result = load_batch(db_path, Batch(run=run_record("run-2"), articles=arts, links=[link(a) for a in arts]))
    assert (result.articles_new, result.links_new) == (N - 10, N)
    assert _counts(db_path) == (N, N, 1)
    conn = connect_read(db_path)
    try:
        assert conn.execute("SELECT count(DISTINCT article_id) FROM articles").fetchall()[0][0] == N
    finally:
        conn.close()
