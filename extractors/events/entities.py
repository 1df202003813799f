"""Entity mentions and actor phrases in a sentence, resolved within one article.

Mentions come from the gazetteer (countries, organisations, groups, agent words, known people)
and from a small person recogniser for names the gazetteer does not know: a run of capitalised
words right after a role title ("Foreign Minister Sergei Lavrov", "spokesperson Ibrahim Kalin"),
before an appositive role (", the Chinese Foreign Minister,") or before a speech verb ("Borrell
said"). A later bare surname resolves to the same person ("Lavrov").

Adjacent mentions form one *actor*: "Russian Foreign Minister Sergei Lavrov" is one actor with
country RUS (from the demonym), sector GOV (from the role) and entity "Sergei Lavrov". Actors
joined by "and" or commas form a coordinated group ("Russia and China").
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

from extractors.events.gazetteer import Entry, Gazetteer, Match

NOT_NAMES = frozenset(["the", "a", "an", "in", "on", "at", "of", "for", "to", "from", "by", "with", "and", "or", "but", "if", "as", "so", "no", "not", "this", "that", "these", "those", "there", "here", "it", "its", "he", "she", "they", "we", "i", "you", "his", "her", "their", "our", "my", "your", "who", "whom", "whose", "which", "what", "when", "where", "why", "how", "last", "next", "this", "both", "however", "since", "while", "according", "after", "before", "during", "under", "over", "about", "into", "last", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "today", "yesterday", "tomorrow", "mr", "mrs", "ms", "dr", "sir", "lord", "also", "meanwhile", "earlier", "later", "then", "now", "new", "eastern", "western", "northern", "southern", "central", "global", "international", "national", "federal", "general", "security", "council", "foreign", "ministry", "minister", "president", "secretary", "prime", "spokesman", "spokesperson", "spokeswoman", "government", "state", "republic", "kingdom", "union", "court", "parliament", "party", "army", "police", "forces", "military", "related", "editor", "news", "picture", "twitter", "subscribe", "sources", "chats", "newsfeed"])
SPEECH = frozenset(["said", "says", "say", "stated", "states", "told", "tells", "added", "adds", "noted", "notes", "stressed", "stresses", "warned", "warns", "declared", "declares", "announced", "announces", "insisted", "insists", "explained", "wrote", "writes", "tweeted", "underlined", "underlines", "argued", "argues", "claimed", "claims"])
NAME_TOKEN = re.compile(r"^(?:[A-Z][a-z]+(?:[-'’][A-Za-z]+)*|[A-Z]\.|Al|al|bin|van|von|de)$")
GAP_MERGE = re.compile(
    r"^(?:\s+|\s*['’]s?\s+|\s+of\s+(?:the\s+)?|\s*-\s*|"
    r"\s+(?:(?:senior|top|former|deputy|acting|then|newly[- ]minted|chief|foreign|defence|defense|"
    r"presidential|interim|de[- ]facto)\s+){1,2})$", re.I)
GAP_COORD = re.compile(r"^(?:\s*,\s*(?:and\s+)?(?:the\s+)?|\s+and\s+(?:the\s+)?|\s*&\s*|\s+along\s+with\s+|\s+as\s+well\s+as\s+)$",
                       re.I)
# irregular past tenses: "Russia held military exercises" is a verb between, not a modifier
IRREGULAR_PAST = ("held|met|sent|gave|took|made|led|struck|fought|won|lost|told|went|came|began|sought|brought|"
                  "kept|put|set|cut|hit|shot|withdrew|broke|spoke|saw|found|left|paid|built|ran|rose|fell|drew|"
                  "threw|flew|bought|sold|stood|heard|knew|forgave|froze|overran|beat|bore|swore")
APPOSITIVE = re.compile(r"^\s*,\s*(?:the|a|an)?\s*$", re.I)
# the person recogniser's patterns (compiled once: it looks at every sentence)
_NAME_RUN = re.compile(r"[A-Z][\w'’.\-]*((?:\s+[A-Z][\w'’.\-]*){0,7})")  # up to 8 capitalised words
_NON_SPACE = re.compile(r"\S+")
_TITLE = r"(?:Mr|Mrs|Ms|Dr|Sir|Dame|Mullah|Sheikh|Gen|General)\.?"
_TITLE_BEFORE = re.compile(r"\b" + _TITLE + r"\s+$")
# a title and a space anywhere in a sentence: where this finds none, no name in it has a title before it
_TITLE_ANYWHERE = re.compile(_TITLE + r"\s")
_COMMA_NEXT = re.compile(r"\s*,")  # ``_person_key``'s appositive starts with a comma
_APPOSITIVE_ROLES = r"minister|secretary|president|spokes\w+|ambassador|envoy|leader|chief|official|diplomat|general"
_APPOSITIVE_ROLE = re.compile(r"\s*,\s*(?:the|a)?\s*[A-Z]?[\w’'.\- ]{0,40}?(?:" + _APPOSITIVE_ROLES + r")\b", re.I)
# the role words' fixed beginnings: a text without one cannot match ``_APPOSITIVE_ROLE`` (whose lazy
# repeat tries each role word at every length: ~20 µs a call), and most commas after a name have none
_ROLE_STEMS = tuple(w.removesuffix(r"\w+") for w in _APPOSITIVE_ROLES.split("|"))
# letters a case-blind regex pairs with an ASCII letter that ``str.lower`` does not turn into it
# ("İ" and "ı" match "i", "ſ" matches "s"; "K", the Kelvin sign, lower-cases to "k"): where a text
# has none of them, a role stem in its lower-cased form is the same test as the case-blind one
_CASE_BLIND_ODD = "İıſ"
_SPEECH_AFTER = re.compile(r"\s*(?:[’']s\s+|,\s*)?(\w+)")  # "Assimi Goita said", "…, Assimi Goita, said"
_NOT_KEY_CHARS = re.compile(r"[^a-z0-9]+")
_HEADLINE_WORD = re.compile(r"[A-Za-z][\w'’]*")
# gaps between mentions (``_chunk``)
_ETHNIC = re.compile(r"\b[Ee]thnic\s+$")
# "North and South Korea", "East and West Germany": the first bearing names a country of its own
_ELIDED_BEARING = re.compile(r"\b(North|South|East|West)\s+and\s+$")
_OF_GAP = re.compile(r"^\s+of\s+$")
_FROM_IN_GAP = re.compile(r"^\s+(?:from|in)\s+(?:the\s+)?$")
_MODIFIER_GAP = re.compile(r"^(?:['’]s)?(?:\s+[A-Za-z][a-z\-]*){1,3}\s+$")  # "Iraqi Kurdish officials": capitalised too
_NOT_MODIFIER = re.compile(r"\b(?:and|or|but|the|a|an|of|in|on|to|with|for|from|by|said|says|"
                           r"is|are|was|were|has|have|had|will|would|between|against|among|into|over|after|before|near|at|as|"
                           r"than|during|amid|under|" + IRREGULAR_PAST + r")\b|[a-z]ed\b")
_LIST_WORD = re.compile(r"\b(?:and|as well as|along with)\b|&", re.I)
PRONOUNS = {"he": "person", "she": "person"}


@dataclass
class Entity:
    key: str
    kind: str
    name: str
    code: str
    country: str | None
    sector: str | None
    count: int = 0
    first_offset: int = -1


@dataclass(frozen=True, slots=True)
class Mention:
    start: int  # absolute offsets in the article text
    end: int
    text: str
    sentence_index: int
    entity_key: str


@dataclass
class Actor:
    start: int  # offsets in the sentence
    end: int
    text: str
    country: str | None
    sector: str | None
    entity_key: str | None
    kind: str
    group: int = 0
    members: list[Match] = field(default_factory=list)
    resolved: bool = False  # came from a pronoun


class ArticleEntities:
    """Entity registry for one article: entities, mentions and the people seen so far."""

    def __init__(self, gazetteer: Gazetteer):
        self.gaz = gazetteer
        self.entities: dict[str, Entity] = {}
        self.mentions: list[Mention] = []
        self.surnames: dict[str, str] = {}  # name part → person key
        self.last_person: str | None = None
        self.country_counts: dict[str, int] = {}
        self.roles: list[Actor] = []  # the last sentence's role words without a country
        self._is_headline: bool | None = None  # of the sentence being read (``_with_people``)

    # -- registry ---------------------------------------------------------------------------
    def _entity_for(self, entry: Entry, surface: str) -> Entity:
        if entry.kind == "person":
            key = "person:" + entry.code
            name = entry.name or entry.phrase
        elif entry.kind == "country":
            key, name = entry.code, self.gaz.countries.get(entry.code, entry.phrase).title()
        else:
            key, name = entry.code + ":" + entry.phrase.lower(), entry.phrase
            if entry.kind in ("igo", "group"):
                key = entry.code
        ent = self.entities.get(key)
        if ent is None:
            ent = Entity(key, entry.kind, name, entry.code, entry.country, entry.sector)
            self.entities[key] = ent
            if entry.kind == "person":
                parts = re.split(r"\s+", name)
                # a later bare surname is the same person; Chinese names put the surname first
                for part in (parts[-1], parts[0]) if entry.country == "CHN" else (parts[-1],):
                    if len(part) > 2 and part[0].isupper():
                        self.surnames.setdefault(part.lower(), key)
        return ent

    def _mention(self, entry: Entry, surface: str, start: int, end: int, sent_index: int) -> str:
        ent = self._entity_for(entry, surface)
        ent.count += 1
        if ent.first_offset < 0:
            ent.first_offset = start
        self.mentions.append(Mention(start, end, surface, sent_index, ent.key))
        return ent.key

    # -- per sentence -----------------------------------------------------------------------
    def sentence_actors(self, text: str, offset: int, index: int, found: list[Match] | None = None) -> list[Actor]:
        """Find mentions in one sentence, register them, and return its actor phrases. ``found``:
        the gazetteer's matches in it, when the caller has them (``Gazetteer.find_pieces``)."""
        matches = self._with_people(text, self.gaz.find(text) if found is None else found)
        if not matches:  # most sentences name no one: only the role words' reset below is left to do
            return self._chunk(text, matches)
        if " and " in text:
            matches = self._elided(text, matches)
        if "thnic" in text:
            # "ethnic Albanians demonstrated in Serbia": people of an ethnicity, not Albania; a role word
            # with no country, which events.py may place where they act
            matches = [Match(m.start, m.end, m.text, Entry(m.text, "CVL", None, "CVL", "agent", False, "ethnic"))
                       if m.entry.kind == "country" and _ETHNIC.search(text[max(0, m.start - 8):m.start]) else m
                       for m in matches]
        actors = self._chunk(text, matches)
        for m in matches:
            if m.entry.kind == "country" and m.entry.country:
                self.country_counts[m.entry.country] = self.country_counts.get(m.entry.country, 0) + 1
        self._register(actors, offset, index)
        return actors

    def _elided(self, text: str, matches: list[Match]) -> list[Match]:
        """"North and South Korea": the bearing before "and" with the country's name after the second
        bearing, when that is a country of the gazetteer too, is a country of its own."""
        found = []
        for m in matches:
            bearing, _, rest = m.text.partition(" ")
            if m.entry.kind != "country" or not rest or bearing not in ("North", "South", "East", "West"):
                continue
            before = _ELIDED_BEARING.search(text, max(0, m.start - 12), m.start)
            if before is None or before.group(1) == bearing:
                continue
            entry = next((e for e in self.gaz.entries.get(f"{before.group(1)} {rest}".lower(), ())
                          if e.kind == "country" and e.country), None)
            if entry is not None and entry.country != m.entry.country:
                found.append(Match(before.start(1), before.end(1), before.group(1), entry))
        return sorted([*matches, *found], key=lambda m: m.start) if found else matches

    def _register(self, actors: list[Actor], offset: int, index: int) -> None:
        for actor in actors:
            keys = []
            for m in actor.members:
                if m.entry.kind == "agent":
                    continue
                keys.append(self._mention(m.entry, m.text, offset + m.start, offset + m.end, index))
            person = next((m for m in actor.members if m.entry.kind == "person"), None)
            if person is not None:
                key = "person:" + person.entry.code
                ent = self.entities[key]
                if ent.country is None and actor.country:
                    ent.country = actor.country
                international = (ent.sector or actor.sector) in ("IGO", "NGO")  # a UN office holder has no country
                if ent.country is None and ent.sector in (None, "GOV", "MIL", "COP", "JUD", "LEG", "OPP") \
                        and not international:
                    # an unknown office holder ("President Yoweri Museveni") belongs to the country the
                    # article is about, when one country dominates its mentions so far
                    ent.country = self._dominant_country()
                if ent.sector is None and actor.sector:
                    ent.sector = actor.sector
                actor.country = actor.country or ent.country
                actor.sector = actor.sector or ent.sector
                actor.entity_key = key
                self.last_person = key
            elif keys:
                actor.entity_key = keys[0]

    def _dominant_country(self) -> str | None:
        total = sum(self.country_counts.values())
        if not total:
            return None
        code, n = max(self.country_counts.items(), key=lambda kv: (kv[1], kv[0]))
        return code if n * 2 > total else None

    def pronoun_actor(self, text: str, start: int, end: int) -> Actor | None:
        if self.last_person is None:
            return None
        ent = self.entities[self.last_person]
        return Actor(start, end, text[start:end], ent.country, ent.sector, ent.key, "person", resolved=True)

    def _names_possible(self, text: str, matches: list[Match]) -> bool:
        """False when ``_person_key`` would turn every name candidate of the sentence away: it needs
        a known surname, a title before the name (a role word among the gazetteer's matches, or
        ``_TITLE_BEFORE``), a role word after it (``_APPOSITIVE_ROLE``) or a speech verb after it
        (``SPEECH``). Most sentences have none of these, and looking for them in the lower-cased
        sentence is far cheaper than reading its capitalised words."""
        if any(m.entry.kind == "agent" for m in matches) or _TITLE_ANYWHERE.search(text) is not None:
            return True
        low = text.lower()  # a name is ASCII letters, so its lower-case form is in this one
        if next(_NAME_CUES.iter(low), None) is not None:
            return True
        return any(s in low for s in self.surnames) or _case_blind_odd(text)

    def _with_people(self, text: str, matches: list[Match]) -> list[Match]:
        if not self._names_possible(text, matches):
            return matches
        # ``matches`` come from ``Gazetteer.find``: sorted and non-overlapping, so their ends are
        # sorted too and the match that may overlap a word is found by bisection
        starts = [m.start for m in matches] if matches else []
        ends = [m.end for m in matches] if matches else []
        found: list[Match] = []
        self._is_headline = None  # worked out once, when a name candidate first needs it
        titled: bool | None = None  # a title somewhere in the sentence (``_TITLE_ANYWHERE``), when asked
        for run in _NAME_RUN.finditer(text):
            if run.start(1) == run.end(1):  # a single word: the usual case, and a quick one
                word = _lone_name(run.group())
                if word is None:
                    continue
                start = run.start()
                end = start + len(word)
                if matches:
                    j = bisect.bisect_left(starts, end)
                    if j and ends[j - 1] > start:
                        continue  # inside a gazetteer match
                if not (self.surnames and word.lower() in self.surnames):
                    # ``_person_key`` asks of one word that is no known surname a title before it (a
                    # role word: the gazetteer match ending last before it; or "Mr", "Gen." …) or an
                    # appositive after it (a comma first): most words have none of these
                    if titled is None:
                        titled = _TITLE_ANYWHERE.search(text) is not None
                    if not titled and _COMMA_NEXT.match(text, end, end + 60) is None:
                        j = bisect.bisect_right(ends, start) - 1
                        if j < 0 or matches[j].entry.kind != "agent":
                            continue
                key = self._person_key(text, matches, ends, start, end, word, 1)
                if key is None:
                    continue
                entry = Entry(word, key, None, None, "person", False, "recognised", word)
                found.append(Match(start, end, text[start:end], entry))
                continue
            words = []
            for w in _NON_SPACE.finditer(text, run.start(), run.end()):
                word = _clean(w.group())
                words.append((w.start(), w.start() + len(word), word))  # possessive, punctuation stripped
            # keep what follows the last gazetteer match: "Iranian Foreign Minister | Abbas Araghchi"
            if matches:
                for i in range(len(words) - 1, -1, -1):
                    s, e, _ = words[i]
                    j = bisect.bisect_left(starts, e)
                    if j and ends[j - 1] > s:
                        words = words[i + 1:]
                        break
            # the first run of name words in what is left
            first = 0
            while first < len(words) and not _name_word(words[first][2]):
                first += 1
            last = first
            while last < len(words) and _name_word(words[last][2]):
                last += 1
            if first == last:
                continue
            words = words[first:last]
            start, end = words[0][0], words[-1][1]
            name = " ".join(w for _, _, w in words)
            key = self._person_key(text, matches, ends, start, end, name, len(words))
            if key is None:
                continue
            entry = Entry(name, key, None, None, "person", False, "recognised", name)
            found.append(Match(start, end, text[start:end], entry))
        if not found:
            return matches
        return sorted([*matches, *found], key=lambda m: m.start)

    def _person_key(self, text: str, matches: list[Match], ends: list[int], start: int, end: int,
                    name: str, nwords: int) -> str | None:
        known = self.surnames.get(name.lower()) if nwords == 1 else None
        if known:
            return known.split(":", 1)[1]
        # a title right before the name: a role word ("spokesperson Ibrahim Kalin") or "Mr", "Gen."
        # (matches do not overlap: only the last one ending before the name can touch it)
        j = bisect.bisect_right(ends, start) - 1
        # (or an appositive after it: "Kenya's foreign minister, Musalia Mudavadi")
        title = (j >= 0 and matches[j].entry.kind == "agent" and text[matches[j].end:start].strip() in ("", ",")) \
            or _TITLE_BEFORE.search(text[max(0, start - 8):start]) is not None
        if not title:
            after = text[end:end + 60]
            appositive = after.lstrip().startswith(",") and _appositive_role(after)
            if not appositive:
                if nwords < 2:
                    return None  # a speech verb alone does not make one word a name
                speech = _SPEECH_AFTER.match(after)
                if speech is None or speech.group(1).lower() not in SPEECH:
                    return None
        if self._is_headline is None:  # asked last: few candidates get this far
            self._is_headline = _headline(text)
        if self._is_headline:
            return None  # Title Case headlines make every word look like a name
        return _NOT_KEY_CHARS.sub("_", name.lower()).strip("_")

    def _chunk(self, text: str, matches: list[Match]) -> list[Actor]:
        if not matches:  # most sentences name no one
            self.roles = []
            return []
        actors: list[Actor] = []
        current: list[Match] = []
        for m in matches:
            if current:
                gap = text[current[-1].end:m.start]
                both_places = current[-1].entry.kind == "country" and m.entry.kind == "country"
                # "delegations from Sweden", "officials in Kabul"; but "his Chinese counterpart in Moscow"
                # already has its country: "in Moscow" is where, not who
                from_body = (current[-1].entry.kind == "agent" and m.entry.kind == "country"
                             and _FROM_IN_GAP.match(gap) is not None
                             and not (gap.strip().startswith("in") and any(x.entry.country for x in current)))
                # "Algeria's leading human rights activist": lower-case modifiers before a role word
                modified = (m.entry.kind == "agent" and current[-1].entry.kind in ("country", "org", "group", "igo")
                            and _MODIFIER_GAP.match(gap) is not None
                            and not _NOT_MODIFIER.search(gap))
                from_body = from_body or modified
                # "President Francois Mitterrand of France": a person with no country yet takes it; a
                # known person of that country keeps the phrase ("President Yoweri Museveni of Uganda")
                person_of = (m.entry.kind == "country" and _OF_GAP.match(gap) is not None
                             and any(x.entry.kind == "person" for x in current)
                             and not any(x.entry.country and x.entry.country != m.entry.country for x in current))
                if (GAP_MERGE.match(gap) or from_body) and not both_places \
                        and (person_of or not _two_heads(current, m)):
                    current.append(m)
                    continue
                actors.append(_actor(text, current))  # the actor keeps the list
                current = []
            current.append(m)
        actors.append(_actor(text, current))
        # appositive: "Wang Yi, the Chinese Foreign Minister," → one actor
        merged: list[Actor] = []
        for actor in actors:
            prev = merged[-1] if merged else None
            if (prev is not None and prev.kind == "person" and actor.kind != "person"
                    and any(m.entry.kind == "agent" for m in actor.members)
                    and APPOSITIVE.match(text[prev.end:actor.start])):
                prev.country = prev.country or actor.country
                prev.sector = prev.sector or actor.sector
                prev.members.extend(actor.members)
                prev.end = actor.end
                prev.text = text[prev.start:prev.end]
                continue
            if (prev is not None and actor.kind == "person" and prev.kind != "person"
                    and any(m.entry.kind == "agent" for m in prev.members)
                    and not any(m.entry.kind == "person" for m in prev.members)
                    and text[prev.end:actor.start].strip() == ","
                    and re.match(r"\s*(?:[,.;:]|$)", text[actor.end:actor.end + 2])):  # the whole name
                # "Ghana's president, John Mahama": the role's holder, named in apposition
                prev.kind = "person"
                prev.sector = prev.sector or actor.sector
                prev.members.extend(actor.members)
                prev.end = actor.end
                prev.text = text[prev.start:prev.end]
                continue
            merged.append(actor)
        # coordination groups, sharing a head role: "Hungarian and Romanian officials"
        group = 0
        for i, actor in enumerate(merged):
            if i and GAP_COORD.match(text[merged[i - 1].end:actor.start]):
                actor.group = merged[i - 1].group
            else:
                group += 1
                actor.group = group
        if len(merged) > 1:  # (one actor is a group of its own, and has no list to share a role in)
            self._lists(text, merged)
        # role words with no country of their own ("protesters", "rebels") are kept aside: events.py
        # may give them the country of the place the event happened in
        self.roles = [a for a in merged if a.kind == "agent" and not a.country]
        return [a for a in merged if a.kind != "agent" or a.country]

    @staticmethod
    def _lists(text: str, merged: list[Actor]) -> None:
        # a comma alone does not make a list: "in central Baghdad, Iraqi police said" (a list has an
        # "and"/"as well as" somewhere: "Russia, China and Iran")
        for g in {a.group for a in merged}:
            members = [i for i, a in enumerate(merged) if a.group == g]
            joints = [text[merged[i - 1].end:merged[i].start] for i in members[1:]]
            if joints and not any(_LIST_WORD.search(j) for j in joints):
                # headlines list with commas ("UK calls on China, Russia"): keep members of one shape
                a, b = merged[members[0]], merged[members[1]]
                if (a.sector is None) != (b.sector is None) or a.kind != b.kind:
                    for n, i in enumerate(members[1:], 1):
                        merged[i].group = max(x.group for x in merged) + n
        # "Hungarian and Romanian officials": a bare country before the last conjunct shares its head
        # role word's sector; a conjunct with no role word of its own shares nothing ("Sri Lanka and
        # the Tamil Tigers": the group's sector is its own, not Sri Lanka's)
        headed = [any(m.entry.kind == "agent" for m in a.members) for a in merged]
        for i in range(len(merged) - 2, -1, -1):
            a, b = merged[i], merged[i + 1]
            if a.group == b.group and a.sector is None and a.kind == "country" and b.sector and headed[i + 1]:
                a.sector = b.sector
                headed[i] = True  # "Chinese, Russian and Iranian troops": passed along the list


