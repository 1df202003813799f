"""Gazetteer: countries (ISO 3166 alpha-3), international organisations, armed and political
groups, named institutions, agent words (sectors) and known people, matched in one Aho-Corasick pass.

Data files (``extractors/events/data/``, tab-separated, ``#`` comments):
  gazetteer_petrarch.tsv  derived from the PETRARCH2 Phoenix dictionaries (MIT, notice in the file)
  gazetteer_hand.tsv      the project's corrections and additions (win over derived rows;
                          kind ``drop`` removes a derived phrase)
  agents_petrarch.tsv     agent words → sector, derived from Phoenix.agents.txt (MIT)
  agents_hand.tsv         the project's additions (role words such as "foreign minister")
  people.tsv              people in today's news with country, sector and role (hand-written)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from extractors.events.datafiles import data_rows

KINDS = ("country", "igo", "group", "org", "agent", "person")


@dataclass(frozen=True, slots=True)
class Entry:
    phrase: str
    code: str  # canonical code: ISO3 for a country, CAMEO-style code otherwise, person key for people
    country: str | None
    sector: str | None
    kind: str  # one of KINDS
    stem: bool  # the phrase may take an inflection ("Russian" → "Russians")
    source: str
    name: str = ""  # canonical display name (people)


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    text: str
    entry: Entry




def _norm(text: str) -> str:
    return text.lower().replace("’", "'")


@lru_cache(maxsize=1)
def load() -> Gazetteer:
    entries: dict[str, list[Entry]] = {}
    dropped: set[str] = set()
    for row in data_rows("gazetteer_hand.tsv"):
        if row["kind"] == "drop":
            dropped.add(_norm(row["phrase"]))
    for fname in ("gazetteer_hand.tsv", "gazetteer_petrarch.tsv"):
        for row in data_rows(fname):
            key = _norm(row["phrase"])
            if row["kind"] == "drop" or (fname != "gazetteer_hand.tsv" and (key in dropped or key in entries)):
                continue
            entries.setdefault(key, []).append(Entry(
                row["phrase"], row["code"], row["country"] or None, row["sector"] or None, row["kind"],
                row["match"] == "stem", fname))
    for fname in ("agents_hand.tsv", "agents_petrarch.tsv"):
        for row in data_rows(fname):
            key = _norm(row["phrase"])
            if any(e.kind == "agent" for e in entries.get(key, ())):
                continue
            entries.setdefault(key, []).append(Entry(
                row["phrase"], row["sector"], None, row["sector"], "agent", row["match"] == "stem", fname))
    people: dict[str, Entry] = {}
    for row in data_rows("people.tsv"):
        entry = Entry(row["name"], row["key"], row["country"] or None, row["sector"] or None, "person",
                      False, "people.tsv", row["name"])
        for alias in [row["name"], *[a for a in row["aliases"].split("|") if a]]:
            entries.setdefault(_norm(alias), []).append(entry)
            people[_norm(alias)] = entry
    return Gazetteer(entries)


@dataclass(frozen=True, slots=True)
class _Phrase:
    """One automaton key with what ``find`` asks of its entries, worked out once at load time."""

    length: int
    stem: bool  # may take an inflection: stems, demonyms and group names ("Russians", "Talibans")
    best: Entry | None  # preferred entry when the text starts upper-case or with a digit
    best_lower: Entry | None  # ... when it does not: agent words and lower-case phrases only
    best_agent: Entry | None  # ... of the agent words (short phrases not written in capitals)

    @classmethod
    def of(cls, key: str, values: tuple[Entry, ...]) -> _Phrase:
        lower = tuple(v for v in values if v.kind == "agent" or v.phrase[:1].islower())
        agents = tuple(v for v in values if v.kind == "agent")
        return cls(len(key), any(v.stem or v.kind in ("country", "group") for v in values),
                   _prefer(values) if values else None, _prefer(lower) if lower else None,
                   _prefer(agents) if agents else None)


class Gazetteer:
    def __init__(self, entries: dict[str, list[Entry]]):
        self.entries = entries
        self.automaton = ahocorasick.Automaton()
        for key, values in entries.items():
            self.automaton.add_word(key, _Phrase.of(key, tuple(values)))
        self.automaton.make_automaton()
        self.countries: dict[str, str] = {}
        for vals in entries.values():  # the first name wins: the hand file's "Russia", not a region's
            for e in vals:
                if e.kind == "country" and e.code == e.country:
                    self.countries.setdefault(e.code, e.phrase)

    def find(self, text: str) -> list[Match]:
        """Longest, leftmost, non-overlapping phrase matches at word boundaries.

        Proper-noun entries (everything but agent words) must start with an upper-case letter in
        the text, so "china" (porcelain) or "Us" in running text are not countries.
        """
        return self.find_pieces(text, [(0, len(text))])[0]

    def find_pieces(self, text: str, pieces: list[tuple[int, int]]) -> list[list[Match]]:
        """``find`` of each piece ``text[start:end]`` (sorted, not overlapping), with offsets in the
        piece: one pass of the automaton over the whole text (a pass per sentence cost more in
        setting up than in reading)."""
        low = _norm(text)
        if (len(low) != len(text) or "Σ" in text) and pieces != [(0, len(text))]:
            # lower-casing a piece alone would not give the same letters ("İ" is two letters in
            # lower case, and a final sigma depends on what follows)
            return [self.find_pieces(text[s:e], [(0, e - s)])[0] for s, e in pieces]
        found: list[list[tuple[int, int, Entry]]] = [[] for _ in pieces]
        i = 0
        lo, n = pieces[0] if pieces else (0, 0)
        for end_idx, phrase in self.automaton.iter(low):
            if end_idx >= n:  # hits come by their end: the piece they may lie in is the first ending after it
                while i < len(pieces) and pieces[i][1] <= end_idx:
                    i += 1
                if i == len(pieces):
                    break
                lo, n = pieces[i]
            length = phrase.length
            start = end_idx - length + 1
            if start < lo:
                continue  # begins before the piece
            if start > lo and (low[start - 1].isalnum() or low[start - 1] == "-"):
                continue  # most hits: a short phrase inside a word ("un", "us", "ec")
            end = end_idx + 1
            if end < n and low[end].isalnum():
                if not phrase.stem:
                    continue
                extra = end
                while extra < n and low[extra].isalpha() and extra - end < 2:
                    extra += 1
                if extra < n and low[extra].isalnum():
                    continue
                if low[end:extra] not in ("s", "es", "n", "ns"):
                    continue
                end = extra
            first = text[start]
            # "al-Qaeda" is written lower-case
            entry = phrase.best if first.isupper() or first.isdigit() else phrase.best_lower
            if entry is None:
                continue
            if length <= 3 and not text[start:start + length].replace(".", "").isupper() \
                    and text[start:start + length] != entry.phrase:
                # "Us", "Un" are not US, UN; a short name the data writes in mixed case ("Ibo") is
                # matched as written
                entry = phrase.best_agent
                if entry is None:
                    continue
            found[i].append((start, end, entry))
        return [_longest_leftmost(text, lo, candidates) if candidates else []
                for (lo, _), candidates in zip(pieces, found, strict=True)]


def _longest_leftmost(text: str, lo: int, candidates: list[tuple[int, int, Entry]]) -> list[Match]:
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    out: list[Match] = []
    last = -1
    for start, end, entry in candidates:
        if start < last:
            continue
        out.append(Match(start - lo, end - lo, text[start:end], entry))
        last = end
    return out


_ORDER = {"person": 0, "org": 1, "igo": 2, "group": 3, "country": 4, "agent": 5}


def _prefer(values: tuple[Entry, ...]) -> Entry:
    return min(values, key=lambda e: (_ORDER.get(e.kind, 9), e.source != "gazetteer_hand.tsv"))
