"""Derive the events gazetteer from the PETRARCH2 / Phoenix actor dictionaries (MIT).

Reads ``Phoenix.Countries.actors.txt``, ``Phoenix.International.actors.txt``,
``Phoenix.MilNonState.actors.txt`` and ``Phoenix.agents.txt`` from
``../shared/corpora/petrarch2-dictionaries`` and writes
``extractors/events/data/gazetteer_petrarch.tsv`` and ``extractors/events/data/agents_petrarch.tsv``.

Only entries whose code carries no date restriction are kept: the dated ones are leaders and
office holders current to about 2015 and are stale. Hand corrections and additions live in
``gazetteer_hand.tsv`` / ``agents_hand.tsv`` and win over the derived rows at load time.

Usage: ``python scripts/derive_events_gazetteer.py [DICT_DIR]``
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "extractors" / "events" / "data"
DEFAULT_DIR = ROOT.parent / "shared" / "corpora" / "petrarch2-dictionaries"

NOTICE = """# Derived from the PETRARCH2 / Phoenix coding dictionaries
# (openeventdata/petrarch2, petrarch2/data/dictionaries, commit 676801cd9cb2) by
# scripts/derive_events_gazetteer.py. Source file: {source}.
#
# The MIT License (MIT)
# Copyright (c) 2014 Open Event Data Alliance
# Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
# associated documentation files (the "Software"), to deal in the Software without restriction,
# including without limitation the rights to use, copy, modify, merge, publish, distribute,
# sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
# furnished to do so, subject to the following conditions: The above copyright notice and this
# permission notice shall be included in all copies or substantial portions of the Software.
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
# NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
# NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
# DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
# OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
#
"""

CODE = re.compile(r"\[([A-Z~]+)\s*([^\]]*)\]")
SECTORS = {"GOV", "MIL", "REB", "OPP", "COP", "JUD", "LEG", "BUS", "MED", "CVL", "EDU", "HLH",
           "REF", "SPY", "ELI", "LAB", "NGO", "IGO", "IMG", "INS", "UAF", "AGR", "CRM", "ENV",
           "RAD", "SEP", "HRI", "MNC", "PTY", "REL"}


def phrase_of(token: str) -> tuple[str, bool]:
    token = token.strip()
    exact = token.endswith("_")
    text = token.strip("_").replace("_", " ").strip()
    return text, not exact


def entries(path: Path):
    """Yield (phrases, codes) for each TABARI entry: a headword, '+' synonyms, then code lines."""
    head: list[str] = []
    codes: list[tuple[str, str]] = []

    def flush():
        if head and codes:
            yield list(head), list(codes)

    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if line.startswith(("\t", " ")) and line.strip().startswith("["):
            codes.extend(CODE.findall(line))
            continue
        if line.startswith("+"):
            word = CODE.sub("", line[1:]).strip()
            if word:
                head.append(word)
            codes.extend(CODE.findall(line))
            continue
        if line.startswith(("!", "-", "&", "=")):
            continue
        yield from flush()
        word = CODE.sub("", line).strip()
        head = [word] if word else []
        codes = CODE.findall(line)
    yield from flush()


def undated(codes):
    """The code without a date restriction; for a country, also its current open-ended code
    ("[IRQ >20060520]"). Dated person and office codes are stale and skipped."""
    for code, rest in codes:
        if not rest.strip():
            return code
    for code, rest in codes:
        if len(code) == 3 and rest.strip().startswith(">"):
            return code
    return None


# country codes of the dictionaries that ISO 3166-1 has since replaced (East Timor: TMP → TLS in 2002),
# and Kosovo, which ISO 3166-1 does not list, under the user-assigned XKX the project uses (EU, IMF)
ISO_NOW = {"TMP": "TLS", "KSV": "XKX"}


def split_code(code: str, countries: set[str]) -> tuple[str, str, str]:
    """Return (country, sector, kind) for a CAMEO actor code."""
    if code[:3] in countries:
        sector = code[3:6]
        country = ISO_NOW.get(code[:3], code[:3])
        if not sector:
            return country, "", "country"
        kind = "group" if sector in {"REB", "INS", "SEP"} else "org"
        return country, sector if sector in SECTORS else "", kind
    if code.startswith("IGO"):
        return "", "IGO", "igo"
    if code.startswith("IMG"):
        return "", "REB", "group"
    if code[3:6] == "REB":
        return "", "REB", "group"
    return "", "", ""


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    countries_file = src / "Phoenix.Countries.actors.txt"
    countries = {c for _, codes in entries(countries_file) for c, rest in codes
                 if len(c) == 3 and (not rest.strip() or rest.strip().startswith(">"))}
    rows: dict[str, tuple[str, ...]] = {}
    for fname in ("Phoenix.Countries.actors.txt", "Phoenix.International.actors.txt",
                  "Phoenix.MilNonState.actors.txt"):
        for phrases, codes in entries(src / fname):
            code = undated(codes)
            if not code:
                continue
            country, sector, kind = split_code(code, countries)
            if not kind or code[3:6] == "ELI":
                continue  # ELI entries are named people ("Russian President Vladimir Putin"): stale
            for token in phrases:
                text, stem = phrase_of(token)
                if len(text) < 2 or not re.search(r"[A-Z]", text) or re.search(r"[\t\[\]{}]", text):
                    continue
                key = text.lower()
                if key in rows:
                    continue
                rows[key] = (text, code, country, sector, kind, "stem" if stem else "exact", fname)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "gazetteer_petrarch.tsv").open("w", encoding="utf-8") as fh:
        fh.write(NOTICE.format(source="Phoenix.Countries/International/MilNonState.actors.txt"))
        fh.write("phrase\tcode\tcountry\tsector\tkind\tmatch\tsource\n")
        for key in sorted(rows):
            fh.write("\t".join(rows[key]) + "\n")
    agents: dict[str, tuple[str, str]] = {}
    for line in (src / "Phoenix.agents.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^([A-Z][A-Z_.\-]*)\s*(?:\{\})?\s*\[~([A-Z]{3})[A-Z]*\]", line)
        if not m or "!" in line:
            continue
        text, stem = phrase_of(m.group(1))
        if m.group(2) in SECTORS and text.lower() not in agents:
            agents[text.lower()] = (m.group(2), "stem" if stem else "exact")
    with (OUT / "agents_petrarch.tsv").open("w", encoding="utf-8") as fh:
        fh.write(NOTICE.format(source="Phoenix.agents.txt"))
        fh.write("phrase\tsector\tmatch\n")
        for key in sorted(agents):
            fh.write(f"{key}\t{agents[key][0]}\t{agents[key][1]}\n")
    print(f"{len(rows)} gazetteer phrases, {len(agents)} agent phrases, {len(countries)} countries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
