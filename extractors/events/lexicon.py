"""The trigger lexicon (``data/triggers.tsv``) and PLOVER types (``data/plover.tsv``): loading,
verb inflection and matching over the words of one sentence."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from extractors.events.datafiles import data_rows
from extractors.events.dates import WEEKDAYS
from extractors.events.sentences import Token

IRREGULAR = {
    "meet": ["met"], "hold": ["held"], "send": ["sent"], "seek": ["sought"], "give": ["gave", "given"],
    "take": ["took", "taken"], "make": ["made"], "speak": ["spoke", "spoken"], "fight": ["fought"],
    "shoot": ["shot"], "withdraw": ["withdrew", "withdrawn"], "break": ["broke", "broken"],
    "freeze": ["froze", "frozen"], "cut": ["cut"], "set": ["set"], "put": ["put"], "lead": ["led"],
    "deny": ["denied", "denies"], "defy": ["defied", "defies"], "rally": ["rallied", "rallies"],
    "carry": ["carried", "carries"], "ally": ["allied"], "bow": ["bowed"], "free": ["freed", "frees"],
    "forgive": ["forgave", "forgiven"], "sue": ["sued", "sues", "suing"], "step": ["stepped", "stepping"],
    "slap": ["slapped", "slapping"], "commit": ["committed", "committing"], "ban": ["banned", "banning"],
    "veto": ["vetoed", "vetoes", "vetoing"], "strike": ["struck"], "bring": ["brought"], "tell": ["told"],
    "grant": ["granted"], "shell": ["shelled", "shelling"], "offer": ["offered", "offering"],
    "label": ["labelled", "labeled"], "open": ["opened", "opening"], "visit": ["visited", "visiting"],
    "host": ["hosted", "hosting"], "confer": ["conferred", "conferring"], "rebut": ["rebutted"],
    "compel": ["compelled"], "patrol": ["patrolled"], "expel": ["expelled", "expelling"],
    "travel": ["travelled", "traveled"], "cancel": ["cancelled", "canceled", "cancelling", "canceling"],
    "kidnap": ["kidnapped", "kidnapping"], "mobilise": ["mobilised"], "airlift": ["airlifted"],
    "beat": ["beaten"],
}
_VOWELS = "aeiou"


def inflect(lemma: str) -> set[str]:
    """Regular English verb forms plus the irregular table."""
    forms = {lemma, *IRREGULAR.get(lemma, ())}
    if lemma.endswith("e"):
        forms |= {lemma + "s", lemma + "d", lemma[:-1] + "ing"}
    elif lemma.endswith("y") and lemma[-2:-1] not in _VOWELS:
        forms |= {lemma[:-1] + "ies", lemma[:-1] + "ied", lemma + "ing"}
    elif lemma.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {lemma + "es", lemma + "ed", lemma + "ing"}
    else:
        forms |= {lemma + "s", lemma + "ed", lemma + "ing"}
        if (len(lemma) >= 3 and lemma[-1] not in _VOWELS + "wxy" and lemma[-2] in _VOWELS
                and lemma[-3] not in _VOWELS and len(lemma) <= 4):
            forms |= {lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"}
    return forms


@dataclass(frozen=True, slots=True)
class Element:
    words: frozenset[str]  # empty for a gap
    verbal: frozenset[str]  # the forms that came from a verb* entry (noun uses are filtered)
    gap: bool = False


@dataclass(frozen=True, slots=True)
class Retype:
    """"TYPE+tag if cond & cond": the event is coded as ``event_type`` (its rule id gains ``+tag``) when
    every condition holds (names in ``RETYPE_CONDITIONS`` or ``trigger=lemma*``, read in events.py)."""
    event_type: str
    tag: str
    conditions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    event_type: str
    elements: tuple[Element, ...]
    preps: frozenset[str] | None  # None: the type's default
    confidence: float
    pattern: str
    # behaviours named in triggers.tsv (see its header); empty: none
    frame: str = ""  # "intent" | "permission" | "blame"
    source: str = ""  # "forces" | "not_forces"
    recipient: frozenset[str] = frozenset()  # "required", "past_trigger"
    passive_agent: str = ""  # "from" | "left"
    place_source: tuple[str, str | None] | None = None  # ("passive" | "any", sector or None)
    purpose: str = ""  # "people"
    reads_as: tuple[Retype, ...] = ()
    becomes: tuple[Retype, ...] = ()


@dataclass(frozen=True, slots=True)
class PloverType:
    event_type: str
    quad_class: str
    intensity: float
    preps: frozenset[str]


@dataclass(frozen=True, slots=True)
class TriggerMatch:
    rule: Rule
    first: int  # token index of the first matched word
    last: int  # token index of the last matched word (inclusive)


def _parse_element(text: str) -> Element:
    if text == "~":
        return Element(frozenset(), frozenset(), gap=True)
    words: set[str] = set()
    verbal: set[str] = set()
    alts = text.split("|")
    if len(set(alts)) != len(alts):
        # "beat|beat up" would be read as "beat|beat" then "up": alternatives are single words
        raise ValueError(f"pattern element {text!r} repeats an alternative (alternatives are single words)")
    for alt in alts:
        if alt.endswith("*"):
            forms = inflect(alt[:-1])
            words |= forms
            verbal |= forms
        else:
            words.add(alt)
    return Element(frozenset(words), frozenset(verbal))




@lru_cache(maxsize=1)
def plover_types() -> dict[str, PloverType]:
    return {r["event_type"]: PloverType(r["event_type"], r["quad_class"], float(r["intensity"]),
                                        frozenset(p for p in r["recipient_preps"].split(",") if p))
            for r in data_rows("plover.tsv")}


class Lexicon:
    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self.index: dict[str, list[Rule]] = {}
        for rule in rules:
            for word in rule.elements[0].words:
                self.index.setdefault(word, []).append(rule)

    def match(self, toks: list[Token], lows: list[str] | None = None) -> list[TriggerMatch]:
        """``lows``: the tokens' ``lower``, when the caller has them already."""
        if lows is None:
            lows = [t.lower for t in toks]
        out: list[TriggerMatch] = []
        index = self.index
        for i in [i for i, word in enumerate(lows) if word in index]:  # most words start no rule
            word = lows[i]
            rules = index[word]
            # a capitalised word inside the sentence is part of a name ("… (SAW)' Rally")
            in_name = i > 0 and toks[i].text[:1].isupper() and lows[i - 1] not in QUOTE_OPENERS
            noun: bool | None = None  # the verb form used as a noun: asked once, when a rule needs it
            for rule in rules:
                if word in rule.elements[0].verbal:
                    if noun is None:
                        noun = (_noun_use(lows, i) or (i > 0 and toks[i].text[0].isupper())
                                or _modified_noun(toks, lows, i)
                                or (i + 1 < len(lows) and lows[i + 1] in NOUN_HEADS and not _past(word)))
                    if noun:
                        continue  # a noun use, a name ("the Canadian Press"), a modifier ("riot police")
                if in_name:
                    continue
                last = i if len(rule.elements) == 1 else _match_rest(rule.elements, 1, lows, i + 1)
                if last is not None:
                    out.append(TriggerMatch(rule, i, last))
        return out


