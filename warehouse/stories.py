"""The persisted story index (issue 9): find candidates for new sketches, apply group decisions.

The decision itself is a plain function the caller passes in (``extractors.stories.assign_groups``
in the flows); this module only stores and looks up, so warehouse never imports extractors.
Everything is set-based over registered Arrow tables: one join finds the candidates of a whole
batch, bulk statements write the sketches, band keys and (re-)assignments.

One call per batch, same for ingest, backfill and reprocess::

    update_story_index(conn, sketches, assign_groups)

after the batch's articles are in ``articles`` (an assignment of an article not yet there is kept
in ``story_sketches`` and copied by ``sync_article_groups`` once it is).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from schemas.stories import GroupAssignment, StoryMember, StorySketch
from warehouse.queries import arrow_query

Decide = Callable[[list[StorySketch], list[StoryMember]], list[GroupAssignment]]

_SKETCH_COLUMNS = ("article_id", "first_seen", "version", "tokens", "shingles", "lead_shingles",
                   "signature", "lead_signature", "band_keys", "dup_group_id", "dup_similarity")

_ALL = ", ".join((*_SKETCH_COLUMNS, "indexed_at"))

_KEYS_SCHEMA = pa.schema([("band_key", pa.int64())])
_IDS_SCHEMA = pa.schema([("article_id", pa.string())])
_SKETCH_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("first_seen", pa.timestamp("us", tz="UTC")), ("version", pa.int32()),
    ("tokens", pa.int32()), ("shingles", pa.int32()), ("lead_shingles", pa.int32()),
    ("signature", pa.binary()), ("lead_signature", pa.binary()), ("band_keys", pa.list_(pa.int64())),
    ("dup_group_id", pa.string()), ("dup_similarity", pa.float64()), ("indexed_at", pa.timestamp("us", tz="UTC")),
])
_BANDS_SCHEMA = pa.schema([("band_key", pa.int64()), ("article_id", pa.string())])
_ASSIGN_SCHEMA = pa.schema([("article_id", pa.string()), ("dup_group_id", pa.string()),
                            ("dup_similarity", pa.float64())])


class _Registered:
    """Arrow tables registered on a connection for the duration of a ``with`` block."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, **tables: pa.Table) -> None:
        self.conn, self.tables = conn, tables

    def __enter__(self) -> None:
        for name, table in self.tables.items():
            self.conn.register(name, table)

    def __exit__(self, *exc: object) -> None:
        for name in self.tables:
            self.conn.unregister(name)


def find_candidates(conn: duckdb.DuckDBPyConnection, sketches: Sequence[StorySketch], *,
                    keys: Literal["all", "shared"] = "all") -> list[StoryMember]:
    """Index members that may share a story with ``sketches``: every article sharing a band key with
    one of them, plus all other members of those articles' groups and of the groups the sketched
    articles themselves are already in (an article sketched again). One join of the batch's keys
    against ``story_bands``; the group expansion only runs when something was found.

    ``keys="shared"``: each member's ``band_keys`` keep only the keys that occur in at least one
    other sketch of the set (``sketches`` and the members); a key no other sketch has is an LSH
    bucket of one, which pairs it with nothing. What the load hands to the grouping decision: on a
    corpus whose leads collide, most of a member's 48 keys are such keys."""
    if not sketches:
        return []
    keys_table = pa.table({"band_key": pa.array(sorted({k for s in sketches for k in s.band_keys}), pa.int64())},
                          schema=_KEYS_SCHEMA)
    ids = pa.table({"article_id": pa.array(sorted({s.article_id for s in sketches}), pa.string())},
                   schema=_IDS_SCHEMA)
    with _Registered(conn, _story_keys=keys_table, _story_ids=ids):
        hits = conn.execute("""
            SELECT DISTINCT b.article_id FROM story_bands AS b JOIN _story_keys AS k USING (band_key)
            UNION
            SELECT article_id FROM story_sketches WHERE article_id IN (SELECT article_id FROM _story_ids)
        """).fetchall()
    if not hits:
        return []
    found = pa.table({"article_id": pa.array(sorted(h[0] for h in hits), pa.string())}, schema=_IDS_SCHEMA)
    with _Registered(conn, _story_hits=found):
        members = conn.execute("""
            SELECT article_id FROM story_sketches WHERE dup_group_id IN (
                SELECT dup_group_id FROM story_sketches WHERE article_id IN (SELECT article_id FROM _story_hits)
            )
        """).fetchall()
    # Two steps: the group scan reads one column; whole rows (signatures) by primary key only.
    wanted = pa.table({"article_id": pa.array(sorted(m[0] for m in members), pa.string())}, schema=_IDS_SCHEMA)
    cols = ", ".join(_SKETCH_COLUMNS)
    with _Registered(conn, _story_members=wanted):
        rows = arrow_query(conn, f"""
            SELECT {cols} FROM story_sketches WHERE article_id IN (SELECT article_id FROM _story_members)
            ORDER BY article_id
        """)
    band_keys = (_shared_band_keys(rows.column("band_keys"), sketches) if keys == "shared"
                 else rows.column("band_keys").to_pylist())
    out = []
    for i, row in enumerate(rows.drop_columns(["band_keys"]).to_pylist()):
        group, similarity = row.pop("dup_group_id"), row.pop("dup_similarity")
        out.append(StoryMember(sketch=StorySketch(**row, band_keys=band_keys[i]), dup_group_id=group,
                               dup_similarity=similarity))
    return out


