"""Scenario 6 — lock contention (and scenario 5's "a staged batch whose load failed").

An analyst in another process holds the database open read-only while hourly runs happen: each
run completes, stages its batch and says so; a run while the file is still held cannot load the
earlier staged batch either (it stays staged); the first run after the analyst leaves loads both,
every article exactly once. And ``newsflow query``/``stats`` during a load get one clear line.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from flows.report import render_text
from tests.flows.site import article_page, load_stories, rss
from tests.support.cli import ROOT, child_env, hold_database, newsflow, one_line_error
from tests.support.http_server import RawServer
from warehouse.db import connect_write
from warehouse.staging import iter_staged


def _q(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def news() -> Iterator[RawServer]:
    with RawServer() as server:
        stories = load_stories()
        for s in stories:
            server.static(f"/news/{s['slug']}", article_page(s), "text/html; charset=utf-8")
        server.static("/feed.xml", rss([(s, server.url(f"/news/{s['slug']}")) for s in stories[:3]]),
                      "application/rss+xml")
        yield server


@pytest.mark.usefixtures("prefect_harness")
def test_runs_stage_while_an_analyst_holds_the_file_and_the_next_run_loads_everything_once(
    news: RawServer, tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSFLOW_WORKERS", "1")
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    from flows.ingest import hourly_ingest

    stories = load_stories()
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [news.url("/feed.xml")]}))
    connect_write(db_path).close()  # the warehouse exists; the analyst opens it
    staging = db_path.parent / "staging"

    analyst = hold_database(db_path, "ro")
    try:
        first = hourly_ingest(feeds_file=str(feeds), db=str(db_path))
        assert first["load_status"] == "staged"
        staged_first = Path(first["staged_path"])
        assert staged_first.parent == staging and (staged_first / "articles.parquet").is_file()
        text = render_text(first)
        assert "load: staged" in text and str(staged_first) in text  # the report says where the rows are
        assert _q(db_path, "SELECT count(*) FROM articles") == [(0,)]

        # still held: the earlier staged batch cannot be loaded either; it stays, and so does this one
        second = hourly_ingest(feeds_file=str(feeds), db=str(db_path))
        assert second["load_status"] == "staged" and second["staged_batches_loaded"] == 0
        assert staged_first.is_dir()
        assert len(list(iter_staged(staging))) == 2
    finally:
        analyst.release()

    # the analyst left; a story was added to the feed meanwhile
    news.static("/feed.xml", rss([(s, news.url(f"/news/{s['slug']}")) for s in stories[:4]]), "application/rss+xml")
    third = hourly_ingest(feeds_file=str(feeds), db=str(db_path))
    assert third["load_status"] == "loaded" and third["staged_path"] is None
    assert third["staged_batches_loaded"] == 2
    assert list(iter_staged(staging)) == []

    urls = {news.url(f"/news/{s['slug']}") for s in stories[:4]}
    assert _q(db_path, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(4, 4)]
    assert {r[0] for r in _q(db_path, "SELECT url FROM articles")} == urls
    assert _q(db_path, "SELECT count(*), count(DISTINCT (article_id, feed_url, guid)) FROM article_feeds") == [(4, 4)]
    assert _q(db_path, "SELECT count(*) FROM runs") == [(3,)]  # every run's record survived staging
    assert _q(db_path, "SELECT last_status FROM feeds") == [("ok",)]


# A writer in the middle of a load: paused inside the transaction, after the first INSERT.
LOADING = textwrap.dedent(
    """
    import sys, time
    import warehouse.load as load
    from tests.support.factories import article, link, run_record
    from warehouse.batch import Batch

    real = load._count
    def pausing(conn, sql):
        n = real(conn, sql)
        if sql.startswith('INSERT INTO "articles"'):
            print("loading", flush=True)
            sys.stdin.read()
        return n
    load._count = pausing
    arts = [article(i, run_id="busy") for i in range(200)]
    load.load_batch(sys.argv[1], Batch(run=run_record("busy"), articles=arts, links=[link(a) for a in arts]))
    """
)


def test_query_during_a_load_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    connect_write(db).close()
    loader = subprocess.Popen([sys.executable, "-c", LOADING, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=child_env())
    try:
        assert loader.stdout is not None and loader.stdout.readline().strip() == "loading", (
            loader.stderr.read() if loader.stderr else "")
        procs = {name: subprocess.Popen([sys.executable, "-m", "newsflow", "--db", str(db), *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                        env=child_env())
                 for name, args in {"query": ["query", "SELECT count(*) FROM articles"],
                                    "stats": ["stats"], "health": ["feeds", "health"]}.items()}
        results = {}
        for name, p in procs.items():
            out, err = p.communicate(timeout=60)
            results[name] = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    finally:
        if loader.stdin is not None:
            loader.stdin.close()
        loader.wait(timeout=30)
        for pipe in (loader.stdout, loader.stderr):
            if pipe is not None:
                pipe.close()
    for name in ("query", "health"):  # SQL against the warehouse: refuse clearly, exit 3
        proc = results[name]
        line = one_line_error(proc)
        assert proc.returncode == 3, (name, proc.returncode, line)
        assert "locked" in line and str(db) in line and str(loader.pid) in line, (name, line)
        assert proc.stdout == "", (name, proc.stdout)
    # stats is a status report: it reports the lock (with the holder) instead of failing
    stats = results["stats"]
    assert stats.returncode == 0 and "Traceback" not in stats.stderr
    assert "locked" in stats.stdout and str(loader.pid) in stats.stderr

    # the load then finished, and a query now works
    after = newsflow("--db", str(db), "query", "SELECT count(*) AS n FROM articles", "--format", "csv")
    assert after.returncode == 0 and after.stdout.split() == ["n", "200"], after.stderr
