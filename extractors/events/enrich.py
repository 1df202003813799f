"""Entry points: ``enrich`` (article → Enrichment records) and ``code_document`` (text → JSON-able
event dicts, what ``newsflow events`` prints). Pure and offline: text and a date in, models out."""

from __future__ import annotations

import bisect
import hashlib
from datetime import date, datetime

from extractors.events.dates import event_date, pub_day
from extractors.events.entities import Actor, ArticleEntities
from extractors.events.events import CodedEvent, code_sentence
from extractors.events.gazetteer import load as load_gazetteer
from extractors.events.lexicon import load_lexicon
from extractors.events.quotes import find_quotes, quote_matches, quote_spans
from extractors.events.rerank import MIN_PROBABILITY, load_reranker
from extractors.events.sentences import split_sentences, tokens
from schemas.events import Enrichment

CODER_VERSION = "newsflow-events-0.1"
MAX_SENTENCE_CHARS = 1000  # longer "sentences" are tables or run-on boilerplate: not coded


def _digest(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:20]


def _actor_row(actor: Actor) -> dict:
    return {"text": actor.text, "country": actor.country, "sector": actor.sector, "entity_id": actor.entity_key}


def rerank_events(events: list[CodedEvent], rerank: bool = True) -> list[CodedEvent]:
    """Confidence from the re-ranker (``rerank.py``) when it has weights; events it finds unlikely
    are dropped. ``rerank=False`` keeps the rules' own confidence (how the re-ranker is trained)."""
    model = load_reranker() if rerank else None
    if model is None:
        return events
    out = []
    for ev in events:
        p = model.score(ev.features)
        if p < MIN_PROBABILITY:
            continue
        ev.confidence = round(p, 3)
        ev.explanation = model.explain(ev.features)
        out.append(ev)
    return out


def enrich(text: str, *, article_id: str, published_at: datetime | date | None,
           rerank: bool = True, proposals: list[tuple[str, CodedEvent]] | None = None) -> Enrichment:
    """Entities, mentions, coded events and quotes of one article.

    ``published_at`` (timezone-aware) anchors relative dates; without it events have no date.
    ``event_id`` and ``quote_id`` are deterministic: the same text and rules give the same ids.
    ``rerank=False`` keeps every rule proposal with the rule's confidence; ``proposals``, when given,
    receives (sentence text, rule proposal with its features) pairs (for training the re-ranker).
    """
    gaz = load_gazetteer()
    lexicon = load_lexicon()
    registry = ArticleEntities(gaz)
    sentences = split_sentences(text)
    found_quotes = quote_matches(text)
    quoted = quote_spans(found_quotes)
    quote_starts = [s for s, _ in quoted]
    all_actors: list[tuple[int, Actor]] = []
    person_marks: list[tuple[int, str]] = []  # (offset, person key) in text order
    # records are gathered as plain dicts and validated in one ``Enrichment.model_validate`` call
    # at the end: the same checks as building each model, without a Python call per record
    events: list[dict] = []
    pub = pub_day(published_at)
    found = gaz.find_pieces(text, [(s.start, s.end) for s in sentences])
    for sent, in_sentence in zip(sentences, found, strict=True):
        actors = registry.sentence_actors(sent.text, sent.start, sent.index, in_sentence)
        for actor in actors:
            all_actors.append((sent.start, actor))
            if actor.kind == "person" and actor.entity_key:
                person_marks.append((sent.start + actor.start, actor.entity_key))
        if len(sent.text) > MAX_SENTENCE_CHARS or not actors:
            continue
        lo = bisect.bisect_left(quote_starts, sent.start - 2000)
        hi = bisect.bisect_left(quote_starts, sent.end, lo)  # quotes starting in or after it: none overlap
        local_quotes = [(s - sent.start, e - sent.start) for s, e in quoted[lo:hi] if e > sent.start]
        proposed = code_sentence(sent.text, tokens(sent.text), actors, lexicon, registry, local_quotes)
        if proposals is not None:
            proposals.extend((sent.text, ev) for ev in proposed)
        for ev in rerank_events(proposed, rerank):
            when, precision, when_text = event_date(sent.text, ev.trigger_start, pub,
                                                    future=ev.modality == "future")
            start = sent.start + ev.trigger_start
            events.append(dict(
                event_id=_digest(article_id, sent.index, start, ev.event_type, ev.rule_id),
                article_id=article_id, sentence_index=sent.index, sentence=sent.text,
                trigger=ev.trigger, trigger_start=start, trigger_end=sent.start + ev.trigger_end,
                event_type=ev.event_type, quad_class=ev.quad_class, intensity=ev.intensity,
                actors=[_actor_row(a) for a in ev.actors],
                recipients=[_actor_row(a) for a in ev.recipients],
                event_date=when, date_precision=precision, date_text=when_text,
                location_text=ev.location.text if ev.location else None,
                location_country=ev.location.country if ev.location else None,
                modality=ev.modality, confidence=ev.confidence, rule_id=ev.rule_id,
                explanation=ev.explanation,
                coder_version=CODER_VERSION))

    marks = [o for o, _ in person_marks]

    def last_person_at(offset: int) -> Actor | None:
        i = bisect.bisect_left(marks, offset) - 1
        if i < 0:
            return None
        ent = registry.entities[person_marks[i][1]]
        return Actor(0, 0, ent.name, ent.country, ent.sector, ent.key, "person")

    quotes: list[dict] = []
    for q in find_quotes(text, sentences, all_actors, registry, last_person_at, found_quotes):
        sp = q.speaker
        quotes.append(dict(
            quote_id=_digest(article_id, q.kind, q.start, q.end), article_id=article_id, kind=q.kind,
            text=q.text, start=q.start, end=q.end, speaker_text=q.speaker_text,
            speaker_entity_id=sp.entity_key if sp else None, speaker_country=sp.country if sp else None,
            cue=q.cue, sentence_index=q.sentence_index))
    entities = [dict(article_id=article_id, entity_id=e.key, kind=e.kind, name=e.name, code=e.code,
                     country=e.country, sector=e.sector, mention_count=e.count, first_offset=e.first_offset)
                for e in registry.entities.values() if e.count > 0]
    mentions = [dict(article_id=article_id, entity_id=m.entity_key, text=m.text, start=m.start, end=m.end,
                     sentence_index=m.sentence_index) for m in registry.mentions]
    return Enrichment.model_validate(dict(
        article_id=article_id, coder_version=CODER_VERSION,
        published_at=published_at if isinstance(published_at, datetime) else None,
        entities=entities, mentions=mentions, events=events, quotes=quotes))


def code_document(text: str, published_at: datetime | date | None = None) -> list[dict]:
    """The JSON objects ``newsflow events`` prints: one per coded event, in text order."""
    result = enrich(text, article_id="document", published_at=published_at)
    out = []
    for ev in result.events:
        out.append({
            "event_type": ev.event_type,
            "quad_class": ev.quad_class,
            "intensity": ev.intensity,
            "actors": [{"text": a.text, "country": a.country, "sector": a.sector} for a in ev.actors],
            "recipients": [{"text": a.text, "country": a.country, "sector": a.sector} for a in ev.recipients],
            "event_date": ev.event_date.isoformat() if ev.event_date else None,
            "date_precision": ev.date_precision,
            "location": {"text": ev.location_text, "country": ev.location_country} if ev.location_text else None,
            "modality": ev.modality,
            "sentence": ev.sentence,
            "trigger": ev.trigger,
            "confidence": ev.confidence,
            "rule_id": ev.rule_id,
            "explanation": ev.explanation,
        })
    return out
