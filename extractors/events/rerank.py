"""A small linear re-ranker over interpretable facts about each coded event.

The rules propose events (``events.py``); the re-ranker turns the facts about each proposal (rule
confidence, modality, a recipient found, subordinate clause, who the source is …, see
``events._features``) into a probability that the event is right: ``p = 1 / (1 + exp(-(b + Σ wᵢ·xᵢ)))``.
Weights live in ``data/reranker.tsv`` (readable, no pickles), fitted by
``tests/extractors/events/train_reranker.py`` on the PLOVER GSR dev split and the tuning part of the
project's own gold only (never the held-out third, never the unseen gold). ``explain`` names the
features that moved the decision most. Events under ``MIN_PROBABILITY`` are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MIN_PROBABILITY = 0.5


@dataclass(frozen=True)
class Reranker:
    bias: float
    weights: dict[str, float]

    def score(self, features: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-z))

    def explain(self, features: dict[str, float], top: int = 3) -> str:
        """The ``top`` largest contributions, signed: "has_recipient +0.84, subordinate -0.61"."""
        parts = [(self.weights.get(k, 0.0) * v, k) for k, v in features.items() if v]
        parts.sort(key=lambda p: -abs(p[0]))
        return ", ".join(f"{k} {w:+.2f}" for w, k in parts[:top] if abs(w) >= 0.01)


@lru_cache(maxsize=1)
def load_reranker() -> Reranker | None:
    """The fitted weights, or None when the file has none (the rule confidence is then kept)."""
    path = resources.files("extractors.events").joinpath("data").joinpath("reranker.tsv")
    if not path.is_file():
        return None
    bias = 0.0
    weights: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("feature\t"):
            continue
        name, value = line.split("\t")[:2]
        if name == "(bias)":
            bias = float(value)
        else:
            weights[name] = float(value)
    return Reranker(bias, weights) if weights else None
