"""Archive shards: a whole file, or a byte range of a large plain JSONL file.

A shard is a reference (path, byte range, first line number), never records: the worker that
gets it reads the records itself. Ranges start at line starts found by one sequential scan
(``plan_shards``), so two shards never share a line and their line numbers (the records'
locators) are those a whole-file read gives. Gzipped files and the other kinds are one shard
each (a gzip stream cannot be entered in the middle).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from extractors.sources.archives import (
    DEFAULT_MAX_RECORD_BYTES,
    ArchiveProblem,
    ArchiveRecord,
    _classify,
    iter_records,
)

_SCAN = 8 * 1024 * 1024


@dataclass(frozen=True)
class Shard:
    """Bytes ``start``..``end`` of ``path`` (``end=None``: to the end), whose first line is ``first_line``."""

    path: str
    start: int = 0
    end: int | None = None
    first_line: int = 1
    size: int = 0  # the file's size when planned

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end is None


def plan_shards(path: Path, target_bytes: int) -> list[Shard]:
    """Split a plain JSONL file larger than ``target_bytes`` at line starts; anything else is one shard."""
    size = path.stat().st_size
    whole = [Shard(str(path), size=size)]
    if size <= target_bytes:
        return whole
    classified = _classify(path)
    if classified.kind != "jsonl" or classified.gzipped:
        return whole
    cuts: list[tuple[int, int]] = [(0, 1)]  # (line start offset, its line number)
    next_cut = target_bytes
    lines, pos = 0, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_SCAN):
            at = 0
            while pos + len(chunk) > next_cut:
                nl = chunk.find(b"\n", max(at, next_cut - pos))
                if nl < 0:
                    break
                lines += chunk.count(b"\n", at, nl + 1)
                at = nl + 1
                if pos + at < size:
                    cuts.append((pos + at, lines + 1))
                next_cut = pos + at + target_bytes
            lines += chunk.count(b"\n", at)
            pos += len(chunk)
    out = []
    for i, (start, line) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else None
        out.append(Shard(str(path), start=start, end=end, first_line=line, size=size))
    return out


def iter_shard(shard: Shard, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
               stats: Counter[str] | None = None) -> Iterator[ArchiveRecord | ArchiveProblem]:
    """The records of one shard, as ``iter_records`` gives them for the whole file."""
    span = None if shard.whole else (shard.start, shard.end, shard.first_line)
    yield from iter_records(Path(shard.path), max_record_bytes=max_record_bytes, stats=stats, span=span)
