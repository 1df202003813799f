"""k-fold cross-validation of the event coder inside the GSR dev split (never the held-out third).

``python -m tests.extractors.events.crossval [--folds 5] [--l2 0.05]``

The rules and lexicon are fixed; what is fitted is the re-ranker. Each fold's re-ranker is fitted on
the other folds of the dev split plus the tuning part of the project's own gold, then applied to the
fold's sentences exactly as ``enrich`` applies it (events under ``MIN_PROBABILITY`` dropped, the most
confident event per sentence scored as in ``scoring.score_gsr``). The figures on the left-out folds,
pooled, estimate how the coder does on GSR-like sentences it was not fitted on; the in-sample figure
(re-ranker fitted on all of dev) is printed beside them, and the gap between the two is the over-fit.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import defaultdict

from extractors.events.events import CodedEvent
from extractors.events.rerank import MIN_PROBABILITY, Reranker
from tests.extractors.events import train_reranker
from tests.extractors.events.scoring import GSR_TYPES, POLICY_MARGIN, _codes, actor_code, load_gsr

SEED = 20261201


def folds(records: list[dict], k: int) -> list[list[dict]]:
    """Seeded folds, stratified by gold event type."""
    by_event: dict[str, list[dict]] = defaultdict(list)
    for rec in records:
        by_event[rec["event"]].append(rec)
    rng = random.Random(SEED)
    out: list[list[dict]] = [[] for _ in range(k)]
    i = 0
    for event in sorted(by_event):
        recs = sorted(by_event[event], key=lambda r: r["id"])
        rng.shuffle(recs)
        for rec in recs:
            out[i % k].append(rec)
            i += 1
    return out


def rows_of(recs: list[dict], props: dict[str, list[CodedEvent]]) -> list[tuple[dict[str, float], int]]:
    rows = []
    for rec in recs:
        gold = GSR_TYPES.get(rec["event"], rec["event"])
        rows += [(ev.features, int(ev.event_type == gold)) for ev in props[rec["id"]]]
    return rows


def score(recs: list[dict], props: dict[str, list[CodedEvent]], model: Reranker | None) -> dict[str, float]:
    n = det = ok = ac = acc = 0
    for rec in recs:
        n += 1
        evs = props[rec["id"]]
        if model is not None:
            scored = [(model.score(ev.features), ev) for ev in evs]
            kept = [(p, ev) for p, ev in scored if p >= MIN_PROBABILITY]
        else:
            kept = [(ev.confidence, ev) for ev in evs]
        if not kept:
            continue
        det += 1
        top = max(p for p, _ in kept)
        best = next(ev for p, ev in kept if p >= top - POLICY_MARGIN)
        if best.event_type != GSR_TYPES.get(rec["event"], rec["event"]):
            continue
        ok += 1
        src = _codes(rec.get("source"))
        if src and best.actors:
            ac += 1
            acc += actor_code(dataclass_dict(best.actors[0])) in src
    return {"sentences": n, "detected": det, "correct": ok, "actor_checked": ac, "actor_correct": acc}


def dataclass_dict(actor) -> dict:
    return {"country": actor.country, "sector": actor.sector}


def figures(c: dict[str, float]) -> dict[str, float]:
    p = c["correct"] / c["detected"] if c["detected"] else 0.0
    r = c["correct"] / c["sentences"] if c["sentences"] else 0.0
    a = c["actor_correct"] / c["actor_checked"] if c["actor_checked"] else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "actor_country_accuracy": round(a, 3),
            "detected": c["detected"], "sentences": c["sentences"]}


def add(a: dict, b: dict) -> dict:
    return {k: a.get(k, 0) + b[k] for k in b}


def proposals_by_id(recs: list[dict]) -> dict[str, list[CodedEvent]]:
    return {rec["id"]: [ev for _, ev in train_reranker._proposals(rec["text"])] for rec in recs}


def crossvalidate(k: int, l2: float, features: frozenset[str] | None = train_reranker.FEATURES) -> dict[str, dict]:
    dev = load_gsr("dev")
    props = proposals_by_id(dev)
    gold_rows = train_reranker.gold_examples()
    parts = folds(dev, k)

    def fit(rows):
        b, w = train_reranker.fit(rows, l2=l2, features=features)
        return Reranker(b, w)

    cv: dict = {}
    rules: dict = {}
    for i, test in enumerate(parts):
        train = [r for j, p in enumerate(parts) if j != i for r in p]
        model = fit(rows_of(train, props) + gold_rows)
        cv = add(cv, score(test, props, model))
        rules = add(rules, score(test, props, None))
    full = fit(rows_of(dev, props) + gold_rows)
    return {"cross_validated": figures(cv), "in_sample": figures(score(dev, props, full)),
            "rules_only": figures(rules)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=train_reranker.L2)
    args = ap.parse_args()
    got = crossvalidate(args.folds, args.l2)
    print(json.dumps(got, indent=1))
    return 0 if not math.isnan(got["cross_validated"]["precision"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
