"""Grouping: copies, reprints and excerpts of one story share a group; related stories do not;
the partition never depends on the order the copies arrived in."""

from __future__ import annotations

import itertools
from datetime import timedelta

from extractors.stories import assign_groups, compare, decode, is_duplicate, sketch_text
from extractors.stories.groups import components, shared_buckets
from schemas.stories import SKETCH_VERSION, GroupAssignment, StoryMember, StorySketch
from tests.extractors.stories.texts import T0, Story, copies, seed_texts


class MemoryIndex:
    """The warehouse contract of ``find_candidates`` (band-key hits plus all members of their
    groups and of the new articles' own groups), in memory, for pure tests."""

    def __init__(self) -> None:
        self.members: dict[str, StoryMember] = {}

    def candidates(self, sketches: list[StorySketch]) -> list[StoryMember]:
        keys = {k for s in sketches for k in s.band_keys}
        hits = {aid for aid, m in self.members.items() if keys & set(m.sketch.band_keys)}
        hits |= {s.article_id for s in sketches if s.article_id in self.members}
        groups = {self.members[a].dup_group_id for a in hits}
        return [m for m in self.members.values() if m.dup_group_id in groups]

    def add(self, sketches: list[StorySketch]) -> list[GroupAssignment]:
        out = assign_groups(sketches, self.candidates(sketches))
        new = {s.article_id: s for s in sketches}
        for a in out:
            sketch = new.get(a.article_id) or self.members[a.article_id].sketch
            self.members[a.article_id] = StoryMember(sketch=sketch, dup_group_id=a.dup_group_id,
                                                     dup_similarity=a.dup_similarity)
        return out

    def partition(self) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for aid, m in self.members.items():
            groups.setdefault(m.dup_group_id, set()).add(aid)
        return {frozenset(g) for g in groups.values()}

    def group_of(self, aid: str) -> str:
        return self.members[aid].dup_group_id


def _sketch(story: Story) -> StorySketch:
    return sketch_text(story.name, story.text, story.first_seen)


EXPECTED = {frozenset({"original", "wire", "excerpt", "reprint"}), frozenset({"related"})}


def test_the_set_is_what_it_claims() -> None:
    """The premises of the order test: the excerpt and the reprint do not match each other (only
    the original or the wire copy ties them), and the related story matches nothing."""
    sk = {s.name: decode(_sketch(s)) for s in copies()}
    dup = {(a, b) for a in sk for b in sk if a < b and is_duplicate(compare(sk[a], sk[b]))}
    assert dup == {("original", "wire"), ("original", "reprint"), ("excerpt", "original"), ("excerpt", "wire"),
                   ("reprint", "wire")}
    ex = compare(sk["excerpt"], sk["original"])
    assert ex.jaccard < 0.45 < ex.containment  # an excerpt: low Jaccard, high containment


def test_one_batch_groups_copies_and_names_the_group_after_the_earliest() -> None:
    out = {a.article_id: a for a in assign_groups([_sketch(s) for s in copies()], [])}
    assert {a: g.dup_group_id for a, g in out.items()} == {
        "original": "original", "wire": "original", "excerpt": "original", "reprint": "original",
        "related": "related"}
    assert out["original"].dup_similarity == 1.0 and out["related"].dup_similarity == 1.0
    assert out["wire"].dup_similarity > 0.9
    assert 0.45 <= out["reprint"].dup_similarity < out["wire"].dup_similarity
    assert all(a.new for a in out.values())


def test_every_arrival_order_gives_the_same_groups() -> None:
    stories = copies()
    for order in itertools.permutations(stories):
        index = MemoryIndex()
        for story in order:
            index.add([_sketch(story)])
        assert index.partition() == EXPECTED, [s.name for s in order]
        assert index.group_of("excerpt") == "original"  # earliest member, whatever arrived first


def test_arrival_in_batches_of_two_gives_the_same_groups() -> None:
    stories = copies()
    for order in itertools.permutations(stories):
        index = MemoryIndex()
        for i in range(0, len(order), 2):
            index.add([_sketch(s) for s in order[i:i + 2]])
        assert index.partition() == EXPECTED


def test_a_new_article_linking_two_groups_merges_them_and_reports_the_moves() -> None:
    by = {s.name: s for s in copies()}
    index = MemoryIndex()
    index.add([_sketch(by["excerpt"])])
    index.add([_sketch(by["reprint"])])
    assert index.group_of("excerpt") == "excerpt" and index.group_of("reprint") == "reprint"
    out = index.add([_sketch(by["original"])])
    moved = {a.article_id: a for a in out if not a.new}
    assert set(moved) == {"excerpt", "reprint"}
    assert {a.dup_group_id for a in out} == {"original"}
    assert [a.article_id for a in out if a.new] == ["original"]