def _two_heads(current: list[Match], m: Match) -> bool:
    """Two named heads do not merge ("Turkey NATO"), but a country before a person or body does."""
    named = [x for x in current if x.entry.kind in ("person", "igo", "group", "org")]
    if m.entry.kind == "person" and current[-1].entry.kind == "agent" and current[-1].entry.sector \
            and not any(x.entry.kind == "person" for x in current):
        return False  # "U.N. Secretary-General Kofi Annan": a body's office holder
    return bool(named) and m.entry.kind in ("person", "igo", "group", "org", "country")


def _appositive_role(after: str) -> bool:
    """``_APPOSITIVE_ROLE.match(after)``, after a cheap test for a role word in ``after``."""
    low = after.lower()
    if not any(stem in low for stem in _ROLE_STEMS) and not _case_blind_odd(after):
        return False
    return _APPOSITIVE_ROLE.match(after) is not None


def _case_blind_odd(text: str) -> bool:
    return not text.isascii() and any(c in text for c in _CASE_BLIND_ODD)


def _name_cues() -> ahocorasick.Automaton:
    """The role stems of ``_APPOSITIVE_ROLE`` and the speech verbs of ``SPEECH``, for one pass over a
    lower-cased sentence (``ArticleEntities._names_possible``)."""
    automaton = ahocorasick.Automaton()
    for word in (*_ROLE_STEMS, *SPEECH):
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


