"""The behaviour columns of ``data/triggers.tsv`` (frame, source, recipient, passive_agent,
place_source, purpose, reads_as, becomes): a rule with the property set behaves so, the same rule
with the cell emptied does not; and the file's columns are checked when the lexicon loads."""

from __future__ import annotations

import importlib

import pytest

from extractors.events import code_document
from extractors.events.datafiles import data_rows
from extractors.events.lexicon import TRIGGER_COLUMNS, Lexicon, rules_from_rows

enrich_module = importlib.import_module("extractors.events.enrich")


def _rows(rule_id: str | None = None, **cells: str) -> list[dict[str, str]]:
    rows = list(data_rows("triggers.tsv"))
    for row in rows:
        if row["rule_id"] == rule_id:
            row.update(cells)
    return rows


def _coded(sentence: str) -> list[tuple[str, str, list[str | None], list[str | None]]]:
    return [(e["event_type"], e["rule_id"], [a["country"] for a in e["actors"]],
             [a["country"] for a in e["recipients"]]) for e in code_document(sentence)]


# rule, cell emptied, sentence, events with the cell as shipped, events with it emptied
CASES = [
    ("protest.protest", "becomes", "China protested against the arms sale to Taiwan.",
     [("ACCUSE", "protest.protest+official", ["CHN"], [])], [("PROTEST", "protest.protest", ["CHN"], [])]),
    ("coerce.occupy", "becomes", "Serbian students occupied the parliament building.",
     [("PROTEST", "coerce.occupy+sit_in", ["SRB"], [])], [("COERCE", "coerce.occupy", ["SRB"], [])]),
    ("mobilize.exercise", "becomes", "French and Egyptian warships held joint naval exercises.",
     [("COOPERATE", "mobilize.exercise+joint", ["FRA", "EGY"], [])],
     [("MOBILIZE", "mobilize.exercise", ["FRA", "EGY"], [])]),
    ("mobilize.deploy", "becomes", "Canada deployed 500 troops to Bosnia as part of the UN peacekeeping force.",
     [("AID", "mobilize.deploy+peacekeeping", ["CAN"], ["BIH"])], [("MOBILIZE", "mobilize.deploy", ["CAN"], ["BIH"])]),
    ("mobilize.order", "reads_as", "Russia ordered troops to withdraw from Chechnya.",
     [("REQUEST", "mobilize.order+request", ["RUS"], [])], [("MOBILIZE", "mobilize.order", ["RUS"], [])]),
    ("consult.phone", "recipient", "The Polish president spoke in Warsaw on Monday.",
     [], [("CONSULT", "consult.phone", ["POL"], [])]),
    ("consult.arrive_visit", "recipient", "Li Peng left Beijing for a visit to India.",
     [("CONSULT", "consult.arrive_visit", ["CHN"], ["IND"])], [("CONSULT", "consult.arrive_visit", ["CHN"], ["CHN"])]),
    ("agree.pledge", "frame", "Iran vowed to attack Israel.",
     [("THREATEN", "agree.pledge+conflict", ["IRN"], ["ISR"])], [("AGREE", "agree.pledge", ["IRN"], ["ISR"])]),
    ("concede.allow", "frame", "Georgia allowed Russia to continue attacking Chechen rebels.",
     [("CONCEDE", "concede.allow", ["GEO"], ["RUS"])],
     [("CONCEDE", "concede.allow", ["GEO"], ["RUS"]), ("ASSAULT", "assault.attack", ["RUS"], [])]),
    ("accuse.behind", "frame", "Israeli officials said Syria was behind the attack.",
     [("ACCUSE", "accuse.behind", ["ISR"], ["SYR"])], [("ACCUSE", "accuse.behind", ["SYR"], [])]),
    ("mobilize.sent", "source", "Turkish aid was sent to Syria.",
     [], [("MOBILIZE", "mobilize.sent", ["TUR"], ["SYR"])]),
    ("consult.travel", "source", "Russian fighter jets flew to Syria.",
     [], [("CONSULT", "consult.travel", ["RUS"], ["SYR"])]),
    ("sanction.expel", "passive_agent", "Two Russian diplomats were expelled from Britain.",
     [("SANCTION", "sanction.expel", ["GBR"], ["RUS"])], []),
    ("request.ordered_out", "passive_agent", "Two Iranian diplomats were ordered to leave Britain.",
     [("REQUEST", "request.ordered_out", ["GBR"], ["IRN"])], []),
    ("protest.erupt", "place_source", "Protests erupted in several Iranian cities.",
     [("PROTEST", "protest.erupt", ["IRN"], [])], []),
    ("assault.kill", "place_source", "Six people were killed in a car bombing in central Baghdad.",
     [("ASSAULT", "assault.kill", ["IRQ"], [])], []),
    ("protest.protest", "purpose", "Thousands of students gathered in Manila to protest.",
     [("PROTEST", "protest.protest+purpose", ["PHL"], [])], []),
]


