"""Ingest's feed polling on a real Dask cluster (scheduler and two worker processes on 127.0.0.1),
in shards keyed by host, against real HTTP servers on three loopback hosts."""

from __future__ import annotations

import email.utils
import hashlib
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.flows.site import article_page, load_stories, rss
from tests.support.dbrows import rows as _rows

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness"), pytest.mark.timeout(180)]

FEEDS_PER_HOST = 4
ITEMS_PER_FEED = 2
LAST_MODIFIED = email.utils.format_datetime(datetime(2026, 1, 1, tzinfo=UTC), usegmt=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    from flows.cluster import close_clients

    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", silence_logs=40)
    client = Client(lc.scheduler_address, set_as_default=False)
    try:
        yield client
    finally:
        close_clients()
        client.close()
        lc.close()


class _FeedHost:
    """One loopback host serving feeds (even ones with an ETag, odd ones with Last-Modified, each
    answering 304 to its own validator) and article pages slowly; it counts the most requests
    it ever had in flight and records the conditional headers of every feed request."""

    def __init__(self, address: str, h: int) -> None:
        from pytest_httpserver import HTTPServer

        self.server = HTTPServer(host=address, port=0, threaded=True)
        self.lock = threading.Lock()
        self.now = self.peak = 0
        self.feed_log: list[tuple[str, str | None, str | None, int]] = []
        self.server.expect_request(re.compile(".*")).respond_with_handler(self.handle)
        self.server.start()
        self.base = f"http://{address}:{self.server.port}"
        stories = load_stories()
        self.pages: dict[str, str] = {}
        self.feeds: dict[str, tuple[bytes, int]] = {}
        for j in range(FEEDS_PER_HOST):
            items = []
            for k in range(ITEMS_PER_FEED):
                story = stories[(h + j + k) % len(stories)]
                slug = f"{story['slug']}-{h}-{j}-{k}"
                edition = {**story, "slug": slug, "title": f"{story['title']}, host {h} feed {j} item {k}"}
                self.pages[f"/news/{slug}"] = article_page(edition)
                items.append((edition, f"{self.base}/news/{slug}"))
            self.feeds[f"/feed-{j}.xml"] = (rss(items).encode(), j)

    def handle(self, request: Any) -> Any:
        from werkzeug.wrappers import Response

        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(0.1)
            feed = self.feeds.get(request.path)
            if feed is not None:
                body, j = feed
                inm, ims = request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")
                if j % 2 == 0:
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    status, headers = (304 if inm == etag else 200), {"ETag": etag}
                else:
                    status, headers = (304 if ims == LAST_MODIFIED else 200), {"Last-Modified": LAST_MODIFIED}
                with self.lock:
                    self.feed_log.append((request.path, inm, ims, status))
                if status == 304:
                    return Response(status=304, headers=headers)
                return Response(body, content_type="application/rss+xml", headers=headers)
            page = self.pages.get(request.path)
            if page is None:
                return Response("not found", status=404, content_type="text/plain")
            return Response(page, content_type="text/html; charset=utf-8")
        finally:
            with self.lock:
                self.now -= 1

    def reset(self) -> None:
        with self.lock:
            self.peak = 0
            self.feed_log.clear()

    def stop(self) -> None:
        self.server.clear()
        self.server.stop()


def _feed_states(db: Path) -> list[tuple[Any, ...]]:
    return _rows(db, "SELECT feed_url, etag, last_modified, body_hash, last_status, last_http_status, "
                     "consecutive_failures, entries_last_seen FROM feeds ORDER BY feed_url")


def _articles(db: Path) -> list[tuple[Any, ...]]:
    return _rows(db, "SELECT article_id, url, title, text FROM articles ORDER BY article_id")


def test_feeds_are_polled_on_the_cluster_by_host_like_a_local_run(
        cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml
    from distributed import get_task_stream

    from flows.ingest import hourly_ingest

    monkeypatch.setenv("NEWSFLOW_PER_HOST_CONCURRENCY", "2")
    monkeypatch.setenv("NEWSFLOW_PER_HOST_DELAY", "0")
    executor = "dask://" + cluster.scheduler.address.removeprefix("tcp://")
    hosts = [_FeedHost(a, h) for h, a in enumerate(("127.0.0.2", "127.0.0.3", "127.0.0.4"))]
    try:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(yaml.safe_dump({"feeds": [{"url": f"{host.base}{path}", "name": f"{host.base}{path}"}
                                                   for host in hosts for path in host.feeds]}))
        local_db, dask_db = tmp_path / "local" / "n.duckdb", tmp_path / "dask" / "n.duckdb"
        runs: dict[str, list[dict[str, Any]]] = {"local": [], "dask": []}
        seen: dict[str, list[list[tuple[str, str | None, str | None, int]]]] = {"local": [], "dask": []}
        peaks: list[int] = []
        polls: list[Any] = []
        for _ in range(2):  # the second run finds every feed unchanged through its stored validator
            for name, db, ex in (("local", local_db, "local"), ("dask", dask_db, executor)):
                for host in hosts:
                    host.reset()
                with get_task_stream(cluster) as stream:
                    runs[name].append(hourly_ingest(feeds_file=str(feeds), db=str(db), executor=ex))
                seen[name].append(sorted(e for host in hosts for e in host.feed_log))
                peaks += [host.peak for host in hosts]
                if name == "dask":
                    polls.append([t for t in stream.data if str(t["key"]).startswith("newsflow-poll-")])
    finally:
        for host in hosts:
            host.stop()

    n_feeds = 3 * FEEDS_PER_HOST
    first, again = runs["dask"]
    assert first["articles_new"] == runs["local"][0]["articles_new"] == n_feeds * ITEMS_PER_FEED, runs
    assert _articles(dask_db) == _articles(local_db)
    assert _feed_states(dask_db) == _feed_states(local_db)
    assert len(_feed_states(dask_db)) == n_feeds
    # the same requests reached the hosts: plain GETs first, then each feed's own validator and a 304
    assert seen["dask"] == seen["local"]
    assert [e[3] for e in seen["dask"][0]] == [200] * n_feeds
    conditional = seen["dask"][1]
    assert [e[3] for e in conditional] == [304] * n_feeds
    assert all((e[1] is not None) != (e[2] is not None) for e in conditional), conditional
    assert again["feeds_unchanged"] == runs["local"][1]["feeds_unchanged"] == n_feeds, again
    assert again["articles_new"] == 0
    # the polls ran on the workers, one shard per host (three hosts, four shards offered)
    workers = set(cluster.scheduler_info()["workers"])
    for shard_tasks in polls:
        assert len(shard_tasks) == 3 and {t["worker"] for t in shard_tasks} <= workers, shard_tasks
    # per-host politeness held in every run: never more than 2 requests in flight at one host
    assert max(peaks) <= 2, peaks
