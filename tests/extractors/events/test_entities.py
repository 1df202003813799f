from extractors.events.entities import ArticleEntities
from extractors.events.gazetteer import load


def actors(*sentences: str):
    reg = ArticleEntities(load())
    out = []
    offset = 0
    for i, s in enumerate(sentences):
        out.append(reg.sentence_actors(s, offset, i))
        offset += len(s) + 1
    return reg, out


def test_countries_from_names_demonyms_capitals_and_aliases() -> None:
    found = load().find("Britain, the UK, Russians, Beijing and Kabul met the Americans; Us and china did not.")
    assert [(m.text, m.entry.country) for m in found] == [
        ("Britain", "GBR"), ("UK", "GBR"), ("Russians", "RUS"), ("Beijing", "CHN"), ("Kabul", "AFG"),
        ("Americans", "USA")]


def test_bodies_and_groups() -> None:
    found = {m.text: m.entry for m in load().find("NATO, the SCO, the CSTO, the Taliban, ISKP and al-Qaeda")}
    assert found["NATO"].kind == "igo" and found["SCO"].kind == "igo" and found["CSTO"].kind == "igo"
    assert found["Taliban"].kind == "group" and found["Taliban"].country == "AFG"
    assert found["ISKP"].code == "ISKP" and found["al-Qaeda"].kind == "group"


def test_role_phrase_gives_person_country_and_sector_and_surname_resolves_later() -> None:
    reg, out = actors("Russian Foreign Minister Sergei Lavrov arrived.", "Lavrov said little.")
    first = out[0][0]
    assert (first.text, first.country, first.sector, first.entity_key) == (
        "Russian Foreign Minister Sergei Lavrov", "RUS", "GOV", "person:lavrov")
    assert out[1][0].entity_key == "person:lavrov"
    assert reg.entities["person:lavrov"].count == 2


def test_unknown_person_recognised_by_title_and_appositive() -> None:
    _reg, out = actors("Turkish presidential spokesperson Ibrahim Kalin spoke.",
                      "Jane Doerty, the Canadian foreign minister, arrived.", "Doerty left.")
    assert out[0][0].country == "TUR" and out[0][0].kind == "person"
    jane = out[1][0]
    assert jane.entity_key == "person:jane_doerty" and jane.country == "CAN" and jane.sector == "GOV"
    assert out[2][0].entity_key == "person:jane_doerty"


def test_coordination_shares_the_head_role() -> None:
    _, out = actors("Senior Hungarian and Romanian officials agreed.")
    assert [(a.country, a.sector) for a in out[0]] == [("HUN", "GOV"), ("ROU", "GOV")]
    assert out[0][0].group == out[0][1].group


def test_only_a_shared_role_word_passes_its_sector_along_a_coordination() -> None:
    _, out = actors("Chinese, Russian and Iranian troops held drills.")
    assert [(a.country, a.sector) for a in out[0]] == [("CHN", "MIL"), ("RUS", "MIL"), ("IRN", "MIL")]
    # a group's sector is its own: the country before it is not made a rebel group
    _, out = actors("Norway offered to mediate between Sri Lanka and the Tamil Tigers.")
    assert [(a.text, a.country, a.sector) for a in out[0]] == [
        ("Norway", "NOR", None), ("Sri Lanka", "LKA", None), ("Tamil Tigers", "LKA", "REB")]
    _, out = actors("India met Sri Lanka and the Taliban.")
    assert [a.sector for a in out[0]] == [None, None, "REB"]


def test_headline_capitals_are_not_people() -> None:
    _, out = actors("UK Foreign Secretary Hopes Russia, China Will Act as One")
    assert all(a.kind != "person" for a in out[0])


def test_a_country_entity_is_named_by_its_common_name_not_a_region() -> None:
    from extractors.events import enrich
    got = enrich("Russia and China met.", article_id="a", published_at=None)
    assert {e.entity_id: e.name for e in got.entities} == {"RUS": "Russia", "CHN": "China"}


def test_a_bodys_office_holder_is_one_actor_without_a_guessed_country() -> None:
    from extractors.events import code_document
    ev = code_document("U.N. Secretary-General Kofi Annan said he will withdraw weapons inspectors from Iraq.")[0]
    assert ev["actors"] == [{"text": "U.N. Secretary-General Kofi Annan", "country": None, "sector": "IGO"}]


