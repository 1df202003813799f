"""Direct and indirect quotes with their speaker.

Direct: text between matching quotation marks (“…”, "…", «…») of at least ``MIN_WORDS`` words
(shorter ones are scare quotes: a “cautious alliance”). The speaker is the actor next to a cue verb
right after the quote (“…,” Truss said / “…,” said Truss) or right before it (Lavrov stated, “…” /
According to Putin, “…”); "he"/"she" resolve to the last person mentioned before the quote.
Indirect: "<actor> said (that) <clause>" and "According to <actor>, <clause>" without quotation marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.events.entities import Actor, ArticleEntities

MIN_WORDS = 4
CUES = (r"said|says|say|stated|added|adds|add|stressed|stresses|noted|warned|warns|declared|"
        r"announced|announces|insisted|insists|explained|explains|wrote|writes|tweeted|told|tells|"
        r"underlined|argued|claimed|replied|continued|concluded|recalled|emphasized|emphasised")
DIRECT_CUES = CUES + r"|asked|urged"
NOT_SPEAKERS = frozenset("and but or when as while if so then now also yet".split())
_OPEN_CLOSE = {"“": "”", '"': '"', "«": "»", "„": "“"}
_QUOTE = re.compile(r"[“\"][^“”\"\n]+[”\"]|«[^«»\n]+»|„[^„“\n]+“")
_AFTER_WHO_CUE = re.compile(rf"^\s*[,.!?…]?\s*(?P<who>[^,.;:“”\"\n]{{1,60}}?)\s+(?P<cue>{DIRECT_CUES})\b", re.I)
_AFTER_CUE_WHO = re.compile(rf"^\s*[,.!?…]?\s*(?P<cue>{DIRECT_CUES})\s+(?P<who>[^,.;:“”\"\n]{{1,60}})", re.I)
_EARLIER_CUE = re.compile(rf"(?P<who>[^,.;:“”\"\n]{{1,60}}?)\s*,?\s+(?P<cue>{CUES})\b(?:\s+(?P<pro>he|she)\b)?", re.I)
_EARLIER_ACC = re.compile(r"[Aa]ccording to\s+(?P<who>[^,.;:“”\"\n]{1,60}?)\s*,")
_BEFORE = re.compile(rf"(?P<who>[^,.;:“”\"\n]{{1,60}}?)\s*,?\s+(?P<cue>{CUES})(?:\s+\w+)?\s*[,:]?\s*$", re.I)
_ACCORDING = re.compile(r"[Aa]ccording to\s+(?P<who>[^,.;:“”\"\n]{1,60}?)\s*,\s*$")
_INDIRECT = re.compile(rf"(?P<who>[^,;:“”\"\n]{{1,80}}?)\s+(?P<cue>{CUES})"
                       r"(?:\s+(?:in\s+a\s+statement|late\s+on\s+\w+|early\s+on\s+\w+|on\s+\w+|yesterday|today|"
                       r"on\s+Twitter|in\s+an\s+interview))*"
                       r"\s*,?\s+(?:that\s+)?(?P<clause>[^“”\"\n]{12,})$", re.I)
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


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Absolute (start, end) of every quoted stretch (inside the marks), scare quotes included."""
    return [(m.start() + 1, m.end() - 1) for m in _QUOTE.finditer(text)]


def _speaker(who_start: int, who_end: int, who: str, actors: list[tuple[int, Actor]],
             registry: ArticleEntities, speakers_before: Actor | None) -> Actor | None:
    if who.strip().lower() in ("he", "she"):
        return speakers_before
    hits = [actor for base, actor in actors if base + actor.start < who_end and who_start < base + actor.end]
    people = [a for a in hits if a.kind == "person"]
    if people:
        return people[-1]
    return hits[-1] if hits else None


def _abs_end(actor: Actor, actors: list[tuple[int, Actor]]) -> int:
    for base, a in actors:
        if a is actor:
            return base + a.end
    return 0


