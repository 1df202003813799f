"""The CLI as a user meets it: real subprocesses, real files, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

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


# --------------------------------------------------------------------------- the analyst's desk (issue 11)


def _desk(tmp_path: Path) -> Path:
    from tests.support.desk import build

    db = tmp_path / "desk" / "news.duckdb"
    build(db)
    return db


def test_options_work_before_or_after_the_command(tmp_path: Path) -> None:
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds:\n  - url: [unclosed\n")
    for args in (["ingest", "-v", "--feeds", str(bad)], ["-v", "ingest", "--feeds", str(bad)],
                 ["ingest", "--feeds", str(bad), "--verbose"]):
        proc = newsflow(*args, "--db", str(tmp_path / "db.duckdb"))
        line = one_line_error(proc)
        assert proc.returncode == 2 and "feeds.yaml" in line and "usage" not in line, (args, line)
    unknown = newsflow("query", "SELECT 1", "--no-such-option")
    assert unknown.returncode == 2 and "--no-such-option" in one_line_error(unknown)


def test_tables_fit_the_terminal_unless_wide(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    _make_db(db)
    long = "word " * 60
    sql = f"SELECT 1 AS id, '{long.strip()}' AS text"
    narrow = newsflow("--db", str(db), "query", sql, env=child_env(COLUMNS="80"))
    assert narrow.returncode == 0, narrow.stderr
    assert max(len(ln) for ln in narrow.stdout.splitlines()) <= 80
    assert "…" in narrow.stdout and long.strip() not in narrow.stdout
    for args in (["--wide", "query", sql], ["query", sql, "--wide"]):
        wide = newsflow("--db", str(db), *args, env=child_env(COLUMNS="80"))
        assert wide.returncode == 0 and long.strip() in wide.stdout, wide.stdout


def test_query_from_file_and_to_files(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    db = _desk(tmp_path)
    sql_file = tmp_path / "q.sql"
    from tests.support.desk import outlet_column

    sql_file.write_text(f"-- articles per outlet\nSELECT {outlet_column(db)} AS outlet, count(*) AS n\n"
                        "FROM articles GROUP BY 1 ORDER BY 2 DESC\n")
    out = newsflow("query", "-f", str(sql_file), "--format", "csv", "--db", str(db))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "outlet,n" and lines[1].startswith("harbour-times.example,")
    pq_out = tmp_path / "out.parquet"
    done = newsflow("query", "-f", str(sql_file), "--format", "parquet", "-o", str(pq_out), "--db", str(db))
    assert done.returncode == 0, done.stderr
    table = pq.read_table(pq_out)
    assert table.column_names == ["outlet", "n"] and sum(table.column("n").to_pylist()) == 400
    jl = newsflow("query", "SELECT 1 AS a UNION ALL SELECT 2", "--format", "jsonl", "--db", str(db))
    assert [json.loads(x) for x in jl.stdout.splitlines()] == [{"a": 1}, {"a": 2}]
    assert "-o" in one_line_error(newsflow("query", "SELECT 1", "--format", "parquet", "--db", str(db)))
    empty = tmp_path / "empty.sql"
    empty.write_text("  \n")
    assert "empty" in one_line_error(newsflow("query", "-f", str(empty), "--db", str(db)))
    missing = newsflow("query", "-f", str(tmp_path / "missing.sql"), "--db", str(db))
    assert "missing.sql" in one_line_error(missing)
    both = newsflow("query", "SELECT 1", "-f", str(sql_file), "--db", str(db))
    assert "one of them" in one_line_error(both)


def test_feeds_remove_disable_enable_and_ingest_skips_disabled(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: https://a.example.org/rss\n    name: Alpha\n"
                     "  - url: https://b.example.org/rss\n    name: Beta\n  - url: https://c.example.org/rss\n")
    assert newsflow("feeds", "disable", "Alpha", "--feeds", str(feeds)).returncode == 0
    assert newsflow("feeds", "remove", "https://c.example.org/rss", "--feeds", str(feeds)).returncode == 0
    listed = json.loads(newsflow("feeds", "list", "--format", "json", "--feeds", str(feeds)).stdout)
    assert [(f["url"], f["enabled"]) for f in listed] == [("https://a.example.org/rss", False),
                                                          ("https://b.example.org/rss", True)]
    assert "disabled: true" in feeds.read_text()
    # adding a feed keeps the disabled one disabled
    assert newsflow("feeds", "add", "https://d.example.org/rss", "--feeds", str(feeds)).returncode == 0
    from extractors.sources.feedlist import load_feed_list

    assert [s.url for s in load_feed_list(feeds)] == ["https://b.example.org/rss", "https://d.example.org/rss"]
    assert newsflow("feeds", "disable", "Beta", "--feeds", str(feeds)).returncode == 0
    assert newsflow("feeds", "disable", "https://d.example.org/rss", "--feeds", str(feeds)).returncode == 0
    db = tmp_path / "db.duckdb"
    proc = newsflow("ingest", "--feeds", str(feeds), "--db", str(db))
    assert "all 3 feeds are disabled" in one_line_error(proc) and not db.exists()
    assert newsflow("feeds", "enable", "Alpha", "--feeds", str(feeds)).returncode == 0
    assert [s.name for s in load_feed_list(feeds)] == ["Alpha"]
    assert "no feed" in one_line_error(newsflow("feeds", "remove", "Gamma", "--feeds", str(feeds)))


def test_stats_reports_staged_batches_waiting(tmp_path: Path) -> None:
    import pyarrow as pa

    from warehouse.staging import stage_batch

    db = tmp_path / "db.duckdb"
    _make_db(db)
    quiet = newsflow("stats", "--db", str(db))
    assert quiet.returncode == 0 and "staged, not loaded  none" in quiet.stdout
    stage_batch({"articles": pa.table({"article_id": ["a", "b", "c"]})}, tmp_path / "staging", "b1")
    stage_batch({"articles": pa.table({"article_id": ["d"]})}, tmp_path / "staging", "b2")
    out = newsflow("stats", "--db", str(db), env=child_env(COLUMNS="200"))
    assert out.returncode == 0, out.stderr
    assert "2 batch(es) waiting since" in out.stdout and "4 articles" in out.stdout
    data = json.loads(newsflow("stats", "--format", "json", "--db", str(db)).stdout)
    assert data["pending"]["batches"] == 2 and data["pending"]["articles"] == 4
    assert data["tables"]["articles"] == 0


def test_stats_reports_lake_batches_loaded_and_waiting(tmp_path: Path) -> None:
    import pyarrow as pa

    from warehouse.lake import BatchRecord, Lake, commit_batch

    db = tmp_path / "db.duckdb"
    _make_db(db)
    quiet = newsflow("stats", "--db", str(db), env=child_env(COLUMNS="200"))
    assert quiet.returncode == 0, quiet.stderr
    assert "lake batches        none loaded; none waiting" in quiet.stdout
    lake = Lake(f"file://{tmp_path / 'lake'}")  # the default lake of a database in tmp_path
    for i, bid in enumerate(["b1", "b2", "b3"]):
        lake.write(bid, {"articles": pa.table({"article_id": [f"{bid}-{k}" for k in range(i + 1)]})},
                   meta={"records": i + 1})
        lake.write(bid, {"articles": pa.table({"article_id": [f"{bid}-{k}" for k in range(i + 1)]})},
                   meta={"records": i + 1})  # a second attempt at the same batch: still one batch
    commit_batch(db, {}, BatchRecord(batch_id="b1", source="a.jsonl", byte_start=0, byte_end=None, records=7,
                                     articles=5, run_id="r1"))
    out = newsflow("stats", "--db", str(db), env=child_env(COLUMNS="200"))
    assert out.returncode == 0, out.stderr
    assert "1 loaded (7 records, 5 articles, last " in out.stdout and "2 finished, not loaded" in out.stdout
    assert "2 lake batch(es) finished but not loaded" in out.stdout and "python -m flows.committer" in out.stdout
    data = json.loads(newsflow("stats", "--format", "json", "--db", str(db)).stdout)["lake"]
    assert (data["batches_loaded"], data["batches_waiting"], data["records"]) == (1, 2, 7)
    assert data["uri"] == f"file://{(tmp_path / 'lake').resolve()}"


@pytest.mark.parametrize(("counts", "says", "warns"), [
    ({"committed": 3, "reused": 0, "skipped": 2, "pending": 0},
     "lake batches: 3 committed, 2 skipped (loaded by an earlier run), 0 left pending", None),
    ({"committed": 3, "reused": 1, "skipped": 0, "pending": 0},
     "lake batches: 3 committed (1 finished in the lake by an earlier run, not recomputed), 0 skipped", None),
    ({"committed": 1, "reused": 0, "skipped": 0, "pending": 4},
     "1 committed, 0 skipped (loaded by an earlier run), 4 left pending. NOT LOADED: 4 finished batch(es)",
     "4 lake batch(es) finished, not loaded"),
])
def test_a_cluster_backfill_says_what_became_of_its_lake_batches(counts: dict[str, int], says: str,
                                                                 warns: str | None) -> None:
    from newsflow.cli import lake_batches_text

    line, warning = lake_batches_text(counts)
    assert says in line and warning == warns


FAST_IMPORT_CHECK = """
import sys, time
t0 = time.perf_counter()
from newsflow.cli import main
rc = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'trafilatura', 'flows.ingest'))
print('RESULT', rc, 'matplotlib' in sys.modules, heavy[:3], round(time.perf_counter() - t0, 2), file=sys.stderr)
"""


def test_commands_that_run_no_flow_never_import_prefect_nor_draw(tmp_path: Path) -> None:
    db = _desk(tmp_path)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - https://a.example.org/rss\n")
    commands = [["stats"], ["query", "SELECT 1"], ["feeds", "health"], ["feeds", "list", "--feeds", str(feeds)],
                ["export", "-o", str(tmp_path / "a.parquet")], ["search", "--rebuild"], ["search", "flood"],
                ["report", "-o", str(tmp_path / "r.html")]]
    for args in commands:
        proc = subprocess.run([sys.executable, "-c", FAST_IMPORT_CHECK, "--db", str(db), *args], capture_output=True,
                              text=True, cwd=ROOT, timeout=60)
        result = [ln for ln in proc.stderr.splitlines() if ln.startswith("RESULT")]
        assert result, proc.stderr
        _, rc, plots, *rest = result[0].split(" ", 3)
        assert rc == "0", (args, proc.stderr)
        assert "[]" in rest[0], (args, rest)  # no prefect, no extraction stack imported
        assert plots == str(args[0] == "report"), (args, plots)  # matplotlib only where a chart is drawn


def test_export_search_report_from_the_cli(tmp_path: Path) -> None:
    db = _desk(tmp_path)
    out = tmp_path / "arts.jsonl"
    proc = newsflow("export", "--format", "jsonl", "--table", "articles", "--since", "2024-03-20", "-o", str(out),
              "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows and all(r["published_at"] >= "2024-03-20" for r in rows)
    assert all(r["published_at"].endswith("+00:00") for r in rows)
    assert "unknown table" in one_line_error(newsflow("export", "--table", "raw_pages", "-o", str(out), "--db", str(db)))
    assert "no search index" in one_line_error(newsflow("search", "flood", "--db", str(db)))
    assert newsflow("search", "--rebuild", "--db", str(db)).returncode == 0
    hit = newsflow("search", '"dyke gave way"', "--db", str(db), env=child_env(COLUMNS="200"))
    assert hit.returncode == 0, hit.stderr
    assert hit.stdout.startswith("4 match(es)") and "Village evacuated" in hit.stdout
    assert hit.stderr == ""  # the index is complete: no note
    assert "«dyke» «gave» «way»" in hit.stdout
    bad = newsflow("search", "flood AND (", "--db", str(db))
    assert bad.returncode == 2 and "cannot parse" in one_line_error(bad)
    page = tmp_path / "r.html"
    rep = newsflow("report", "-o", str(page), "--db", str(db))
    assert rep.returncode == 0, rep.stderr
    assert "400 article(s), 5 outlet(s), 21 day(s)" in rep.stdout
    assert page.read_text().startswith("<!doctype html>")

    from tests.support.factories import article
    from warehouse.batch import Batch
    from warehouse.load import load_batch

    load_batch(db, Batch(run=None, articles=[article(90_000)], links=[]))  # loaded behind the index's back
    behind = newsflow("search", '"dyke gave way"', "--db", str(db))
    assert behind.returncode == 0 and "holds 400 of 401 articles" in behind.stderr and "--rebuild" in behind.stderr


def test_a_staged_ingest_says_so_and_the_next_run_counts_it(tmp_path: Path) -> None:
    from pytest_httpserver import HTTPServer

    from tests.flows.site import article_page, load_stories, rss
    from tests.support.cli import hold_database

    stories = load_stories()[:2]
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        base = server.url_for("/").rstrip("/")
        server.expect_request("/robots.txt").respond_with_data("", status=404)
        for s in stories:
            server.expect_request(f"/news/{s['slug']}").respond_with_data(article_page(s), content_type="text/html")
        server.expect_request("/feed.xml").respond_with_data(
            rss([(s, f"{base}/news/{s['slug']}") for s in stories]), content_type="application/rss+xml")
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(f"feeds:\n  - url: {base}/feed.xml\n")
        db = tmp_path / "data" / "news.duckdb"
        _make_db(db)
        env = child_env(NEWSFLOW_ALLOW_PRIVATE_NETWORKS="true", NEWSFLOW_PREFECT_PROBE="false", COLUMNS="200")
        analyst = hold_database(db, "ro")
        try:
            first = newsflow("ingest", "--feeds", str(feeds), "--db", str(db), env=env, timeout=240)
        finally:
            analyst.release()
        assert first.returncode == 0, first.stderr
        assert "NOT LOADED" in first.stdout and "2 new article(s) are staged" in first.stdout, first.stdout
        assert "load staged, not loaded (1 batch(es) waiting)" in first.stderr
        waiting = newsflow("stats", "--db", str(db), env=env)
        assert "1 batch(es) waiting since" in waiting.stdout and "2 articles" in waiting.stdout, waiting.stdout
        second = newsflow("ingest", "--feeds", str(feeds), "--db", str(db), env=env, timeout=240)
        assert second.returncode == 0, second.stderr
        # nothing new on the feed, but the staged articles reached the database in this run: counted
        assert "new articles: 2" in second.stdout and "2 from 1 staged batch(es)" in second.stdout, second.stdout
        assert "NOT LOADED" not in second.stdout
        after = json.loads(newsflow("stats", "--format", "json", "--db", str(db), env=env).stdout)
        assert after["pending"]["batches"] == 0 and after["tables"]["articles"] == 2
    finally:
        server.clear()
        server.stop()


def test_flow_commands_use_a_running_prefect_server_or_say_they_fall_back(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_httpserver import HTTPServer

    from newsflow import cli

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/api/health").respond_with_json(True)
    server.start()
    try:
        monkeypatch.delenv("PREFECT_API_URL", raising=False)
        monkeypatch.setenv("NEWSFLOW_PREFECT_PROBE", "true")
        monkeypatch.setenv("NEWSFLOW_PREFECT_PORT", str(server.port))
        assert cli._prefect_api(verbose=True) == f"http://127.0.0.1:{server.port}/api"
        assert "using the Prefect server" in capsys.readouterr().err
        assert "PREFECT_API_URL" not in os.environ  # handed to Prefect, not written into the environment
        # a configured server is Prefect's own setting: nothing to hand over, no probing
        monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
        assert cli._prefect_api(verbose=True) is None
        assert os.environ["PREFECT_API_URL"] == "http://prefect.example:4200/api"
    finally:
        server.clear()
        server.stop()
    monkeypatch.delenv("PREFECT_API_URL")
    assert cli._prefect_api(verbose=True) is None  # the port is closed now: nothing answers
    assert "PREFECT_API_URL" not in os.environ
    assert "temporary local API" in capsys.readouterr().err
    from prefect.settings import PREFECT_API_URL

    with cli._prefect_settings(f"http://127.0.0.1:{server.port}/api"):  # what _run_flow runs the flow in
        assert PREFECT_API_URL.value() == f"http://127.0.0.1:{server.port}/api"


def test_cli_flow_runs_send_no_heartbeats_unless_the_user_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect's heartbeat thread sleeps in whole seconds and every flow run's end waited for it."""
    from prefect.settings import get_current_settings

    from newsflow import cli

    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    monkeypatch.delenv("PREFECT_RUNNER_HEARTBEAT_FREQUENCY", raising=False)
    with cli._prefect_settings(None):
        assert get_current_settings().flows.heartbeat_frequency is None
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    with cli._prefect_settings(None):
        assert get_current_settings().flows.heartbeat_frequency == 60