def test_capitalised_modifiers_and_a_role_holder_in_apposition() -> None:
    _, (first, second) = actors("Iraqi Kurdish officials rejected the plan.",
                                "Ghana's president, John Mahama, criticised the lenders.")
    assert [(a.text, a.country, a.sector) for a in first] == [("Iraqi Kurdish officials", "IRQ", "GOV")]
    assert [(a.text, a.country, a.kind) for a in second] == [("Ghana's president, John Mahama", "GHA", "person")]


def test_an_elided_bearing_names_a_country_of_its_own() -> None:
    from extractors.events import code_document
    ev = code_document("North and South Korea agreed to resume talks on Monday.", None)[0]
    assert [a["country"] for a in ev["actors"]] == ["PRK", "KOR"]
    # a bearing before "and" that names no country with the rest stays a word
    ev = code_document("Troops moved north and South Korea protested.", None)[0]
    assert [a["country"] for a in ev["actors"]] == ["KOR"]


def test_appositive_role_test_agrees_with_its_regex_on_cased_and_non_ascii_text() -> None:
    """The cheap role-word test in front of ``_APPOSITIVE_ROLE`` must never turn a match away: the
    regex is case-blind, and in Unicode that pairs "ſ" (long s) with "s" and "İ" with "i", which
    lower-casing does not."""
    from extractors.events.entities import _APPOSITIVE_ROLE, _appositive_role

    afters = [", the Chinese Foreign Minister, said", ", a SENIOR OFFICIAL, said", ", who spoke on Monday,",
              ", the ſpokesman for the army", ", the MİNİSTER of oil", ", Kenya’s envoy, said",
              ", ’the chief’ of staff", ", and then he left", " said on Monday", ", the CHİEF of staff"]
    got = [_appositive_role(a) for a in afters]
    assert got == [_APPOSITIVE_ROLE.match(a) is not None for a in afters]
    assert got == [True, True, False, True, True, True, True, False, False, True]


def test_recognised_names_after_titles_roles_appositives_and_speech_verbs() -> None:
    reg, out = actors("Talks ended when Mr. Okonkwo left.", "Ministers met, and spokesperson Ibrahim Kalin spoke.",
                      "Later Musalia, the Kenyan foreign minister, arrived.", "Then Assimi Goita said no.",
                      "Paris agreed, Berlin did not.", "Okonkwo returned.")
    people = {m.text for m in reg.mentions if m.entity_key.startswith("person:")}
    assert people == {"Okonkwo", "Ibrahim Kalin", "Musalia", "Assimi Goita"}
    assert [a.text for a in out[5]] == ["Okonkwo"]


def test_letters_case_blind_regexes_pair_with_ascii_that_lower_casing_does_not() -> None:
    """``_CASE_BLIND_ODD`` must hold every such letter, or a role word written with one would be
    missed by the cheap tests in front of ``_APPOSITIVE_ROLE``."""
    import re

    from extractors.events.entities import _CASE_BLIND_ODD, _ROLE_STEMS

    letters = "".join(sorted(set("".join(_ROLE_STEMS))))
    blind = re.compile(f"[{letters}]", re.I)
    odd = {c for c in map(chr, range(0x80, 0x110000)) if blind.fullmatch(c) and c.lower() not in letters}
    assert odd <= set(_CASE_BLIND_ODD)


def test_names_before_roles_spelt_with_letters_lower_casing_does_not_fold() -> None:
    reg, _ = actors("Later Musalia, the ſpokesman, arrived.", "Then Wanjiku, the MİNİSTER of oil, left.",
                    "Then Kamau, the minister of oil, left.")
    people = [m.text for m in reg.mentions if m.entity_key.startswith("person:")]
    assert people == ["Musalia", "Wanjiku", "Kamau"]


def test_gazetteer_pieces_of_a_text_match_as_each_piece_alone() -> None:
    """``find_pieces`` reads the whole text once; each piece must get exactly what ``find`` gives
    it alone: nothing that runs over its ends, word boundaries at its ends, stems cut at its end."""
    import random
    from itertools import pairwise

    gaz = load()
    words = ["Russia", "Russians", "UN", "US", "Us", "the", "NATO", "-", "China", "ese", "Iran.", "al-Qaeda",
             "police", "officials", "Kabul", "Σ", "İran", "United", "States", "s", ",", " ", "  ", "\n"]
    rng = random.Random(5)
    for _ in range(400):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 30)))
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(2, 8))))
        pieces = [(a, b) for a, b in pairwise(cuts) if rng.random() < 0.8]
        assert gaz.find_pieces(text, pieces) == [gaz.find(text[a:b]) for a, b in pieces], (text, pieces)
