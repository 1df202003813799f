"""Quality gate of the event coder: the frozen held-out third of the PLOVER gold-standard records
and the project's own hand-coded gold. Figures are printed (``pytest -rP``) and must stay above the
floors pinned in ``quality_floors.json`` (floors may rise, never fall)."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.extractors.events.scoring import GOLD, gsr_path, load_gold, load_gsr, score_gold, score_gsr

FLOORS = json.loads(Path(__file__).with_name("quality_floors.json").read_text(encoding="utf-8"))
WIRE_TUNING = frozenset({"tune-5", "tune-6", "tune-7", "tune-8", "tune-9", "tune-10"})


def _need_gsr() -> None:
    if not gsr_path().is_file():
        pytest.skip(f"PLOVER gold-standard records not found at {gsr_path()}")


def test_heldout_split_is_the_documented_seeded_stratified_third() -> None:
    _need_gsr()
    frozen = json.loads((GOLD / "gsr_heldout.json").read_text(encoding="utf-8"))
    records = json.loads(gsr_path().read_text(encoding="utf-8"))[1:]
    by_event: dict[str, list[str]] = defaultdict(list)
    for rec in records:
        by_event[rec["event"]].append(rec["id"])
    rng = random.Random(frozen["seed"])
    again = []
    for event in sorted(by_event):
        ids = sorted(by_event[event])
        rng.shuffle(ids)
        again += ids[:round(len(ids) / 3)]
    assert sorted(again) == frozen["held_out_ids"]
    held = Counter(rec["event"] for rec in records if rec["id"] in set(frozen["held_out_ids"]))
    for event, ids in by_event.items():
        assert abs(held[event] - len(ids) / 3) <= 1
    assert not set(frozen["held_out_ids"]) & {r["id"] for r in load_gsr("dev")}


@pytest.mark.quality
def test_gsr_heldout_figures_stay_above_floors() -> None:
    _need_gsr()
    got = score_gsr(load_gsr("heldout")).as_dict()
    print("PLOVER GSR held-out third:", json.dumps(got))
    for key, floor in FLOORS["gsr_heldout"].items():
        assert got[key] >= floor, f"{key} {got[key]} fell below its floor {floor}"


@pytest.mark.quality
def test_own_gold_figures_stay_above_floors() -> None:
    docs = load_gold()
    # the tuning part (seed documents and fresh batches the rules were adjusted on) and the unseen
    # part (coded by hand, only ever scored as figures: the honest estimate on new sentences)
    tuning = [d for d in docs if not d.get("unseen")]
    # the floors of "own_gold" keep the population they were measured on (seed and fresh documents);
    # later tuning batches ("tune-…") are scored with floors of their own
    got = score_gold([d for d in tuning if not d["id"].startswith("tune")])
    fresh = score_gold([d for d in tuning if d["id"].startswith("fresh")]).as_dict()
    # unseen documents come in batches, each with its own floors (a later batch is a new estimate;
    # it does not lower the floors an earlier batch set): no "batch" = the first, then "unseen-2" …
    unseen = score_gold([d for d in docs if d.get("unseen") and not d.get("batch")]).as_dict()
    unseen2 = score_gold([d for d in docs if d.get("unseen") and d.get("batch") == "unseen-2"]).as_dict()
    unseen3 = score_gold([d for d in docs if d.get("unseen") and d.get("batch") == "unseen-3"]).as_dict()
    unseen4 = score_gold([d for d in docs if d.get("unseen") and d.get("batch") == "unseen-4"]).as_dict()
    unseen5 = score_gold([d for d in docs if d.get("unseen") and d.get("batch") == "unseen-5"]).as_dict()
    unseen6 = score_gold([d for d in docs if d.get("unseen") and d.get("batch") == "unseen-6"]).as_dict()
    unseen7 = score_gold([d for d in docs if d.get("unseen") and d.get("batch") == "unseen-7"]).as_dict()
    unseen8 = score_gold([d for d in docs if d.get("unseen") and d.get("batch") == "unseen-8"]).as_dict()
    unseen9 = score_gold([d for d in docs if d.get("unseen") and d.get("batch") == "unseen-9"]).as_dict()
    # later tuning batches ("tune-…": written by hand, then the rules were adjusted on them); the first
    # ones (no "batch") keep their floors, batches "tune-2" and "tune-3" have their own
    tune = score_gold([d for d in tuning if d["id"].startswith("tune") and not d.get("batch")]).as_dict()
    tune2 = score_gold([d for d in tuning if d["id"].startswith("tune") and d.get("batch") == "tune-2"]).as_dict()
    tune3 = score_gold([d for d in tuning if d["id"].startswith("tune") and d.get("batch") == "tune-3"]).as_dict()
    tune4 = score_gold([d for d in tuning if d["id"].startswith("tune") and d.get("batch") == "tune-4"]).as_dict()
    # tune-009..014 (batches tune-5..tune-10): wire news in the GSR's manner, one set of floors
    wire = score_gold([d for d in tuning if d["id"].startswith("tune") and d.get("batch") in WIRE_TUNING]).as_dict()
    # tune-015/016 (batch tune-11): events named by a noun, agentless passives, appositives, "said it would"
    tune11 = score_gold([d for d in tuning if d["id"].startswith("tune") and d.get("batch") == "tune-11"]).as_dict()
    # tune-017 (batch tune-12): role-word subjects at a place inside the object or a bearing, "blew up"
    tune12 = score_gold([d for d in tuning if d["id"].startswith("tune") and d.get("batch") == "tune-12"]).as_dict()
    # tune-018 (batch tune-13): 'beat', Kosovo, 'the EU demands', topics after 'on', permissions, purposes
    tune13 = score_gold([d for d in tuning if d["id"].startswith("tune") and d.get("batch") == "tune-13"]).as_dict()
    print("own gold (tuning part: seed and fresh documents):", json.dumps(got.as_dict()))
    print("own gold (whole tuning part):", json.dumps(score_gold(tuning).as_dict()))
    print("own gold, fresh sentences only:", json.dumps(fresh))
    print("own gold, unseen part (first batch):", json.dumps(unseen))
    print("own gold, unseen part (batch unseen-2):", json.dumps(unseen2))
    print("own gold, unseen part (batch unseen-3):", json.dumps(unseen3))
    print("own gold, unseen part (batch unseen-4):", json.dumps(unseen4))
    print("own gold, tuning batches tune-001..005:", json.dumps(tune))
    print("own gold, tuning batch tune-2:", json.dumps(tune2))
    print("own gold, tuning batch tune-3:", json.dumps(tune3))
    print("own gold, tuning batch tune-4:", json.dumps(tune4))
    print("own gold, tuning batches tune-5..10 (wire style):", json.dumps(wire))
    print("own gold, tuning batches tune-015/016 (tune-11):", json.dumps(tune11))
    print("own gold, unseen part (batch unseen-5):", json.dumps(unseen5))
    print("own gold, unseen part (batch unseen-6):", json.dumps(unseen6))
    print("own gold, tuning batch tune-017 (tune-12):", json.dumps(tune12))
    print("own gold, unseen part (batch unseen-7):", json.dumps(unseen7))
    print("own gold, tuning batch tune-018 (tune-13):", json.dumps(tune13))
    print("own gold, unseen part (batch unseen-8):", json.dumps(unseen8))
    print("own gold, unseen part (batch unseen-9):", json.dumps(unseen9))
    print("own gold, unseen part (all batches):", json.dumps(score_gold([d for d in docs if d.get("unseen")]).as_dict()))
    print("\n".join(got.errors))
    for key, floor in FLOORS["own_gold"].items():
        assert got.as_dict()[key] >= floor, f"{key} {got.as_dict()[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_fresh"].items():
        assert fresh[key] >= floor, f"fresh {key} {fresh[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen"].items():
        assert unseen[key] >= floor, f"unseen {key} {unseen[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen_2"].items():
        assert unseen2[key] >= floor, f"unseen-2 {key} {unseen2[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen_3"].items():
        assert unseen3[key] >= floor, f"unseen-3 {key} {unseen3[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen_4"].items():
        assert unseen4[key] >= floor, f"unseen-4 {key} {unseen4[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen_5"].items():
        assert unseen5[key] >= floor, f"unseen-5 {key} {unseen5[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen_6"].items():
        assert unseen6[key] >= floor, f"unseen-6 {key} {unseen6[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen_7"].items():
        assert unseen7[key] >= floor, f"unseen-7 {key} {unseen7[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen_8"].items():
        assert unseen8[key] >= floor, f"unseen-8 {key} {unseen8[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_unseen_9"].items():
        assert unseen9[key] >= floor, f"unseen-9 {key} {unseen9[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_tune_13"].items():
        assert tune13[key] >= floor, f"tune-13 {key} {tune13[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_tune_12"].items():
        assert tune12[key] >= floor, f"tune-12 {key} {tune12[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_tune_11"].items():
        assert tune11[key] >= floor, f"tune-11 {key} {tune11[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_tune_4"].items():
        assert tune4[key] >= floor, f"tune-4 {key} {tune4[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_tune_wire"].items():
        assert wire[key] >= floor, f"tune-5..10 {key} {wire[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_tune"].items():
        assert tune[key] >= floor, f"tune {key} {tune[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_tune_2"].items():
        assert tune2[key] >= floor, f"tune-2 {key} {tune2[key]} fell below its floor {floor}"
    for key, floor in FLOORS["own_gold_tune_3"].items():
        assert tune3[key] >= floor, f"tune-3 {key} {tune3[key]} fell below its floor {floor}"


def test_floors_never_claim_more_than_measured() -> None:
    for section in ("gsr_heldout", "own_gold", "own_gold_fresh", "own_gold_unseen", "own_gold_unseen_2",
                    "own_gold_unseen_3", "own_gold_unseen_4", "own_gold_unseen_5", "own_gold_unseen_6", "own_gold_tune",
                    "own_gold_tune_2", "own_gold_tune_3", "own_gold_tune_4", "own_gold_tune_wire", "own_gold_tune_11",
                    "own_gold_tune_12", "own_gold_unseen_7", "own_gold_tune_13", "own_gold_unseen_8",
                    "own_gold_unseen_9"):
        for key, floor in FLOORS[section].items():
            assert floor <= FLOORS["measured"][section][key]
