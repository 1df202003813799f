"""The one text policy: control characters, plain text from markup, case-insensitive de-duplication."""

from __future__ import annotations

import pytest

from extractors.normalize.text import one_line, plain_text, strip_controls, unique_casefold


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("a\r\nb\rc", "a\nb\nc"),  # line breaks become \n
        ("tab\tand\nnewline", "tab\tand\nnewline"),  # kept
        ("a\x0bb\x0cc", "a b c"),  # vertical tab, form feed: a space
        ("nul\x00 bell\x07 esc\x1b del\x7f", "nul bell esc del"),
        ("it\x92s \x93quoted\x94", "it\u2019s \u201cquoted\u201d"),  # C1 read as cp1252
        ("gap\x81\x8d\x8f\x90\x9d", "gap"),  # C1 bytes cp1252 leaves undefined
        ("lone \ud800 surrogate", "lone  surrogate"),
        ("non\ufdd0char\ufffe\uffff", "nonchar"),
    ],
)
def test_strip_controls(raw: str, expected: str) -> None:
    assert strip_controls(raw) == expected


def test_strip_controls_returns_clean_text_unchanged() -> None:
    text = "Grüße — «quoted» 東京"
    assert strip_controls(text) is text


def test_plain_text_keeps_non_markup_angle_brackets_and_ampersands() -> None:
    assert plain_text("5 < 6 & 7 > 3") == "5 < 6 & 7 > 3"
    assert plain_text("AT&T, R&D, &param=1") == "AT&T, R&D, &param=1"
    assert plain_text("<p>one</p><p>two</p>", multiline=True) == "one\ntwo"
    assert plain_text("<p>one</p><p>two</p>") == "one two"
    assert plain_text("a\u00a0\u2003b\n\n c") == "a b c"


# --------------------------------------------------------------------------- feeds.yaml


def test_plain_text_unescapes_double_escaped_markup_and_strips_scripts() -> None:
    assert plain_text("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; text") == "bold text"
    assert plain_text("<p>keep</p><script>alert(1)</script>") == "keep"
    assert plain_text(None) == ""
    assert plain_text("ctl\x00 \x92s") == "ctl \u2019s"


def test_unique_casefold_keeps_first_spelling_and_drops_empty() -> None:
    assert unique_casefold(["Ann Lee", "", "ann lee", "Bo", "BO", "Cy"]) == ["Ann Lee", "Bo", "Cy"]


def test_one_line_collapses_and_cuts() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 10, limit=5) == "xxxx…"
