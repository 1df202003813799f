"""Rules that turn trigger matches and actor phrases of one sentence into coded PLOVER events.

For each trigger (``data/triggers.tsv``):
  * overlapping triggers: the longer match wins, then the higher rule confidence;
  * a trigger inside the infinitive or "that" complement of an intent trigger is not coded on its own
    ("pledged to provide" is AGREE, not AID; "threatened to impose" is THREATEN);
  * source: the nearest actor group before the trigger in the same clause (not inside a
    prepositional phrase unless right before the trigger); "was attacked by X" swaps roles; "he"/"she"
    resolve to the last person mentioned;
  * recipients: the first actor group after the trigger reached with no clause break, introduced
    by nothing (a direct object) or by a preposition the rule or type allows; "in/at/near <place>"
    is the location instead;
  * modality from the words before the trigger: negated, reported (inside a direct quote),
    hypothetical, future, else asserted;
  * confidence: rule confidence times penalties (pronoun source, distant source, no recipient,
    negated/hypothetical); events under ``MIN_CONFIDENCE`` or without a source are dropped.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from extractors.events.dates import MONTHS, WEEKDAYS
from extractors.events.entities import Actor, ArticleEntities
from extractors.events.lexicon import Lexicon, Retype, Rule, TriggerMatch, inflect, plover_types
from extractors.events.sentences import Token

MIN_CONFIDENCE = 0.6
ASPECTUAL = frozenset({"continue", "continued", "continues", "began", "begin", "begins", "started", "start", "starts",
                       "resumed", "resume", "resumes", "tried", "try", "tries", "attempted", "attempts", "sought"})
# heads whose to-infinitive is the event itself ("decided to allow", "has yet to recognize") or a stated
# plan ("plans to impose": coded with future modality, hence AGREE or THREATEN)
INFINITIVE_HEADS = ASPECTUAL | frozenset({"yet", "decided", "decides", "decide", "voted", "votes", "vote",
                                          "plans", "plan", "planned", "planning", "intends", "intend", "intended",
                                          "expected", "due", "scheduled"})
CONFLICT_TYPES = frozenset({"PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT"})
INTENT_COOPERATION = frozenset({"SUPPORT", "COOPERATE", "AID", "RETREAT", "CONCEDE", "CONSULT"})
INTENT_TYPES = frozenset({"AGREE", "REQUEST", "THREATEN", "REJECT"})
# moves whose to-infinitive states their purpose, not a second event ("deployed troops to fight")
PURPOSE_TYPES = frozenset({"MOBILIZE", "AID"})
# cooperation whose "on" after its object names a topic ("share intelligence on North Korea"), not a party
COOPERATIVE = frozenset({"AGREE", "CONSULT", "COOPERATE", "SUPPORT", "AID", "CONCEDE"})
PREPOSITIONS = frozenset({"of", "in", "on", "at", "to", "for", "from", "with", "by", "against", "about",
                          "over", "into", "near", "between", "among", "including", "toward", "towards",
                          "upon", "under", "through", "across", "amid", "within", "without", "like", "outside",
                          "inside", "around", "off", "along", "beyond"})
SUBJECT_BLOCK = frozenset({";", ":", "that", "which", "who", "whom", "whose", "said", "says", "say", "told",
                           "but", "while", "when", "because", "although", "if", "unless", "“", "”", '"',
                           "(", ")", "after", "before", "since", "than"})
OBJECT_BLOCK = frozenset({";", ":", ".", "and", "or", "but", "while", "which", "who", "whom", "that", "said",
                          "says", "“", "”", '"', "(", ")", ",", "after", "before", "because", "since",
                          "although", "when", "as"})
NEGATION = frozenset({"not", "n't", "never", "cannot", "can't", "won't", "didn't", "doesn't", "don't",
                      "hasn't", "haven't", "wasn't", "weren't", "isn't", "aren't", "refused", "failed"})
HYPOTHETICAL = frozenset({"could", "might", "may", "should", "would", "if", "unless", "whether", "can"})
FUTURE = frozenset({"will", "'ll", "shall", "going", "plans", "plan", "planned", "planning", "intends",
                    "intend", "intended", "expected", "set", "due", "scheduled"})
FUTURE_NOW = frozenset({"will", "'ll", "shall"})  # the rest of FUTURE only before "to" ("set to", "plans to")
REFUSAL_MODALS = frozenset({"will", "would", "shall", "won't", "wouldn't", "cannot", "can't"})
# a refused cooperation is a rejection: "would not recognise", "will not attend"
REFUSABLE = frozenset({"SUPPORT", "AGREE", "COOPERATE", "CONCEDE", "AID", "CONSULT", "RETREAT"})
# reporting verbs after which "would" states a plan ("announced that it would release"), not a hypothesis
REPORTING = frozenset({"said", "says", "told", "saying", "announced", "announces", "confirmed", "confirms",
                       "stated", "declared", "added", "insisted", "indicated", "reiterated"})
SPEECH_CUES = frozenset({"said", "says", "claimed", "claims", "told", "stated", "added", "insisted", "reported",
                         "announced", "according"})
PASSIVE_AUX = frozenset({"was", "were", "been", "being", "is", "are", "be", "get", "got"})
LOCAL_TYPES = frozenset({"PROTEST", "COERCE", "ASSAULT"})  # done by people of the place, as a rule
TIME_WORDS = frozenset(WEEKDAYS) | frozenset(MONTHS) | {"today", "tonight", "yesterday", "tomorrow", "week", "month"}
FIGURATIVE = frozenset({"diplomatic", "charm", "peace", "media", "propaganda", "political", "legal", "verbal",
                        "publicity"})
RALLY_VERBS = frozenset({"unite", "mobilize", "mobilise", "rally", "stand", "close"})
PLACE_PREPS = frozenset({"in", "at", "near", "outside", "inside", "through", "across", "around", "off", "along"})


@dataclass
class CodedEvent:
    rule_id: str
    event_type: str
    quad_class: str
    intensity: float
    trigger_start: int  # sentence offsets
    trigger_end: int
    trigger: str
    actors: list[Actor]
    recipients: list[Actor]
    location: Actor | None
    modality: str
    confidence: float
    features: dict[str, float] = dataclasses.field(default_factory=dict)  # for the re-ranker (rerank.py)
    explanation: str | None = None  # the re-ranker's strongest features, when it ran


def _retype(retypes: tuple[Retype, ...], toks: list[Token], lows: list[str], m: TriggerMatch,
            source: list[Actor]) -> Retype | None:
    """The first of a rule's retypes (``reads_as``/``becomes`` in triggers.tsv) whose conditions all hold."""
    for retype in retypes:
        if all(_condition(c, toks, lows, m, source) for c in retype.conditions):
            return retype
    return None


def _condition(name: str, toks: list[Token], lows: list[str], m: TriggerMatch, source: list[Actor]) -> bool:
    if name.startswith("trigger="):
        return lows[m.first] in inflect(name[len("trigger="):-1])
    if name == "state_source":
        return _state_actor(toks, lows, source[0])
    if name == "people_source":
        return source[0].sector in PROTEST_SECTORS
    if name == "joint_source":
        return len({a.country for a in source if a.country}) >= 2
    if name == "peacekeeping":
        return any(w.startswith("peacekeep") for w in lows[m.first:m.last + 12])
    if name == "act_follows":
        return m.last + 1 < len(toks) and lows[m.last + 1] != "the" and not toks[m.last + 1].text[:1].isupper()
    if name == "media_source":
        return source[0].sector == "MED"  # "Egypt's state-run newspapers attacked Libya's leader": in words
    if name == "rally_against":
        # "called on Arabs to unite against Israel": rallying others against a party (CAMEO 113)
        window = lows[m.last + 1:m.last + 16]
        ends = [k for k, w in enumerate(window) if w in CLAUSE_ENDS]
        window = window[:ends[0]] if ends else window
        return any(w in RALLY_VERBS for w in window) and "against" in window
    raise ValueError(f"unknown retype condition {name!r}")  # lexicon.RETYPE_CONDITIONS lists the names


