"""The CLI as a user meets it: real subprocesses, real files, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.support.cli import ROOT, child_env, newsflow, one_line_error


def _make_db(path: Path) -> None:
    from warehouse.db import connect_write

    con = connect_write(path)
    con.close()


def test_bad_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    proc = newsflow("stats", env=child_env(NEWSFLOW_PER_HOST_CONCURRENCY="many", NEWSFLOW_DB=str(tmp_path / "x.duckdb")))
    line = one_line_error(proc)
    assert "NEWSFLOW_PER_HOST_CONCURRENCY" in line
    assert proc.returncode == 2


def test_malformed_feed_list_fails_before_work(tmp_path: Path) -> None:
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds:\n  - url: [unclosed\n")
    db = tmp_path / "db.duckdb"
    proc = newsflow("ingest", "--feeds", str(bad), "--db", str(db))
    line = one_line_error(proc)
    assert "feeds.yaml" in line
    assert not db.exists(), "work started despite a bad feed list"


def test_unwritable_db_path_fails_before_work(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: http://127.0.0.1:9/feed.xml\n")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = newsflow("ingest", "--feeds", str(feeds), "--db", str(blocker / "sub" / "db.duckdb"))
    line = one_line_error(proc)
    assert "database path" in line


def test_query_is_read_only_and_formats(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _make_db(db)
    out = newsflow("--db", str(db), "query", "SELECT 1 AS one, 'a,b' AS two", "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["one,two", '1,"a,b"']
    out = newsflow("query", "SELECT 42 AS answer", "--format", "json", "--db", str(db))
    assert json.loads(out.stdout) == [{"answer": 42}]
    for sql in ("INSERT INTO runs (run_id) VALUES ('x')", "DROP TABLE articles"):
        proc = newsflow("--db", str(db), "query", sql)
        assert "read-only" in one_line_error(proc)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name='articles'").fetchone() == (1,)
    con.close()


def test_query_while_another_process_writes_says_so(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _make_db(db)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)",
                               str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        proc = newsflow("--db", str(db), "query", "SELECT count(*) FROM articles")
        line = one_line_error(proc)
        assert proc.returncode == 3
        assert "lock" in line.lower() or "busy" in line.lower() or "another process" in line.lower()
    finally:
        holder.kill()
        holder.wait()


def test_feeds_add_list_and_opml_import(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: https://news.example.org/world.xml\n    name: World\n")
    assert newsflow("feeds", "add", "https://other.example.net/rss", "--name", "Other", "--feeds", str(feeds)).returncode == 0
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline text="News"><outline text="Wire" type="rss" xmlUrl="https://wire.example.com/feed"/>'
        '<outline text="World" type="rss" xmlUrl="https://news.example.org/world.xml"/></outline></body></opml>')
    proc = newsflow("feeds", "import", str(opml), "--feeds", str(feeds))
    assert proc.returncode == 0, proc.stderr
    assert "imported 1 new feed" in proc.stdout
    listed = json.loads(newsflow("feeds", "list", "--format", "json", "--feeds", str(feeds)).stdout)
    assert [f["url"] for f in listed] == ["https://news.example.org/world.xml", "https://other.example.net/rss",
                                          "https://wire.example.com/feed"]
    bad = newsflow("feeds", "add", "javascript:alert(1)", "--feeds", str(feeds))
    assert "not an http" in one_line_error(bad)


def test_stats_on_missing_database_is_clear(tmp_path: Path) -> None:
    proc = newsflow("--db", str(tmp_path / "none.duckdb"), "stats")
    assert "does not exist" in one_line_error(proc)


def test_backfill_seed_archive_via_cli_then_rerun_adds_nothing(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    t0 = time.monotonic()
    first = newsflow("backfill", str(ROOT / "data" / "seed_archive"), "--db", str(db), timeout=300)
    assert first.returncode == 0, first.stderr
    assert "loaded 5" in first.stdout
    second = newsflow("backfill", str(ROOT / "data" / "seed_archive"), "--db", str(db), timeout=300)
    assert second.returncode == 0, second.stderr
    assert "loaded 0" in second.stdout and "skipped 5" in second.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM articles WHERE origin='archive'").fetchone() == (5,)
    con.close()
    assert time.monotonic() - t0 < 300
