"""Memory probe run in a child process: peak RSS while polling feeds and fetching pages.

``python -m tests.reliability.memory_probe probe '<json>'`` prints the figures as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


class PeakSampler:
    """Samples this process's RSS every few ms in a thread: the peak above a baseline."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        self.baseline = _rss()
        self.peak = self.baseline
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def memory_probe(feeds: list[str], pages: list[str], warmup: str) -> dict[str, Any]:
    """Run the real poll/fetch tasks (their plain functions) and report outcomes and RSS growth."""
    import resource

    from flows.decisions import Candidate
    from flows.ingest import fetch_pages, parse_feeds, poll_feeds
    from schemas.records import FeedEntry, FeedSpec
    from schemas.settings import load_settings

    settings = load_settings()
    # warm-up: the first fetch initialises httpx/anyio/ssl, which is not the body's cost
    poll_feeds.fn([FeedSpec(url=warmup)], {}, settings)
    parse_feeds.fn(poll_feeds.fn([FeedSpec(url=warmup)], {}, settings), settings.future_tolerance_hours)
    out: dict[str, Any] = {"maxrss_before_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    with PeakSampler() as s:
        polls = poll_feeds.fn([FeedSpec(url=u) for u in feeds], {}, settings)
        outcomes = parse_feeds.fn(polls, settings.future_tolerance_hours)
    out["feeds"] = {o.spec.url: o.reason for o in outcomes}
    out["feed_growth"] = s.growth
    cands = [Candidate(article_id=f"{i:032d}", url=u, entry=FeedEntry(feed_url=warmup, link=u))
             for i, u in enumerate(pages)]
    with PeakSampler() as s:
        got = fetch_pages.fn(cands, settings)
    out["pages"] = {c.url: getattr(got[c.article_id], "reason", None) and got[c.article_id].reason.value
                    for c in cands}
    out["page_growth"] = s.growth
    out["maxrss_after_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


if __name__ == "__main__":  # python -m tests.reliability.memory_probe probe '<json>'
    if len(sys.argv) == 3 and sys.argv[1] == "probe":
        spec = json.loads(sys.argv[2])
        print(json.dumps(memory_probe(spec["feeds"], spec["pages"], spec["warmup"])), flush=True)
    else:
        raise SystemExit("usage: python -m tests.reliability.memory_probe probe JSON")
