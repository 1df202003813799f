"""Lines a source prints in many of its documents: the strongest sign of a site's furniture.

A backfill holds many dumps of one source; its menus, prompts, share bars and footers come
back in nearly every one of them, while story text does not (a wire quote may appear in two
stories, not in half of them). ``RecurringLines`` counts, per source, in how many documents
each line occurs and hands back the lines that recur often enough; the text-dump path then
drops them (reason ``recurring_in_source``). A single dump on its own gets none of this and
relies on its per-document signals.

Bounded: at most ``max_docs`` documents per source are counted, lines longer than
``max_chars`` are ignored, and lines are kept as 8-byte digests while counting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = ["RecurringLines", "norm_line"]


def norm_line(line: str) -> str:
    """The form lines are compared in: whitespace collapsed."""
    return " ".join(line.split())


def _digest(line: str) -> bytes:
    return hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest()


@dataclass
class _Source:
    docs: int = 0
    counts: dict[bytes, int] = field(default_factory=dict)
    text: dict[bytes, str] = field(default_factory=dict)


class RecurringLines:
    """Per-source document counts of lines.

    A line recurs when it occurs in at least ``min_docs`` documents of its source and in at
    least ``min_share`` of them; sources with fewer than ``min_docs`` documents have none.
    """

    def __init__(
        self, *, min_docs: int = 3, min_share: float = 0.5, max_docs: int = 300, max_chars: int = 600
    ) -> None:
        self.min_docs = min_docs
        self.min_share = min_share
        self.max_docs = max_docs
        self.max_chars = max_chars
        self._sources: dict[str, _Source] = {}

    def add(self, source: str, text: str) -> None:
        """Count the distinct lines of one document of ``source`` (the first line, its title,
        is left out: titles differ per story and never need to recur)."""
        state = self._sources.setdefault(source, _Source())
        if state.docs >= self.max_docs:
            return
        state.docs += 1
        seen: set[bytes] = set()
        lines = [norm_line(line) for line in text.splitlines()]
        lines = [line for line in lines if line]
        for line in lines[1:]:
            if len(line) > self.max_chars:
                continue
            key = _digest(line)
            if key in seen:
                continue
            seen.add(key)
            state.counts[key] = state.counts.get(key, 0) + 1
            if key not in state.text and state.counts[key] >= 2:
                state.text[key] = line

    def documents(self, source: str) -> int:
        state = self._sources.get(source)
        return state.docs if state else 0

    def lines(self, source: str) -> frozenset[str]:
        """The lines that recur across ``source``'s documents (whitespace-collapsed)."""
        state = self._sources.get(source)
        if state is None or state.docs < self.min_docs:
            return frozenset()
        need = max(self.min_docs, self.min_share * state.docs)
        return frozenset(state.text[key] for key, count in state.counts.items() if count >= need)
