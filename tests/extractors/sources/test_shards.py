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
