"""A learned second opinion on the lines of a plain-text dump.

The rule cleaner (``extractors.content.cleaner``) removes what is certainly furniture; on
archives from sites it has never seen, many menus, teasers and footers still pass it. This
module scores every line it kept with a small logistic model over signals that carry over
between sites — no vocabulary, no site names:

* the line itself: length in words and characters, terminal punctuation, commas per word,
  the share of short lower-case words (function words in most Latin/Cyrillic scripts), of
  capitalised words and of digits, list marks and separators;
* its words shared with the dump's title (teasers for other stories share none);
* its place: relative position in the dump, the share of the dump's prose above and below it, inside or outside the densest run of prose and
  how far from it, and what its neighbours look like (prose or not, how long);
* repetition: the line printed twice in the dump.

Before the model, when a backfill has seen other documents of the same source, lines that
recur across that source's documents are dropped (reason ``recurring_in_source``; see
``extractors.content.recurring``) — unless they make up most of the dump, which is then a
copy of another document of the source rather than furniture around a new story.

The model is additive: each feature maps to a score through a step function, the scores
and a bias sum to the log-odds that the line is story text. Its steps live in
``data/line_model.json`` (readable; written by
``scripts/train_line_model.py`` from labels derived from the corpus: which lines of a naive
dump trafilatura's HTML extraction keeps on the same page, tuning split only). A dropped line
carries the reason ``model:<feature>``: the feature that pushed it hardest towards furniture.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections.abc import Collection, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from extractors.content.cleaner import LineVerdict
from extractors.content.recurring import norm_line

# recurring lines are furniture only while they are a minority of the dump's words
_MAX_RECURRING_SHARE = 0.5

__all__ = ["FEATURES", "LineModel", "line_features", "load_model", "refine"]

FEATURES: tuple[str, ...] = (
    "log_words",
    "log_chars",
    "ends_sentence",
    "commas_per_word",
    "short_lower_share",
    "capital_share",
    "digit_share",
    "list_or_separator",
    "relative_position",
    "in_prose_run",
    "log_distance_to_run",
    "prev_prose",
    "next_prose",
    "window_prose",
    "prev_log_words",
    "next_log_words",
    "repeated_in_dump",
    "before_run",
    "after_run",
    "short_in_run",
    "log_short_run",
    "wide_window_prose",
    "title_overlap",
    "ends_colon",
    "prose_before_share",
    "prose_after_share",
    "doc_prose_share",
)

_TERMINAL_RE = re.compile(r"[.!?…。！？:;]['\"”’»)\]]*$")
_SEPARATOR_RE = re.compile(r"^[-•·*▪►»>|]\s|\s[|•·»]\s|\s/\s")
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _prose(words: int, text: str) -> bool:
    return words >= 8 and _TERMINAL_RE.search(text) is not None


def _densest_run(scores: Sequence[float]) -> tuple[int, int]:
    """Start and end (inclusive) of the run with the largest sum of ``scores`` (Kadane)."""
    best, best_span = 0.0, (0, -1)
    total, start = 0.0, 0
    for pos, value in enumerate(scores):
        if total <= 0:
            total, start = value, pos
        else:
            total += value
        if total > best:
            best, best_span = total, (start, pos)
    return best_span


def _title_words(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if len(w) >= 4}


def line_features(lines: Sequence[str], title: str | None = None) -> list[list[float]]:
    """One feature row (in ``FEATURES`` order) per line of ``lines`` (``title``: the dump's
    first line, when it has one: story lines share its words, teasers for other stories do not)."""
    n = len(lines)
    if not n:
        return []
    words = [line.count(" ") + 1 for line in lines]
    prose = [_prose(w, line) for w, line in zip(words, lines, strict=True)]
    run_start, run_end = _densest_run([w if p else -4.0 for w, p in zip(words, prose, strict=True)])
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    log_words = [math.log1p(w) for w in words]
    # length of the run of consecutive short non-prose lines each line belongs to (menus)
    short = [w <= 6 and not p for w, p in zip(words, prose, strict=True)]
    short_run = [0] * n
    pos = 0
    while pos < n:
        if not short[pos]:
            pos += 1
            continue
        end = pos
        while end < n and short[end]:
            end += 1
        for k in range(pos, end):
            short_run[k] = end - pos
        pos = end
    prefix = [0]
    for p in prose:
        prefix.append(prefix[-1] + p)
    total_prose = prefix[-1] or 1
    prose_words = sum(w for w, p in zip(words, prose, strict=True) if p)
    doc_prose_share = prose_words / (sum(words) or 1)
    title_words = _title_words(title) if title else set()
    rows: list[list[float]] = []
    for pos, line in enumerate(lines):
        tokens = _WORD_RE.findall(line)
        nt = len(tokens) or 1
        short_lower = capital = digits = 0
        for tok in tokens:
            first = tok[0]
            if first.isdigit():
                digits += 1
            elif first.isupper():
                capital += 1
            elif len(tok) <= 3:
                short_lower += 1
        if run_start <= pos <= run_end:
            inside, distance = 1.0, 0
        else:
            inside = 0.0
            distance = run_start - pos if pos < run_start else pos - run_end
        lo, hi = max(0, pos - 3), min(n, pos + 4)
        window = sum(prose[lo:hi]) - prose[pos]
        rows.append(
            [
                log_words[pos],
                math.log1p(len(line)),
                1.0 if _TERMINAL_RE.search(line) else 0.0,
                line.count(",") / nt,
                short_lower / nt,
                capital / nt,
                digits / nt,
                1.0 if _SEPARATOR_RE.search(line) else 0.0,
                pos / n,
                inside,
                math.log1p(distance),
                1.0 if pos and prose[pos - 1] else 0.0,
                1.0 if pos + 1 < n and prose[pos + 1] else 0.0,
                window / max(1, hi - lo - 1),
                log_words[pos - 1] if pos else 0.0,
                log_words[pos + 1] if pos + 1 < n else 0.0,
                1.0 if counts[line] > 1 else 0.0,
                1.0 if pos < run_start else 0.0,
                1.0 if pos > run_end else 0.0,
                inside if words[pos] < 8 else 0.0,
                math.log1p(short_run[pos]),
                (prefix[min(n, pos + 11)] - prefix[max(0, pos - 10)] - prose[pos])
                / max(1, min(n, pos + 11) - max(0, pos - 10) - 1),
                len(title_words.intersection(t.lower() for t in tokens if len(t) >= 4)) / len(title_words)
                if title_words
                else 0.0,
                1.0 if line.endswith(":") else 0.0,
                prefix[pos] / total_prose,
                (prefix[n] - prefix[pos + 1]) / total_prose,
                doc_prose_share,
            ]
        )
    return rows


class LineModel:
    """An additive model: per feature, a step function (cut points and one score per step),
    summed with a bias into log-odds that the line is story text; lines below the keep
    threshold are dropped. Readable: each feature's steps say how it moves the verdict."""

    def __init__(self, spec: dict[str, Any]) -> None:
        terms = spec["terms"]
        names = tuple(term["feature"] for term in terms)
        if names != FEATURES:
            raise ValueError(f"line model features {list(names)} do not match the code's {list(FEATURES)}")
        self.cuts = [[float(c) for c in term["cuts"]] for term in terms]
        self.scores = [[float(v) for v in term["scores"]] for term in terms]
        for cuts, scores in zip(self.cuts, self.scores, strict=True):
            if len(scores) != len(cuts) + 1:
                raise ValueError("a line model term needs one score more than cut points")
        self.bias = float(spec["bias"])
        self.threshold = float(spec["threshold"])

    def contributions(self, row: Sequence[float]) -> list[float]:
        return [
            scores[bisect_right(cuts, x)] for x, cuts, scores in zip(row, self.cuts, self.scores, strict=True)
        ]

    def log_odds(self, row: Sequence[float]) -> float:
        return self.bias + sum(self.contributions(row))

    def probability(self, row: Sequence[float]) -> float:
        z = self.log_odds(row)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def explain(self, row: Sequence[float]) -> str:
        """The feature that pushed this line hardest towards furniture."""
        parts = self.contributions(row)
        worst = min(range(len(parts)), key=parts.__getitem__)
        return FEATURES[worst]


