"""The persisted story index in DuckDB: candidates by band-key join, bulk (re-)assignments,
v_stories, and the same groups whatever order the copies are loaded in."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from extractors.stories import assign_groups, sketch_text
from schemas.stories import StorySketch
from tests.extractors.stories.texts import T0, Story, copies, seed_texts
from warehouse.db import connect_write
from warehouse.stories import (
    find_candidates,
    prune_story_bands,
    sync_article_groups,
    update_story_index,
)

OUTLETS = {"original": "Sputnik", "wire": "Metro Wire", "excerpt": "Gazette Online", "reprint": "City Tribune",
           "related": "TRT World"}


def _insert_article(conn: duckdb.DuckDBPyConnection, story: Story) -> None:
    conn.execute(
        "INSERT INTO articles (article_id, url, outlet, title, published_at, text, word_count, content_hash, "
        "origin, text_source, ingested_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'rss', 'page', ?, 'run')",
        [story.name, f"https://{story.name}.example.org/a", OUTLETS.get(story.name, "Outlet"),
         f"Title of {story.name}", story.first_seen, story.text, len(story.text.split()),
         hashlib.sha256(story.text.encode()).hexdigest(), datetime(2026, 11, 30, tzinfo=UTC)],
    )


def _sketch(story: Story) -> StorySketch:
    return sketch_text(story.name, story.text, story.first_seen)


def _load(conn: duckdb.DuckDBPyConnection, stories: list[Story]) -> None:
    for s in stories:
        _insert_article(conn, s)
    update_story_index(conn, [_sketch(s) for s in stories], assign_groups)


def _groups(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(conn.execute("SELECT article_id, dup_group_id FROM articles").fetchall())


def _partition(groups: dict[str, str]) -> set[frozenset[str]]:
    out: dict[str, set[str]] = {}
    for aid, g in groups.items():
        out.setdefault(g, set()).add(aid)
    return {frozenset(v) for v in out.values()}


@pytest.fixture
def conn(db_path: Path):
    c = connect_write(db_path)
    yield c
    c.close()


def test_every_load_order_gives_the_same_groups_in_the_warehouse(tmp_path: Path) -> None:
    stories = copies()
    expected = {frozenset({"original", "wire", "excerpt", "reprint"}), frozenset({"related"})}
    for n, order in enumerate(itertools.permutations(stories[:4])):
        c = connect_write(tmp_path / f"o{n}.duckdb")
        try:
            _load(c, [stories[4]])
            for story in order:
                _load(c, [story])
            groups = _groups(c)
            assert _partition(groups) == expected, [s.name for s in order]
            assert groups["excerpt"] == "original"
            # the index and the analysts' columns agree
            assert dict(c.execute("SELECT article_id, dup_group_id FROM story_sketches").fetchall()) == groups
        finally:
            c.close()


def test_a_linking_article_merges_groups_in_bulk_and_v_stories_counts_stories(conn: duckdb.DuckDBPyConnection) -> None:
    by = {s.name: s for s in copies()}
    _load(conn, [by["excerpt"]])
    _load(conn, [by["reprint"], by["related"]])
    assert conn.execute("SELECT count(*) FROM v_stories").fetchone() == (3,)
    _insert_article(conn, by["original"])
    out = update_story_index(conn, [_sketch(by["original"])], assign_groups)
    assert {a.article_id for a in out if not a.new} == {"excerpt", "reprint"}
    rows = conn.execute("SELECT story_id, first_seen, title, members, outlet_count, outlets FROM v_stories "
                        "ORDER BY members DESC").fetchall()
    assert len(rows) == 2
    story_id, first_seen, title, members, outlet_count, outlets = rows[0]
    assert (story_id, title, members, outlet_count) == ("original", "Title of original", 3, 3)
    assert first_seen == T0 and sorted(outlets) == sorted(OUTLETS[n] for n in ("original", "excerpt", "reprint"))
    sims = dict(conn.execute("SELECT article_id, dup_similarity FROM articles").fetchall())
    assert sims["original"] == 1.0 and sims["related"] == 1.0
    assert 0.45 <= sims["reprint"] < 1.0 and sims["excerpt"] >= 0.6


def test_candidates_come_from_band_keys_and_whole_groups(conn: duckdb.DuckDBPyConnection) -> None:
    stories = copies()
    _load(conn, stories)
    for i, (name, text) in enumerate(seed_texts().items()):  # unrelated filler in the index
        if name != "000_038f5bece8a68a20":
            _load(conn, [Story(name, text, T0 + timedelta(days=1, hours=i))])
    probe = sketch_text("late-copy", stories[0].text, T0 + timedelta(days=2))
    found = {m.sketch.article_id for m in find_candidates(conn, [probe])}
    assert found == {"original", "wire", "excerpt", "reprint"}  # the reprint via its group
    member = next(m for m in find_candidates(conn, [probe]) if m.sketch.article_id == "wire")
    assert member.sketch == _sketch(stories[1]) and member.dup_group_id == "original"


def test_loading_the_same_batch_again_changes_nothing(conn: duckdb.DuckDBPyConnection) -> None:
    stories = copies()
    _load(conn, stories)
    before = conn.execute("SELECT * FROM articles ORDER BY article_id").fetchall()
    bands = conn.execute("SELECT count(*) FROM story_bands").fetchone()
    out = update_story_index(conn, [_sketch(s) for s in stories], assign_groups)
    assert not [a for a in out if not a.new]
    assert conn.execute("SELECT * FROM articles ORDER BY article_id").fetchall() == before
    assert conn.execute("SELECT count(*) FROM story_bands").fetchone() == bands


def test_reprocessed_text_splits_its_group(conn: duckdb.DuckDBPyConnection) -> None:
    _load(conn, copies())
    changed = Story("original", seed_texts()["003_2d8f9a8c737655f8"], T0)
    conn.execute("UPDATE articles SET text = ? WHERE article_id = 'original'", [changed.text])
    update_story_index(conn, [_sketch(changed)], assign_groups)
    assert _partition(_groups(conn)) == {frozenset({"wire", "excerpt", "reprint"}), frozenset({"original"}),
                                         frozenset({"related"})}
    assert conn.execute("SELECT count(*) FROM story_sketches").fetchone() == (5,)


def test_seed_archive_loads_as_five_stories(conn: duckdb.DuckDBPyConnection) -> None:
    stories = [Story(n, t, T0 + timedelta(hours=i)) for i, (n, t) in enumerate(seed_texts().items())]
    _load(conn, stories[:2])
    _load(conn, stories[2:])
    assert conn.execute("SELECT count(*), sum(members) FROM v_stories").fetchone() == (5, 5)


def test_pruned_articles_stop_attracting_copies_but_keep_their_group(conn: duckdb.DuckDBPyConnection) -> None:
    stories = copies()
    _load(conn, stories)
    deleted = prune_story_bands(conn, before=T0 + timedelta(minutes=30))  # only the original is older
    assert deleted > 0
    probe = sketch_text("late-copy", stories[0].text, T0 + timedelta(days=40))
    found = {m.sketch.article_id for m in find_candidates(conn, [probe])}
    assert "original" in found  # still reached through its group (the wire copy matched)
    assert _groups(conn)["original"] == "original"


def test_sync_copies_groups_to_articles_loaded_after_their_sketches(conn: duckdb.DuckDBPyConnection) -> None:
    stories = copies()
    update_story_index(conn, [_sketch(s) for s in stories], assign_groups)  # articles not there yet
    for s in stories:
        _insert_article(conn, s)
    assert _groups(conn) == dict.fromkeys(_groups(conn), None)
    assert sync_article_groups(conn) == 5
    assert _partition(_groups(conn)) == {frozenset({"original", "wire", "excerpt", "reprint"}),
                                         frozenset({"related"})}


def test_all_migrations_in_order_give_an_empty_v_stories(tmp_path: Path) -> None:
    from warehouse.migrate import available_migrations

    c = duckdb.connect(str(tmp_path / "m.duckdb"))
    try:
        for m in available_migrations():
            c.execute(m.sql)
        assert c.execute("SELECT count(*) FROM v_stories").fetchall() == [(0,)]
    finally:
        c.close()


def test_a_database_at_migration_9_upgrades_and_keeps_finding_copies(db_path: Path) -> None:
    """An index built before migration 010 (story_bands with its ART index) upgrades in place: the
    index is dropped, every band row stays, and the same candidates and groups come out."""
    from warehouse.migrate import migrate, schema_version

    db_path.parent.mkdir(parents=True, exist_ok=True)
    old = duckdb.connect(str(db_path))
    migrate(old, up_to=9)  # the database as release 9 left it
    stories = copies()
    _load(old, stories[:3])
    assert old.execute("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'story_bands'").fetchall() \
        == [("story_bands_key",)]
    bands = old.execute("SELECT band_key, article_id FROM story_bands ORDER BY ALL").fetchall()
    old.close()

    c = connect_write(db_path)  # migrates
    try:
        assert schema_version(c) >= 10
        assert c.execute("SELECT count(*) FROM duckdb_indexes() WHERE table_name = 'story_bands'").fetchall() == [(0,)]
        assert c.execute("SELECT band_key, article_id FROM story_bands ORDER BY ALL").fetchall() == bands
        probe = sketch_text("late-copy", stories[0].text, T0 + timedelta(days=2))
        assert {m.sketch.article_id for m in find_candidates(c, [probe])} == {"original", "wire", "excerpt"}
        _load(c, stories[3:])
        assert _partition(_groups(c)) == {frozenset({"original", "wire", "excerpt", "reprint"}),
                                          frozenset({"related"})}
        assert prune_story_bands(c, before=T0 + timedelta(minutes=30)) > 0  # deletes without the index
    finally:
        c.close()


def test_a_sketch_without_an_assignment_is_refused(conn: duckdb.DuckDBPyConnection) -> None:
    from warehouse.stories import apply_assignments

    sketches = [_sketch(s) for s in copies()[:2]]
    with pytest.raises(ValueError, match="no group assignment"):
        apply_assignments(conn, sketches, assign_groups(sketches[:1], []))
    assert conn.execute("SELECT count(*) FROM story_sketches").fetchall() == [(0,)]


def test_members_keep_only_shared_band_keys_and_the_groups_are_the_same(conn: duckdb.DuckDBPyConnection) -> None:
    """``keys="shared"`` (what a load hands the decision) drops only keys no other sketch of the set
    has: the assignments are the ones the members' full keys give, also when a re-sketched article
    leaves its group and the others must stay joined through keys it no longer shares."""
    stories = copies()
    _load(conn, stories[:2])
    _load(conn, stories[2:])
    for i, (name, text) in enumerate(seed_texts().items()):  # unrelated filler in the index
        _load(conn, [Story(name, text, T0 + timedelta(days=1, hours=i))])
    probes = [
        [sketch_text("late-copy", stories[0].text, T0 + timedelta(days=2))],
        [_sketch(Story("original", seed_texts()["003_2d8f9a8c737655f8"], T0))],  # splits its group
        [sketch_text(f"again-{s.name}", s.text, T0 + timedelta(days=3)) for s in stories],
    ]
    kept = dropped = 0
    for new in probes:
        full = find_candidates(conn, new)
        shared = find_candidates(conn, new, keys="shared")
        assert [m.sketch.article_id for m in shared] == [m.sketch.article_id for m in full]
        assert assign_groups(new, shared) == assign_groups(new, full)
        owners: dict[int, set[str]] = {}
        for s in [m.sketch for m in full] + new:
            for k in s.band_keys:
                owners.setdefault(k, set()).add(s.article_id)
        for f, s in zip(full, shared, strict=True):
            assert s.sketch.model_copy(update={"band_keys": f.sketch.band_keys}) == f.sketch
            assert s.dup_group_id == f.dup_group_id and s.dup_similarity == f.dup_similarity
            assert s.sketch.band_keys == [k for k in f.sketch.band_keys if k in s.sketch.band_keys]
            assert {k for k in f.sketch.band_keys if len(owners[k]) > 1} <= set(s.sketch.band_keys)
        kept += sum(len(m.sketch.band_keys) for m in shared)
        dropped += sum(len(m.sketch.band_keys) for m in full) - sum(len(m.sketch.band_keys) for m in shared)
    assert kept and dropped, (kept, dropped)