@pytest.mark.parametrize(("rule_id", "column", "sentence", "shipped", "emptied"), CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_a_behaviour_column_is_honoured(monkeypatch: pytest.MonkeyPatch, rule_id: str, column: str,
                                        sentence: str, shipped: list, emptied: list) -> None:
    assert _coded(sentence) == shipped
    rows = _rows(rule_id, **{column: ""})
    monkeypatch.setattr(enrich_module, "load_lexicon", lambda: Lexicon(rules_from_rows(rows)))
    assert _coded(sentence) == emptied


def test_a_property_given_to_another_rule_takes_effect(monkeypatch: pytest.MonkeyPatch) -> None:
    """The code reads the property, not the rule's name: "staged a protest" by a state becomes a
    complaint once protest.stage says so."""
    sentence = "China staged a protest against the arms sale to Taiwan."
    assert [e[0] for e in _coded(sentence)] == ["PROTEST"]
    rows = _rows("protest.stage", becomes="ACCUSE+official if state_source")
    monkeypatch.setattr(enrich_module, "load_lexicon", lambda: Lexicon(rules_from_rows(rows)))
    assert [e[:2] for e in _coded(sentence)] == [("ACCUSE", "protest.stage+official")]


@pytest.mark.parametrize(("cells", "message"), [
    ({"preps": "with|to"}, r"rule 'agree\.agree': column 'preps' has 'with\|to'"),
    ({"frame": "intention"}, r"rule 'agree\.agree': column 'frame' has 'intention'"),
    ({"source": "army"}, r"column 'source' has 'army'"),
    ({"recipient": "required,always"}, r"column 'recipient' has 'required,always'"),
    ({"place_source": "somewhere"}, r"column 'place_source' has 'somewhere'"),
    ({"becomes": "ACCUSE if state_source"}, r"column 'becomes' has 'ACCUSE if state_source'.*TYPE\+tag"),
    ({"becomes": "ACCUSE+x if sunny"}, r"column 'becomes' has 'sunny'"),
    ({"reads_as": "SCOLD+x if state_source"}, r"column 'reads_as' has 'SCOLD'"),
])
def test_a_bad_behaviour_cell_fails_the_load_naming_rule_and_column(cells: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules_from_rows(_rows("agree.agree", **cells))


def test_missing_or_unknown_columns_fail_the_load() -> None:
    rows = _rows()
    for row in rows:
        del row["becomes"]
    with pytest.raises(ValueError, match=r"missing \['becomes'\]"):
        rules_from_rows(rows)
    rows = [{**row, "colour": ""} for row in _rows()]
    with pytest.raises(ValueError, match=r"unknown \['colour'\]"):
        rules_from_rows(rows)


def test_the_shipped_file_has_exactly_the_known_columns() -> None:
    assert all(tuple(row) == TRIGGER_COLUMNS for row in data_rows("triggers.tsv"))