def _select(matches: list[TriggerMatch]) -> list[TriggerMatch]:
    ranked = sorted(matches, key=lambda m: (-(m.last - m.first), -m.rule.confidence, m.first))
    chosen: list[TriggerMatch] = []
    for m in ranked:
        if any(m.first <= c.last and c.first <= m.last for c in chosen):
            continue
        chosen.append(m)
    return sorted(chosen, key=lambda m: m.first)


def _governor(m: TriggerMatch, chosen: list[TriggerMatch], lows: list[str]) -> TriggerMatch | None:
    """The earlier intent trigger whose to-/that-complement ``m`` sits in, if any."""
    for c in chosen:
        if c.last >= m.first:
            continue
        between = lows[c.last + 1:m.first]
        if c.rule.event_type == "ACCUSE" and "of" in between and lows[m.first].endswith("ing") \
                and len(between) <= 8 and not any(w in (";", ".", "but", "while", "said") for w in between):
            return c  # "accused India of backing militants": what is alleged is not coded as done
        if c.rule.event_type in PURPOSE_TYPES and len(between) <= 8 and lows[m.first - 1] in ("to", "help") \
                and "to" in between[-2:] and not any(w in (";", ".", "but", "while", "said") for w in between):
            return c  # "sent troops into Congo to help fight the rebels": the purpose is not coded as done
        if c.rule.frame == "permission" and len(between) <= 8 and "to" in between \
                and not any(w in (";", ".", "but", "while", "said") for w in between):
            return c  # "allowed the opposition to hold a rally": what is allowed is the permission's
        if c.rule.event_type not in INTENT_TYPES:
            continue
        if len(between) > 8 or any(w in (";", ".", "but", "while", "said") for w in between):
            continue
        if "to" in between or "that" in between or lows[c.last] in ("to", "that") or not between:
            return c
    return None


def code_sentence(text: str, toks: list[Token], actors: list[Actor], lexicon: Lexicon,
                  registry: ArticleEntities, quoted: list[tuple[int, int]]) -> list[CodedEvent]:
    lows = [t.lower for t in toks]
    chosen = _select(lexicon.match(toks, lows))
    types = plover_types()
    events: list[CodedEvent] = []
    # an intent wrapper takes its colour from what is intended: "vowed to retaliate" is a threat
    retype: dict[int, str] = {}
    governed: set[int] = set()
    extra_preps: dict[int, frozenset[str]] = {}
    firsts = {c.first for c in chosen}
    for m in chosen:
        if m.first - 1 in firsts:
            governed.add(m.first)  # "host talks": the noun object of another trigger
            continue
        if any(c.last < m.first <= c.last + 2 and c.rule.event_type == m.rule.event_type for c in chosen) \
                and _bare_form(lows[m.first], m.rule):
            governed.add(m.first)  # "fought fierce battles": the same event named again by its object
            continue
        gov = _governor(m, chosen, lows)
        if gov is None:
            continue
        governed.add(m.first)
        # "threatened to impose sanctions on Moldova": the complement's recipient is the wrapper's
        extra_preps[gov.first] = extra_preps.get(gov.first, frozenset()) | (
            m.rule.preps or types[m.rule.event_type].preps)
        if gov.rule.frame == "intent" and m.rule.event_type in CONFLICT_TYPES:
            retype[gov.first] = "THREATEN"
    must = _must_request(text, toks, lows, actors)
    if must is not None:
        events.append(must)
        governed |= {m.first for m in chosen if m.first > toks_index_of(toks, must.trigger_start)}
    for m in chosen:
        if m.first in governed:
            continue
        k_to = _verb_prev(lows, m.first)
        rule = m.rule
        if rule.event_type == "ASSAULT" and any(w in FIGURATIVE for w in lows[m.first:m.last + 1]):
            continue  # "launched a diplomatic offensive", "a charm offensive": no violence
        tstart, tend = toks[m.first].start, toks[m.last].end
        if (k_to >= 0 and lows[k_to] == "to" and not lows[m.first].endswith("ing")
                and (k_to < 1 or lows[_verb_prev(lows, k_to)] not in INFINITIVE_HEADS)):  # "voted unanimously to"
            # a purpose or complement infinitive ("invited … to visit") is not an event yet; but people
            # who gather, march or block roads "to protest" are protesting: the sentence's subject
            protesters = _protest_subject(text, toks, lows, actors, getattr(registry, "roles", []), m) \
                if rule.purpose == "people" and not any(e.event_type == rule.event_type for e in events) else []
            if protesters:
                ptype = types[rule.event_type]
                events.append(CodedEvent(rule.rule_id + "+purpose", rule.event_type, ptype.quad_class, ptype.intensity,
                                         tstart, tend, text[tstart:tend], protesters, [], None, "asserted",
                                         round(rule.confidence * 0.9, 3),
                                         _features(lows, toks, m, rule, rule.confidence * 0.9, protesters, [],
                                                   "asserted", rule.rule_id, ptype.quad_class)))
            continue
        if _reduced_relative(toks, lows, m):
            continue  # "troops backed by gunships", "a journalist threatened by Islamists": a modifier
        passive = (lows[m.first].endswith(("ed", "en")) or lows[m.first] in ("shot", "held", "met", "put"))\
            and m.first > 0 and lows[m.first - 1] in PASSIVE_AUX \
            and lows[m.last] != "to" and (m.last + 1 >= len(lows) or lows[m.last + 1] != "to") \
            and lows[m.first] not in ("engaged", "involved")  # "is opposed to", "is committed to", "is prepared
        # to", "were engaged in fighting" are not passive
        source, penalty = _source(text, toks, lows, actors, m, registry)
        if source and events and not passive and all(a in events[-1].recipients for a in source) \
                and _shares_subject(lows[_tok_index(toks, source[-1].end):m.first]):
            # "closed its embassy in Sudan and expelled Sudanese diplomats", "kidnapped four German
            # tourists and demanded …": the object of the verb before is not the subject of the next
            source, penalty = events[-1].actors, 0.9
        roles = getattr(registry, "roles", [])
        preps = (rule.preps or types[rule.event_type].preps) | extra_preps.get(m.first, frozenset())
        recipients, location = _recipients(text, toks, lows, actors, m, preps)
        if passive:
            agent = _by_agent(toks, lows, actors, m) or _by_role(toks, lows, actors, roles, m, location)
            if not agent and rule.passive_agent:
                agent = _expelled_from(toks, lows, actors, m, direct=rule.passive_agent == "left")
            if agent:
                source, recipients, penalty = agent, source, 1.0
            elif source and rule.event_type == "MOBILIZE" and all(a.sector == "MIL" for a in source):
                pass  # "Chinese warships were deployed near the reef": forces are their own country's
            elif source:
                source, recipients, penalty = [], source, penalty
            if not source and _doer_follows(m, chosen, lows):
                continue  # "soldiers were wounded when guerrillas attacked a patrol": one event, coded there
            if not source and rule.place_source is not None and rule.place_source[0] == "passive" \
                    and not _charge_follows(lows, m):
                # "were killed in a car bombing in central Baghdad": no agent stated; the GSR codes the
                # country of the place where it happened
                source, penalty = _place_default(toks, lows, actors, location, rule.place_source[1]), 0.8
        if not source and rule.place_source is not None and rule.place_source[0] == "any":
            # "Protests erupted in several Iranian cities": the people of the stated place
            source, penalty = _place_default(toks, lows, actors, location, rule.place_source[1]), 0.85
        if not source and events and _shares_subject(lows[_tok_index(toks, events[-1].trigger_end):m.first]):
            # "The US would prohibit aid … and would deny entry": the second verb shares the subject
            source, penalty = events[-1].actors, 0.9
        if not source and not passive and rule.event_type in LOCAL_TYPES:
            # "Thousands of protesters rallied in Tbilisi": a role word with no country right before
            # the verb, acting in a stated place, belongs to that place's country; the place may be
            # stated inside the object ("arrested 45 opposition supporters in Harare")
            place = location if location is not None and location.country \
                else _object_place(toks, lows, actors, m)
            if place is not None:
                source = _role_subject(toks, lows, getattr(registry, "roles", []), m, place)
                penalty = 0.9
        if not source and not passive and rule.event_type != "CONSULT":
            # "Leaders of the opposition coalition agreed to postpone the rally in Baku": a role word
            # heading the subject, with no country of its own, takes the sentence's one stated place
            source = _role_head_subject(toks, lows, actors, roles, m, location)
            penalty = 0.85
        if not source and not passive:
            # "A spokesman for the Nigerian army said troops had killed …": the speaker's own forces
            source, penalty = _reported_role(toks, lows, actors, roles, m), 0.85
        if not source and not passive:
            source, penalty = _body_subject(toks, lows, roles, m), 0.9
        if not source:
            continue
        if rule.frame == "blame":
            # "Israeli officials said Syria was behind the attack": the speaker accuses the subject
            speaker = _speaker_before(toks, lows, actors, _tok_index(toks, source[0].start))
            if not speaker or {a.entity_key for a in speaker} & {a.entity_key for a in source}:
                continue
            source, recipients, penalty = speaker, source, 1.0
        if "past_trigger" in rule.recipient:
            # "left Beijing for a visit to Africa": the place left or reached is not whom the visit is to
            recipients, _ = _recipients(text, toks, lows, actors, TriggerMatch(rule, m.last, m.last), preps)
        if "required" in rule.recipient and not recipients \
                and (m.last + 1 >= len(lows) or lows[m.last + 1] not in types[rule.event_type].preps):
            continue  # "…, speaking in Budapest, called for …": speech with no one spoken to is no call
        read_as = _retype(rule.reads_as, toks, lows, m, source)
        if read_as is not None:
            # "ordered troops to withdraw": what is ordered follows, no deployment: an order (CAMEO 100)
            rule = dataclasses.replace(rule, event_type=read_as.event_type, rule_id=f"{rule.rule_id}+{read_as.tag}")
        if rule.source == "not_forces" and all(a.sector == "MIL" and a.kind != "person" for a in source):
            continue  # "fighter jets flew close to …": forces moving, not a visit
        if rule.source == "forces" and not all(a.sector == "MIL" for a in source):
            continue  # "aid was sent to Gaza" is not a deployment; "troops have been sent to" is
        if _bare_form(lows[m.first], rule) and not _adjacent(toks, lows, source, m):
            continue  # "the Sept. 11 attacks", "first high-level visit": a noun, not a verb
        skeys = {a.entity_key for a in source}
        recipients = [r for r in recipients if r.entity_key not in skeys or r.entity_key is None]
        if (lows[m.first].endswith("ing") and m.first > 1 and lows[m.first - 1] == "," and events
                and not passive and events[-1].trigger_end <= tstart):
            # ", killing six": a participle clause shares the subject of the verb before it; the
            # same kind of event again is the same event
            if events[-1].event_type == rule.event_type:
                continue
            source, penalty = events[-1].actors, 0.9
        modality = _modality(lows, toks, m, source, quoted)
        if modality == "negated" and rule.event_type in REFUSABLE and _refusal(lows, m):
            rule = dataclasses.replace(rule, event_type="REJECT", rule_id=rule.rule_id + "+refusal")
            modality = "asserted"
        if rule.event_type == "REJECT" and modality == "future" and "not" in lows[m.first:m.last + 1]:
            modality = "asserted"  # "would not accept": the refusal is stated now
        conf = rule.confidence * penalty
        if not recipients and rule.event_type not in ("PROTEST", "MOBILIZE", "RETREAT", "REJECT", "CONSULT"):
            conf *= 0.95
        if modality in ("negated", "hypothetical"):
            conf *= 0.9
        if conf < MIN_CONFIDENCE:
            continue
        event_type, rule_id = rule.event_type, rule.rule_id
        # "Beijing protested against the arms sale" (a state's protest is a complaint, CAMEO 114),
        # "students occupied the parliament building" (a sit-in), "French and Egyptian warships … war
        # games" (joint), "will send 1,000 troops to Bosnia as part of the UN peacekeeping force" (CAMEO 074)
        recoded = None if "+" in rule_id else _retype(rule.becomes, toks, lows, m, source)
        if recoded is not None:
            event_type, rule_id = recoded.event_type, f"{rule_id}+{recoded.tag}"
        if m.first in retype:
            event_type, rule_id = retype[m.first], rule_id + "+conflict"
        elif modality == "future" or (modality == "hypothetical" and _conditional(lows, m)):
            # PLOVER codes a stated intention as AGREE (to cooperate) or THREATEN (to harm)
            if event_type in INTENT_COOPERATION and not (event_type == "RETREAT" and _conditional(lows, m)):
                event_type, rule_id = "AGREE", rule_id + "+intent"
            elif _announced(lows, m) and event_type in CONFLICT_TYPES:
                pass  # "announced it would prohibit all aid to …": the announced measure is the sanction
            elif event_type in CONFLICT_TYPES or (event_type == "RETREAT" and _conditional(lows, m)):
                event_type, rule_id = "THREATEN", rule_id + "+intent"  # "will withdraw … unless"
        if events and m.first > 0 and lows[m.first - 1] == "and" and events[-1].event_type == event_type \
                and events[-1].trigger_end <= tstart and {a.entity_key for a in events[-1].actors} == skeys \
                and (not recipients or recipients == events[-1].recipients):
            continue  # "raided the offices … and seized computers": one event of one kind, told in two verbs
        ptype = types[event_type]
        events.append(CodedEvent(rule_id, event_type, ptype.quad_class, ptype.intensity,
                                 tstart, tend, text[tstart:tend], source, recipients, location, modality,
                                 round(conf, 3), _features(lows, toks, m, rule, conf, source, recipients,
                                                          modality, rule_id, ptype.quad_class)))
    if not events:
        nominal = _nominal_event(text, toks, lows, actors, quoted)
        if nominal is not None:
            events.append(nominal)
    for i, ev in enumerate(events):
        ev.features["first_event"] = float(i == 0)
        ev.features["several_events"] = float(len(events) > 1)
    return events


