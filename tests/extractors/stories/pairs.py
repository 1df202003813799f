"""Labelled pairs for the story detector, generated deterministically at test time.

Source texts: the main text of trafilatura-eval pages (Apache-2.0, see the corpus' LICENSE;
the corpus ships pages and snippets, not gold texts, so the text is what ``trafilatura.extract``
finds in each page, kept when it has at least ``MIN_WORDS`` words) and the five stories of the
seed archive. Each source document is in the *tuning* or the *held-out* half by a hash of its
name; a pair is built from, and belongs to, one half only (a related/unrelated partner is drawn
from the same half).

Per source document X, with a random generator seeded by its name:

* ``copy`` (positive): X with other furniture (bylines, share/subscribe lines, copyright, "read
  more") and other whitespace/line breaks;
* ``reprint`` (positive): X lightly edited — a few words changed, a sentence dropped, one
  added, an editor's note — plus other furniture;
* ``excerpt`` (positive): the first 25–60 % of X, cut at a word boundary, with a "read more" line
  and sometimes a byline or other furniture above it;
* ``related`` (negative): X and another story Y of the same half sharing a quoted statement or a
  background paragraph of 25–80 words (from X, or from a third story Z inserted in both); made
  hard on purpose: Y is sometimes a short item of 80–200 words, and sometimes opens with it;
* ``unrelated`` (negative): X and another story of the same half.

``python -m tests.extractors.stories.pairs`` prints the figures per half and per kind, and the
thresholds the tuning half would choose.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared"
EVAL_DIR = SHARED / "corpora" / "trafilatura-eval"
SEED_ARCHIVE = SHARED / "seed_archive"
MIN_WORDS = 150
SEED = "stories-pairs-v1"
BASE = datetime(2026, 11, 1, tzinfo=UTC)

POSITIVE = ("copy", "reprint", "excerpt")
NEGATIVE = ("related", "unrelated")

_SENT_RE = re.compile(r"(?<=[.!?…\"”])\s+(?=[\"“A-ZÀ-Þ0-9])")

TOP_FURNITURE = (
    "Advertisement", "Share this article", "Subscribe to our newsletter", "Listen to this article",
    "By Staff Reporter", "From our correspondent", "Updated {d}", "Published {d}", "Photo: agency",
    "Skip to main content", "Breaking", "Most read",
)
BOTTOM_FURNITURE = (
    "© {y} {o}. All rights reserved.", "Read more: {o} world news", "Share on Facebook Share on X",
    "This article was originally published by {o}.", "Follow us for more updates.",
    "Copyright {y} {o}", "Comments are closed.", "Related topics",
)
NOTES = (
    "Editor's note: this story has been updated with additional reporting.",
    "Correction: an earlier version of this article misstated a date.",
    "This article has been amended since it was first published.",
    "Additional reporting by our staff.",
)
OUTLETS = ("The Daily Planet", "Metro Wire", "Gazette Online", "Northern Herald", "City Tribune")


@dataclass(frozen=True)
class Doc:
    name: str
    text: str

    @property
    def half(self) -> str:
        return half_of(self.name)


@dataclass(frozen=True)
class Pair:
    kind: str
    half: str
    a: str
    b: str
    a_name: str
    b_name: str

    @property
    def positive(self) -> bool:
        return self.kind in POSITIVE


def half_of(name: str) -> str:
    return "tuning" if hashlib.sha256(f"{SEED}|{name}".encode()).digest()[0] % 2 == 0 else "heldout"


# --------------------------------------------------------------------------- sources


def _eval_texts(limit: int | None) -> Iterator[Doc]:
    import trafilatura

    meta = json.loads((EVAL_DIR / "evaldata.json").read_text(encoding="utf-8"))
    files = sorted({v["file"] for v in meta.values()})
    if limit and limit < len(files):
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    for rel in files:
        path = EVAL_DIR / rel
        if not path.exists():
            continue
        html = gzip.decompress(path.read_bytes())
        text = trafilatura.extract(html) or ""
        if len(text.split()) >= MIN_WORDS:
            yield Doc(name=f"eval/{path.name}", text=text)


def _seed_texts() -> Iterator[Doc]:
    for path in sorted(SEED_ARCHIVE.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        body = "\n".join(lines[1:]).strip()  # line 1 is the title
        yield Doc(name=f"seed/{path.name}", text=body)


@lru_cache(maxsize=4)
def source_docs(limit: int | None = 330) -> tuple[Doc, ...]:
    """The source documents (cached per process; ``limit`` eval pages are read, evenly spread)."""
    return tuple(_seed_texts()) + tuple(_eval_texts(limit))


# --------------------------------------------------------------------------- transformations


def _sentences(text: str) -> list[str]:
    return [s for s in _SENT_RE.split(" ".join(text.split())) if s]


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.splitlines() if p.strip()]


def _fmt(line: str, rng: random.Random) -> str:
    day = BASE + timedelta(days=rng.randrange(300), minutes=rng.randrange(1440))
    return line.format(d=day.strftime("%d %B %Y %H:%M UTC"), y=day.year, o=rng.choice(OUTLETS))


def furnish(text: str, rng: random.Random) -> str:
    """Same story, other furniture and whitespace."""
    top = [_fmt(x, rng) for x in rng.sample(TOP_FURNITURE, rng.randint(1, 3))]
    bottom = [_fmt(x, rng) for x in rng.sample(BOTTOM_FURNITURE, rng.randint(1, 3))]
    paras = _paragraphs(text)
    style = rng.randrange(3)
    if style == 0:  # one paragraph per line, blank lines between
        body = "\n\n".join(paras)
    elif style == 1:  # re-wrapped at ~70 columns
        words = " ".join(paras).split()
        lines, cur = [], ""
        for w in words:
            if len(cur) + len(w) > 70:
                lines.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}".strip()
        lines.append(cur)
        body = "\n".join(lines)
    else:  # extra spaces and tabs
        body = "\n".join("  ".join(p.split(" ")) if i % 2 else "\t" + p for i, p in enumerate(paras))
    return "\n".join([*top, body, *bottom])


def edit(text: str, rng: random.Random, donor: str) -> str:
    """A lightly edited reprint: 2–5 % of words replaced, one sentence dropped, one added
    (from ``donor``), an editor's note, other furniture."""
    sents = _sentences(text)
    if len(sents) > 4:
        del sents[rng.randrange(1, len(sents))]
    extra = _sentences(donor)
    if extra:
        sents.insert(rng.randrange(1, len(sents) + 1), rng.choice(extra))
    words = " ".join(sents).split(" ")
    vocab = donor.split() or ["said"]
    for _ in range(max(1, int(len(words) * rng.uniform(0.02, 0.05)))):
        words[rng.randrange(len(words))] = rng.choice(vocab)
    note = rng.choice(NOTES)
    body = " ".join(words)
    body = f"{note}\n{body}" if rng.random() < 0.5 else f"{body}\n{note}"
    return furnish(body, rng)


