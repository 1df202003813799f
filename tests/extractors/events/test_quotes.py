from datetime import UTC, datetime

from extractors.events import enrich

PUB = datetime(2021, 9, 22, tzinfo=UTC)


def quotes(text: str):
    return enrich(text, article_id="q", published_at=PUB).quotes


def test_direct_quote_after_and_before_the_cue() -> None:
    text = ("UK Foreign Secretary Liz Truss arrived.\n"
            "“We must act as one with our partners,” Truss said.\n"
            "Russian Foreign Minister Sergei Lavrov stated, \"The plans of the group are of concern.\"\n")
    got = quotes(text)
    assert [(q.kind, q.speaker_entity_id, q.cue) for q in got] == [
        ("direct", "person:truss", "said"), ("direct", "person:lavrov", "stated")]
    assert text[got[0].start:got[0].end] == "We must act as one with our partners,"
    assert got[0].speaker_country == "GBR"


def test_pronoun_speaker_and_scare_quotes() -> None:
    text = ("Russian President Vladimir Putin spoke in Dushanbe.\n"
            "“Afghanistan must not become a haven for terrorists,” he added.\n"
            "China calls it a “cautious alliance”.\n")
    got = quotes(text)
    assert len(got) == 1 and got[0].speaker_entity_id == "person:putin" and got[0].cue == "added"


def test_indirect_quote_needs_a_known_speaker() -> None:
    text = ("Turkish presidential spokesperson Ibrahim Kalin said in a statement late on Wednesday that "
            "positive steps had been taken.\nThe report said that nothing had changed.\n")
    got = quotes(text)
    assert [(q.kind, q.speaker_entity_id) for q in got] == [("indirect", "person:kalin")]
    assert got[0].text == "positive steps had been taken"


def test_a_quote_running_into_the_next_paragraph_goes_on_from_the_paragraphs_cue() -> None:
    text = ("Kaja Kallas underlined that the union would stay engaged. \"Of course, we will have to take "
            "the situation into account, but leaving is not an option.\nThe talks go on.\n")
    got = quotes(text)
    direct = [q for q in got if q.kind == "direct"]
    assert len(direct) == 1 and direct[0].text.startswith("Of course, we will have to take")
    assert direct[0].speaker_entity_id == "person:kallas"
    assert text[direct[0].start:direct[0].end].endswith("not an option.")


def test_a_partial_quote_belongs_to_the_subject_and_he_said_to_the_speaker_just_before() -> None:
    text = ("Secretary of State Antony Blinken met Foreign Minister Mevlut Cavusoglu.\n"
            "Cavusoglu, for his part, thanked Blinken \"for the excellent cooperation on Afghanistan.\"\n"
            "\"Of course, we will continue working on Afghanistan together,\" he said.\n")
    got = [q for q in quotes(text) if q.kind == "direct"]
    assert [q.speaker_entity_id for q in got] == ["person:cavusoglu", "person:cavusoglu"]


def test_cue_prefilter_never_hides_a_cue_the_sentence_scan_finds() -> None:
    """The whole-text cue search that lets sentences without a cue skip the indirect-speech scan
    must find (at least) every cue the per-sentence regex finds, whatever the case or script."""
    import random

    from extractors.events.quotes import _CUE, _CUE_WORDS, _cue_positions

    rng = random.Random(7)
    pieces = [*_CUE_WORDS, "SAID", "Said", "sAiD", "essay", "İstanbul", "ß", "Lavrov", "the", ",", ".", "“", "\n"]
    checked = 0
    for _ in range(500):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        found = _cue_positions(text)
        if found is None:  # lower-casing changed the length: the caller scans every sentence
            assert len(text.lower()) != len(text)
            continue
        assert {m.start() for m in _CUE.finditer(text)} <= set(found), text
        checked += 1
    assert checked > 100


def test_an_appositive_speaker_after_the_quote() -> None:
    got = quotes("“We will not accept this kind of pressure,” the EU foreign policy chief, Kaja Kallas, said.\n"
                 "“The talks were useful and frank,” said Kenya's foreign minister, Musalia Mudavadi.\n"
                 "“The talks were useful and frank,” said Mudavadi, who arrived on Monday.\n")
    assert got[0].speaker_entity_id == "person:kallas" and got[0].cue == "said"
    assert got[1].speaker_country == "KEN"
    assert got[2].speaker_text == "Mudavadi"  # a relative clause is not part of the speaker