# -- events named by a noun: "Peace talks between Ethiopia and Eritrea resumed", "Iran's talks with the EU
# broke down", "A border agreement was signed by Tajikistan and Kyrgyzstan" ---------------------------
NOMINAL_NOUNS: dict[str, str] = {
    **dict.fromkeys(("talks", "negotiations", "meeting", "meetings", "consultations", "summit", "dialogue",
                     "discussions"), "CONSULT"),
    **dict.fromkeys(("agreement", "accord", "treaty", "pact", "deal", "protocol", "memorandum", "ceasefire",
                     "truce"), "AGREEMENT"),
    **dict.fromkeys(("fighting", "clashes", "battles", "skirmishes", "hostilities"), "ASSAULT"),
    **dict.fromkeys(("visit", "trip", "tour"), "VISIT"),
}
# what the named event did, by noun class: a word, or a word and the word after it
NOMINAL_PREDICATES: dict[str, frozenset[str]] = {
    "CONSULT": frozenset({"resumed", "began", "opened", "ended", "closed", "concluded", "continued", "started",
                          "collapsed", "stalled", "broke down", "took place", "was held", "were held",
                          "got under", "got underway", "produced", "yielded", "focused", "centred", "centered",
                          "lasted", "convened"}),
    "VISIT": frozenset({"began", "begins", "ended", "opened", "concluded", "started", "continued", "got under",
                        "got underway"}),
    "AGREEMENT": frozenset({"was signed", "were signed", "was reached", "were reached", "was struck",
                            "was initialled", "was initialed"}),
    "ASSAULT": frozenset({"broke out", "erupted", "raged", "continued", "flared", "resumed", "intensified",
                          "killed", "left", "spread"}),
}
NOMINAL_HEDGES = frozenset({"will", "would", "could", "may", "might", "should", "can", "not", "n't", "never",
                            "expected", "due", "set", "to", "failed", "if", "unless", "whether", "planned"})