def excerpt(text: str, rng: random.Random) -> str:
    words = " ".join(_paragraphs(text)).split()
    keep = max(1, int(len(words) * rng.uniform(0.25, 0.60)))
    tail = _fmt(rng.choice(("Read the full story at {o}.", "Continue reading on {o}", "Read more")), rng)
    top = [_fmt(x, rng) for x in rng.sample(TOP_FURNITURE, rng.randint(0, 2))]
    return "\n".join([*top, " ".join(words[:keep]) + " …", tail])


def _shared_passage(text: str, rng: random.Random) -> str:
    """A quoted statement or a background paragraph of 25–80 words from ``text``."""
    quotes = [s for s in _sentences(text) if ("“" in s or '"' in s) and 12 <= len(s.split()) <= 80]
    if quotes and rng.random() < 0.5:
        return rng.choice(quotes)
    words = " ".join(_paragraphs(text)).split()
    n = min(len(words), rng.randint(25, 80))
    start = rng.randrange(max(1, len(words) - n))
    return " ".join(words[start:start + n])


def _insert(text: str, passage: str, rng: random.Random, *, first: bool) -> str:
    paras = _paragraphs(text)
    at = 0 if first else rng.randint(1, max(1, len(paras)))
    return "\n".join([*paras[:at], passage, *paras[at:]])


def _short(text: str, rng: random.Random) -> str:
    """A short item: the first 80–200 words of a story."""
    words = " ".join(_paragraphs(text)).split()
    return " ".join(words[: rng.randint(80, 200)])


def related(x: str, y: str, z: str, rng: random.Random) -> tuple[str, str]:
    """Two different stories sharing a passage: a statement of X quoted in Y, or a background
    paragraph of Z in both. Made hard on purpose: a third of the time Y is a short item (so the
    shared passage is a large part of it), a quarter of the time Y opens with the passage."""
    if rng.random() < 1 / 3:
        y = _short(y, rng)
    first = rng.random() < 0.25
    if rng.random() < 0.5:
        return x, _insert(y, _shared_passage(x, rng), rng, first=first)
    passage = _shared_passage(z, rng)
    return _insert(x, passage, rng, first=False), _insert(y, passage, rng, first=first)


# --------------------------------------------------------------------------- pairs


