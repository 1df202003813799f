"""Scenario 5 — crash safety: SIGKILL a loader mid-batch and a backfill halfway, then re-run.

The loader is killed without any hook, at the moment the database file shows the batch being
written; the backfill is the real CLI (``python -m newsflow backfill``) killed after a few
batches have been committed. Either way a re-run must leave every article exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extractors.normalize.urls import article_id_for, canonicalize_url
from tests.flows.site import article_page, load_stories
from tests.support.cli import ROOT, child_env, kill_group
from tests.support.factories import article, link, raw_page, run_record
from warehouse.batch import Batch
from warehouse.load import load_batch

N_LOAD = 12000
MB = 1024 * 1024

# Builds the batch, announces it, then loads it — no pause, no hook: the test decides when to kill.
LOADER = textwrap.dedent(
    f"""
    import sys
    from tests.support.factories import article, link, raw_page, run_record
    from warehouse.batch import Batch
    from warehouse.load import load_batch
    arts = [article(i, run_id="crash") for i in range({N_LOAD})]
    batch = Batch(run=run_record("crash"), articles=arts, links=[link(a) for a in arts],
                  raw_pages=[raw_page(a) for a in arts])
    print("loading", flush=True)
    load_batch(sys.argv[1], batch)
    print("loaded", flush=True)
    """
)


def _q(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _size(db: Path) -> int:
    total = 0
    for p in (db, db.with_name(db.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            total += p.stat().st_size
    return total


@pytest.mark.parametrize("grown_mb", [1, 6])
def test_loader_killed_mid_batch_then_rerun_loads_each_article_once(db_path: Path, grown_mb: int) -> None:
    existing = [article(i, run_id="before") for i in range(50)]
    load_batch(db_path, Batch(run=run_record("before"), articles=existing, links=[link(a) for a in existing]))
    start_size = _size(db_path)
    proc = subprocess.Popen([sys.executable, "-c", LOADER, str(db_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=child_env())
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "loading"
        deadline = time.monotonic() + 60
        while _size(db_path) < start_size + grown_mb * MB and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert proc.poll() is None, "the load finished before the kill: make the batch bigger"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
        rest = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert "loaded" not in rest  # killed inside load_batch

    # all or nothing: the killed batch is either entirely there or entirely absent
    n_art, n_link, n_page, n_run = _q(db_path, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM "
                                               "article_feeds), (SELECT count(*) FROM raw_pages), "
                                               "(SELECT count(*) FROM runs)")[0]
    assert (n_art, n_link, n_page, n_run) in {(50, 50, 0, 1), (N_LOAD, N_LOAD, N_LOAD, 2)}

    arts = [article(i, run_id="crash") for i in range(N_LOAD)]
    load_batch(db_path, Batch(run=run_record("crash"), articles=arts, links=[link(a) for a in arts],
                              raw_pages=[raw_page(a) for a in arts]))
    counts = _q(db_path, "SELECT count(*), count(DISTINCT article_id) FROM articles")[0]
    assert counts == (N_LOAD, N_LOAD)
    stored = {r[0] for r in _q(db_path, "SELECT article_id FROM articles")}
    assert stored == {a.article_id for a in arts}
    assert _q(db_path, "SELECT count(*), count(DISTINCT page_id) FROM raw_pages")[0] == (N_LOAD, N_LOAD)
    assert _q(db_path, "SELECT count(*) FROM article_feeds")[0][0] == N_LOAD


# --------------------------------------------------------------------------- backfill


def _write_archive(root: Path, n_html: int, n_jsonl: int) -> list[str]:
    """A generated archive of HTML files and JSONL lines; returns every record's URL."""
    stories = load_stories()
    urls: list[str] = []
    html_dir = root / "html"
    html_dir.mkdir(parents=True)
    for i in range(n_html):
        base = stories[i % len(stories)]
        url = f"https://archive.example.org/html/{i}"
        story = dict(base, slug=f"h{i}", title=f"File {i}: {base['title']}",
                     paragraphs=[f"Archive file {i} opens with its own lead paragraph about item {i}.",
                                 *base["paragraphs"]])
        (html_dir / f"page{i:04d}.html").write_text(article_page(story, canonical=url), encoding="utf-8")
        urls.append(url)
    with (root / "dump.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n_jsonl):
            base = stories[i % len(stories)]
            url = f"https://archive.example.org/jsonl/{i}"
            story = dict(base, slug=f"j{i}", title=f"Line {i}: {base['title']}",
                         paragraphs=[f"Line record {i} reports on event {i} in its own words.", *base["paragraphs"]])
            fh.write(json.dumps({"url": url, "title": story["title"], "html": article_page(story),
                                 "published_at": f"2025-06-{1 + i % 28:02d}T10:00:00Z"}) + "\n")
            urls.append(url)
    return urls


# Runs the real CLI; the only addition is a line on stdout each time a batch load returns, so the
# test knows when batches are committed (it then kills at an arbitrary later point).
HOOKED_CLI = textwrap.dedent(
    """
    import sys
    from newsflow import cli
    cli._prefect_env(False)
    import flows.shared as fi
    real = fi.load_batch
    def announcing(*args, **kwargs):
        result = real(*args, **kwargs)
        print("BATCH", result.status, result.records_new, flush=True)
        return result
    fi.load_batch = announcing
    raise SystemExit(cli.main(sys.argv[1:]))
    """
)

@pytest.mark.usefixtures("prefect_harness")
def test_backfill_killed_halfway_then_rerun_loads_every_record_once(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    urls = _write_archive(archive, n_html=120, n_jsonl=180)
    db = tmp_path / "data" / "news.duckdb"
    env = child_env(NEWSFLOW_BATCH_SIZE="20", NEWSFLOW_WORKERS="2")

    proc = subprocess.Popen([sys.executable, "-c", HOOKED_CLI, "backfill", str(archive), "--db", str(db), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
                            start_new_session=True)
    batches = 0
    try:
        assert proc.stdout is not None
        while batches < 3:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"backfill ended before 3 batches: {proc.stderr.read() if proc.stderr else ''}")
            if line.startswith("BATCH"):
                assert line.split()[1] == "loaded", line
                batches += 1
        time.sleep(0.15)  # land somewhere inside the next batch
    finally:
        kill_group(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()

    before = _q(db, "SELECT count(*) FROM archive_records")[0][0]
    staged = sum(1 for _ in (db.parent / "staging").glob("*/manifest.json")) if (db.parent / "staging").exists() else 0
    assert staged == 0
    assert 60 <= before < len(urls), f"kill did not land halfway ({before} of {len(urls)} loaded)"
    # what is committed is consistent: each loaded record has its article and raw page
    assert _q(db, "SELECT count(*) FROM articles")[0][0] == before
    assert _q(db, "SELECT count(*) FROM raw_pages")[0][0] == before

    # the re-run happens in-process (same flow, shared Prefect API: saves a second CLI start-up)
    from flows.backfill import backfill

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSFLOW_BATCH_SIZE", "20")
        mp.setenv("NEWSFLOW_WORKERS", "2")
        summary = backfill(paths=[str(archive)], db=str(db))
    assert (summary["read"], summary["skipped"], summary["loaded"]) == (len(urls), before, len(urls) - before)
    assert summary["rejected"] == 0 and summary["staged_batches"] == 0

    expected = {article_id_for(canonicalize_url(u) or u) for u in urls}
    assert _q(db, "SELECT count(*), count(DISTINCT article_id) FROM articles")[0] == (len(urls), len(urls))
    assert {r[0] for r in _q(db, "SELECT article_id FROM articles")} == expected
    assert _q(db, "SELECT count(*), count(DISTINCT record_id), count(*) FILTER (status = 'loaded') "
                  "FROM archive_records")[0] == (len(urls), len(urls), len(urls))
    assert _q(db, "SELECT count(*) FROM raw_pages")[0][0] == len(urls)
    assert _q(db, "SELECT count(*) FROM rejects")[0][0] == 0


def test_dated_jsonl_records_load(tmp_path: Path) -> None:
    """A JSONL archive whose records carry ``published_at`` loads like any other (regression: the
    ``published_at_source`` CHECK once lacked 'archive', failing the whole backfill batch)."""
    from flows.backfill import run_backfill
    from schemas.settings import load_settings

    story = load_stories()[0]
    path = tmp_path / "dated.jsonl"
    path.write_text(json.dumps({"url": "https://archive.example.org/dated/1", "title": story["title"],
                                "html": article_page(story), "published_at": "2025-06-01T10:00:00Z"}) + "\n")
    db = tmp_path / "dated.duckdb"
    settings = load_settings(db=db, workers=1)
    summary = run_backfill([str(path)], settings, run_id="dated",
                           load_fn=lambda batch, s: load_batch(s.db, batch, staging_dir=s.staging_path))
    assert summary.loaded == 1
    assert _q(db, "SELECT published_at_source, published_at FROM articles") == [
        ("archive", _q(db, "SELECT TIMESTAMPTZ '2025-06-01 10:00:00+00'")[0][0])]
