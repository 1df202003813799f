"""Precision/recall of the story detector on the project's own labelled pairs (pairs.py).

The thresholds in ``extractors/stories/similarity.py`` must be the ones the tuning half chooses;
the held-out half is only measured, against floors in ``story_floors.json`` that may rise, never
fall. Without the shared corpus the eval-page part is skipped (the seed-archive stories alone are
too few to measure on).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.stories import THRESHOLDS
from tests.extractors.stories.pairs import (
    EVAL_DIR,
    NEGATIVE,
    POSITIVE,
    figures,
    make_pairs,
    score_pairs,
    source_docs,
    tune,
)

FLOORS = json.loads(Path(__file__).with_name("story_floors.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scored() -> list:
    if not (EVAL_DIR / "evaldata.json").is_file():
        pytest.skip(f"story pairs skipped: evaluation corpus not found at {EVAL_DIR}")
    docs = source_docs(FLOORS["eval_pages"])
    assert len(docs) == FLOORS["source_documents"], "the source corpus changed: re-tune and re-pin"
    return score_pairs(make_pairs(docs))


@pytest.mark.quality
def test_shipped_thresholds_are_the_ones_the_tuning_half_chooses(scored: list) -> None:
    chosen, _fig = tune([s for s in scored if s.pair.half == "tuning"])
    assert chosen == THRESHOLDS


@pytest.mark.quality
def test_held_out_precision_and_recall_stay_above_the_floors(scored: list, capsys: pytest.CaptureFixture[str]) -> None:
    held = [s for s in scored if s.pair.half == "heldout"]
    tuning = [s for s in scored if s.pair.half == "tuning"]
    fig, tfig = figures(held, THRESHOLDS), figures(tuning, THRESHOLDS)
    kinds = {k: figures([s for s in held if s.pair.kind == k], THRESHOLDS).as_dict() for k in POSITIVE + NEGATIVE}
    with capsys.disabled():
        print(f"\nstories held-out {fig.as_dict()}\nstories tuning   {tfig.as_dict()}")
    assert len(held) >= FLOORS["min_heldout_pairs"]
    assert fig.precision >= FLOORS["precision"], kinds
    assert fig.recall >= FLOORS["recall"], kinds
    for kind in POSITIVE:  # each kind of copy is found, not just the easy ones
        assert kinds[kind]["recall"] >= FLOORS["recall_per_kind"], (kind, kinds[kind])
    for kind in NEGATIVE:
        assert kinds[kind]["fp"] <= FLOORS["max_false_merges_per_kind"], (kind, kinds[kind])
