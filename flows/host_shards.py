"""Ingest's network stages on a Dask cluster, in shards keyed by host: feed polling and page fetching.

Every URL of one host goes to the same shard, and a shard is fetched by one ``Fetcher`` on one
worker, so the per-host limits (concurrency, delay between starts, robots.txt) that a Fetcher
keeps hold across the whole cluster: no host is in two shards at once. Hosts are spread over the
shards greedily by URL count (largest first, onto the emptiest shard) by ``by_host``, the one
sharding policy for both stages. Shards carry keys, URLs and validators (ETag, Last-Modified),
never bodies; the fetched responses come back to the flow as the same ``FetchResult`` (or
``PipelineError``) a local fetch returns, so everything downstream (feed parsing, extraction)
is unchanged.

A redirect to a host of another shard is the one way two workers can meet at one host; that
host then sees at most one Fetcher's limit per shard it was reached from. The two stages run
one after the other, so a host serving both feeds and pages is never fetched by both at once.
"""

from __future__ import annotations

import asyncio
import heapq
import queue
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from extractors.net import netguard
from extractors.net.fetcher import Fetcher, FetchResult
from flows.cluster import client_for, cluster_threads
from flows.decisions import Candidate
from schemas.failures import PipelineError, Reason
from schemas.settings import Settings

Outcome = FetchResult | PipelineError
Kind = Literal["feed", "page"]


class HasUrl(Protocol):
    @property
    def url(self) -> str: ...


T = TypeVar("T", bound=HasUrl)


@dataclass(frozen=True)
class Wanted:
    """One request of a shard: the caller's key for its answer, the URL and its validators."""

    key: str
    url: str
    etag: str | None = None
    last_modified: str | None = None


def host_of(url: str) -> str:
    """The host the Fetcher keys its politeness on ('' for a URL it would refuse anyway)."""
    try:
        return netguard.split_url(url)[1].lower()
    except PipelineError:
        return ""


def by_host(items: list[T], shards: int) -> list[list[T]]:
    """Split ``items`` (anything with a URL: page candidates, feed requests) into at most
    ``shards`` non-empty shards, each host in exactly one."""
    hosts: dict[str, list[T]] = {}
    for it in items:
        hosts.setdefault(host_of(it.url), []).append(it)
    bins: list[tuple[int, int, list[T]]] = [(0, i, []) for i in range(max(1, shards))]
    for _, group in sorted(hosts.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        load, i, members = heapq.heappop(bins)
        members.extend(group)
        heapq.heappush(bins, (load + len(group), i, members))
    return [members for _, _, members in sorted(bins, key=lambda b: b[1]) if members]


_WHAT = {"feed": "feed poll", "page": "page fetch"}


async def _fetch_all(wanted: list[Wanted], kind: Kind, settings: Settings,
                     deadline: float) -> list[tuple[str, Outcome]]:
    async with Fetcher(settings) as fetcher:
        async def one(w: Wanted) -> tuple[str, Outcome]:
            try:
                return w.key, await fetcher.fetch(w.url, kind=kind, etag=w.etag, last_modified=w.last_modified)
            except PipelineError as exc:
                return w.key, exc
            except Exception as exc:  # never let one URL break the shard
                return w.key, PipelineError(Reason.INTERNAL, f"{type(exc).__name__}: {exc}"[:300])

        tasks = [asyncio.ensure_future(one(w)) for w in wanted]
        if not tasks:
            return []
        done, pending = await asyncio.wait(tasks, timeout=max(deadline, 0.0))
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        late = PipelineError(Reason.TIMEOUT,
                             f"{_WHAT[kind]} still running when the stage deadline ({deadline:.0f} s) passed")
        return [t.result() if t in done else (wanted[i].key, late) for i, t in enumerate(tasks)]


def fetch_shard(wanted: list[Wanted], kind: Kind, settings: Settings, deadline: float) -> list[tuple[str, Outcome]]:
    """A Dask task: one Fetcher fetches the shard's URLs (all of each of its hosts)."""
    return asyncio.run(_fetch_all(wanted, kind, settings, deadline))


def fetch_shards_on_cluster(wanted: list[Wanted], kind: Kind, settings: Settings, deadline: float,
                            on_result: Callable[[str, Outcome], Any] | None = None) -> dict[str, Outcome]:
    """Fetch ``wanted`` on the cluster in host shards (two per worker thread), handing each
    answer to ``on_result`` as its shard completes; the answers by key."""
    assert settings.dask_address is not None
    if not wanted:
        return {}
    client = client_for(settings.dask_address)
    shards = by_host(wanted, 2 * cluster_threads(client))
    finished: queue.Queue[Any] = queue.Queue()  # futures, as they finish (the client's own thread puts them)
    futures = [client.submit(fetch_shard, shard, kind, settings, deadline, pure=False, retries=1,
                             key=f"newsflow-{'poll' if kind == 'feed' else 'fetch'}-{i}-{id(wanted):x}")
               for i, shard in enumerate(shards)]
    for fut in futures:
        fut.add_done_callback(finished.put)
    out: dict[str, Outcome] = {}
    try:
        for _ in futures:
            fut = finished.get(timeout=deadline + 60)
            for key, res in fut.result():
                out[key] = res
                if on_result is not None:
                    on_result(key, res)
    finally:
        client.cancel([f for f in futures if not f.done()])
    return out


def fetch_on_cluster(cands: list[Candidate], settings: Settings, sink: queue.Queue[Any] | None,
                     deadline: float) -> dict[str, Outcome]:
    """Fetch the pages of ``cands`` on the cluster in host shards; each shard's pages go on
    ``sink`` (as ``(article_id, outcome)``) as the shard completes."""
    wanted = [Wanted(c.article_id, c.url, *c.validators) for c in cands]
    return fetch_shards_on_cluster(wanted, "page", settings, deadline,
                                   None if sink is None else lambda k, r: sink.put((k, r)))


def poll_on_cluster(requests: list[Wanted], settings: Settings, deadline: float,
                    on_result: Callable[[str, Outcome], Any] | None = None) -> dict[str, Outcome]:
    """Conditional GETs of feeds on the cluster in host shards (the same shards a page fetch
    would make of them); the raw responses by key, parsed by the flow as after a local poll."""
    return fetch_shards_on_cluster(requests, "feed", settings, deadline, on_result)
