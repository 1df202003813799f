"""Stage deadlines that stop a stuck network stage (Prefect's task timeouts cannot, in a thread)."""

from __future__ import annotations

import asyncio
import time

from flows.ingest import poll_feeds, within
from schemas.failures import Reason
from schemas.records import FeedSpec
from schemas.settings import Settings
from tests.support.http_server import RawServer

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
       b"<item><title>a</title><link>https://example.org/a</link></item></channel></rss>")


def test_within_cancels_what_is_still_running() -> None:
    seen: list[str] = []

    async def quick() -> str:
        return "quick"

    async def stuck() -> str:
        try:
            await asyncio.sleep(30)
            seen.append("finished")
            return "stuck"
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    started = time.monotonic()
    got = asyncio.run(within([quick(), stuck(), quick()], 0.3, lambda i: f"late {i}"))
    assert got == ["quick", "late 1", "quick"]
    assert seen == ["cancelled"] and time.monotonic() - started < 2
    assert asyncio.run(within([], 1, lambda i: i)) == []


def test_a_dripping_feed_is_cut_off_at_the_stage_deadline_and_the_rest_kept() -> None:
    settings = Settings(allow_private_networks=True, respect_robots=False, per_host_delay=0, retries=0,
                        feed_timeout=30, page_timeout=30)  # the per-request deadline would not fire
    with RawServer() as server:
        server.static("/ok.xml", RSS, "application/rss+xml")
        server.drip("/drip.xml", interval=0.05)
        specs = [FeedSpec(url=server.url("/ok.xml")), FeedSpec(url=server.url("/drip.xml"))]
        started = time.monotonic()
        ok, dripping = poll_feeds.fn(specs, {}, settings, deadline=1.0)
        elapsed = time.monotonic() - started
        time.sleep(0.3)
        drip_hits = server.hits_to("/drip.xml")
    assert ok.error is None and ok.result is not None and ok.result.status == 200
    assert dripping.error is not None and dripping.error.reason == Reason.TIMEOUT and dripping.result is None
    assert 0.9 < elapsed < 3
    assert drip_hits and drip_hits[0].outcome == "client_closed"  # the socket was closed, not left open


def test_a_stuck_extraction_worker_is_killed_at_the_deadline_and_the_pool_replaced() -> None:
    from flows import pool

    workers = pool.get_pool(2)
    stuck = workers.submit(time.sleep, 60)
    quick = workers.submit(abs, -3)
    broken = workers.submit(int, "not a number")
    procs = list(workers._processes.values())  # the test checks they are gone
    started = time.monotonic()
    got = pool.results_within([stuck, quick, broken], time.monotonic() + 1.0, late=lambda i: f"late {i}",
                              failed=lambda i, exc: type(exc).__name__)
    assert got == ["late 0", 3, "ValueError"]
    assert time.monotonic() - started < 8
    assert procs and not any(p.is_alive() for p in procs)  # the sleeping worker was stopped, not left running
    fresh = pool.get_pool(2)
    assert fresh is not workers and fresh.submit(abs, -5).result(timeout=30) == 5
    pool.shutdown_pool()


def test_one_worker_still_stops_a_stuck_job() -> None:
    """workers=1 extracts in one worker process, not in the flow's own: a stuck job is killable."""
    from flows import pool

    pool.shutdown_pool()
    assert pool.get_pool(1).submit(abs, -1).result(timeout=60) == 1  # the worker is up
    procs = list(pool.get_pool(1)._processes.values())
    started = time.monotonic()
    got = pool.map_within(time.sleep, [0, 60, 0], workers=1, seconds=1.5, late=lambda i: f"late {i}",
                          failed=lambda i, exc: type(exc).__name__)
    elapsed = time.monotonic() - started
    assert got == [None, "late 1", "late 2"]  # the third waited behind the stuck one
    assert 1.4 < elapsed < 10
    assert len(procs) == 1 and not procs[0].is_alive()  # the sleeping worker was killed
    assert pool.map_within(abs, [-4], workers=1, seconds=60, late=str, failed=lambda i, exc: exc) == [4]
    pool.shutdown_pool()


def test_extraction_with_one_worker_keeps_its_deadline() -> None:
    from flows import pool
    from flows.ingest import extract_pages
    from flows.jobs import PageJob

    html = b"<html><head><title>T</title></head><body><article><p>" + b"Some words here. " * 80 + b"</p></article></body></html>"

    def job(key: str) -> PageJob:
        return PageJob(key=key, url=f"https://example.org/{key}", origin="rss", run_id="r", tolerance_hours=24,
                       html=html, content_type="text/html")

    pool.shutdown_pool()
    late = extract_pages.fn([job("a"), job("b")], workers=1, deadline=0.0)
    # in-process extraction would have finished both before the deadline was ever checked
    assert [(r.key, r.reason) for r in late] == [("a", Reason.TIMEOUT), ("b", Reason.TIMEOUT)]
    assert "stage deadline (0 s)" in late[0].message
    done = extract_pages.fn([job("c")], workers=1, deadline=120)
    assert done[0].key == "c" and done[0].reason != Reason.TIMEOUT
    pool.shutdown_pool()