QUOTE_OPENERS = frozenset({'"', "“", "‘", ":", "—", "–", "-", "("})
# nouns that name the kind of an event noun: "peace talks", "border clashes", "trade talks"
EVENT_NOUN_MODIFIERS = frozenset({"peace", "border", "trade", "nuclear", "arms", "security", "ceasefire", "bilateral",
                                  "summit", "crisis", "armistice", "reunification", "disarmament"})
# nouns a bare verb form modifies: "riot police", "protest march", "attack helicopters"
NOUN_HEADS = frozenset({"police", "policemen", "squad", "squads", "gear", "helicopter", "helicopters", "dogs",
                        "submarine", "submarines", "aircraft", "unit", "units", "leader", "leaders", "organisers",
                        "organizers", "march", "marches", "movement", "group", "groups"})
# words after which a bare -s form is a plural noun, not a verb ("the UN demands were ignored")
NOUN_FOLLOWERS = frozenset({"were", "are", "have", "had", "would", "will", "could", "should", "might", "remain",
                            "remained", "include", "included", "for", "of"})
# words that may open a clause whose subject follows ("while the UK calls upon China")
CLAUSE_OPENERS = frozenset({"and", "or", "but", "while", "whereas", "as", "when", "whenever", "after", "before", "since",
                            "because", "although", "though", "if", "unless", "until", "once", "that", "where", "so",
                            "then", "now", "also", "meanwhile", "today", "yesterday"})
