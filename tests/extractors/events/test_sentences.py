from extractors.events.sentences import split_sentences, tokens


def test_splits_on_full_stops_but_not_abbreviations_or_initials() -> None:
    text = "Mr. Lavrov met U.S. officials on Jan. 5. George W. Bush said no. “It works,” she said.\nNew line"
    got = [s.text for s in split_sentences(text)]
    assert got == ["Mr. Lavrov met U.S. officials on Jan. 5.", "George W. Bush said no.",
                   "“It works,” she said.", "New line"]


def test_offsets_point_into_the_text() -> None:
    text = "  China hosted talks.  Russia agreed!\n\nIran refused?"
    for s in split_sentences(text):
        assert text[s.start:s.end] == s.text
    assert [s.index for s in split_sentences(text)] == [0, 1, 2]


def test_tokens_keep_decimals_abbreviations_and_possessives() -> None:
    words = [t.text for t in tokens("The U.S. gave 5.1 million to Russia’s ally.")]
    assert words == ["The", "U.S.", "gave", "5.1", "million", "to", "Russia’s", "ally", "."]