def find_quotes(text: str, sentences, actors: list[tuple[int, Actor]], registry: ArticleEntities,
                last_person_at) -> list[FoundQuote]:
    """``actors``: (sentence start, actor) pairs; ``last_person_at(offset)``: last person before it."""
    out: list[FoundQuote] = []

    def sentence_of(pos: int) -> int:
        for s in sentences:
            if s.start <= pos < s.end or pos < s.start:
                return s.index
        return sentences[-1].index if sentences else 0

    for m in _QUOTE.finditer(text):
        qs, qe = m.start() + 1, m.end() - 1
        body = text[qs:qe]
        if len(re.findall(r"\w+", body)) < MIN_WORDS:
            continue
        who = cue = None
        who_span = (0, 0)
        after = text[m.end():m.end() + 90]
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line_start, m.start() - 120):m.start()]
        for pattern in (_AFTER_WHO_CUE, _AFTER_CUE_WHO):
            hit = pattern.match(after)
            if hit:
                who, cue = hit.group("who"), hit.group("cue")
                who_span = (m.end() + hit.start("who"), m.end() + hit.end("who"))
                break
        if who is None:
            base = m.start() - len(before)
            for pattern in (_BEFORE, _ACCORDING):
                hit = pattern.search(before)
                if hit:
                    who, cue = hit.group("who"), hit.groupdict().get("cue") or "according to"
                    who_span = (base + hit.start("who"), base + hit.end("who"))
                    break
        if who is not None and who.strip().split()[0].lower() in NOT_SPEAKERS:
            who = cue = None
        if who is None:
            # a partial quote inside reported speech: "Putin said that the blocs “share …”"
            sent_start = max(line_start, m.start() - 400)
            region = text[sent_start:m.start()]
            region = region[max(region.rfind(". "), region.rfind("”"), -1) + 1:]
            base = m.start() - len(region)
            hits = [h for h in _EARLIER_CUE.finditer(region)] + [h for h in _EARLIER_ACC.finditer(region)]
            for hit in sorted(hits, key=lambda h: -h.start()):
                if hit.groupdict().get("pro"):
                    who, cue = hit.group("pro"), hit.group("cue")
                    who_span = (base + hit.start("pro"), base + hit.end("pro"))
                    break
                first = hit.group("who").strip().split()
                if first and first[-1].lower() not in NOT_SPEAKERS:
                    who, cue = hit.group("who"), hit.groupdict().get("cue") or "according to"
                    who_span = (base + hit.start("who"), base + hit.end("who"))
                    break
        speaker = None
        if who is not None:
            speaker = _speaker(who_span[0], who_span[1], who, actors, registry, last_person_at(m.start()))
            who = who.strip()
        out.append(FoundQuote("direct", qs, qe, body, who, speaker, cue.lower() if cue else None,
                              sentence_of(qs)))
    direct_sentences = {q.sentence_index for q in out}
    for s in sentences:
        if s.index in direct_sentences or "“" in s.text or '"' in s.text:
            continue
        hit = _ACC_INDIRECT.match(s.text) or _INDIRECT.search(s.text)
        if not hit:
            continue
        ws, we = s.start + hit.start("who"), s.start + hit.end("who")
        speaker = _speaker(ws, we, hit.group("who"), actors, registry, last_person_at(ws))
        if speaker is not None and hit.groupdict().get("cue"):
            tail = text[_abs_end(speaker, actors):we]
            if not re.fullmatch(r"(?:[’']s)?\s*(?:has|have|had|was|were|also|is)?\s*", tail):
                continue
        if speaker is None:
            continue  # indirect speech needs a known speaker: "the report said" is not coded
        cs = s.start + hit.start("clause")
        clause = hit.group("clause").rstrip(" .")
        out.append(FoundQuote("indirect", cs, cs + len(clause), clause, hit.group("who").strip(), speaker,
                              (hit.groupdict().get("cue") or "according to").lower(), s.index))
    return out