BREAKS = frozenset({";", ":", ",", "(", ")", "—", "–", "“", "”", '"', "but", "while", "which", "who", "that",
                    "whom", "because", "although", "when", "after", "before", "said", "says", "."})
DETERMINERS = frozenset({"a", "an", "the", "this", "these", "those", "its", "their", "his", "her", "our",
                         "my", "your", "of", "for", "whose", "no", "any", "some", "each", "every", "such",
                         "in", "on", "at", "by", "from", "against", "amid", "following", "after", "before",
                         "during", "over", "and", "or", "with", "without", "new", "further", "under"})


# irregular past forms (not also a base form): "the EU froze", "deployed police" are verbs, not nouns
IRREGULAR_PAST = frozenset(f for lemma, forms in IRREGULAR.items() for f in forms
                           if not f.endswith(("s", "ing")) and f != lemma)


def _past(word: str) -> bool:
    return word.endswith("ed") or word in IRREGULAR_PAST


def _noun_use(lows: list[str], i: int) -> bool:
    """'the attack', 'words of support', "Washington's exit": the verb form is used as a noun.

    Present participles after a preposition are gerunds and stay verbs ("by attacking")."""
    if i == 0:
        return False
    prev = lows[i - 1]
    if lows[i].endswith("ing") and prev in ("by", "after", "before", "for", "in", "on", "while", "without"):
        return prev in ("for", "in", "on")  # "in engaging with" describes, "by attacking" acts
    if lows[i].endswith("ed") and prev in ("and", "or", "on", "in", "at", "by", "after", "before"):
        return False  # "and rejected", "on Tuesday rejected"
    if prev in ("and", "or", "on", "in", "at", "by", "over", "after", "before", "following", "during"):
        return not lows[i].endswith(("ed", "ing")) and prev not in ("and", "or")
    return prev in DETERMINERS or prev.endswith("'s")


def _modified_noun(toks: list[Token], lows: list[str], i: int) -> bool:
    """"the Israeli raid", "over cross-border attacks": a bare form after a national adjective or a
    hyphenated modifier that itself follows a determiner is a noun."""
    if i >= 1 and lows[i].endswith("s") and not lows[i].endswith("ss") and _past(lows[i - 1]) \
            and lows[i - 1] not in ("used", "said"):
        return True  # "postponed talks with", "renewed attacks on": a plural object of a verb, not a verb
    if i >= 2 and lows[i].endswith("ing") and lows[i - 2] == "the" and toks[i - 1].text[:1].isupper():
        return True  # "the Lockerbie bombing", "the US bombing of Libya": a gerund naming an event
    if i < 2 or _past(lows[i]) or lows[i].endswith("ing") or (lows[i - 2] not in DETERMINERS and not lows[i - 2][:1].isdigit()):
        return False
    prev = toks[i - 1].text
    adjective = prev[:1].isupper() and prev.endswith(("ian", "ese", "ish", "i", "an")) and lows[i - 2] in ("the", "a", "an")
    # "the US embargo", "the Kremlin press service": a base form after "the" and a singular name is a
    # noun ("the US imposes" would take -s), unless the subject is coordinated ("Turkey and the US agree")
    acronym = prev[:1].isupper() and (prev.isupper() or not prev.endswith("s")) and lows[i - 2] == "the" \
        and (lows[i].endswith("ss") or not lows[i].endswith("s")) and (i < 3 or lows[i - 3] not in ("and", "or"))
    # "further terrorist attacks", "the new border talks": a plural bare form after a lower-case
    # modifier that follows a determiner or a number ("50,000 artillery shells"; a plural subject would
    # take no -s: "the rebels attack")
    modifier = lows[i].endswith("s") and not lows[i].endswith("ss") and prev.isalpha() and prev.islower() \
        and not prev.endswith(("s", "ly")) \
        and (lows[i - 2] in ("the", "a", "an", "further", "new", "fresh", "more") or lows[i - 2][:1].isdigit())
    # "rejected the UN demands", "the US demands were": an -s form after "the" and a name is a noun
    # when that phrase is the object of a word before it or the subject of an auxiliary after it
    named = prev[:1].isupper() and lows[i - 2] == "the" and lows[i].endswith("s") and not lows[i].endswith("ss") \
        and ((i >= 3 and toks[i - 3].text.isalpha() and toks[i - 3].text.islower() and lows[i - 3] not in CLAUSE_OPENERS)
             or (i + 1 < len(lows) and lows[i + 1] in NOUN_FOLLOWERS))
    return adjective or acronym or modifier or named or ("-" in prev and prev[:1].islower()) \
        or prev in EVENT_NOUN_MODIFIERS