NOMINAL_BREAKS = frozenset({";", ":", "said", "says", "told", "“", "”", '"', "according", "and", "but"})


def _nominal_event(text, toks, lows, actors: list[Actor], quoted) -> CodedEvent | None:
    """An event named by the noun heading the sentence's subject, with its participants in the same
    noun phrase ("talks between X and Y", "X's talks with Y") or after the verb ("… was signed by X and
    Y", "… resumed in Nairobi with X and Y"), and a verb saying it happened. Stated plans, hopes and
    denials ("talks are expected to resume", "talks did not resume") are not coded, nor an event named
    deeper in the sentence ("said the talks had collapsed")."""
    n = next((i for i, w in enumerate(lows[:7]) if w in NOMINAL_NOUNS), None)
    if n is None or any(w in (",", "(", ")") or w in NOMINAL_BREAKS for w in lows[:n]):
        return None
    kind = NOMINAL_NOUNS[lows[n]]
    while n + 1 < len(lows) and NOMINAL_NOUNS.get(lows[n + 1]) == kind:
        n += 1  # "a ceasefire agreement": the head is the last noun
    owner = [a for a in actors if a.end <= toks[n].start]
    if owner and (_tok_index(toks, owner[-1].end) != n or not lows[n - 1].endswith("'s")):
        return None  # "The Sudanese peace talks": a modifier, not whose the talks are
    source: list[Actor] = _group(actors, owner[-1]) if owner else []
    recipients: list[Actor] = []
    k = n + 1
    if kind == "VISIT":
        # "Li Peng's visit to India", "a visit by Li Peng to India"
        if k < len(lows) and lows[k] == ("to" if source else "by"):
            group = _actor_at(toks, lows, actors, k + 1)
            if not group:
                return None
            k = _tok_index(toks, group[-1].end)
            if source:
                recipients = group
            else:
                source = group
                if k < len(lows) and lows[k] == "to":
                    recipients = _actor_at(toks, lows, actors, k + 1)
                    k = _tok_index(toks, recipients[-1].end) if recipients else k
        if not source:
            return None
    elif k < len(lows) and lows[k] in ("between", "with") and (lows[k] == "with") == bool(source):
        group = _actor_at(toks, lows, actors, k + 1)
        if not group:
            return None
        end = _tok_index(toks, group[-1].end)
        if source:
            recipients = group
        elif len(group) >= 2:
            source, recipients = group[:1], group[1:]
        elif end < len(lows) and lows[end] == "and":
            source = group  # "between the Sudanese government and the SPLA rebels": the other side unknown
            end += 1
        else:
            return None
        k = end
    # the verb: within a few words, past anything but a clause break or a hedge; a relative clause
    # between commas may stand before it ("The talks, which had been suspended in March, resumed")
    pred = None
    commas = 0
    for j in range(k, min(len(lows), k + 14)):
        w = lows[j]
        if w == ",":
            commas += 1
            continue
        if w in NOMINAL_BREAKS or w in NOMINAL_HEDGES or w.endswith("n't") or w == ".":
            if commas % 2 == 0:
                break
            continue
        if commas % 2:
            continue
        pair = w + " " + lows[j + 1] if j + 1 < len(lows) else w
        if pair in NOMINAL_PREDICATES[kind]:
            pred = (j, j + 1, pair)
            break
        if w in NOMINAL_PREDICATES[kind]:
            pred = (j, j, w)
            break
        if any(a.start <= toks[j].start < a.end for a in actors) and j > k:
            break  # another actor before any verb: not the subject we read
    if pred is None or commas % 2:
        return None
    event_type = "CONSULT" if kind == "VISIT" else kind
    if kind == "AGREEMENT":
        event_type = "SUPPORT" if pred[2].endswith("signed") else "AGREE"  # signing is SUPPORT (CAMEO 057)
    after = pred[1] + 1
    if not source and after + 1 < len(lows) and lows[after] in ("by", "between", "with"):
        group = _actor_at(toks, lows, actors, after + 1)
        if group:
            source, recipients = group[:1], group[1:]
    if not source:
        # "resumed in Nairobi on Monday with Sudanese government and rebel delegations"
        for j in range(after, min(len(lows), after + 10)):
            if lows[j] in NOMINAL_BREAKS or lows[j] == ",":
                break
            if lows[j] in ("with", "between"):
                group = _actor_at(toks, lows, actors, j + 1)
                if group:
                    source, recipients = group[:1], group[1:]
                break
    if not source:
        return None
    m = TriggerMatch(NOMINAL_RULES[event_type], n, n)
    modality = _modality(lows, toks, TriggerMatch(m.rule, pred[0], pred[1]), [], quoted)
    if modality not in ("asserted", "reported"):
        return None
    _, location = _recipients(text, toks, lows, actors, TriggerMatch(m.rule, pred[0], pred[1]), frozenset())
    rule = m.rule
    ptype = plover_types()[event_type]
    tstart, tend = toks[n].start, toks[n].end
    return CodedEvent(rule.rule_id, event_type, ptype.quad_class, ptype.intensity, tstart, tend, text[tstart:tend],
                      source, recipients, location, modality, rule.confidence,
                      _features(lows, toks, m, rule, rule.confidence, source, recipients, modality, rule.rule_id,
                                ptype.quad_class))


def _actor_at(toks, lows, actors: list[Actor], k: int) -> list[Actor]:
    """The coordinated actors starting at token ``k`` (after an optional "the"), from that actor on."""
    if k < len(lows) and lows[k] == "the":
        k += 1
    if k >= len(toks):
        return []
    first = next((a for a in actors if a.start <= toks[k].start < a.end), None)
    if first is None:
        return []
    return [a for a in _group(actors, first) if a.start >= first.start]


NOMINAL_RULES = {t: Rule(f"{t.lower()}.nominal", t, (), None, 0.8, "<noun> between X and Y | X's <noun> with Y")
                 for t in ("CONSULT", "SUPPORT", "AGREE", "ASSAULT")}


SUBORDINATORS = frozenset({"who", "which", "that", "after", "when", "while", "as", "because", "following",
                           "since", "before", "if", "whom", "where", "until"})


def _features(lows, toks, m: TriggerMatch, rule, conf: float, source: list[Actor], recipients: list[Actor],
              modality: str, rule_id: str, quad_class: str) -> dict[str, float]:
    """Interpretable facts about one coded event, the inputs of the re-ranker (``rerank.py``)."""
    src_end = _tok_index(toks, source[-1].end) if source and source[-1].end <= toks[m.first].start else m.first
    between = lows[src_end:m.first]
    head = source[0] if source else None
    return {
        "rule_confidence": rule.confidence,
        "penalty": conf / rule.confidence if rule.confidence else 1.0,
        "has_recipient": float(bool(recipients)),
        "future": float(modality == "future"),
        "hypothetical": float(modality == "hypothetical"),
        "negated": float(modality == "negated"),
        "reported": float(modality == "reported"),
        "subordinate": float(any(w in SUBORDINATORS for w in lows[max(0, m.first - 4):m.first])
                             or any(w in SUBORDINATORS for w in between)),
        "participle": float(lows[m.first].endswith("ing") and m.first > 0 and lows[m.first - 1] == ","),
        "after_speech": float(any(w in SPEECH_CUES for w in lows[:m.first])),
        "source_person": float(head is not None and head.kind == "person"),
        "source_role_only": float(head is not None and head.kind == "agent"),
        "source_group": float(head is not None and head.sector in ("REB", "IGO", "NGO")),
        "phrase_trigger": float(m.last > m.first),
        "material": float(quad_class.startswith("material")),
        "retyped": float("+" in rule_id),
    }


def toks_index_of(toks: list[Token], char: int) -> int:
    return _tok_index(toks, char)


MUST_CUES = frozenset({"said", "says", "insisted", "insists", "reiterated", "concluded", "stressed", "demanded",
                       "told", "warned", "declared", "stated"})


