"""Golden outputs of the per-article enrichment (entities, mentions, events, quotes) and story sketch.

The file ``golden_outputs.json`` holds, for the seed archive's texts and a few generated texts,
what ``enrich`` and ``sketch_text`` returned when it was written. ``test_golden_outputs.py``
checks today's code gives exactly the same: a speed-up of the coder or the sketch must not change
a single output. When a *rule* or a data file changes the outputs on purpose, regenerate the file
deliberately and review the diff:

    python -m tests.extractors.events.golden write

For a wider check of a refactoring, dump the outputs of many texts before and after and compare:

    python -m tests.extractors.events.golden dump TEXTS.json BEFORE.jsonl   # TEXTS: [{"name", "text"}]
    python -m tests.extractors.events.golden dump TEXTS.json AFTER.jsonl
    python -m tests.extractors.events.golden compare BEFORE.jsonl AFTER.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SEED_ARCHIVE = ROOT / "data" / "seed_archive"
GOLDEN = Path(__file__).resolve().parent / "golden_outputs.json"
PUBLISHED = datetime(2021, 9, 22, 12, tzinfo=UTC)
MAX_CHARS = 20_000  # what the workers hand the coder (flows.jobs.ENRICH_MAX_CHARS)

# Hand-written texts for paths the seed archive hardly takes: titles and appositives, bare
# surnames, Chinese names, pronouns, headlines, curly and straight quotes, abbreviations and
# initials, non-ASCII and NFKC-folded words, a run-on "sentence" over the coder's length limit,
# and texts too short to sketch.
HAND_TEXTS = [
    "Russian Foreign Minister Sergei Lavrov met U.S. Secretary of State Antony Blinken in Geneva on "
    "Tuesday. Lavrov said Moscow would not attack Ukraine. “We have no such plans,” he told reporters.\n"
    "Wang Yi, the Chinese Foreign Minister, urged restraint. Wang added that Beijing backs talks. "
    "Mr. Okonkwo-Ade, a senior official, warned of new sanctions against Iran next week.\n"
    "Hungarian and Romanian officials, as well as NATO's chief, condemned the strike in Kharkiv.",
    "UK Calls On China, Russia To Act As One On Taliban\n"
    "Iranian Foreign Minister Abbas Araghchi said on Monday that Tehran \"will respond\" if attacked. "
    "Protesters in Kabul clashed with police; the Taliban's spokesman Zabihullah Mujahid denied it.\n"
    "George W. Bush and Gen. Mark Milley visited troops in Iraq, Syria and Jordan. Prime Minister "
    "Naftali Bennett’s office said Israel and Egypt signed a deal. ‘It is historic,’ Bennett wrote.",
    "Café owners in Zürich — ﬁnally — protested. The ﬁrm’s CEO Jean-Luc Mélenchon said: "
    "\"Prices rose 3.5% in Q3, i.e. faster than in the U.K. or the E.U.\" Sen. Ana Núñez disagreed.\n"
    + "The ministry said " + ", ".join(f"item {i} of the table" for i in range(80)) + ".\n"
    "President Yoweri Museveni of Uganda accused Kenya of arming rebels. Uganda and Kenya later met.",
    "Short text.",
    "",
]


def seed_texts() -> list[tuple[str, str]]:
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(SEED_ARCHIVE.glob("*.txt"))]


def generated_texts(seed: int = 20261201) -> list[tuple[str, str]]:
    """The hand texts, and seeded shuffles of the seed archive's sentences (people, surnames and
    pronouns met in another order than their articles have them)."""
    out = [(f"hand-{i}", t) for i, t in enumerate(HAND_TEXTS)]
    rng = random.Random(seed)
    sentences = [s for _, t in seed_texts() for s in re.split(r"(?<=[.!?])\s+", t) if s.strip()]
    for i in range(2):
        pick = rng.sample(sentences, min(30, len(sentences)))
        lines = [" ".join(pick[j:j + 3]) for j in range(0, len(pick), 3)]
        out.append((f"shuffle-{i}", "\n".join(lines)))
    return out


def snapshot(name: str, text: str) -> dict[str, Any]:
    """Everything the workers compute for one article's text, as JSON values."""
    from extractors.events import enrich
    from extractors.stories.sketch import sketch_text

    text = text[:MAX_CHARS]
    result = enrich(text, article_id=name, published_at=PUBLISHED).model_dump(mode="json")
    sketch = sketch_text(name, text, PUBLISHED)
    return {
        "name": name,
        "enrichment": result,
        "sketch": {"tokens": sketch.tokens, "shingles": sketch.shingles, "lead_shingles": sketch.lead_shingles,
                   "signature": sketch.signature.hex(), "lead_signature": sketch.lead_signature.hex(),
                   "band_keys": sketch.band_keys},
    }


def golden_inputs() -> list[tuple[str, str]]:
    return seed_texts() + generated_texts()


def compact(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with its tables as rows of values (field names once, in ``fields``) and without
    the fields every row of an article shares: the golden file stays small and diffs line by line."""
    tables: dict[str, Any] = {}
    for table, rows in snap["enrichment"].items():
        if not isinstance(rows, list):
            continue
        names = sorted({k for row in rows for k in row} - {"article_id", "coder_version"})
        tables[table] = {"fields": names, "rows": [[row.get(k) for k in names] for row in rows]}
    return {"name": snap["name"], "sketch": snap["sketch"], **tables}


def write(path: Path = GOLDEN) -> None:
    entries = []
    for name, text in golden_inputs():
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
        entries.append({"input_sha1": digest, **compact(snapshot(name, text))})
    with path.open("w", encoding="utf-8") as f:  # one line per article
        f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=False, sort_keys=True) for e in entries) + "\n]\n")
    print(f"wrote {len(entries)} golden outputs to {path}")


def dump(texts: Path, out: Path) -> None:
    items = json.loads(texts.read_text(encoding="utf-8"))
    with out.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(snapshot(item["name"], item["text"]), ensure_ascii=False, sort_keys=True) + "\n")
    print(f"dumped {len(items)} outputs to {out}")


def compare(before: Path, after: Path) -> int:
    a = before.read_text(encoding="utf-8").splitlines()
    b = after.read_text(encoding="utf-8").splitlines()
    differ = [json.loads(x)["name"] for x, y in zip(a, b, strict=False) if x != y]
    if len(a) != len(b):
        print(f"different counts: {len(a)} vs {len(b)}")
    print(f"{len(a)} outputs, {len(differ)} differ" + (f": {differ[:20]}" if differ else ""))
    return 1 if differ or len(a) != len(b) else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("write")
    d = sub.add_parser("dump")
    d.add_argument("texts", type=Path)
    d.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "write":
        write()
        return 0
    if args.cmd == "dump":
        dump(args.texts, args.out)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