def _match_rest(elements: tuple[Element, ...], k: int, lows: list[str], j: int) -> int | None:
    """Index of the last word when ``elements[k:]`` match from word ``j`` on (a gap is up to five
    words, none a break), else None. Word elements are followed in a loop; a gap tries each length
    at which the word element after it matches."""
    n = len(lows)
    while k < len(elements):
        el = elements[k]
        if el.gap:
            after = elements[k + 1] if k + 1 < len(elements) and not elements[k + 1].gap else None
            for skip in range(0, 6):
                if skip and (j + skip - 1 >= n or lows[j + skip - 1] in BREAKS):
                    break
                if after is not None and _step(after, lows, j + skip, n) < 0:
                    continue
                got = _match_rest(elements, k + 1, lows, j + skip)
                if got is not None:
                    return got
            return None
        j = _step(el, lows, j, n)
        if j < 0:
            return None
        k += 1
    return j - 1


def _step(el: Element, lows: list[str], j: int, n: int) -> int:
    """Where matching goes on after word element ``el`` matched at word ``j``; -1 if it does not."""
    if j < n and lows[j] in el.words:
        return j + 1
    if j + 1 < n and lows[j] in DAY_WORDS and lows[j + 1] in el.words:
        # "called Thursday on", "pulled out Friday": a day word between a verb and its particle
        return j + 2
    return -1


DAY_WORDS = frozenset(WEEKDAYS) | {"today", "yesterday", "tonight"}


# the columns of triggers.tsv, in order, and the values its behaviour columns may take
TRIGGER_COLUMNS = ("rule_id", "event_type", "pattern", "preps", "conf", "frame", "source", "recipient",
                   "passive_agent", "place_source", "purpose", "reads_as", "becomes")
FRAMES = frozenset({"", "intent", "permission", "blame"})
SOURCE_KINDS = frozenset({"", "forces", "not_forces"})
RECIPIENT_FLAGS = frozenset({"required", "past_trigger"})
PASSIVE_AGENTS = frozenset({"", "from", "left"})
PURPOSES = frozenset({"", "people"})
PLACE_SOURCE_WHEN = frozenset({"passive", "any"})
# conditions a retype may name (each implemented in events.py), besides "trigger=lemma*"
RETYPE_CONDITIONS = frozenset({"state_source", "people_source", "joint_source", "peacekeeping", "act_follows",
                               "rally_against", "media_source"})


def _bad(rule_id: str, column: str, value: str, allowed: str) -> ValueError:
    return ValueError(f"triggers.tsv rule {rule_id!r}: column {column!r} has {value!r}; expected {allowed}")


def _one_of(r: dict[str, str], column: str, allowed: frozenset[str]) -> str:
    value = r[column].strip()
    if value not in allowed:
        raise _bad(r["rule_id"], column, value, "one of " + ", ".join(repr(a) for a in sorted(allowed)))
    return value


