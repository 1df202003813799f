"""Host shards: every host in exactly one shard, the load spread, nothing lost."""

from __future__ import annotations

from collections import Counter

import pytest

from flows.decisions import Candidate
from flows.host_shards import by_host, host_of
from schemas.records import FeedEntry


def _cand(url: str, i: int) -> Candidate:
    return Candidate(article_id=f"a{i}", url=url, entry=FeedEntry(feed_url="https://f.example/rss", link=url))


def _cands(counts: dict[str, int]) -> list[Candidate]:
    out: list[Candidate] = []
    for host, n in counts.items():
        out += [_cand(f"https://{host}/story/{k}", len(out)) for k in range(n)]
    return out


@pytest.mark.parametrize("shards", [1, 2, 3, 8])
def test_each_host_is_in_one_shard_and_every_page_in_some_shard(shards: int) -> None:
    counts = {"big.example": 9, "Mid.Example": 5, "mid2.example": 5, "small.example": 2, "tiny.example": 1}
    cands = _cands(counts)
    out = by_host(cands, shards)
    assert 1 <= len(out) <= min(shards, len(counts)) and all(out)
    assert sorted(c.article_id for s in out for c in s) == sorted(c.article_id for c in cands)
    owners = Counter(h for s in out for h in {host_of(c.url) for c in s})
    assert set(owners.values()) == {1} and len(owners) == len(counts)


def test_hosts_are_spread_by_page_count() -> None:
    out = by_host(_cands({"a.example": 6, "b.example": 4, "c.example": 3, "d.example": 3}), 2)
    assert sorted(len(s) for s in out) == [7, 9]  # the best split of 6, 4, 3, 3 keeping hosts whole


def test_host_is_the_fetchers_key() -> None:
    assert host_of("https://WWW.Example.com:8443/x") == "www.example.com"
    assert host_of("not a url") == ""


def test_feed_requests_are_sharded_by_the_same_policy_with_their_validators() -> None:
    from flows.host_shards import Wanted

    feeds = [Wanted(str(i), f"https://{host}/feed-{i}.xml", f'"e{i}"' if i % 2 else None,
                    None if i % 2 else "Thu, 01 Jan 2026 00:00:00 GMT")
             for i, host in enumerate(["a.example", "b.example", "A.example", "c.example", "a.example"])]
    out = by_host(feeds, 2)
    assert sorted((w for s in out for w in s), key=lambda w: w.key) == feeds  # nothing lost, validators kept
    owners = Counter(h for s in out for h in {host_of(w.url) for w in s})
    assert set(owners.values()) == {1} and len(owners) == 3
    # the same hosts as page candidates fall into shards of the same sizes
    pages = [_cand(w.url, i) for i, w in enumerate(feeds)]
    assert [len(s) for s in by_host(pages, 2)] == [len(s) for s in out]
