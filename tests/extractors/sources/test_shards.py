"""Byte-range shards of a JSONL archive read exactly the records (and line numbers) of the whole file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from extractors.sources.archives import iter_records
from extractors.sources.shards import iter_shard, plan_shards


def _jsonl(path: Path, n: int) -> Path:
    lines = []
    for i in range(n):
        if i % 7 == 3:
            lines.append("")  # blank lines are skipped, but counted in line numbers
        elif i % 11 == 5:
            lines.append("{not json")  # a bad line is a problem of its own line
        else:
            lines.append(json.dumps({"url": f"https://x.example/{i}", "text": f"Story {i}. " + "words " * (i % 13)}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _seen(items: object) -> list[tuple[str, str, str]]:
    return [(type(r).__name__, r.locator, getattr(r, "record_id", "")) for r in items]  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", [1, 50, 333, 10_000])
def test_shards_cover_the_file_once_in_order(tmp_path: Path, target: int) -> None:
    path = _jsonl(tmp_path / "a.jsonl", 60)
    size = path.stat().st_size
    shards = plan_shards(path, target)
    if target >= size:
        assert len(shards) == 1 and shards[0].whole
    else:
        assert len(shards) > 1
        assert [s.start for s in shards][1:] == [s.end for s in shards][:-1] and shards[-1].end is None
    whole = _seen(iter_records(path))
    assert [r for s in shards for r in _seen(iter_shard(s))] == whole
    assert any(kind == "ArchiveProblem" for kind, _, _ in whole)


def test_a_gzipped_file_is_one_shard(tmp_path: Path) -> None:
    plain = _jsonl(tmp_path / "a.jsonl", 40)
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    shards = plan_shards(gz, 10)
    assert len(shards) == 1 and shards[0].whole
    assert _seen(iter_shard(shards[0])) == _seen(iter_records(plain))


# --------------------------------------------------------------------------------------------
# WARC byte ranges, cut at record starts
# --------------------------------------------------------------------------------------------


def test_cut_points_start_a_shard_at_the_first_record_past_the_target() -> None:
    from extractors.sources.shards import cut_points

    assert cut_points([0, 40, 90, 120, 260, 300], 100) == [0, 120, 260]
    assert cut_points([0, 40, 90], 1000) == [0]
    assert cut_points([0, 5, 10], 1) == [0, 5, 10]  # a target below a record: one record per shard


def _crawl(tmp_path: Path, *, gz: bool, n: int = 12) -> Path:
    from tests.extractors.sources.test_archives import build_warc

    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    path.write_bytes(build_warc(gz=gz, n_articles=n))
    return path


@pytest.mark.parametrize("gz", [True, False], ids=["gzip-per-record", "plain"])
@pytest.mark.parametrize("parts", [1, 3, 50])
def test_warc_shards_read_the_records_of_the_whole_file_once_in_order(tmp_path: Path, gz: bool, parts: int) -> None:
    from collections import Counter

    path = _crawl(tmp_path, gz=gz)
    size = path.stat().st_size
    shards = plan_shards(path, max(1, size // parts))
    if parts == 1:
        assert len(shards) == 1 and shards[0].whole
    else:
        assert len(shards) > 1
        assert [s.start for s in shards][1:] == [s.end for s in shards][:-1] and shards[-1].end is None
    whole_stats: Counter[str] = Counter()
    whole = _seen(iter_records(path, stats=whole_stats))
    split_stats: Counter[str] = Counter()
    assert [r for s in shards for r in _seen(iter_shard(s, stats=split_stats))] == whole
    assert sum(kind == "ArchiveRecord" for kind, _, _ in whole) >= 12
    assert split_stats == whole_stats  # the skipped records counted once too
    # planned again, the same cuts: batch ids stay the same from run to run
    assert plan_shards(path, max(1, size // parts)) == shards


def test_a_warc_gzipped_as_one_stream_is_one_shard(tmp_path: Path) -> None:
    plain = _crawl(tmp_path, gz=False)
    gz = tmp_path / "whole.warc.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    shards = plan_shards(gz, 100)
    assert len(shards) == 1 and shards[0].whole
    assert [r[2] for r in _seen(iter_shard(shards[0]))] == [r[2] for r in _seen(iter_records(plain))]


def test_the_shards_of_a_truncated_warc_read_what_the_whole_file_reads(tmp_path: Path) -> None:
    good = _crawl(tmp_path, gz=True)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    shards = plan_shards(cut, 1000)
    assert len(shards) > 1
    whole = _seen(iter_records(cut))
    assert [r for s in shards for r in _seen(iter_shard(s))] == whole
    assert whole[-1][0] == "ArchiveProblem" and sum(kind == "ArchiveProblem" for kind, _, _ in whole) == 1
