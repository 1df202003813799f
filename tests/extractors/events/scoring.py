"""Scoring of the event coder against the PLOVER gold-standard records and the project's own gold.

``python -m tests.extractors.events.scoring dev`` prints figures and misses on the tuning split of the
GSR (the held-out third is never printed sentence by sentence: it is for the quality gate only).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from extractors.events import code_document, enrich

HERE = Path(__file__).resolve().parent
GOLD = HERE / "gold"
ROOT = HERE.parents[2]
GSR_PATH = ROOT.parent / "shared" / "corpora" / "plover-gsr" / "PLOVER_GSR_CAMEO.json"
# the GSR follows an older PLOVER draft (see its README)
GSR_TYPES = {"DEMAND": "REQUEST", "DISAPPROVE": "ACCUSE", "INVESTIGATE": "ACCUSE", "FIGHT": "ASSAULT"}
# CAMEO country codes that differ from ISO 3166 alpha-3
CAMEO_ISO = {"JAP": "JPN", "ITL": "ITA", "VTN": "VNM", "ISM": "IMG"}


def gsr_path() -> Path:
    return GSR_PATH


def load_gsr(split: str) -> list[dict]:
    """``split``: ``heldout`` (frozen third), ``dev`` (the rest) or ``all``."""
    records = json.loads(gsr_path().read_text(encoding="utf-8"))[1:]
    held = set(json.loads((GOLD / "gsr_heldout.json").read_text(encoding="utf-8"))["held_out_ids"])
    if split == "heldout":
        return [r for r in records if r["id"] in held]
    if split == "dev":
        return [r for r in records if r["id"] not in held]
    return records


def _codes(actors) -> set[str]:
    if not isinstance(actors, list):
        return set()
    return {CAMEO_ISO.get(a.get("code") or "", a.get("code") or "") for a in actors if a.get("code")}


def primary(events: list[dict]) -> dict:
    """The sentence's main event: the most confident, the earlier one on a near tie (main clause first)."""
    top = max(e["confidence"] for e in events)
    return next(e for e in events if e["confidence"] >= top - POLICY_MARGIN)


POLICY_MARGIN = 0.1


def actor_code(actor: dict) -> str | None:
    if actor.get("country"):
        return actor["country"]
    return {"IGO": "IGO", "NGO": "NGO", "REB": "IMG"}.get(actor.get("sector") or "")


@dataclass
class GsrScore:
    sentences: int = 0
    detected: int = 0
    type_correct: int = 0
    actor_checked: int = 0
    actor_correct: int = 0
    recipient_checked: int = 0
    recipient_correct: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:  # sentences with an event of the right type
        return self.type_correct / self.sentences if self.sentences else 0.0

    @property
    def precision(self) -> float:  # coded events (one per sentence, the most confident) of the right type
        return self.type_correct / self.detected if self.detected else 0.0

    @property
    def type_accuracy(self) -> float:
        return self.precision

    @property
    def detection_rate(self) -> float:
        return self.detected / self.sentences if self.sentences else 0.0

    @property
    def actor_accuracy(self) -> float:
        return self.actor_correct / self.actor_checked if self.actor_checked else 0.0

    @property
    def recipient_accuracy(self) -> float:
        return self.recipient_correct / self.recipient_checked if self.recipient_checked else 0.0

    def as_dict(self) -> dict:
        return {"sentences": self.sentences, "detected": self.detected, "detection_rate": round(self.detection_rate, 3),
                "precision": round(self.precision, 3), "recall": round(self.recall, 3),
                "type_accuracy": round(self.type_accuracy, 3), "actor_country_accuracy": round(self.actor_accuracy, 3),
                "actor_checked": self.actor_checked, "recipient_country_accuracy": round(self.recipient_accuracy, 3),
                "recipient_checked": self.recipient_checked}


