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


def test_word_before_a_full_stop_is_the_trailing_letters_and_dots_from_a_letter() -> None:
    import random
    import re

    from extractors.events.sentences import ABBREVIATIONS, _is_abbreviation

    def by_regex(text: str, dot: int) -> bool:  # the definition: the scan must agree with it
        m = re.search(r"([A-Za-z][A-Za-z.]*)$", text[:dot])
        word = m.group(1).lower().rstrip(".") if m else ""
        return bool(m) and (len(word) == 1 or word in ABBREVIATIONS)

    rng = random.Random(7)
    pieces = ["U", "S", "u.s", ".", "..", " ", "Mr", "Gen", "e.g", "x", "7", "-", "’", "Dr", "abc"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))) + "."
        assert _is_abbreviation(text, len(text) - 1) == by_regex(text, len(text) - 1), text


def test_tokens_tile_the_non_space_characters_with_their_offsets() -> None:
    import random

    rng = random.Random(11)
    pieces = ["U.S.", "5.1", "1,000", "Russia’s", "al-Qaeda", "é", "Σ", "İ", "“", "”", ".", ",", "—", " ", "  ",
              "\t", "\u00a0", "x", "Mr.", "a.m.", "'", "-", "(", "1", "ab"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        toks = tokens(text)
        assert all(text[t.start:t.end] == t.text for t in toks), text
        assert all(t.lower == t.text.lower().replace("’", "'") for t in toks)
        assert "".join(t.text for t in toks) == "".join(text.split()), text
