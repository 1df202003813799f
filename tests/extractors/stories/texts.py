"""One real story and the copies of it the detector must group, built from the seed archive.

* ``original``: a seed-archive story (text as the text-dump extractor would give it);
* ``wire``: the same text on another outlet — other furniture, other line breaks;
* ``excerpt``: its first 25 %, with a "read more" line;
* ``reprint``: an edited reprint whose intro (first 18 %) was rewritten by the second outlet, with
  a few words changed and an editor's note — so it shares little with the excerpt and only the
  original (or the wire copy) ties the two;
* ``related``: another seed-archive story, which quotes the same statement as the original.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.extractors.stories.pairs import NOTES, SEED_ARCHIVE, furnish

T0 = datetime(2021, 9, 22, 8, 0, tzinfo=UTC)


def seed_texts() -> dict[str, str]:
    """File stem → body (line 1, the title, dropped) of every seed-archive story."""
    out = {}
    for path in sorted(Path(SEED_ARCHIVE).glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        out[path.stem] = "\n".join(lines[1:]).strip()
    return out


@dataclass(frozen=True)
class Story:
    name: str
    text: str
    first_seen: datetime


def copies() -> list[Story]:
    texts = seed_texts()
    original = texts["000_038f5bece8a68a20"]
    related = texts["002_20f6a4471efa1b4f"]  # quotes Liz Truss's statement too
    rng = random.Random("stories-copies")
    words = " ".join(original.split()).split(" ")
    intro = ("Britain's top diplomat is pressing Moscow and Beijing to coordinate their approach to the new "
             "rulers in Kabul, officials in London said, as ministers prepared for talks at the United Nations "
             "this week amid concern that the country could again become a base for militant groups.")
    body = words[len(words) * 18 // 100:]
    for at in (40, 95, 150):  # light edits: a few words changed
        body[at] = "reportedly"
    reprint = "\n".join([NOTES[0], intro, " ".join(body)])
    head = " ".join(words[: len(words) // 4])
    return [
        Story("original", original, T0),
        Story("wire", furnish(original, rng), T0 + timedelta(hours=2)),
        Story("excerpt", f"{head} …\nRead the full story at Metro Wire.", T0 + timedelta(hours=3)),
        Story("reprint", furnish(reprint, rng), T0 + timedelta(hours=5)),
        Story("related", related, T0 + timedelta(hours=1)),
    ]