def _must_request(text, toks, lows, actors) -> CodedEvent | None:
    """"<speaker> said (that) <actor> must <do>" is a demand: REQUEST from speaker to actor."""
    if "must" not in lows:
        return None
    k_must = lows.index("must")
    cues = [k for k in range(k_must) if lows[k] in MUST_CUES]
    if not cues:
        return None
    k = cues[-1]
    speaker = [a for a in actors if a.end <= toks[k].start]
    target = [a for a in actors if toks[k].end <= a.start and a.end <= toks[k_must].start]
    if not speaker or not target:
        return None
    sp = speaker[-1]
    gap = [w for w in lows[_tok_index(toks, sp.end):k] if re.match(r"\w", w)]
    tgap = [w for w in lows[_tok_index(toks, target[-1].end):k_must] if re.match(r"\w", w)]
    if len(gap) > 4 or len(tgap) > 3 or any(w in (";", ".") for w in lows[k:k_must]):
        return None
    source = _group(actors, sp)
    recipients = [a for a in _group(actors, target[0]) if a.start >= target[0].start]
    ptype = plover_types()["REQUEST"]
    return CodedEvent("request.must", "REQUEST", ptype.quad_class, ptype.intensity, toks[k_must].start,
                      toks[k_must].end, text[toks[k_must].start:toks[k_must].end], source, recipients, None,
                      "asserted", 0.8)


VP_GLUE = frozenset({"would", "will", "has", "have", "had", "also", "then", "later", "was", "is", "were",
                     "are", "could", "should", "may", "might"})


def _reduced_relative(toks, lows: list[str], m: TriggerMatch) -> bool:
    """A past participle right after a noun and right before "by", with no auxiliary: it describes
    the noun ("Sri Lankan troops backed by helicopter gunships overran …"), it is not the event."""
    i = m.first
    if m.last != m.first or i == 0 or i + 1 >= len(lows) or lows[i + 1] != "by" or not lows[i].endswith("ed"):
        return False
    prev = lows[i - 1]
    return prev not in PASSIVE_AUX and prev not in ("has", "have", "had", "and", "or", ",") \
        and re.match(r"[a-z]", prev) is not None and not prev.endswith("ly")


def _doer_follows(m: TriggerMatch, chosen: list[TriggerMatch], lows: list[str]) -> bool:
    """An agentless passive followed by a "when"/"as" clause with a trigger of the same type: the
    clause says who did it."""
    for c in chosen:
        if c.first > m.last and c.rule.event_type == m.rule.event_type \
                and any(w in ("when", "as") for w in lows[m.last + 1:c.first]):
            return True
    return False


CHARGE_WORDS = frozenset({"charges", "charge", "suspicion", "allegations", "accusations", "accused", "suspected"})


def _charge_follows(lows: list[str], m: TriggerMatch) -> bool:
    """"was arrested in Lebanon for collaborating with Israel", "detained on charges of spying": an
    arrest told with its charge, which the GSR codes as the accusation (CAMEO 112), the own gold as the
    arrest; with no agent stated neither is coded from the place alone."""
    window = lows[m.last + 1:m.last + 12]
    ends = [k for k, w in enumerate(window) if w in CLAUSE_ENDS or w == ","]
    window = window[:ends[0]] if ends else window
    return any(w in CHARGE_WORDS for w in window) \
        or any(w == "for" and k + 1 < len(window) and window[k + 1].endswith("ing") for k, w in enumerate(window))


def _shares_subject(between: list[str]) -> bool:
    """"… and would deny", "… and has urged": a coordinated verb right after "and"."""
    if "and" not in between:
        return False
    tail = between[len(between) - between[::-1].index("and"):]
    return len(tail) <= 2 and all(w in VP_GLUE for w in tail)


def _announced(lows: list[str], m: TriggerMatch) -> bool:
    """"announced it would prohibit": a measure announced as decided, not threatened ("will" stays future)."""
    cues = [w for w in lows[:m.first] if w in REPORTING]
    return bool(cues) and cues[-1] in ("announced", "announces") and "would" in lows[max(0, m.first - 4):m.first]


def _refusal(lows: list[str], m: TriggerMatch) -> bool:
    """"would not recognise", "will never accept", "won't attend": a stated refusal."""
    window = lows[max(0, m.first - 4):m.first]
    return any(w in REFUSAL_MODALS and (w.endswith("'t") or w == "cannot" or "not" in window[k + 1:]
                                        or "never" in window[k + 1:])
               for k, w in enumerate(window))


def _conditional(lows: list[str], m: TriggerMatch) -> bool:
    return any(w in ("if", "unless") for w in lows) or "may" in lows[max(0, m.first - 3):m.first]


def _bare_form(word: str, rule) -> bool:
    """Base or -s forms of verbs that are also common nouns (attacks, talks, visit, support)."""
    return not word.endswith(("ed", "ing")) and word in rule.elements[0].verbal and word not in (
        "met", "held", "sent", "gave", "shot", "fought", "withdrew", "broke", "sought", "spoke", "took", "cut",
        "set", "put", "struck", "told", "beat")


NP_OPENERS = frozenset({"its", "his", "her", "their", "our", "the", "a", "an"})
VERB_CONTEXT = frozenset({"to", "will", "would", "shall", "can", "could", "should", "must", "may", "might",
                          "did", "does", "do", "not", "n't", "never"})


def _verb_prev(lows: list[str], i: int) -> int:
    """Index of the word before ``i``, skipping -ly adverbs ("to formally recognize"); -1 if none."""
    k = i - 1
    while k >= 0 and lows[k].endswith("ly") and len(lows[k]) > 4 and k >= i - 2:
        k -= 1
    return k


def _adjacent(toks, lows, source: list[Actor], m) -> bool:
    last = source[-1]
    if last.resolved or last.end > toks[m.first].start:
        return True
    k = _verb_prev(lows, m.first)
    if k >= 0 and lows[k] in VERB_CONTEXT:
        return True  # "is yet to recognize", "would not accept": a verb after "to" or a modal
    i = _tok_index(toks, last.end)
    between = [w for w in lows[i:m.first]]
    # "for its financial support": a determiner opens a noun phrase
    return len(between) <= 3 and "," not in between and not any(w in NP_OPENERS for w in between)


def _tok_index(toks: list[Token], char: int) -> int:
    for i, t in enumerate(toks):
        if t.start >= char:
            return i
    return len(toks)


def _group(actors: list[Actor], actor: Actor) -> list[Actor]:
    return [a for a in actors if a.group == actor.group]


def _source(text, toks, lows, actors, m: TriggerMatch, registry) -> tuple[list[Actor], float]:
    before = [a for a in actors if a.end <= toks[m.first].start]
    appos = _initial_appositive(toks, lows, before, m)
    if appos:
        return appos, 0.9
    for actor in reversed(before):
        i = _tok_index(toks, actor.end)
        if _in_parens(lows, _tok_index(toks, actor.start), i):
            continue  # "Hizbollah (Party of God) group declared": the gloss is not the subject
        between = _drop_parens(lows[i:m.first])
        words = [w for w in between if re.match(r"\w", w)]
        first = _tok_index(toks, actor.start)
        prev = lows[first - 1] if first > 0 else ""
        if prev == "the" and first > 1:
            prev = lows[first - 2]
        host = _host_of_place(toks, lows, before, actor, first)
        if host and not any(w in SUBJECT_BLOCK or w == "," for w in between) and len(words) <= 2:
            return host, 1.0  # "the UN mission in Angola urged": the body, not where it is
        if any(w in SUBJECT_BLOCK for w in between):
            if between[:1] == [","] and len(between) > 1 and between[1] in ("which", "who"):
                # "North Korea, which has been accused by Washington of …, refused": the subject
                # before a non-restrictive relative clause
                appos = _appositive_subject(toks, lows, actors, m, relative=True)
                if appos:
                    return appos, 0.9
            break
        if prev in PREPOSITIONS and (len(words) > 2 or "and" in between):
            continue  # "the foreign ministers of the P5 … on Wednesday met": P5 is not the subject
        if "," in between:
            # an appositive or time phrase between commas: "Moscow, mindful of …, has deployed"
            tail = between[len(between) - between[::-1].index(","):]
            if between.count(",") % 2 == 1 and between[0] != ",":
                appos = _appositive_subject(toks, lows, actors, m)
                if appos:
                    return appos, 0.9
                break
            if len([w for w in tail if re.match(r"\w", w)]) > 4:
                break
            return _group(actors, actor), 0.9
        if len(words) > 6:
            break
        return _group(actors, actor), 1.0
    # a pronoun subject right before the trigger: "he said", "she agreed"
    for j in range(m.first - 1, max(-1, m.first - 5), -1):
        if lows[j] in ("it", "they", "he", "she") and j > 0:
            # "Switzerland said today it had expelled …": the pronoun is the speaker
            speaker = _speaker_before(toks, lows, actors, j)
            if speaker:
                return speaker, 0.9
        if j > 1 and ((lows[j] in ("country", "nation", "government") and lows[j - 1] in ("his", "her", "their"))
                      or (lows[j] in ("country", "nation") and lows[j - 1] in ("the", "its"))):
            # "the Iranian president said his country is willing to …": the speaker's country
            speaker = _speaker_before(toks, lows, actors, j - 1)
            if speaker and speaker[0].country:
                return speaker, 0.9
        if lows[j] in ("he", "she"):
            resolved = registry.pronoun_actor(text, toks[j].start, toks[j].end)
            return ([resolved], 0.85) if resolved else ([], 1.0)
        if lows[j] in SUBJECT_BLOCK or lows[j] == ",":
            break
    return [], 1.0


