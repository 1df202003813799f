"""Grouping sketches into stories: LSH candidates, verified pairs, union-find components.

``assign_groups`` is the whole decision, a pure function. It is given the batch's new sketches
and the index members the warehouse found for them — every article sharing a band key with a
new sketch, *together with all other members of those articles' groups* (and of the groups the
new sketches' own articles were in, when an article is sketched again). Over that closed set it
recomputes the groups from scratch:

* an edge joins two articles when they share an LSH band key *and* ``is_duplicate`` holds for
  them. Both tests depend on the pair alone, so the edges — and the connected components —
  are the same whatever order the copies arrived in;
* each component is one story; its id is the ``article_id`` of its earliest member (smallest
  ``first_seen``, ties by ``article_id``), its members' ``dup_similarity`` their similarity to
  that member.

Because every member of every touched group is in the set, components reaching outside it
cannot exist (an edge to an outside article would have put that article in the group), so the
local recomputation equals the global one: groups merge when a new article links them, and
split when a re-sketched article no longer holds them together.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from extractors.stories.similarity import THRESHOLDS, Thresholds, compare, is_duplicate
from extractors.stories.sketch import Sketched, decode
from schemas.stories import SKETCH_VERSION, GroupAssignment, StoryMember, StorySketch


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _order_key(s: StorySketch) -> tuple[object, str]:
    return (s.first_seen, s.article_id)


def shared_buckets(sketches: Sequence[StorySketch]) -> list[list[int]]:
    """The LSH buckets that hold two sketches or more: for each band key shared by at least two
    current-version sketches, the indexes (into ``sketches``) of the sketches carrying it, ascending
    and each once; the buckets in ascending order of their key.

    Done in numpy: a batch's few thousand sketches carry ~50 keys each, almost all in one sketch
    only, and building a Python list for each of those ~400,000 keys was most of a load's
    grouping (bench/RESULTS.md §3, fifth round)."""
    use = [i for i, s in enumerate(sketches) if s.version == SKETCH_VERSION and s.band_keys]
    if len(use) < 2:
        return []
    counts = np.fromiter((len(sketches[i].band_keys) for i in use), dtype=np.int64, count=len(use))
    keys = np.fromiter(itertools.chain.from_iterable(sketches[i].band_keys for i in use),
                       dtype=np.int64, count=int(counts.sum()))
    owners = np.repeat(np.asarray(use, dtype=np.int64), counts)
    order = np.lexsort((owners, keys))  # by key, then by sketch
    keys, owners = keys[order], owners[order]
    distinct = np.ones(len(keys), dtype=bool)  # a key repeated within one sketch counts once
    distinct[1:] = (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])
    keys, owners = keys[distinct], owners[distinct]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    ends = np.append(starts[1:], len(keys))
    shared = ends - starts >= 2
    members = owners.tolist()
    return [members[a:b] for a, b in zip(starts[shared].tolist(), ends[shared].tolist(), strict=True)]


def components(sketches: Sequence[StorySketch], thresholds: Thresholds = THRESHOLDS) -> list[list[int]]:
    """Connected components (lists of indexes into ``sketches``) of the duplicate graph."""
    n = len(sketches)
    uf = _UnionFind(n)
    decoded: dict[int, Sketched] = {}
    rejected: set[tuple[int, int]] = set()
    for members in shared_buckets(sketches):
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                i, j = members[x], members[y]
                if uf.find(i) == uf.find(j) or (i, j) in rejected:
                    continue
                a = decoded.get(i) or decoded.setdefault(i, decode(sketches[i]))
                b = decoded.get(j) or decoded.setdefault(j, decode(sketches[j]))
                if is_duplicate(compare(a, b), thresholds):
                    uf.union(i, j)
                else:
                    rejected.add((i, j))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[uf.find(i)].append(i)
    return list(groups.values())


def assign_groups(new_sketches: Iterable[StorySketch], candidates: Iterable[StoryMember],
                  thresholds: Thresholds = THRESHOLDS) -> list[GroupAssignment]:
    """Groups for the batch's new sketches, plus re-assignments of existing articles.

    ``candidates`` are the index members returned by ``warehouse.stories.find_candidates`` for
    these sketches (band-key matches and all members of their groups). A new sketch replaces a
    candidate with the same ``article_id`` (an article sketched again by reprocess). A candidate's
    ``band_keys`` may hold only the keys another sketch of the set also has (the load passes them so):
    a key of one sketch is a bucket of one, which ``components`` skips. Returned:
    one assignment per new sketch (``new=True``) and one per existing article whose group id or
    similarity changed (``new=False``), sorted by article id.
    """
    current: dict[str, StoryMember] = {}
    for member in candidates:
        current[member.sketch.article_id] = member
    by_id: dict[str, StorySketch] = {aid: m.sketch for aid, m in current.items()}
    new_ids: set[str] = set()
    for s in new_sketches:
        by_id[s.article_id] = s
        new_ids.add(s.article_id)
    ids = sorted(by_id)
    sketches = [by_id[i] for i in ids]
    out: list[GroupAssignment] = []
    for comp in components(sketches, thresholds):
        root = min((sketches[i] for i in comp), key=_order_key)
        root_dec = decode(root)
        for i in comp:
            s = sketches[i]
            sim = 1.0 if s is root else compare(decode(s), root_dec).score
            is_new = s.article_id in new_ids
            old = current.get(s.article_id)
            if (not is_new and old is not None and old.dup_group_id == root.article_id
                    and old.dup_similarity is not None and abs(old.dup_similarity - sim) < 1e-9):
                continue
            out.append(GroupAssignment(article_id=s.article_id, dup_group_id=root.article_id,
                                       dup_similarity=sim, new=is_new))
    out.sort(key=lambda g: g.article_id)
    return out
