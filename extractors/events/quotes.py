"""Direct and indirect quotes with their speaker.

Direct: text between matching quotation marks (“…”, "…", «…») of at least ``MIN_WORDS`` words
(shorter ones are scare quotes: a “cautious alliance”). The speaker is the actor next to a cue verb
right after the quote (“…,” Truss said / “…,” said Truss) or right before it (Lavrov stated, “…” /
According to Putin, “…”); "he"/"she" resolve to the last person mentioned before the quote.
Indirect: "<actor> said (that) <clause>" and "According to <actor>, <clause>" without quotation marks.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from extractors.events.entities import Actor, ArticleEntities

MIN_WORDS = 4
CUES = (r"said|says|say|stated|added|adds|add|stressed|stresses|noted|warned|warns|declared|"
        r"announced|announces|insisted|insists|explained|explains|wrote|writes|tweeted|told|tells|"
        r"underlined|argued|claimed|replied|continued|concluded|recalled|emphasized|emphasised")
DIRECT_CUES = CUES + r"|asked|urged"
NOT_SPEAKERS = frozenset(["and", "but", "or", "when", "as", "while", "if", "so", "then", "now", "also", "yet"])
_OPEN_CLOSE = {"“": "”", '"': '"', "«": "»", "„": "“"}
_QUOTE = re.compile(r"[“\"][^“”\"\n]+[”\"]|«[^«»\n]+»|„[^„“\n]+“")
# a quote that runs on into the next paragraph has no closing mark at the end of its paragraph;
# its opening mark follows whitespace, "(" or the start of the text (checked in Python: a leading
# look-behind keeps the regex engine from skipping ahead to the next quotation mark, ~5x slower)
_OPEN_TO_EOL = re.compile(r"[“\"](?=[A-Z])[^“”\"\n]{20,}(?=\n|$)")
_AFTER_WHO_CUE = re.compile(rf"^\s*[,.!?…]?\s*(?P<who>[^,.;:“”\"\n]{{1,60}}?)\s+(?P<cue>{DIRECT_CUES})\b", re.I)
_AFTER_CUE_WHO = re.compile(rf"^\s*[,.!?…]?\s*(?P<cue>{DIRECT_CUES})\s+(?P<who>[^,.;:“”\"\n]{{1,60}}"
                            r"(?:,\s*(?-i:[A-Z])[^,.;:“”\"\n]{1,40}(?=\s*[.;]))?)", re.I)
# an appositive speaker after the quote: “…,” the EU foreign policy chief, Kaja Kallas, said
_AFTER_APPOSITIVE_CUE = re.compile(rf"^\s*[,.!?…]?\s*(?P<who>[^,.;:“”\"\n]{{1,60}}?,\s*(?-i:[A-Z])[^,.;:“”\"\n]{{1,40}}?),"
                                   rf"\s+(?P<cue>{DIRECT_CUES})\b", re.I)
_EARLIER_ACC = re.compile(r"[Aa]ccording to\s+(?P<who>[^,.;:“”\"\n]{1,60}?)\s*,")
_ACCORDING = re.compile(r"[Aa]ccording to\s+(?P<who>[^,.;:“”\"\n]{1,60}?)\s*,\s*$")
_CUE = re.compile(rf"\b(?:{CUES})\b", re.I)
_CUE_WORDS = tuple(CUES.split("|"))


def _cue_positions(text: str) -> list[int] | None:
    """Sorted offsets of every cue word in ``text``, inside longer words too (a superset of what
    ``_CUE`` finds): plain substring searches, far cheaper than the case-blind regex. None when
    lower-casing changes the text's length (offsets would not line up): then check every sentence."""
    low = text.lower()
    if len(low) != len(text):
        return None
    found: list[int] = []
    for word in _CUE_WORDS:
        at = low.find(word)
        while at >= 0:
            found.append(at)
            at = low.find(word, at + 1)
    found.sort()
    return found
_CLAUSE = re.compile(r"(?:\s+(?:in\s+a\s+statement|late\s+on\s+\w+|early\s+on\s+\w+|on\s+\w+|yesterday|today|"
                     r"on\s+Twitter|in\s+an\s+interview))*"
                     r"\s*,?\s+(?:that\s+)?(?P<clause>[^“”\"\n]{12,})$", re.I)
_SEP = re.compile(r"[,;:“”\"\n.]")
_ACC_INDIRECT = re.compile(r"^[Aa]ccording to\s+(?P<who>[^,;“”\"\n]{1,60}?)\s*,\s*(?P<clause>[^“”\"\n]{12,})$")


@dataclass
class FoundQuote:
    kind: str
    start: int  # absolute offsets of the quoted words (without the marks)
    end: int
    text: str
    speaker_text: str | None
    speaker: Actor | None
    cue: str | None
    sentence_index: int