def test_ingest_output_folds_a_long_list_of_unchanged_feeds_into_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.report import FeedRow, IngestSummary
    from newsflow import cli
    from schemas.settings import load_settings

    def summary(unchanged: int) -> dict[str, object]:
        rows = [FeedRow(f"quiet-{i}", f"https://q{i}.example.org/rss", "not_modified" if i % 2 else "unchanged",
                        304 if i % 2 else 200, 0, 0, None, None) for i in range(unchanged)]
        rows.append(FeedRow("busy", "https://busy.example.org/rss", "ok", 200, 3, 3, None, None))
        rows.append(FeedRow("broken", "https://broken.example.org/rss", "failed", 500, 0, 0, "http_5xx", "HTTP 500"))
        return IngestSummary(run_id="r", feeds=rows, feeds_ok=1, feeds_unchanged=unchanged, feeds_failed=1,
                             load_status="loaded").as_dict()

    settings = load_settings(db=tmp_path / "x.duckdb")
    cli._print_ingest(summary(cli.FOLD_UNCHANGED_FEEDS + 5), settings, wide=True)
    out = capsys.readouterr().out
    assert "busy" in out and "broken" in out and "http_5xx" in out  # news and failures stay listed
    assert "quiet-" not in out
    assert f"{cli.FOLD_UNCHANGED_FEEDS + 5} feed(s) unchanged" in out
    cli._print_ingest(summary(3), settings, wide=True)  # a short list stays a full table
    out = capsys.readouterr().out
    assert all(f"quiet-{i}" in out for i in range(3)) and "unchanged (304" not in out


