"""Scenario 7 — two ``newsflow ingest`` processes started at once against one database.

The site holds the first feed request open until one of the two processes has exited, so the
winner is guaranteed to be mid-run (holding the run lock) when the other reaches the lock —
however the two start-ups happen to interleave. Exactly one proceeds; the other exits with code 3
and one line naming the run lock; no row is written twice.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

from tests.flows.site import article_page, load_stories, rss
from tests.support.cli import ROOT, child_env, kill_group
from tests.support.http_server import RawServer
from warehouse.runlock import lock_path_for


def _q(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_two_ingests_at_once_one_runs_the_other_exits_clearly(tmp_path: Path) -> None:
    stories = load_stories()
    one_exited = threading.Event()
    with RawServer() as site:
        for s in stories:
            site.static(f"/news/{s['slug']}", article_page(s), "text/html; charset=utf-8")
        site.static("/feed-body", rss([(s, site.url(f"/news/{s['slug']}")) for s in stories]), "application/rss+xml")
        site.gated("/feed.xml", one_exited, site.routes["/feed-body"])
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(yaml.safe_dump({"feeds": [site.url("/feed.xml")]}))
        db = tmp_path / "data" / "news.duckdb"
        env = child_env(NEWSFLOW_FEED_TIMEOUT="90", NEWSFLOW_WORKERS="1", NEWSFLOW_RETRIES="0")
        cmd = [sys.executable, "-m", "newsflow", "ingest", "--feeds", str(feeds), "--db", str(db)]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
                                  start_new_session=True) for _ in range(2)]
        outputs: dict[int, tuple[str, str]] = {}

        def collect(i: int) -> None:
            outputs[i] = procs[i].communicate()
            one_exited.set()

        threads = [threading.Thread(target=collect, args=(i,), daemon=True) for i in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 150
        try:
            for t in threads:
                t.join(timeout=max(deadline - time.monotonic(), 1))
            assert all(p.poll() is not None for p in procs), "an ingest never finished"
        finally:
            for p in procs:
                if p.poll() is None:
                    kill_group(p)
        feed_hits = site.hits_to("/feed.xml")

    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], (codes, outputs)
    loser = next(i for i, p in enumerate(procs) if p.returncode == 3)
    out, err = outputs[loser]
    assert out == "" and "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "another newsflow run is in progress" in lines[0] and str(lock_path_for(db)) in lines[0], lines[0]
    assert len(feed_hits) == 1  # only the winner polled

    winner_out = outputs[1 - loser][0]
    assert "load: loaded" in winner_out
    n = len(stories)
    assert _q(db, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(n, n)]
    assert _q(db, "SELECT count(*), count(DISTINCT (article_id, feed_url, guid)) FROM article_feeds") == [(n, n)]
    assert _q(db, "SELECT count(*), count(DISTINCT page_id) FROM raw_pages") == [(n, n)]
    assert _q(db, "SELECT count(*) FROM runs") == [(1,)]
    assert _q(db, "SELECT count(*) FROM feeds") == [(1,)]

    assert len(lines) == 1, f"error is not one line: {lines[1:]}"
