"""Snippet scoring for main-text extraction, as in trafilatura's own evaluation.

A page comes with snippets the extraction must contain (``with``) and must not contain
(``without``). Whitespace is normalised on both sides so line wrapping never decides a hit.
Shared by the quality gate and the benchmark so both report the same numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WS_RE = re.compile(r"\s+")


def normalize_ws(text: str) -> str:
    """Collapse every whitespace run to one space and trim."""
    return _WS_RE.sub(" ", text).strip()


def score(extracted: str | None, with_: Iterable[str], without: Iterable[str]) -> tuple[int, int, int, int]:
    """Return ``(tp, fn, fp, tn)`` for one page; ``None``/empty extraction finds nothing."""
    text = normalize_ws(extracted) if extracted else ""
    tp = fn = fp = tn = 0
    for snippet in with_:
        if text and normalize_ws(snippet) in text:
            tp += 1
        else:
            fn += 1
    for snippet in without:
        if text and normalize_ws(snippet) in text:
            fp += 1
        else:
            tn += 1
    return tp, fn, fp, tn


@dataclass
class Totals:
    """Counts summed over a corpus, with the usual derived metrics."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, counts: tuple[int, int, int, int]) -> None:
        tp, fn, fp, tn = counts
        self.tp += tp
        self.fn += fn
        self.fp += fp
        self.tn += tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fn + self.fp + self.tn
        return (self.tp + self.tn) / total if total else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fn": self.fn,
            "fp": self.fp,
            "tn": self.tn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "accuracy": round(self.accuracy, 4),
        }


@dataclass(frozen=True)
class PageScore:
    """Counts for one corpus page: plain trafilatura and our full path, same decoded input."""

    url: str
    plain: tuple[int, int, int, int]
    ours: tuple[int, int, int, int]
    blocked: bool


def score_page(item: tuple[str, str, list[str], list[str]]) -> PageScore:
    """Score one page of the trafilatura evaluation set ``(url, gz_path, with, without)``.

    Both extractors get the same string from ``decode_bytes``; a page our path flags as
    blocked counts as an empty extraction (the pipeline would not store it). Top-level so a
    process pool can pickle it.
    """
    import gzip

    import trafilatura

    from extractors.content.html_extract import extract_html
    from extractors.normalize.text import decode_bytes

    url, path, with_, without = item
    with gzip.open(path, "rb") as handle:
        html = decode_bytes(handle.read(), None)
    plain = trafilatura.extract(html, url=url)
    doc = extract_html(html, url, tolerance_hours=24.0)
    ours = "" if doc.blocked else doc.text
    return PageScore(url, score(plain, with_, without), score(ours, with_, without), doc.blocked)