def test_events_codes_a_document_with_its_date_and_rules(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("Ukrainian drones struck an oil refinery in the Saratov region on Tuesday.\n"
                   "Pakistan's interior minister accused India of backing separatist militants.\n", encoding="utf-8")
    proc = newsflow("events", str(doc), "--date", "2026-11-27")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    got = [(r["event_type"], r["actors"][0]["country"], r["event_date"], r["date_precision"], r["rule_id"])
           for r in rows]
    # one event per sentence: what the accusation alleges ("backing") is not coded as done
    assert got == [("ASSAULT", "UKR", "2026-11-24", "day", "assault.struck"),
                   ("ACCUSE", "PAK", "2026-11-27", "pubdate", "accuse.accuse")]
    assert rows[1]["recipients"][0]["country"] == "IND" and rows[1]["explanation"]
    assert "cannot read" in one_line_error(newsflow("events", str(tmp_path / "missing.txt")))


def test_imports_defer_the_collector_and_a_flow_runs_with_its_usual_thresholds() -> None:
    import gc

    from newsflow import cli

    usual = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    try:
        cli.defer_collection()
        assert gc.get_threshold()[0] >= cli.IMPORT_GC_THRESHOLD
        assert gc.get_threshold()[1:] == usual[1:]
        cli.defer_collection()  # twice is once: the usual thresholds are not forgotten
        cli._run_flow(lambda: seen.append(gc.get_threshold()), verbose=True)
    finally:
        cli.restore_collection()
        cli._ran_flow = False
    assert seen == [usual], "a flow must run with the collector's usual thresholds"
    assert gc.get_threshold() == usual