PLACE_KINDS = frozenset({"city", "town", "village", "capital", "port", "province", "region", "district"})


def _host_of_place(toks, lows, before: list[Actor], place: Actor, first: int) -> list[Actor]:
    """"<actor> in <place>": the actor right before "in"/"at", when the place is a bare country, city or
    region (no sector of its own); "in the West Bank city of Hebron" names the place too."""
    if first >= 3 and lows[first - 1] == "of" and lows[first - 2] in PLACE_KINDS:
        k = first - 3
        while k > 0 and k >= first - 7 and (toks[k].text[:1].isupper() or lows[k] in ("the", "northern", "southern",
                                                                                      "eastern", "western", "central")):
            k -= 1
        first = k + 1  # the phrase then starts after "in"/"at", checked below
    if place.kind != "country" or place.sector is not None or first < 2 or lows[first - 1] not in ("in", "at"):
        return []
    host = [a for a in before if a.end <= toks[first - 1].start]
    if not host or _tok_index(toks, host[-1].end) != first - 1 or (host[-1].kind == "country" and host[-1].sector is None):
        return []
    return _group(before, host[-1])


PROTEST_SECTORS = frozenset({"CVL", "OPP", "LEG", "LAB", "EDU", "AGR", "HLH", "REL", "BUS", "REF", "MED", "JRN"})


def _protest_subject(text, toks, lows, actors: list[Actor], roles: list[Actor], m: TriggerMatch) -> list[Actor]:
    """The subject of "Demonstrators gathered outside the embassy in Manila to protest": a people's
    role word (or a group of them) opening the sentence, with its own country or the stated place's."""
    first = min(actors + roles, key=lambda a: a.start, default=None)
    if first is None or _tok_index(toks, first.start) > 3:
        return []
    if first.sector not in PROTEST_SECTORS and not _people_of(first):
        return []
    if first.country:
        return _group(actors, first) if first in actors else [first]
    for actor in actors:  # "outside the US embassy in Manila": the place may sit inside a phrase
        for member in actor.members:
            i = _tok_index(toks, member.start)
            if member.entry.kind == "country" and member.entry.country and 0 < i < m.first \
                    and lows[i - 1] in PLACE_PREPS:
                return [dataclasses.replace(first, country=member.entry.country)]
    return []


def _state_actor(toks, lows, actor: Actor) -> bool:
    """A country named as a state ("Beijing", "China", "the Chinese government"), not its people
    ("Chinese students", "thousands of Iranians", "hundreds of Chinese") nor a party or group in it."""
    first = _tok_index(toks, actor.start)
    if not actor.country or _people_of(actor) or actor.resolved or (first > 0 and lows[first - 1] == "of"):
        return False
    return actor.sector in (None, "GOV") and actor.kind in ("country", "org")


def _people_of(actor: Actor) -> bool:
    """"Thousands of Nigerians": a plural demonym alone names a country's people, not its state."""
    if actor.kind != "country" or actor.sector is not None or len(actor.members) != 1:
        return False
    m = actor.members[0]
    return m.text.endswith("s") and m.text.lower() != m.entry.phrase.lower()


POSSESSIVES = frozenset({"its", "their", "his", "her"})


def _role_subject(toks, lows, roles: list[Actor], m: TriggerMatch, location: Actor) -> list[Actor]:
    for role in reversed([r for r in roles if r.end <= toks[m.first].start]):
        first = _tok_index(toks, role.start)
        if first > 0 and lows[first - 1] in POSSESSIVES:
            break  # "said its helicopters had attacked … near the Syrian border": the speaker's, not the place's
        between = lows[_tok_index(toks, role.end):m.first]
        if len(between) <= 2 and not any(w in SUBJECT_BLOCK or w == "," for w in between):
            return [dataclasses.replace(role, country=location.country)]
        break
    return []


NOT_OF_A_PLACE = frozenset({"HRI", "NGO", "IGO"})  # rights groups and agencies: no country from a place
ROLE_HEADS = frozenset({"leaders", "leader", "members", "member", "officials", "official", "spokesman",
                        "spokeswoman", "spokesperson", "representatives", "head", "heads", "chief"})
DETERMINERS = frozenset({"the", "a", "an", "its", "their", "some", "several", "many", "two", "three", "top",
                         "senior", "local", "traditional", "group"})


def _role_head_subject(toks, lows, actors: list[Actor], roles: list[Actor], m: TriggerMatch,
                       location: Actor | None) -> list[Actor]:
    """A role word with no country as the subject of any event ("opposition leaders agreed",
    "Leaders of the … coalition agreed", "a spokesman for the … said"): it takes the country of the
    sentence's stated place ("in Baku"), when the sentence states exactly one place's country;
    otherwise nothing is coded (a guess would cost precision). A venue right after the verb ("agreed
    in Geneva") is where visitors may have gone, not whose they are: no event."""
    before = [r for r in roles if r.end <= toks[m.first].start]
    if not before or before[-1].sector in NOT_OF_A_PLACE:
        return []
    role = before[-1]
    between = [w for w in lows[_tok_index(toks, role.end):m.first] if w not in ("(", ")")]
    if len(between) > 3 or any(w in SUBJECT_BLOCK or w == "," or w in PREPOSITIONS for w in between):
        return []
    first = _tok_index(toks, role.start)
    k = first - 1
    while k >= 0 and (lows[k] in DETERMINERS or toks[k].text[:1].isupper() or lows[k] in ("(", ")")):
        k -= 1  # "the Azadliq (Freedom) opposition coalition", "A group of Yoruba leaders"
    if k >= 0 and lows[k] in PREPOSITIONS:
        # inside a prepositional phrase: only "Leaders of …", "a spokesman for …" at the head of the sentence
        head = k - 1
        while head >= 0 and lows[head] in DETERMINERS:
            head -= 1
        if lows[k] not in ("of", "for") or head < 0 or lows[head] not in ROLE_HEADS \
                or any(lows[j] not in DETERMINERS for j in range(head)):
            return []
    elif k >= 3 and lows[k] != ",":
        return []  # deep inside the sentence after other words: not clearly its subject
    if location is not None and _tok_index(toks, location.start) - m.last <= 3:
        return []
    places = {a.group for a in actors if a.kind == "country" and a.country and _at_place(toks, lows, a)}
    countries = {a.country for a in actors if a.group in places and a.country}  # "in Kenya and Uganda": two
    if location is not None and location.country:
        countries.add(location.country)
    if len(countries) != 1:
        return []
    return [dataclasses.replace(role, country=countries.pop())]


# agentless passives and events named by a noun subject ("Protests erupted in …") coded to the stated
# place's people: the place_source column of triggers.tsv (arrests: tried, lost precision on dev)