def _shared_band_keys(column: pa.ChunkedArray, sketches: Sequence[StorySketch]) -> list[list[int]]:
    """Each row's band keys that occur more than once among all rows and ``sketches`` (counted with
    repeats, so a key is never dropped that two sketches share), in their stored order."""
    lists = column.combine_chunks()
    flat = pc.list_flatten(lists)
    owners = pc.list_parent_indices(lists)
    mine = pa.array([k for s in sketches for k in s.band_keys], pa.int64())
    counted = pc.value_counts(pa.concat_arrays([flat.cast(pa.int64()), mine]))
    shared = counted.field("values").filter(pc.greater_equal(counted.field("counts"), 2))
    keep = pc.is_in(flat, value_set=shared)
    out: list[list[int]] = [[] for _ in range(len(lists))]
    for owner, key in zip(owners.filter(keep).to_pylist(), flat.filter(keep).to_pylist(), strict=True):
        out[owner].append(key)
    return out


def apply_assignments(conn: duckdb.DuckDBPyConnection, sketches: Sequence[StorySketch],
                      assignments: Sequence[GroupAssignment], *, now: datetime | None = None,
                      indexed: set[str] | None = None) -> dict[str, int]:
    """Write a batch's decision in bulk: the new sketches (replacing earlier sketches of the same
    articles) with their band keys, the group of every assigned article in ``story_sketches``, and
    the same in ``articles.dup_group_id`` / ``dup_similarity``. Runs in the caller's transaction.
    ``indexed``: the sketched articles already in the index, when the caller knows (None: look)."""
    now = now or datetime.now(UTC)
    by_id = {a.article_id: a for a in assignments}
    missing = [s.article_id for s in sketches if s.article_id not in by_id]
    if missing:
        raise ValueError(f"no group assignment for {len(missing)} sketched article(s), e.g. {missing[0]}")
    latest = {s.article_id: s for s in sketches}  # the last sketch of an article wins
    rows = list(latest.values())
    sketch_table = pa.table({
        "article_id": [s.article_id for s in rows],
        "first_seen": [s.first_seen for s in rows],
        "version": [s.version for s in rows],
        "tokens": [s.tokens for s in rows],
        "shingles": [s.shingles for s in rows],
        "lead_shingles": [s.lead_shingles for s in rows],
        "signature": [s.signature for s in rows],
        "lead_signature": [s.lead_signature for s in rows],
        "band_keys": [s.band_keys for s in rows],
        "dup_group_id": [by_id[s.article_id].dup_group_id for s in rows],
        "dup_similarity": [by_id[s.article_id].dup_similarity for s in rows],
        "indexed_at": [now] * len(rows),
    }, schema=_SKETCH_SCHEMA)
    bands = pa.table({
        "band_key": [k for s in rows for k in dict.fromkeys(s.band_keys)],
        "article_id": [s.article_id for s in rows for _k in dict.fromkeys(s.band_keys)],
    }, schema=_BANDS_SCHEMA)
    assign = pa.table({
        "article_id": [a.article_id for a in assignments],
        "dup_group_id": [a.dup_group_id for a in assignments],
        "dup_similarity": [a.dup_similarity for a in assignments],
    }, schema=_ASSIGN_SCHEMA)
    with _Registered(conn, _story_new=sketch_table, _story_new_bands=bands, _story_assign=assign):
        # Articles sketched before (reprocess): their old sketch and band keys go first. The band
        # table is only scanned when there are such articles.
        if indexed is None:
            again = _count(conn, "SELECT count(*) FROM story_sketches WHERE article_id IN "
                                 "(SELECT article_id FROM _story_new)")
        else:
            again = len(indexed & latest.keys())
        if again:
            conn.execute("DELETE FROM story_bands WHERE article_id IN (SELECT article_id FROM _story_new)")
            conn.execute("DELETE FROM story_sketches WHERE article_id IN (SELECT article_id FROM _story_new)")
        conn.execute(f"INSERT INTO story_sketches ({_ALL}) SELECT {_ALL} FROM _story_new")
        conn.execute("INSERT INTO story_bands (band_key, article_id) SELECT band_key, article_id FROM _story_new_bands")
        moved = 0 if all(a.new for a in assignments) else _count(conn, """
            UPDATE story_sketches AS s SET dup_group_id = a.dup_group_id, dup_similarity = a.dup_similarity
            FROM _story_assign AS a
            WHERE s.article_id = a.article_id
              AND (s.dup_group_id <> a.dup_group_id OR s.dup_similarity <> a.dup_similarity)
        """)
        articles = _count(conn, """
            UPDATE articles AS t SET dup_group_id = a.dup_group_id, dup_similarity = a.dup_similarity
            FROM _story_assign AS a
            WHERE t.article_id = a.article_id
              AND (t.dup_group_id IS DISTINCT FROM a.dup_group_id
                   OR t.dup_similarity IS DISTINCT FROM a.dup_similarity)
        """)
    return {"sketches": len(rows), "bands": bands.num_rows, "reassigned": moved, "articles_updated": articles}


