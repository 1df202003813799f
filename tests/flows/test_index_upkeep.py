"""Search index upkeep in the flows: commits off the load path, nothing lost in between."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from flows import shared
from schemas.settings import Settings
from tests.support.factories import article
from warehouse import search as ws
from warehouse.batch import Batch
from warehouse.load import load_batch


def test_a_full_buffer_commits_in_the_background_and_the_closing_flush_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "news.duckdb"
    settings = Settings(db=db)
    index = ws.index_dir_for(db)
    monkeypatch.setattr(shared, "INDEX_FLUSH_DOCS", 4)
    first = [article(i, text=f"Harbour crane number {i} was inspected.") for i in range(4)]
    later = [article(10 + i, text=f"Ferry route {i} reopened after the storm.") for i in range(2)]

    release = threading.Event()
    started = threading.Event()
    real_upsert = ws.upsert

    def slow_upsert(*args: object, **kwargs: object) -> int:
        started.set()
        assert release.wait(10)
        return real_upsert(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ws, "upsert", slow_upsert)
    load_batch(db, Batch(run=None, articles=first, links=[]))
    shared.index_articles(first, settings)  # the buffer is full: a commit starts, the loader goes on
    assert started.wait(10) and not ws.exists(index)
    # articles noted while the commit runs (staged: not in the database yet, so the commit cannot
    # read them back) must survive the commit's clean-up of the pending file
    shared.index_articles(later, settings)
    release.set()
    shared.wait_index(settings)
    assert ws.count(index, "crane") == 4 and ws.count(index, "ferry") == 0
    assert set(ws._read_pending(index)) == {a.article_id for a in later}
    load_batch(db, Batch(run=None, articles=later, links=[]))
    shared.flush_index(settings)  # the flow's closing flush
    assert ws.count(index, "ferry") == 2 and not (index / ws.PENDING_FILE).exists()
    assert shared._index_commits == {} and shared._index_buffer == {}


def test_the_buffer_is_also_committed_when_its_texts_reach_the_size_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A few long articles fill the buffer as surely as many short ones (its memory is their text)."""
    db = tmp_path / "news.duckdb"
    settings = Settings(db=db)
    index = ws.index_dir_for(db)
    long_text = "The harbour crane was inspected again after the storm. " * 40  # ~2,200 characters
    monkeypatch.setattr(shared, "INDEX_FLUSH_BYTES", 3 * sys.getsizeof(long_text))
    arts = [article(i, text=long_text) for i in range(3)]
    load_batch(db, Batch(run=None, articles=arts[:2], links=[]))
    shared.index_articles(arts[:2], settings)
    shared.wait_index(settings)
    assert not ws.exists(index) and shared._index_bytes[index] >= 2 * sys.getsizeof(long_text)
    load_batch(db, Batch(run=None, articles=arts[2:], links=[]))
    shared.index_articles(arts[2:], settings)  # three texts reach the bound: committed, 3 docs < 5,000
    shared.wait_index(settings)
    assert ws.count(index, "crane") == 3
    assert shared._index_buffer == {} and shared._index_bytes == {}