def _place_default(toks, lows, actors: list[Actor], location: Actor | None, sector: str | None) -> list[Actor]:
    countries = _place_countries(toks, lows, actors, location)
    if len(countries) != 1:
        return []
    country = countries.pop()
    place = location if location is not None and location.country == country else None
    if place is None:
        return []  # the place is in the subject ("Protesters in Tbilisi were …"): not where it happened
    return [Actor(place.start, place.end, place.text, country, sector, None, "agent")]


FORCE_SECTORS = frozenset({"MIL", "COP", "GOV"})
CUE_GLUE = frozenset({"that", "its", "his", "her", "their", "the"})


def _reported_role(toks, lows, actors: list[Actor], roles: list[Actor], m: TriggerMatch) -> list[Actor]:
    """"The Thai police chief said officers had arrested …": a force or official role word with no
    country right after a speech cue belongs to the speaker's country."""
    before = [r for r in roles if r.end <= toks[m.first].start and r.sector in FORCE_SECTORS]
    if not before:
        return []
    role = before[-1]
    first = _tok_index(toks, role.start)
    k = first - 1
    while k >= 0 and (lows[k] in CUE_GLUE or lows[k] in TIME_WORDS or lows[k] == "on"):
        k -= 1  # "said on Tuesday their forces had …"
    between = lows[_tok_index(toks, role.end):m.first]
    if k < 1 or lows[k] not in SPEECH_CUES or len(between) > 3 \
            or any(w in SUBJECT_BLOCK or w == "," for w in between):
        return []
    speaker = _speaker_before(toks, lows, actors, k + 1)
    if not speaker or not speaker[0].country or speaker[0].kind == "person":
        return []  # a person's own forces are not said; an organisation's spokesman is
    return [dataclasses.replace(role, country=speaker[0].country)]


def _body(role: Actor) -> list[Actor]:
    """A role word naming a body of no country ("rights groups", "aid agencies"): an actor coded by its
    sector, as the named organisations are (a rights group is an NGO, CAMEO's NGO…HRI)."""
    return [dataclasses.replace(role, sector="NGO" if role.sector == "HRI" else role.sector)]


def _body_subject(toks, lows, roles: list[Actor], m: TriggerMatch) -> list[Actor]:
    """"Human rights groups charged that …": such a body right before the verb is its subject."""
    before = [r for r in roles if r.end <= toks[m.first].start]
    if not before or before[-1].sector not in NOT_OF_A_PLACE:
        return []
    role = before[-1]
    first = _tok_index(toks, role.start)
    if first > 0 and lows[first - 1] in PREPOSITIONS:
        return []  # "a report by rights groups said": not the subject
    between = lows[_tok_index(toks, role.end):m.first]
    if len(between) > 2 or any(w in SUBJECT_BLOCK or w == "," for w in between):
        return []
    return _body(role)


def _by_role(toks, lows, actors: list[Actor], roles: list[Actor], m: TriggerMatch,
             location: Actor | None) -> list[Actor]:
    """"were dispersed by riot police in Tbilisi", "attacked by gunmen in Darfur": a role word after
    "by" takes the country of the sentence's one stated place (as ``_role_head_subject``)."""
    after = [r for r in roles if r.start >= toks[m.last].end]
    if not after:
        return []
    role = after[0]
    between = lows[m.last + 1:_tok_index(toks, role.start)]
    if "by" not in between or len(between) > 3:
        return []
    if role.sector in NOT_OF_A_PLACE:
        return _body(role)  # "was criticised by rights groups": a body of no country, coded by its kind
    countries = _place_countries(toks, lows, actors, location)
    if len(countries) != 1:
        return []
    return [dataclasses.replace(role, country=countries.pop())]


def _place_countries(toks, lows, actors: list[Actor], location: Actor | None) -> set[str]:
    """Countries of the places the sentence states ("in Tbilisi", "Protesters in Tbilisi")."""
    out = {location.country} if location is not None and location.country else set()
    for a in actors:
        for member in a.members:
            i = _tok_index(toks, member.start)
            if member.entry.kind == "country" and member.entry.country and i > 0 and _place_prep(lows, i - 1):
                out.add(member.entry.country)
    return out


def _object_place(toks, lows, actors: list[Actor], m: TriggerMatch) -> Actor | None:
    """The place stated inside the object of a local event: "students in Jakarta", "the offices of an
    opposition newspaper in Belgrade" (the place and the object form one actor): the first actor after
    the verb, in the same clause, within a few words; the places of all the clause's actors must be
    one country's; the place as an actor."""
    after = [a for a in actors if a.start >= toks[m.last].end]
    if not after:
        return None
    first = _tok_index(toks, after[0].start)
    if first - m.last > 8 or any(w in OBJECT_BLOCK for w in lows[m.last + 1:first]):
        return None
    ends = [k for k in range(m.last + 1, len(lows)) if lows[k] in CLAUSE_ENDS]
    clause = [a for a in after if _tok_index(toks, a.start) < (ends[0] if ends else len(lows))]
    places = [p for a in clause for p in a.members
              if p.entry.kind == "country" and p.entry.country and _after_place_prep(toks, lows, p.start)]
    if len({m.entry.country for m in places}) != 1:
        return None
    p = places[0]
    return Actor(p.start, p.end, p.text, p.entry.country, None, None, "country")


def _after_place_prep(toks, lows, start: int) -> bool:
    """A place preposition before the word at ``start``, past "the" ("in the Indonesian capital")."""
    i = _tok_index(toks, start)
    if i > 0 and lows[i - 1] == "the":
        i -= 1
    return i > 0 and _place_prep(lows, i - 1)


CLAUSE_ENDS = frozenset({";", ":", ".", "but", "while", "which", "who", "whom", "said", "says", "after", "before",
                         "because", "since", "although", "when", "“", "”", '"'})
# "30 km south of Algiers", "north-west of the capital": "of" after a bearing states a place
BEARINGS = frozenset({"north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest",
                      "north-east", "north-west", "south-east", "south-west"})


# "on the island of Mindanao", "on the outskirts of Kabul": "of" after these nouns states a place
PLACE_NOUNS = frozenset({"island", "islands", "outskirts"})


def _place_prep(lows: list[str], k: int) -> bool:
    return lows[k] in PLACE_PREPS or (lows[k] == "of" and k > 0 and (lows[k - 1] in BEARINGS or lows[k - 1] in PLACE_NOUNS))


def _at_place(toks, lows, actor: Actor) -> bool:
    i = _tok_index(toks, actor.start)
    while i > 0 and lows[i - 1] in ("the", "city", "town", "capital", "of", "province", "region"):
        i -= 1
        if lows[i] == "of" and i > 0 and lows[i - 1] in ("city", "town", "capital", "province", "region"):
            continue
    return i > 0 and _place_prep(lows, i - 1)


def _in_parens(lows: list[str], first: int, after: int) -> bool:
    return first > 0 and lows[first - 1] == "(" and after < len(lows) and lows[after] == ")"


def _drop_parens(words: list[str]) -> list[str]:
    """Words without the parenthesised stretches: "(SSS) stopped" → "stopped"."""
    out: list[str] = []
    depth = 0
    for w in words:
        if w == "(":
            depth += 1
        elif w == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(w)
    return out


def _appositive_subject(toks, lows, actors, m, relative: bool = False) -> list[Actor]:
    """"Pakistan, a key U.S. ally in the war against terrorism, has refused": the actor before the
    first of two commas whose second comma closes right before the verb."""
    for actor in reversed([a for a in actors if a.end <= toks[m.first].start]):
        i = _tok_index(toks, actor.end)
        between = lows[i:m.first]
        if not between or between[0] != "," or between.count(",") != 2 or len(between) > (24 if relative else 16):
            continue
        tail = between[len(between) - between[::-1].index(","):]
        inner = between[2:] if relative and len(between) > 1 and between[1] in ("which", "who") else between
        if len(tail) <= 3 and not any(w in SUBJECT_BLOCK for w in inner):
            return _group(actors, actor)
    return []