def test_group_id_follows_the_earliest_member_when_an_earlier_copy_arrives_late() -> None:
    by = {s.name: s for s in copies()}
    index = MemoryIndex()
    index.add([_sketch(by["wire"])])
    index.add([_sketch(by["excerpt"])])
    assert index.group_of("excerpt") == "wire"
    out = index.add([_sketch(by["original"])])  # published before the wire copy
    assert {a.article_id for a in out} == {"original", "wire", "excerpt"}
    assert index.group_of("wire") == index.group_of("excerpt") == "original"


def test_sketching_an_article_again_can_split_its_group() -> None:
    """Reprocess: the original's text changes to another story; the excerpt and the reprint are
    no longer tied by it — but the wire copy still ties them, so only the original leaves."""
    stories = copies()
    index = MemoryIndex()
    index.add([_sketch(s) for s in stories])
    changed = sketch_text("original", seed_texts()["003_2d8f9a8c737655f8"], T0)
    out = {a.article_id: a for a in index.add([changed])}
    assert index.partition() == {frozenset({"wire", "excerpt", "reprint"}), frozenset({"original"}),
                                 frozenset({"related"})}
    assert out["original"].dup_group_id == "original" and out["original"].new
    assert {out[a].dup_group_id for a in ("wire", "excerpt", "reprint")} == {"wire"}


def test_resubmitting_the_same_sketches_changes_nothing_existing() -> None:
    index = MemoryIndex()
    sketches = [_sketch(s) for s in copies()]
    index.add(sketches)
    again = index.add(sketches)
    assert all(a.new for a in again)
    assert index.partition() == EXPECTED


def test_seed_archive_stories_stay_apart() -> None:
    """Five stories about the same diplomacy, two of them quoting the same statement: five groups."""
    sketches = [sketch_text(name, text, T0 + timedelta(hours=i)) for i, (name, text) in enumerate(seed_texts().items())]
    out = assign_groups(sketches, [])
    assert len(out) == 5
    assert {a.dup_group_id for a in out} == {s.article_id for s in sketches}


def test_texts_too_short_to_compare_stay_alone() -> None:
    a = sketch_text("a", "Breaking news: more soon.", T0)
    b = sketch_text("b", "Breaking news: more soon.", T0 + timedelta(hours=1))
    assert a.signature == b"" and a.band_keys == []
    assert {g.dup_group_id for g in assign_groups([a, b], [])} == {"a", "b"}


def _keyed(aid: str, keys: list[int], version: int | None = None) -> StorySketch:
    base = sketch_text(aid, " ".join(f"word{i}" for i in range(60)), T0)
    return base.model_copy(update={"band_keys": keys, **({} if version is None else {"version": version})})


def test_shared_buckets_lists_each_key_shared_by_two_sketches_in_key_order() -> None:
    """The buckets worth comparing within: keys held by two sketches or more (signed 64-bit keys
    sorted as numbers), their sketches ascending and once each even when a sketch repeats a key;
    keys of one sketch only, empty key lists and sketches of another version are left out."""
    top, bottom = 2**63 - 1, -(2**63)
    sketches = [
        _keyed("a", [5, 7, 7, top, -3]),
        _keyed("b", [7, 9, bottom]),
        _keyed("c", []),
        _keyed("d", [9, 7, 5, 5, bottom]),
        _keyed("e", [5, 7, 9, top], version=SKETCH_VERSION + 1),
        _keyed("f", [11, top]),
    ]
    expected = {}
    for i, s in enumerate(sketches):
        if s.version == SKETCH_VERSION:
            for k in set(s.band_keys):
                expected.setdefault(k, []).append(i)
    reference = [expected[k] for k in sorted(expected) if len(expected[k]) > 1]
    assert shared_buckets(sketches) == reference == [[1, 3], [0, 3], [0, 1, 3], [1, 3], [0, 5]]
    assert shared_buckets(sketches[:1]) == []
    assert shared_buckets([]) == []


def test_components_follow_shared_keys_through_a_chain() -> None:
    """Copies linked only through a middle copy (each pair sharing a different key) form one
    component; a copy that shares no key with them stays apart although its text is the same."""
    story = next(s for s in copies() if s.name == "original")
    same = [sketch_text(n, story.text, T0) for n in ("x", "y", "z", "w")]
    chained = [same[0].model_copy(update={"band_keys": [1]}), same[1].model_copy(update={"band_keys": [1, 2]}),
               same[2].model_copy(update={"band_keys": [2]}), same[3].model_copy(update={"band_keys": [3]})]
    assert sorted(sorted(c) for c in components(chained)) == [[0, 1, 2], [3]]