def update_story_index(conn: duckdb.DuckDBPyConnection, sketches: Sequence[StorySketch], decide: Decide, *,
                       transaction: bool = True, now: datetime | None = None) -> list[GroupAssignment]:
    """The one per-batch call: candidates → ``decide(new, candidates)`` → bulk apply. With
    ``transaction=False`` it runs inside a transaction the caller has opened (e.g. the load's)."""
    if not sketches:
        return []
    if transaction:
        conn.begin()
    try:
        candidates = find_candidates(conn, sketches, keys="shared")
        assignments = decide(list(sketches), candidates)
        apply_assignments(conn, sketches, assignments, now=now,
                          indexed={m.sketch.article_id for m in candidates})
        if transaction:
            conn.commit()
    except BaseException:
        if transaction:
            conn.rollback()
        raise
    return assignments


def sync_article_groups(conn: duckdb.DuckDBPyConnection) -> int:
    """Copy the index's groups to ``articles`` where they differ (articles loaded after their
    sketches, e.g. from a staged batch, or rewritten by a replace load). Returns rows updated."""
    return _count(conn, """
        UPDATE articles AS t SET dup_group_id = s.dup_group_id, dup_similarity = s.dup_similarity
        FROM story_sketches AS s
        WHERE t.article_id = s.article_id
          AND (t.dup_group_id IS DISTINCT FROM s.dup_group_id OR t.dup_similarity IS DISTINCT FROM s.dup_similarity)
    """)


def prune_story_bands(conn: duckdb.DuckDBPyConnection, *, before: datetime) -> int:
    """Drop the band keys of articles first seen before ``before``: they stop attracting new copies
    (the index covers a recent window); their sketches and groups stay. Returns rows deleted."""
    return _count(conn, """
        DELETE FROM story_bands WHERE article_id IN (
            SELECT article_id FROM story_sketches WHERE first_seen < ?
        )
    """, [before])


def _count(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    rows = conn.execute(sql, params or []).fetchall()  # fetch all: leaves no open result behind
    return int(rows[0][0]) if rows else 0