def score_gsr(records: list[dict]) -> GsrScore:
    """Every GSR sentence holds one coded event. The coder's most confident event per sentence is
    compared with it: a detection of the wrong type counts against precision."""
    score = GsrScore()
    for rec in records:
        gold_type = GSR_TYPES.get(rec["event"], rec["event"])
        score.sentences += 1
        events = code_document(rec["text"], None)
        if not events:
            score.misses.append((rec["id"], gold_type, "-"))
            continue
        best = primary(events)
        score.detected += 1
        if best["event_type"] != gold_type:
            score.misses.append((rec["id"], gold_type, best["event_type"]))
            continue
        score.type_correct += 1
        src, tgt = _codes(rec.get("source")), _codes(rec.get("target"))
        if src and best["actors"]:
            score.actor_checked += 1
            score.actor_correct += actor_code(best["actors"][0]) in src
        if tgt and best["recipients"]:
            score.recipient_checked += 1
            score.recipient_correct += actor_code(best["recipients"][0]) in tgt
    return score


# -- the project's own gold ------------------------------------------------------------------------

def load_gold() -> list[dict]:
    docs = []
    for path in sorted(GOLD.glob("*.json")):
        if path.name == "gsr_heldout.json":
            continue
        docs.extend(json.loads(path.read_text(encoding="utf-8"))["documents"])
    return docs


def _pub(doc: dict) -> datetime | None:
    return datetime.fromisoformat(doc["published_at"]) if doc.get("published_at") else None


@dataclass
class GoldScore:
    predicted: int = 0
    gold: int = 0
    matched: int = 0
    type_ok: int = 0
    actor_checked: int = 0
    actor_ok: int = 0
    recipient_checked: int = 0
    recipient_ok: int = 0
    date_checked: int = 0
    date_ok: int = 0
    modality_ok: int = 0
    quotes: int = 0
    speaker_ok: int = 0
    entities: int = 0
    entities_ok: int = 0
    errors: list[str] = field(default_factory=list)

    def ratio(self, a: int, b: int) -> float:
        return round(a / b, 3) if b else 0.0

    def as_dict(self) -> dict:
        return {"gold_events": self.gold, "predicted_events": self.predicted, "matched": self.matched,
                "precision": self.ratio(self.matched, self.predicted), "recall": self.ratio(self.matched, self.gold),
                "actor_country_accuracy": self.ratio(self.actor_ok, self.actor_checked),
                "recipient_country_accuracy": self.ratio(self.recipient_ok, self.recipient_checked),
                "date_accuracy": self.ratio(self.date_ok, self.date_checked), "dates_checked": self.date_checked,
                "modality_accuracy": self.ratio(self.modality_ok, self.matched),
                "quotes": self.quotes, "quote_speaker_accuracy": self.ratio(self.speaker_ok, self.quotes),
                "entities": self.entities, "entity_recall": self.ratio(self.entities_ok, self.entities)}