class _Span:
    """A quote found without its closing mark: behaves like a match of ``_QUOTE``."""

    def __init__(self, start: int, end: int):
        self._s, self._e = start, end

    def start(self) -> int:
        return self._s

    def end(self) -> int:
        return self._e


def quote_matches(text: str) -> list:
    """Closed quotes, and paragraphs that open a quote and never close it (the quote goes on in the
    next paragraph): those run to the end of the line; their "end" sits one past it."""
    found: list[re.Match[str] | _Span] = list(_QUOTE.finditer(text))
    closed = [(m.start(), m.end()) for m in found]
    for m in _OPEN_TO_EOL.finditer(text):
        if m.start() and not (text[m.start() - 1].isspace() or text[m.start() - 1] == "("):
            continue  # no other quotation mark inside the match: skipping it hides no later one
        line_s = text.rfind("\n", 0, m.start()) + 1
        line = text[line_s:m.end()]
        if sum(line.count(c) for c in '"“”') % 2 == 0 or any(s <= m.start() < e for s, e in closed):
            continue
        found.append(_Span(m.start(), m.end() + 1))
    return sorted(found, key=lambda m: m.start())


def quote_spans(matches: list) -> list[tuple[int, int]]:
    """Absolute (start, end) of every quoted stretch (inside the marks), scare quotes included,
    from ``quote_matches(text)``."""
    return [(m.start() + 1, m.end() - 1) for m in matches]


def _speaker(who_start: int, who_end: int, who: str, actors: list[tuple[int, Actor]],
             registry: ArticleEntities, speakers_before: Actor | None) -> Actor | None:
    if who.strip().lower() in ("he", "she"):
        return speakers_before
    hits = [actor for base, actor in actors if base + actor.start < who_end and who_start < base + actor.end]
    people = [a for a in hits if a.kind == "person"]
    if people:
        return people[-1]
    return hits[-1] if hits else None


def _who_before(text: str, end: int, limit: int = 80) -> tuple[int, int] | None:
    """The words before a cue at ``end``, back to the previous separator: (start, end) or None."""
    lo = max(0, end - limit)
    stop = end
    while stop > lo and (text[stop - 1].isspace() or text[stop - 1] == ","):
        stop -= 1  # "Lavrov, the Russian Foreign Minister, said"
    seps = [m.end() for m in _SEP.finditer(text, lo, stop)]
    start = seps[-1] if seps else lo
    while start < stop and text[start].isspace():
        start += 1
    return (start, stop) if stop > start else None


def _indirect(sentence: str) -> tuple[int, int, int, str, str] | None:
    """"<who> said (that) <clause>" without quotation marks: (who start, who end, clause start,
    clause, cue) for the first cue that has both."""
    for cue in _CUE.finditer(sentence):
        who = _who_before(sentence, cue.start())
        if who is None:
            continue
        tail = _CLAUSE.match(sentence, cue.end())
        if tail is None:
            continue
        return who[0], who[1], tail.start("clause"), tail.group("clause"), cue.group(0)
    return None


def _abs_end(actor: Actor, actors: list[tuple[int, Actor]]) -> int:
    for base, a in actors:
        if a is actor:
            return base + a.end
    return 0