def _retypes(r: dict[str, str], column: str, types: frozenset[str]) -> tuple[Retype, ...]:
    out = []
    for item in (i.strip() for i in r[column].split(";")):
        if not item:
            continue
        m = re.fullmatch(r"([A-Z]+)\+(\w+) if (.+)", item)
        if m is None:
            raise _bad(r["rule_id"], column, item, "'TYPE+tag if condition & condition; …'")
        conds = tuple(c.strip() for c in m.group(3).split("&"))
        for c in conds:
            if c not in RETYPE_CONDITIONS and not re.fullmatch(r"trigger=[a-z]+\*", c):
                raise _bad(r["rule_id"], column, c, "a condition among " + ", ".join(sorted(RETYPE_CONDITIONS))
                           + " or 'trigger=lemma*'")
        if m.group(1) not in types:
            raise _bad(r["rule_id"], column, m.group(1), "a PLOVER type of plover.tsv")
        out.append(Retype(m.group(1), m.group(2), conds))
    return tuple(out)


def rules_from_rows(rows: Iterable[dict[str, str]]) -> list[Rule]:
    """The rules of triggers.tsv rows, every column checked (a clear ValueError names the rule and
    the column when a column is missing, unknown or holds a value the coder does not read)."""
    types = frozenset(plover_types())
    rules = []
    for r in rows:
        if tuple(r) != TRIGGER_COLUMNS:
            missing = [c for c in TRIGGER_COLUMNS if c not in r]
            unknown = [c for c in r if c not in TRIGGER_COLUMNS]
            raise ValueError(f"triggers.tsv columns must be {', '.join(TRIGGER_COLUMNS)} in this order; "
                             f"missing {missing}, unknown {unknown}")
        if r["event_type"] not in types:
            raise ValueError(f"triggers.tsv uses unknown event types: [{r['event_type']!r}] (rule {r['rule_id']!r})")
        elements = tuple(_parse_element(e) for e in r["pattern"].split())
        if not re.fullmatch(r"-|[a-z0]+(,[a-z0]+)*|", r["preps"]):
            raise _bad(r["rule_id"], "preps", r["preps"], "'-' or comma-separated lower-case prepositions")
        preps = None if r["preps"] in ("-", "") else frozenset(p for p in r["preps"].split(",") if p != "0")
        flags = frozenset(f.strip() for f in r["recipient"].split(",") if f.strip())
        if not flags <= RECIPIENT_FLAGS:
            raise _bad(r["rule_id"], "recipient", r["recipient"], "comma-separated flags among "
                       + ", ".join(sorted(RECIPIENT_FLAGS)))
        place: tuple[str, str | None] | None = None
        if r["place_source"].strip():
            when, _, sector = r["place_source"].strip().partition(":")
            if when not in PLACE_SOURCE_WHEN or (sector and not re.fullmatch(r"[A-Z]{3}", sector)):
                raise _bad(r["rule_id"], "place_source", r["place_source"], "'passive' or 'any', optionally ':SECTOR'")
            place = (when, sector or None)
        rules.append(Rule(r["rule_id"], r["event_type"], elements, preps, float(r["conf"]), r["pattern"],
                          frame=_one_of(r, "frame", FRAMES), source=_one_of(r, "source", SOURCE_KINDS),
                          recipient=flags, passive_agent=_one_of(r, "passive_agent", PASSIVE_AGENTS),
                          place_source=place, purpose=_one_of(r, "purpose", PURPOSES),
                          reads_as=_retypes(r, "reads_as", types), becomes=_retypes(r, "becomes", types)))
    ids = [r.rule_id for r in rules]
    if len(set(ids)) != len(ids):
        raise ValueError(f"triggers.tsv repeats rule ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return rules


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    return Lexicon(rules_from_rows(data_rows("triggers.tsv")))


def normalise_word(word: str) -> str:
    return re.sub(r"[’']", "'", word.lower())