_NAME_CUES = _name_cues()


def _headline(text: str) -> bool:
    if text.rstrip().endswith("."):  # asked first: most sentences end so, and it is the cheap test
        return False
    words = _HEADLINE_WORD.findall(text)
    if len(words) < 4:
        return False
    caps = sum(1 for w in words if w[0].isupper() or w.lower() in ("a", "an", "the", "of", "in", "on", "to",
                                                                      "and", "with", "for", "as", "at"))
    return caps / len(words) > 0.85


def _clean(word: str) -> str:
    if word.endswith(("’s", "'s")):
        word = word[:-2]
    return word.rstrip(",.;:!?”\"’)")


@lru_cache(maxsize=1 << 16)
def _name_word(word: str) -> bool:
    return word.lower() not in NOT_NAMES and NAME_TOKEN.match(word) is not None


@lru_cache(maxsize=1 << 16)
def _lone_name(run: str) -> str | None:
    """A one-word run of ``_NAME_RUN`` cleaned (``_clean``), when it is a name word; else None."""
    word = _clean(run)
    return word if _name_word(word) else None


def _actor(text: str, members: list[Match]) -> Actor:
    start, end = members[0].start, members[-1].end
    country = None
    sector = None
    kind = "agent"
    for m in members:
        e = m.entry
        if e.kind != "agent" and kind in ("agent", "country"):
            kind = e.kind if not (kind == "country" and e.kind == "country") else kind
        if country is None and e.country:
            country = e.country
        if e.kind == "agent":
            sector = e.sector
    body = [m.entry for m in members if m.entry.kind in ("igo", "group", "org") and m.entry.sector]
    if body:
        sector = body[-1].sector  # "UN chief" is IGO, "Taliban leaders" keep the group's sector
    if sector is None:
        named = [m.entry for m in members if m.entry.kind in ("person", "org", "igo", "group") and m.entry.sector]
        sector = named[-1].sector if named else None
    return Actor(start, end, text[start:end], country, sector, None, kind, members=members)
