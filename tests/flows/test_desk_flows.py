"""The flows as the analyst's desk sees them: live progress, the search index kept current by loads,
failed feeds in the run's log, disabled feeds skipped, and artifacts for backfill and reprocess."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from tests.flows.site import Site, article_page, load_stories, rss
from warehouse import search as ws

pytestmark = pytest.mark.usefixtures("prefect_harness")
SEED = Path(__file__).resolve().parents[2] / "data" / "seed_archive"


def _dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def _api(path: str, body: dict[str, Any]) -> Any:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        resp = await client._client.post(path, json=body)
        resp.raise_for_status()
        return resp.json()


def _artifacts(key: str, run_id: str) -> list[dict[str, Any]]:
    return asyncio.run(_api("/artifacts/filter", {
        "artifacts": {"key": {"any_": [key]}, "flow_run_id": {"any_": [run_id]}},
        "sort": "CREATED_DESC", "limit": 10, "offset": 0}))


def _logs(run_id: str, want: str, timeout: float = 20.0) -> list[str]:
    """The run's log messages, waiting for ``want`` to arrive (logs are shipped in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        logs = asyncio.run(_api("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200,
                                                 "offset": 0, "sort": "TIMESTAMP_ASC"}))
        messages = [entry["message"] for entry in logs]
        if any(want in m for m in messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def test_ingest_reports_progress_indexes_logs_failures_and_skips_disabled(site: Site, tmp_path: Path,
                                                                         db_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.ingest as fi

    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    stories = load_stories()
    for s in stories:
        site.static(f"/news/{s['slug']}", article_page(s), "text/html; charset=utf-8")
    site.static("/a.xml", rss([(s, f"{site.base}/news/{s['slug']}") for s in stories[:3]]), "application/rss+xml")
    site.static("/b.xml", rss([(s, f"{site.base}/news/{s['slug']}") for s in stories[3:5]]), "application/rss+xml")
    dead = f"http://127.0.0.1:{_dead_port()}/feed.xml"
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"url": f"{site.base}/a.xml"}, {"url": dead, "name": "Dead"},
                                               {"url": f"{site.base}/b.xml", "disabled": True}]}))
    events: list[tuple[str, int, int | None]] = []
    monkeypatch.setattr(fi, "progress_hook", lambda stage, advance, total: events.append((stage, advance, total)))
    summary = fi.hourly_ingest(feeds_file=str(feeds), db=str(db_path))

    # the disabled feed was not polled: two feeds, three stories
    assert [f["url"] for f in summary["feeds"]] == [f"{site.base}/a.xml", dead]
    assert not any(path == "/b.xml" for path, _ in site.log)

    def done(stage: str) -> int:
        return sum(a for s, a, _ in events if s == stage)

    def total(stage: str) -> int | None:
        return next((t for s, _, t in reversed(events) if s == stage and t is not None), None)

    assert done("feeds") == 2
    assert total("fetch") == total("extract") == 3 and done("fetch") == done("extract") == 3
    assert total("load") == 3 and done("load") == 3

    # the load kept the search index current: every article findable, nothing left pending
    index = ws.index_dir_for(db_path)
    assert ws.indexed_count(index) == 3 and not (index / ws.PENDING_FILE).exists()
    first_title_word = max(stories[0]["title"].split(), key=len).strip(",.:;'\"")
    assert ws.count(index, first_title_word) >= 1
    hit = ws.search(index, f'title:"{stories[0]["title"].split()[0]}"', limit=5)
    assert hit.total >= 1

    # the failed feed is in the run's log (the Prefect UI), not only in the artifact
    messages = _logs(summary["run_id"], "feed failed")
    assert any("feed failed" in m and dead in m and "connect_error" in m for m in messages), messages

    # the run wrote the report beside the database and linked it from its artifacts
    report = db_path.parent / "report.html"
    assert report.is_file() and "Attention over time" in report.read_text()
    link = _artifacts("latest-report", summary["run_id"])
    assert len(link) == 1 and report.resolve().as_uri() in link[0]["data"]

    # a second run over the same items adds nothing and the index stays at three documents
    again = fi.hourly_ingest(feeds_file=str(feeds), db=str(db_path))
    assert again["articles_new"] == 0 and ws.indexed_count(index) == 3


def test_backfill_and_reprocess_publish_artifacts_and_refresh_the_index(db_path: Path) -> None:
    from flows.backfill import backfill
    from flows.reprocess import reprocess

    summary = backfill(paths=[str(SEED)], db=str(db_path))
    index = ws.index_dir_for(db_path)
    assert summary["loaded"] == 5 and ws.indexed_count(index) == 5
    art = _artifacts("backfill-summary", summary["run_id"])
    assert len(art) == 1 and "loaded: **5**" in art[0]["data"]

    con = duckdb.connect(str(db_path))
    con.execute("UPDATE articles SET text = 'zanzibarquux placeholder', content_hash = 'x'")
    con.close()
    ws.rebuild(db_path)  # the index now holds the placeholder text, as the database does
    assert ws.count(index, "zanzibarquux") == 5
    counts = reprocess(db=str(db_path))
    assert counts["updated"] == 5
    assert ws.count(index, "zanzibarquux") == 0 and ws.indexed_count(index) == 5  # replaced, not added
    runs = duckdb.connect(str(db_path), read_only=True).execute(
        "SELECT run_id FROM runs WHERE flow = 'reprocess'").fetchall()
    assert len(runs) == 1
    art = _artifacts("reprocess-summary", runs[0][0])
    assert len(art) == 1 and "updated: **5**" in art[0]["data"]