def make_pairs(docs: tuple[Doc, ...]) -> list[Pair]:
    halves: dict[str, list[Doc]] = {"tuning": [], "heldout": []}
    for d in docs:
        halves[d.half].append(d)
    pairs: list[Pair] = []
    for half, members in halves.items():
        if len(members) < 3:
            continue
        for i, x in enumerate(members):
            rng = random.Random(f"{SEED}|{x.name}")
            others = [d for d in members if d is not x]
            y, z = rng.sample(others, 2)
            pairs.append(Pair("copy", half, x.text, furnish(x.text, rng), x.name, x.name))
            pairs.append(Pair("reprint", half, x.text, edit(x.text, rng, y.text), x.name, x.name))
            pairs.append(Pair("excerpt", half, x.text, excerpt(x.text, rng), x.name, x.name))
            ra, rb = related(x.text, y.text, z.text, rng)
            pairs.append(Pair("related", half, ra, rb, x.name, y.name))
            u = members[(i + 1 + rng.randrange(len(members) - 1)) % len(members)]
            pairs.append(Pair("unrelated", half, x.text, u.text, x.name, u.name))
    return pairs


# --------------------------------------------------------------------------- scoring


@dataclass
class Scored:
    pair: Pair
    jaccard: float
    containment: float
    lead: float
    smaller: int
    candidate: bool  # the two sketches share an LSH band key


def score_pairs(pairs: list[Pair]) -> list[Scored]:
    from extractors.stories import compare, decode, sketch_text

    out = []
    for k, p in enumerate(pairs):
        sa = sketch_text(f"a{k}", p.a, BASE)
        sb = sketch_text(f"b{k}", p.b, BASE + timedelta(hours=1))
        sim = compare(decode(sa), decode(sb))
        out.append(Scored(p, sim.jaccard, sim.containment, sim.lead, sim.smaller,
                          bool(set(sa.band_keys) & set(sb.band_keys))))
    return out


def predict(s: Scored, t: object) -> bool:
    from extractors.stories.similarity import Similarity, is_duplicate

    return s.candidate and is_duplicate(Similarity(s.jaccard, s.containment, s.lead, s.smaller), t)  # type: ignore[arg-type]


@dataclass
class Figures:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def as_dict(self) -> dict[str, float | int]:
        return {"pairs": self.tp + self.fp + self.fn + self.tn, "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "tn": self.tn, "precision": round(self.precision, 4), "recall": round(self.recall, 4)}


def figures(scored: list[Scored], t: object) -> Figures:
    f = Figures()
    for s in scored:
        hit = predict(s, t)
        if s.pair.positive:
            f.tp, f.fn = f.tp + hit, f.fn + (not hit)
        else:
            f.fp, f.tn = f.fp + hit, f.tn + (not hit)
    return f


def tune(scored: list[Scored], min_precision: float = 0.98) -> tuple[object, Figures]:
    """Grid search on the given (tuning) pairs: the highest recall with precision ≥
    ``min_precision`` (then the highest precision); among the settings that tie, the one
    nearest the middle of them, so no threshold sits on the edge of what the pairs allow."""
    from extractors.stories.similarity import Thresholds

    grid_j = [x / 100 for x in range(30, 95, 5)]
    grid_c = [x / 100 for x in range(50, 100, 5)]
    grid_l = [x / 100 for x in range(0, 100, 10)]
    found: list[tuple[tuple[float, float], Thresholds, Figures]] = []
    for j in grid_j:
        for c in grid_c:
            for lead in grid_l:
                t = Thresholds(jaccard_min=j, containment_min=c, lead_min=lead)
                f = figures(scored, t)
                if f.precision >= min_precision:
                    found.append(((round(f.recall, 9), round(f.precision, 9)), t, f))
    if not found:
        raise ValueError("no thresholds reach the precision")
    top = max(k for k, _t, _f in found)
    best = [(t, f) for k, t, f in found if k == top]
    mid = [sum(getattr(t, a) for t, _f in best) / len(best) for a in ("jaccard_min", "containment_min", "lead_min")]

    def dist(t: Thresholds) -> float:
        return sum((getattr(t, a) - m) ** 2 for a, m in zip(("jaccard_min", "containment_min", "lead_min"), mid,
                                                              strict=True))

    t, f = min(best, key=lambda tf: (dist(tf[0]), tf[0].jaccard_min, tf[0].containment_min, tf[0].lead_min))
    return t, f


def report(limit: int | None = 330) -> dict[str, object]:
    from extractors.stories import THRESHOLDS

    pairs = make_pairs(source_docs(limit))
    scored = score_pairs(pairs)
    out: dict[str, object] = {"thresholds": THRESHOLDS.__dict__}
    for half in ("tuning", "heldout"):
        part = [s for s in scored if s.pair.half == half]
        out[half] = figures(part, THRESHOLDS).as_dict()
        out[f"{half}_by_kind"] = {k: figures([s for s in part if s.pair.kind == k], THRESHOLDS).as_dict()
                                  for k in POSITIVE + NEGATIVE}
    t, f = tune([s for s in scored if s.pair.half == "tuning"])
    out["tuned_on_tuning_half"] = {"thresholds": t.__dict__, **f.as_dict()}
    return out


if __name__ == "__main__":
    print(json.dumps(report(), indent=2))
