"""Full-text search: BM25 ranking, phrases, boolean operators, filters, snippets; idempotent upkeep."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.dbrows import rows
from tests.support.desk import SHARED_TEXT, build
from tests.support.factories import article
from warehouse import search as ws


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    db = tmp_path_factory.mktemp("desk") / "news.duckdb"
    build(db)
    index = ws.index_dir_for(db)
    assert ws.rebuild(db, index) == rows(db, "SELECT count(*) FROM articles")[0][0]
    return db, index


def _like(db: Path, *words: str) -> int:
    sql = "SELECT count(*) FROM articles WHERE " + " AND ".join(
        "regexp_matches(lower(title || ' ' || text), ?)" for _ in words)
    return rows(db, sql, [rf"\b{w}\b" for w in words])[0][0]


def test_counts_agree_with_a_scan_of_the_warehouse(desk: tuple[Path, Path]) -> None:
    db, index = desk
    assert ws.count(index, "wildfire") == _like(db, "wildfire") > 0
    assert ws.count(index, "wildfire smoke valley") == _like(db, "wildfire", "smoke", "valley")
    assert ws.count(index, "wildfire OR strike") == _like(db, "wildfire") + _like(db, "strike")
    assert ws.count(index, "wildfire -smoke") == 0
    assert ws.count(index, "budget NOT parliament") == 0
    assert ws.count(index, '"vote in parliament"') == _like(db, "budget")  # phrase, not three words


def test_ranking_snippets_and_filters(desk: tuple[Path, Path]) -> None:
    db, index = desk
    res = ws.search(index, '"dyke gave way"', limit=10)
    assert res.total == 4 and len(res.hits) == 4
    assert {h.title for h in res.hits} == {"Village evacuated as dyke breaks"}
    assert all("«dyke» «gave» «way»" in h.snippet and "<b>dyke</b>" in h.snippet_html for h in res.hits)
    # a word in the title outranks the same word only in the body
    res = ws.search(index, "evacuated OR library", limit=20)
    assert res.hits[0].title == "Village evacuated as dyke breaks"
    assert [h.score for h in res.hits] == sorted((h.score for h in res.hits), reverse=True)
    only = ws.search(index, "dyke", outlet="valley-post.example", limit=10)
    assert only.total == 1 and only.hits[0].outlet == "valley-post.example"
    since = datetime(2024, 3, 20, tzinfo=UTC)
    recent = ws.search(index, "flood", since=since, limit=100)
    assert recent.total == rows(db, "SELECT count(*) FROM articles WHERE regexp_matches(lower(title || ' ' || text), "
                                    "'\\bflood\\b') AND coalesce(published_at, ingested_at) >= ?", [since])[0][0] > 0
    assert all(h.day is not None and h.day >= since for h in recent.hits)
    with pytest.raises(ws.SearchError, match="cannot parse"):
        ws.search(index, '"unclosed phrase', limit=3)


def test_upsert_is_idempotent_and_replaces_by_article_id(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    a = article(1, text="The harbour crane collapsed overnight.", title="Crane collapse")
    docs = [ws.doc_from_article(a)]
    ws.upsert(index, docs)
    ws.upsert(index, docs)
    assert ws.indexed_count(index) == 1 and ws.count(index, "crane") == 1
    changed = a.model_copy(update={"text": "The harbour bridge reopened after repairs.", "title": "Bridge reopens"})
    ws.upsert(index, [ws.doc_from_article(changed)])
    assert ws.indexed_count(index) == 1
    assert ws.count(index, "crane") == 0 and ws.count(index, "bridge") == 1


def test_a_busy_index_remembers_ids_for_the_next_upsert(tmp_path: Path) -> None:
    from warehouse.batch import Batch
    from warehouse.load import load_batch

    db = tmp_path / "news.duckdb"
    a, b = article(1, text="Ferry services resumed."), article(2, text="Lighthouse keeper retires.")
    load_batch(db, Batch(run=None, articles=[a, b], links=[]))
    index = ws.index_dir_for(db)
    ws.upsert(index, [ws.doc_from_article(a)], db=db)
    import tantivy

    holder = tantivy.Index.open(str(index)).writer(heap_size=15_000_000, num_threads=1)
    with pytest.raises(ws.IndexBusy):
        ws.upsert(index, [ws.doc_from_article(b)], db=db, wait=0.2)
    ws.remember_pending(index, [b.article_id])
    del holder
    import gc

    gc.collect()
    ws.upsert(index, [], db=db)  # the next load's upsert (even an empty one) picks up what was left
    assert ws.count(index, "lighthouse") == 1 and ws.indexed_count(index) == 2
    assert not (index / ws.PENDING_FILE).exists()


def test_rebuild_replaces_a_lost_or_damaged_index(tmp_path: Path) -> None:
    from warehouse.batch import Batch
    from warehouse.load import load_batch

    db = tmp_path / "news.duckdb"
    load_batch(db, Batch(run=None, articles=[article(i, text=f"{SHARED_TEXT} Item {i}.") for i in range(5)], links=[]))
    index = ws.index_dir_for(db)
    assert not ws.exists(index)
    with pytest.raises(ws.SearchError, match="--rebuild"):
        ws.search(index, "dyke")
    index.mkdir()
    (index / "meta.json").write_text("garbage")
    assert ws.rebuild(db) == 5
    assert ws.count(index, "dyke") == 5 and ws.exists(index)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_text_is_not_stored_and_an_older_index_is_rebuilt_on_the_next_load(tmp_path: Path) -> None:
    from warehouse.batch import Batch
    from warehouse.load import load_batch

    db = tmp_path / "news.duckdb"
    arts = [article(i, text=f"{SHARED_TEXT} Item {i}.") for i in range(3)]
    load_batch(db, Batch(run=None, articles=arts, links=[]))
    index = ws.index_dir_for(db)
    assert ws.rebuild(db) == 3
    hit = ws.search(index, '"dyke gave way"', limit=1).hits[0]
    import tantivy

    idx = tantivy.Index.open(str(index))
    stored = idx.searcher().doc(idx.searcher().search(idx.parse_query("dyke", ["body"]), 1).hits[0][1]).to_dict()
    assert "body" not in stored and stored["article_id"] == [hit.article_id]
    assert "«dyke» «gave» «way»" in hit.snippet  # cut from the warehouse's text at query time
    # with the warehouse out of reach, hits keep their titles and ranks, without a snippet
    gone = ws.search(index, "dyke", limit=3, db=tmp_path / "elsewhere.duckdb")
    assert gone.total == 3 and all(h.snippet == "" and h.title for h in gone.hits)

    (index / ws.VERSION_FILE).write_text("1\n")  # an index written by the previous version
    assert ws.stale(index) and not ws.exists(index)
    with pytest.raises(ws.SearchError, match="older version"):
        ws.search(index, "dyke")
    more = article(9, text="Lighthouse keeper retires after forty years.")
    load_batch(db, Batch(run=None, articles=[more], links=[]))
    ws.upsert(index, [ws.doc_from_article(more)], db=db)
    assert ws.exists(index) and ws.indexed_count(index) == 4 and ws.count(index, "dyke") == 3