def score_gold(docs: list[dict]) -> GoldScore:
    """A coded event matches a gold event with the same type in the same sentence (the gold names
    the sentence by a fragment); unmatched coded events are false positives. Dates are right when
    date and precision both agree; quotes by their opening words and the speaker's entity id."""
    score = GoldScore()
    for doc in docs:
        result = enrich(doc["text"], article_id=doc["id"], published_at=_pub(doc))
        ignore = doc.get("ignore", [])
        events = [ev for ev in result.events if not any(frag in ev.sentence for frag in ignore)]
        used: set[int] = set()
        optional_hits: set[int] = set()
        gold_events = sorted(doc.get("events", []), key=lambda g: bool(g.get("optional")))
        for g in gold_events:
            hit = None
            for i, ev in enumerate(events):
                if i in used or g["sentence"] not in ev.sentence or ev.event_type != g["event_type"]:
                    continue
                hit = i
                break
            if g.get("optional"):
                if hit is not None:
                    used.add(hit)
                    optional_hits.add(hit)
                continue
            score.gold += 1
            if hit is None:
                score.errors.append(f"{doc['id']}: missed {g['event_type']} in “{g['sentence']}”")
                continue
            used.add(hit)
            ev = events[hit]
            score.matched += 1
            score.type_ok += 1
            if g.get("actors"):
                score.actor_checked += 1
                ok = bool(ev.actors) and (ev.actors[0].country or actor_code(ev.actors[0].model_dump())) in g["actors"]
                score.actor_ok += ok
                if not ok:
                    score.errors.append(f"{doc['id']}: actor {[a.code for a in ev.actors]} ≠ {g['actors']} “{g['sentence']}”")
            if g.get("recipients"):
                score.recipient_checked += 1
                got = {a.country or actor_code(a.model_dump()) for a in ev.recipients}
                ok = got == set(g["recipients"])
                score.recipient_ok += ok
                if not ok:
                    score.errors.append(f"{doc['id']}: recipients {sorted(x or '' for x in got)} ≠ {g['recipients']} “{g['sentence']}”")
            if "event_date" in g:
                score.date_checked += 1
                ok = (ev.event_date.isoformat() if ev.event_date else None) == g["event_date"] \
                    and ev.date_precision == g["date_precision"]
                score.date_ok += ok
                if not ok:
                    score.errors.append(f"{doc['id']}: date {ev.event_date} {ev.date_precision} ≠ {g['event_date']} "
                                        f"{g['date_precision']} “{g['sentence']}”")
            if ev.modality == g.get("modality", "asserted"):
                score.modality_ok += 1
            else:
                score.errors.append(f"{doc['id']}: modality {ev.modality} ≠ {g.get('modality', 'asserted')} “{g['sentence']}”")
        score.predicted += len(events) - len(optional_hits)
        for i, ev in enumerate(events):
            if i not in used:
                score.errors.append(f"{doc['id']}: false {ev.event_type} {[a.code for a in ev.actors]} "
                                    f"[{ev.rule_id}: {ev.trigger}] “{ev.sentence[:90]}”")
        for gq in doc.get("quotes", []):
            score.quotes += 1
            got = next((q for q in result.quotes if gq["starts"] in q.text[:len(gq["starts"]) + 2]), None)
            ok = got is not None and got.speaker_entity_id == gq["speaker"]
            score.speaker_ok += ok
            if not ok:
                score.errors.append(f"{doc['id']}: quote “{gq['starts']}” speaker "
                                    f"{got.speaker_entity_id if got else 'not found'} ≠ {gq['speaker']}")
        ids = {e.entity_id: e for e in result.entities}
        for ge in doc.get("entities", []):
            score.entities += 1
            e = ids.get(ge["id"])
            ok = e is not None and e.kind == ge["kind"] and e.country == ge.get("country") \
                and (ge.get("sector") is None or e.sector == ge["sector"])
            score.entities_ok += ok
            if not ok:
                score.errors.append(f"{doc['id']}: entity {ge} got {e and (e.kind, e.country, e.sector)}")
    return score


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else "dev"
    if what == "dev":
        s = score_gsr(load_gsr("dev"))
        print(json.dumps(s.as_dict(), indent=1))
        # GSR ids are not unique: the misses come in record order, so each is matched to the next
        # record with its id
        pending: dict[str, list[dict]] = {}
        for r in load_gsr("dev"):
            pending.setdefault(r["id"], []).append(r)
        for rid, gold, got in s.misses:
            rec = next(r for r in pending[rid] if GSR_TYPES.get(r["event"], r["event"]) == gold)
            pending[rid].remove(rec)
            print(f"{gold:10} got {got:10} {rec['text'][:150]}")
    elif what == "gold":  # the tuning part of the own gold: figures and errors
        s = score_gold([d for d in load_gold() if not d.get("unseen")])
        print(json.dumps(s.as_dict(), indent=1))
        print("\n".join(s.errors))
    elif what == "unseen":  # the unseen part, per batch: figures only
        docs = [d for d in load_gold() if d.get("unseen")]
        for batch in sorted({d.get("batch") or "unseen-1" for d in docs}):
            part = [d for d in docs if (d.get("batch") or "unseen-1") == batch]
            print(batch, json.dumps(score_gold(part).as_dict(), indent=1))
    elif what == "heldout":
        print(json.dumps(score_gsr(load_gsr("heldout")).as_dict(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))


__all__ = ["GoldScore", "GsrScore", "date", "load_gold", "load_gsr", "score_gold", "score_gsr"]