@lru_cache(maxsize=1)
def load_model() -> LineModel:
    text = resources.files("extractors.content").joinpath("data/line_model.json").read_text(encoding="utf-8")
    return LineModel(json.loads(text))


def refine(
    verdicts: Sequence[LineVerdict],
    *,
    title: str | None = None,
    recurring: Collection[str] | None = None,
    model: LineModel | None = None,
) -> list[LineVerdict]:
    """The cleaner's verdicts with the lines the model judges furniture dropped too.

    Only lines the cleaner kept can be dropped; the model's features are computed on those
    lines in order (the furniture already removed no longer counts as neighbours).
    ``recurring``: lines this dump's source prints in many of its documents (from a backfill,
    whitespace-collapsed as ``recurring.norm_line`` does).
    """
    model = model or load_model()
    out = list(verdicts)
    kept = [i for i, v in enumerate(verdicts) if v.reason is None]
    if recurring:
        hits = [i for i in kept if norm_line(verdicts[i].text) in recurring]
        words = sum(len(verdicts[i].text.split()) for i in kept)
        if hits and sum(len(verdicts[i].text.split()) for i in hits) <= _MAX_RECURRING_SHARE * words:
            for i in hits:
                v = verdicts[i]
                out[i] = LineVerdict(v.text, "recurring_in_source", v.kept_text, v.blank_before)
            dropped = set(hits)
            kept = [i for i in kept if i not in dropped]
    rows = line_features([verdicts[i].text for i in kept], title)
    drops = [(idx, row) for idx, row in zip(kept, rows, strict=True) if model.probability(row) < model.threshold]
    if len(drops) == len(kept):
        return out  # the model would leave nothing: no furniture/story contrast to judge by, it abstains
    for idx, row in drops:
        v = verdicts[idx]
        out[idx] = LineVerdict(v.text, f"model:{model.explain(row)}", v.kept_text, v.blank_before)
    return out
