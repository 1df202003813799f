"""Archive shards: a whole file, or a byte range of a large plain JSONL file or WARC.

A shard is a reference (path, byte range, first line number), never records: the worker that
gets it reads the records itself. Ranges start at line starts found by one sequential scan
(``plan_shards``), so two shards never share a line and their line numbers (the records'
locators) are those a whole-file read gives. A WARC gzipped record by record (the usual
``.warc.gz``) or not at all is cut at record starts, found by one sequential read of the file in
the planning process (``warc_record_offsets``; it decompresses the file once); its records'
locators are file offsets either way. Gzipped JSONL, a WARC gzipped as one stream and the other
kinds are one shard each (a gzip stream cannot be entered in the middle).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from extractors.sources.archives import (
    DEFAULT_MAX_RECORD_BYTES,
    ArchiveProblem,
    ArchiveRecord,
    _classify,
    iter_records,
    warc_record_offsets,
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
    if classified.kind == "warc":
        return _plan_warc(path, size, target_bytes) or whole
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


def cut_points(offsets: Iterable[int], target_bytes: int) -> list[int]:
    """Shard starts among record ``offsets`` (ascending, the first at 0): a new shard at the first
    record that starts ``target_bytes`` or more after the current shard's start."""
    cuts = [0]
    for at in offsets:
        if at >= cuts[-1] + target_bytes:
            cuts.append(at)
    return cuts


def _plan_warc(path: Path, size: int, target_bytes: int) -> list[Shard] | None:
    try:
        cuts = cut_points(warc_record_offsets(path), target_bytes)
    except ValueError:  # one gzip stream, or damaged: one shard, whose reader reports the damage
        return None
    if len(cuts) < 2:
        return None
    return [Shard(str(path), start=start, end=cuts[i + 1] if i + 1 < len(cuts) else None, first_line=0, size=size)
            for i, start in enumerate(cuts)]


def iter_shard(shard: Shard, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
               stats: Counter[str] | None = None) -> Iterator[ArchiveRecord | ArchiveProblem]:
    """The records of one shard, as ``iter_records`` gives them for the whole file."""
    span = None if shard.whole else (shard.start, shard.end, shard.first_line)
    yield from iter_records(Path(shard.path), max_record_bytes=max_record_bytes, stats=stats, span=span)