VERB_LEAD = VP_GLUE | TIME_WORDS | frozenset({"on", "last", "this", "had", "have", "has", "been", "not", "now"})
APPOSITIVE_BLOCK = frozenset({";", ":", "said", "says", "told", "“", "”", '"', "according", "-", "—", "–"})


def _initial_appositive(toks, lows, before: list[Actor], m: TriggerMatch) -> list[Actor]:
    """"Hosni Mubarak, the Egyptian president who has mediated between Israel and the Palestinians for
    two decades, urged …": the actor opening the sentence, followed by a comma, is the subject of a
    verb right after the comma that closes a long appositive, whatever it holds (relative clauses,
    places, other actors), when no actor stands between that comma and the verb."""
    if not before or m.first < 4 or lows[m.first].endswith("ing"):
        return []
    head = before[0]
    first = _tok_index(toks, head.start)
    if first > 1 or (first == 1 and lows[0] != "the") or head.text.isupper():  # "MOSCOW, Feb 3 (Reuters) -"
        return []
    group = _group(before, head)
    end = _tok_index(toks, group[-1].end)
    if end >= len(lows) or lows[end] not in (",", "who", "which") or any(a.group != head.group and a.start < group[-1].end for a in before):
        return []
    k = m.first - 1
    while k > end and (lows[k] in VERB_LEAD or lows[k].endswith("ly")):
        k -= 1
    if k <= end or lows[k] != "," or m.first - k > 4 or m.first - end > 40:
        return []
    if any(toks[k].end <= a.start for a in before) or any(w in APPOSITIVE_BLOCK for w in lows[end:k]):
        return []
    return group


def _speaker_before(toks, lows, actors, j: int) -> list[Actor]:
    cues = [k for k in range(j) if lows[k] in SPEECH_CUES and k >= j - 6]
    if not cues:
        return []
    k = cues[-1]
    before = [a for a in actors if a.end <= toks[k].start]
    if not before:
        return []
    head = _appositive_head(toks, lows, before, k)
    if head:
        return [dataclasses.replace(a, resolved=True) for a in head]
    last = before[-1]
    gap = [w for w in lows[_tok_index(toks, last.end):k] if re.match(r"\w", w)]
    if len(gap) > 4:
        return []
    return [dataclasses.replace(a, resolved=True) for a in _group(actors, last)]


def _appositive_head(toks, lows, before: list[Actor], k: int) -> list[Actor]:
    """"Iran, a key ally of Syria, said it …": the actor before an appositive set off by commas right
    before the speech cue at ``k`` is the speaker, not an actor inside the appositive."""
    c = k - 1
    while c > 0 and (lows[c] in TIME_WORDS or lows[c] in ("on", "last", "this")):
        c -= 1
    if c < 2 or lows[c] != ",":
        return []
    o = c - 1
    while o > 0 and lows[o] != "," and lows[o] not in SUBJECT_BLOCK and c - o <= 16:
        o -= 1
    if o <= 0 or lows[o] != "," or c - o < 2:
        return []
    first = before[0]
    if _tok_index(toks, first.start) > 2:
        return []
    group = _group(before, first)
    # the rest of the subject's name may follow the actor: "The Nigerian Union of Teachers (NUT),"
    rest = toks[_tok_index(toks, group[-1].end):o]
    if any(not (t.text[:1].isupper() or t.lower in ("of", "and", "for", "(", ")")) for t in rest) or len(rest) > 6:
        return []
    return group


def _recipients(text, toks, lows, actors, m: TriggerMatch, preps) -> tuple[list[Actor], Actor | None]:
    # objects may sit inside a gapped pattern: "asking Russia and China to", "seeks Pakistan's support"
    after = [a for a in actors if a.start >= toks[m.first].end]
    location = None
    recipients: list[Actor] = []
    for actor in after:
        i = _tok_index(toks, actor.start)
        between = lows[m.first + 1:i]
        prep = None
        prep_at = -1
        place = False
        for k, w in enumerate(between):
            if w in ("on", "in", "at", "by") and k + 1 < len(between) and between[k + 1] in TIME_WORDS:
                continue  # "forced out on Wednesday more than 1,000 refugees": a time, not a role
            if w == "to" and k + 1 < len(between) and between[k + 1] not in ("the", "a", "an"):
                prep = None  # infinitive marker: "asking Russia to join", "to provide Afghanistan"
                continue
            if w in PREPOSITIONS:
                prep = w
                prep_at = m.first + 1 + k
                # "in the province of Anhui", "30 km south of Algiers"
                # a preposition the rule itself names introduces a party ("lashed out at the United States")
                place = (w in PLACE_PREPS and w not in (m.rule.preps or ())) \
                    or (w == "of" and (place or (k > 0 and (between[k - 1] in BEARINGS or between[k - 1] in PLACE_NOUNS))))
            elif w in OBJECT_BLOCK:
                place = False
        if place and actor.kind == "country":
            if location is None and len(between) <= 12 and not any(w in (";", ".") for w in between):
                location = actor
            continue
        if recipients:
            continue
        # the words of a gapped trigger ("provide $200 million in emergency aid") do not count
        tail = lows[max(m.last, m.first) + 1:i]
        if any(w in OBJECT_BLOCK for w in between) or len([w for w in tail if re.match(r"\w", w)]) > 6:
            continue
        if prep == "on" and m.rule.event_type in COOPERATIVE and prep_at > m.last + 1:
            continue  # "agreed to share intelligence on North Korea": a topic, not a party
        if prep is None or prep in preps:
            recipients = _group(actors, actor)
            recipients = [a for a in recipients if a.start >= actor.start]
    return recipients, location


def _by_agent(toks, lows, actors, m) -> list[Actor]:
    for actor in actors:
        if actor.start < toks[m.last].end:
            continue
        i = _tok_index(toks, actor.start)
        between = lows[m.last + 1:i]
        if "by" in between and len(between) <= 4:
            return _group(actors, actor)
        break
    return []


def _expelled_from(toks, lows, actors: list[Actor], m: TriggerMatch, direct: bool = False) -> list[Actor]:
    """"Two Russian diplomats were expelled from Britain": the country expelled from did it; with
    ``direct``, also the country named right after the trigger ("were ordered to leave Britain")."""
    for actor in actors:
        if actor.start < toks[m.last].end:
            continue
        between = [w for w in lows[m.last + 1:_tok_index(toks, actor.start)] if w != "the"]
        ok = between == ["from"] or (direct and not between)
        return _group(actors, actor) if ok and actor.kind == "country" else []
    return []


def _modality(lows, toks, m: TriggerMatch, source: list[Actor], quoted) -> str:
    start_tok = _tok_index(toks, source[-1].end) if source and source[-1].end <= toks[m.first].start else max(0, m.first - 5)
    window = lows[max(start_tok, m.first - 6):m.first]
    if any(w in NEGATION or w.endswith("n't") for w in window) or "yet to" in " ".join(window):
        return "negated"
    tstart = toks[m.first].start
    if any(s <= tstart < e for s, e in quoted):
        return "reported"
    speech = [k for k, w in enumerate(lows[:m.first]) if w in SPEECH_CUES]
    if speech and source and _tok_index(toks, source[0].start) > speech[0]:
        if "would" in lows[max(0, m.first - 3):m.first]:
            return "future"  # "announced that Spain would withdraw": a stated plan of Spain's
        return "reported"  # "the spokesman claimed China and Russia are supporting …"
    if any(w in HYPOTHETICAL for w in window) or any(w in ("if", "whether", "unless") for w in lows[:m.first]):
        if "would" in window and any(w in REPORTING for w in lows[:m.first]):
            return "future"
        return "hypothetical"
    if any(w in FUTURE_NOW or (w in FUTURE and k + 1 < len(window) and window[k + 1] in ("to", "for"))
           for k, w in enumerate([*window, lows[m.first]])) or "to be" in " ".join(window[-3:]):
        return "future"  # "set to meet", "due to visit"; but "set fire to", "plans drawn up" are not
    return "asserted"
