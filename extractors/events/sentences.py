"""Fast sentence splitting and word tokens with character offsets (regex only, no models).

A sentence ends at ``.``, ``!`` or ``?`` (optionally followed by closing quotes or brackets) before
whitespace and an upper-case letter, digit or opening quote — unless the word before the full stop
is a known abbreviation ("Mr.", "U.S.", "Gen.") or a single initial. Newlines always end a sentence:
cleaned article text keeps one paragraph per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

ABBREVIATIONS = frozenset(["mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt", "cpl", "pvt", "rep", "sen", "gov", "pres", "st", "sr", "jr", "messrs", "mme", "vol", "fig", "dept", "univ", "inc", "ltd", "corp", "co", "bros", "est", "approx", "vs", "etc", "al", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "u.s", "u.k", "u.n", "e.u", "d.c", "a.m", "p.m", "i.e", "e.g", "rev", "hon", "amb", "gov't", "ft", "mt"])

_END = re.compile(r"""[.!?…]+['"’”)\]]*(?=\s+['"“‘(\[]?[A-Z0-9])""")
_LINE = re.compile(r"[^\n]+")
_ABBREVIATION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.")
_WORD = re.compile(r"\d+(?:[.,]\d+)+|[A-Za-z0-9][A-Za-z0-9'’\-]*(?:\.(?=[A-Za-z]\.))?(?:[A-Za-z]\.)*|[^\sA-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    start: int
    end: int
    text: str


class Token(NamedTuple):
    """A word or punctuation mark: a named tuple (a frozen dataclass is several times slower to
    build, and ``tokens`` builds one for every word of every sentence with an actor), with
    ``lower`` worked out once (it is read several times a token)."""

    text: str
    start: int  # offsets relative to the sentence
    end: int
    lower: str  # lower-cased, typographic apostrophe as "'"


def _is_abbreviation(text: str, dot: int) -> bool:
    # the word before the full stop: letters and dots back from it, starting at a letter
    start = dot
    while start > 0 and text[start - 1] in _ABBREVIATION_CHARS:
        start -= 1
    while start < dot and text[start] == ".":
        start += 1
    if start == dot:
        return False
    word = text[start:dot].lower().rstrip(".")
    if len(word) == 1:
        return True  # an initial: "George W. Bush"
    return word in ABBREVIATIONS


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences with absolute character offsets."""
    out: list[Sentence] = []
    for line in _LINE.finditer(text):
        lstart, ltext = line.start(), line.group()
        cut = 0
        for m in _END.finditer(ltext):
            if ltext[m.start()] == "." and _is_abbreviation(ltext, m.start()):
                continue
            _add(out, lstart + cut, ltext[cut:m.end()])
            cut = m.end()
        _add(out, lstart + cut, ltext[cut:])
    return out


def _add(out: list[Sentence], start: int, piece: str) -> None:
    """``piece`` (at ``start`` in the text) without its surrounding white space, when anything is left."""
    text = piece.strip()
    if text:
        start += len(piece) - len(piece.lstrip())
        out.append(Sentence(len(out), start, start + len(text), text))


def tokens(sentence: str) -> list[Token]:
    """Words and single punctuation marks with offsets in ``sentence``."""
    # ``_WORD``'s last alternative takes any other non-space character, so the words tile the
    # sentence's non-space characters in order: each starts at the first occurrence of its text after
    # the word before (only white space lies between), which ``str.find`` gets faster than a match
    # object's offsets
    out = []
    at = 0
    find = sentence.find
    new = tuple.__new__  # what ``Token(...)`` calls, without its Python-level ``__new__``
    for word in _WORD.findall(sentence):
        start = find(word, at)
        at = start + len(word)
        out.append(new(Token, (word, start, at, word.lower().replace("’", "'"))))
    return out
