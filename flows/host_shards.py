"""Ingest's page fetching on a Dask cluster, in shards keyed by host.

Every page of one host goes to the same shard, and a shard is fetched by one ``Fetcher`` on one
worker, so the per-host limits (concurrency, delay between starts, robots.txt) that a Fetcher
keeps hold across the whole cluster: no host is in two shards at once. Hosts are spread over the
shards greedily by page count (largest first, onto the emptiest shard). Shards carry URLs and
validators, never bodies; the fetched pages come back to the flow, which extracts them as before.

A redirect to a host of another shard is the one way two workers can meet at one host; that
host then sees at most one Fetcher's limit per shard it was reached from.
"""

from __future__ import annotations

import asyncio
import heapq
import queue
from typing import Any

from extractors.net import netguard
from extractors.net.fetcher import Fetcher, FetchResult
from flows.cluster import client_for, cluster_threads
from flows.decisions import Candidate
from schemas.failures import PipelineError, Reason
from schemas.settings import Settings

Outcome = FetchResult | PipelineError


def host_of(url: str) -> str:
    """The host the Fetcher keys its politeness on ('' for a URL it would refuse anyway)."""
    try:
        return netguard.split_url(url)[1].lower()
    except PipelineError:
        return ""


def by_host(cands: list[Candidate], shards: int) -> list[list[Candidate]]:
    """Split ``cands`` into at most ``shards`` non-empty shards, each host in exactly one."""
    hosts: dict[str, list[Candidate]] = {}
    for c in cands:
        hosts.setdefault(host_of(c.url), []).append(c)
    bins: list[tuple[int, int, list[Candidate]]] = [(0, i, []) for i in range(max(1, shards))]
    for _, group in sorted(hosts.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        load, i, items = heapq.heappop(bins)
        items.extend(group)
        heapq.heappush(bins, (load + len(group), i, items))
    return [items for _, _, items in sorted(bins, key=lambda b: b[1]) if items]


async def _fetch_all(cands: list[Candidate], settings: Settings, deadline: float) -> list[tuple[str, Outcome]]:
    async with Fetcher(settings) as fetcher:
        async def one(c: Candidate) -> tuple[str, Outcome]:
            try:
                etag, modified = c.validators
                return c.article_id, await fetcher.fetch(c.url, kind="page", etag=etag, last_modified=modified)
            except PipelineError as exc:
                return c.article_id, exc
            except Exception as exc:
                return c.article_id, PipelineError(Reason.INTERNAL, f"{type(exc).__name__}: {exc}"[:300])

        tasks = [asyncio.ensure_future(one(c)) for c in cands]
        done, pending = await asyncio.wait(tasks, timeout=max(deadline, 0.0))
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        late = PipelineError(Reason.TIMEOUT, f"page fetch still running when the stage deadline ({deadline:.0f} s) passed")
        return [t.result() if t in done else (cands[i].article_id, late) for i, t in enumerate(tasks)]


def fetch_shard(cands: list[Candidate], settings: Settings, deadline: float) -> list[tuple[str, Outcome]]:
    """A Dask task: one Fetcher fetches the shard's pages (all of each of its hosts)."""
    return asyncio.run(_fetch_all(cands, settings, deadline))


def fetch_on_cluster(cands: list[Candidate], settings: Settings, sink: queue.Queue[Any] | None,
                     deadline: float) -> dict[str, Outcome]:
    """Fetch ``cands`` on the cluster in host shards (two per worker thread); each shard's pages
    go on ``sink`` as the shard completes."""
    assert settings.dask_address is not None
    client = client_for(settings.dask_address)
    shards = by_host(cands, 2 * cluster_threads(client))
    finished: queue.Queue[Any] = queue.Queue()  # futures, as they finish (the client's own thread puts them)
    futures = [client.submit(fetch_shard, shard, settings, deadline, pure=False, retries=1,
                             key=f"newsflow-fetch-{i}-{id(cands):x}") for i, shard in enumerate(shards)]
    for fut in futures:
        fut.add_done_callback(finished.put)
    out: dict[str, Outcome] = {}
    try:
        for _ in futures:
            fut = finished.get(timeout=deadline + 60)
            for aid, res in fut.result():
                out[aid] = res
                if sink is not None:
                    sink.put((aid, res))
    finally:
        client.cancel([f for f in futures if not f.done()])
    return out
