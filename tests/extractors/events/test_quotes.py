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