def find_quotes(text: str, sentences, actors: list[tuple[int, Actor]], registry: ArticleEntities,
                last_person_at, matches: list | None = None) -> list[FoundQuote]:
    """``actors``: (sentence start, actor) pairs; ``last_person_at(offset)``: last person before it;
    ``matches``: ``quote_matches(text)`` when the caller has it already."""
    out: list[FoundQuote] = []

    def sentence_of(pos: int) -> int:
        for s in sentences:
            if s.start <= pos < s.end or pos < s.start:
                return s.index
        return sentences[-1].index if sentences else 0

    prev_end, prev_speaker = -1, None
    for m in quote_matches(text) if matches is None else matches:
        qs, qe = m.start() + 1, m.end() - 1
        body = text[qs:qe]
        if len(re.findall(r"\w+", body)) < MIN_WORDS:
            continue
        who = cue = None
        who_span = (0, 0)
        after = text[m.end():m.end() + 90]
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line_start, m.start() - 120):m.start()]
        for pattern in (_AFTER_WHO_CUE, _AFTER_APPOSITIVE_CUE, _AFTER_CUE_WHO):
            hit = pattern.match(after)
            if hit:
                who, cue = hit.group("who"), hit.group("cue")
                who_span = (m.end() + hit.start("who"), m.end() + hit.end("who"))
                break
        if who is None:
            base = m.start() - len(before)
            cues = list(_CUE.finditer(before))
            last = cues[-1] if cues else None
            if last is not None and re.fullmatch(r"(?:\s+\w+)?\s*[,:]?\s*", before[last.end():]):
                span = _who_before(before, last.start(), 60)
                if span is not None:
                    who, cue = before[span[0]:span[1]], last.group(0)
                    who_span = (base + span[0], base + span[1])
            if who is None:
                hit = _ACCORDING.search(before)
                if hit:
                    who, cue = hit.group("who"), "according to"
                    who_span = (base + hit.start("who"), base + hit.end("who"))
        if who is not None and who.strip().split()[0].lower() in NOT_SPEAKERS:
            who = cue = None
        if who is None:
            # a partial quote inside reported speech: "Putin said that the blocs “share …”"; a quote
            # opening a sentence with no cue of its own goes on from the paragraph's last cue
            # ("Borrell underlined that … . “Of course, …”")
            sent_start = max(line_start, m.start() - 400)
            region = text[sent_start:m.start()]
            own = region[max(region.rfind(". "), region.rfind("”"), -1) + 1:]
            region = own if own.strip() else region[max(region.rfind("”"), -1) + 1:]
            base = m.start() - len(region)
            earlier: list[tuple[int, int, int, str]] = []  # (position, who start, who end, cue)
            for c in _CUE.finditer(region):
                pro = re.match(r"\s+(he|she)\b", region[c.end():], re.I)
                if pro:
                    earlier.append((c.start(), c.end() + pro.start(1), c.end() + pro.end(1), c.group(0)))
                    continue
                span = _who_before(region, c.start(), 60)
                if span is not None:
                    earlier.append((c.start(), span[0], span[1], c.group(0)))
            for ea in _EARLIER_ACC.finditer(region):
                earlier.append((ea.start(), ea.start("who"), ea.end("who"), "according to"))
            for _, ws, we, cue_word in sorted(earlier, reverse=True):
                words = region[ws:we].strip().split()
                if words and (words[-1].lower() not in NOT_SPEAKERS or words[-1].lower() in ("he", "she")):
                    who, cue = region[ws:we], cue_word
                    who_span = (base + ws, base + we)
                    break
        if who is None:
            # a partial quote as the complement of the subject's verb: "Cavusoglu thanked Blinken
            # “for the excellent cooperation”": the sentence's opening actor said it
            sent_s = max(line_start, text.rfind(". ", 0, m.start()) + 2)
            lead = text[sent_s:m.start()]
            opening = [a for base, a in actors if base + a.start == sent_s and a.end + base <= m.start()]
            if opening and opening[0].kind in ("person", "igo", "org", "country") and re.search(r"[a-z]", lead):
                a = opening[0]
                who, cue = lead[:a.end - a.start], None
                who_span = (sent_s, sent_s + len(who))
        speaker = None
        if who is not None:
            pronoun_to = last_person_at(m.start())
            if prev_speaker is not None and 0 <= m.start() - prev_end < 300:
                pronoun_to = prev_speaker  # “…,” he said: the speaker of the quote just before
            speaker = _speaker(who_span[0], who_span[1], who, actors, registry, pronoun_to)
            who = who.strip()
        if speaker is not None:
            prev_end, prev_speaker = m.end(), speaker
        out.append(FoundQuote("direct", qs, qe, body, who, speaker, cue.lower() if cue else None,
                              sentence_of(qs)))
    direct_sentences = {q.sentence_index for q in out}
    # cue words found once for the whole text instead of a regex scan per sentence: most
    # sentences have none, and those need neither ``_indirect`` nor its scan
    cue_at = _cue_positions(text)
    for s in sentences:
        if s.index in direct_sentences or "“" in s.text or '"' in s.text:
            continue
        if cue_at is not None and not s.text.startswith(("According to", "according to")):
            i = bisect.bisect_left(cue_at, s.start)
            if i == len(cue_at) or cue_at[i] >= s.start + len(s.text):
                continue
        acc = _ACC_INDIRECT.match(s.text)
        if acc:
            who_s, who_e, clause_s, clause, cue = (acc.start("who"), acc.end("who"), acc.start("clause"),
                                                   acc.group("clause"), "according to")
        else:
            indirect = _indirect(s.text)
            if indirect is None:
                continue
            who_s, who_e, clause_s, clause, cue = indirect
        ws, we = s.start + who_s, s.start + who_e
        speaker = _speaker(ws, we, s.text[who_s:who_e], actors, registry, last_person_at(ws))
        if speaker is not None and cue != "according to":
            tail = text[_abs_end(speaker, actors):we]
            if not re.fullmatch(r"(?:[’']s)?\s*(?:has|have|had|was|were|also|is)?\s*", tail):
                continue
        if speaker is None:
            continue  # indirect speech needs a known speaker: "the report said" is not coded
        cs = s.start + clause_s
        clause = clause.rstrip(" .")
        out.append(FoundQuote("indirect", cs, cs + len(clause), clause, s.text[who_s:who_e].strip(), speaker,
                              cue.lower(), s.index))
    return out
