"""Comparing two sketches and deciding whether they tell the same story.

Three estimates per pair, all from the stored sketches (never the texts):

* ``jaccard``: resemblance of the whole texts (MinHash agreement). High for true copies and
  lightly edited reprints.
* ``containment``: share of the smaller text's shingles found in the larger one, derived from the
  Jaccard estimate and the exact shingle counts: |A∩B| = J(|A|+|B|)/(1+J), divided by
  min(|A|, |B|). An excerpt that keeps the first 30 % of a story has Jaccard ≈ 0.3 but
  containment ≈ 1.
* ``lead``: the same containment on the lead sketches (first words of each text). An excerpt
  starts where its story starts; two different stories that share a quoted statement or a
  background paragraph do not.

Duplicates: ``jaccard ≥ jaccard_min``, or — the excerpt rule — ``containment ≥ containment_min``
and ``lead ≥ lead_min`` with the smaller text at least ``excerpt_min_shingles`` long. The
thresholds are data (``THRESHOLDS``), chosen on the tuning half of the labelled pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from extractors.stories.sketch import Sketched


@dataclass(frozen=True)
class Thresholds:
    jaccard_min: float
    containment_min: float
    lead_min: float
    excerpt_min_shingles: int = 24


# Chosen on the tuning half of the labelled pairs (tests/extractors/stories/pairs.py,
# ``python -m tests.extractors.stories.pairs``); see README "Stories and duplicates".
THRESHOLDS = Thresholds(jaccard_min=0.45, containment_min=0.6, lead_min=0.3)


@dataclass(frozen=True)
class Similarity:
    jaccard: float
    containment: float
    lead: float
    smaller: int  # distinct shingles of the smaller text

    @property
    def score(self) -> float:
        """One number in [0, 1] for ``dup_similarity``: the Jaccard estimate, or for an excerpt
        the evidence of the excerpt rule (the weaker of containment and lead agreement)."""
        return round(max(self.jaccard, min(self.containment, self.lead)), 4)


def _containment(j: float, na: int, nb: int) -> float:
    small = min(na, nb)
    if small <= 0:
        return 0.0
    return min(1.0, j * (na + nb) / ((1.0 + j) * small))


def compare(a: Sketched, b: Sketched) -> Similarity:
    """Similarity estimates of two sketches (symmetric: ``compare(a, b) == compare(b, a)``)."""
    if not len(a.signature) or len(a.signature) != len(b.signature):
        return Similarity(0.0, 0.0, 0.0, 0)
    j = float(np.count_nonzero(a.signature == b.signature)) / len(a.signature)
    lj = float(np.count_nonzero(a.lead_signature == b.lead_signature)) / max(1, len(a.lead_signature))
    return Similarity(jaccard=j, containment=_containment(j, a.shingles, b.shingles),
                      lead=_containment(lj, a.lead_shingles, b.lead_shingles),
                      smaller=min(a.shingles, b.shingles))


def is_duplicate(sim: Similarity, t: Thresholds = THRESHOLDS) -> bool:
    if sim.jaccard >= t.jaccard_min:
        return True
    return (sim.smaller >= t.excerpt_min_shingles and sim.containment >= t.containment_min
            and sim.lead >= t.lead_min)
