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
