"""The line cleaner removes boilerplate lines and keeps every line of the story."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.content.cleaner import caption_stamp_date, classify, clean_text, is_caption_line

STORY = [
    "The city council approved the new budget on Tuesday after a debate that lasted most of the evening.",
    '"This budget protects the services people rely on every day," the mayor said after the vote.',
    "Opposition members argued that the plan relied on optimistic forecasts for property tax income.",
    "What comes next",
    "The budget now goes to the regional authority, which has six weeks to raise any objections.",
    "Officials expect the first new spending to reach schools and libraries in the autumn.",
]


def _story_with(
    *, top: list[str] | None = None, middle: list[str] | None = None, tail: list[str] | None = None
) -> str:
    lines = [*(top or []), *STORY[:3], *(middle or []), *STORY[3:], *(tail or [])]
    return "\n".join(lines)


def _assert_story_kept(cleaned: str) -> None:
    for line in STORY:
        assert line in cleaned.split("\n"), f"story line lost: {line!r}"


BOILERPLATE_LINES = [
    # calls to action and account prompts
    "Subscribe",
    "Sign up for our weekly newsletter and never miss a story.",
    "Get the Daily Briefing newsletter delivered straight to your inbox.",
    "Spread the love",
    "log in or register",
    "To participate in the discussion",
    "Share this article",
    "Follow us on Instagram",
    "Download our app for iOS and Android to get breaking news alerts.",
    # comment forms
    "Leave a Reply",
    "Your email address will not be published. Required fields are marked *",
    "Comments are closed for this article.",
    "12 comments",
    # consent, ads, disclaimers
    "We use cookies to give you the best experience. By continuing to use this site you agree to our cookie policy.",
    "We use your sign-up to provide content in ways you've consented to. You can unsubscribe at any time.",
    "Advertisement",
    "Post Disclaimer",
    "The views expressed in this column are the author's own and do not necessarily reflect those of the paper.",
    "Source: Read Full Article",
    "This article contains affiliate links; we may earn a commission on purchases.",
    # lead-ins to other stories
    "READ MORE: Mayor promises review of parking charges",
    "Read also: Ten things to do this weekend",
    "Lesen Sie auch: Neue Buslinie ab Juni",
    "Lea también: El gobierno anuncia nuevas medidas",
    # captions and credits
    "© Reuters 2022 / John Doe",
    "Picture: The town hall at night (Council handout)",
    "Photo: AFP / Jane Roe",
    "Councillors arrive for the vote on Tuesday evening. (Photo by Sam Lee / AFP)",
    "The old market hall before the renovation - City Gazette, 1920, 14.03.2022",
    "Credit: Harbour Images",
    # lone interface words
    "Newsfeed",
    "0",
    "loader",
]


@pytest.mark.parametrize("noise", BOILERPLATE_LINES)
def test_boilerplate_line_is_removed_and_story_kept(noise: str) -> None:
    cleaned = clean_text(_story_with(middle=[noise]))
    assert noise not in cleaned
    _assert_story_kept(cleaned)


def test_related_block_with_repeated_teasers_is_removed() -> None:
    tail = [
        "Related articles",
        "Editor's choice",
        "Politics",
        "Regional parliament debates new transport strategy",
        "Regional parliament debates new transport strategy",
        "Members spent three hours on the plan, which would double the number of bus lanes by 2030.",
        "Most read",
        "Council tax bills to rise by four per cent",
        "Council tax bills to rise by four per cent",
        "Households in the region will pay on average sixty pounds more next year.",
    ]
    cleaned = clean_text(_story_with(tail=tail))
    for line in tail:
        assert line not in cleaned
    _assert_story_kept(cleaned)


def test_teaser_pairs_without_a_heading_are_removed() -> None:
    tail = [
        "Sport",
        "Local club wins regional title after dramatic final",
        "Local club wins regional title after dramatic final",
        "The underdogs held on in extra time to lift the trophy.",
        "Business",
        "Harbour expansion plan faces fresh delays",
        "Harbour expansion plan faces fresh delays",
        "Officials said the tender would be reissued next spring.",
    ]
    cleaned = clean_text(_story_with(tail=tail), text_mode=True)
    for line in tail:
        assert line not in cleaned
    _assert_story_kept(cleaned)


def test_inline_teaser_card_after_a_stamped_caption_is_removed() -> None:
    card = [
        "Protesters outside the ministry - Daily Ledger, 1280, 02.03.2022",
        "Economy",
        "Unions threaten strike over pension reform",
    ]
    cleaned = clean_text(_story_with(middle=card))
    for line in card:
        assert line not in cleaned
    # the story's own sub-heading after the card survives
    assert "What comes next" in cleaned
    _assert_story_kept(cleaned)


def test_line_in_another_script_outside_the_story_is_removed() -> None:
    cleaned = clean_text(_story_with(tail=["Заголовок открываемого материала"]))
    assert "Заголовок" not in cleaned
    _assert_story_kept(cleaned)


def test_foreign_script_inside_the_story_and_bilingual_pages_are_kept() -> None:
    quote = 'The banner read "Слава героям" in large letters, according to witnesses at the scene.'
    cleaned = clean_text(_story_with(middle=[quote, "Слава героям"]))
    assert quote in cleaned
    assert "Слава героям\n" in cleaned or cleaned.endswith("Слава героям")
    bilingual = "\n".join(
        [
            "Line one of the song",
            "第一行歌词",
            "Line two of the song",
            "第二行歌词",
            "第三行歌词",
            "第四行歌词",
        ]
        * 3
    )
    assert "第一行歌词" in clean_text(bilingual)


def test_story_text_that_mentions_boilerplate_words_is_kept() -> None:
    keep = [
        "The regulator fined the retailer because its website uses cookies without asking visitors, "
        "a practice banned since 2021.",
        "Readers of the union's newsletter were told last month that the strike would go ahead unless "
        "the company improved its offer, according to a copy seen by this newspaper, which also showed "
        "that members had voted overwhelmingly to reject the previous proposal in a ballot held in March.",
        "The minister told reporters the decision had been taken after weeks of talks. (dpa)",
        '"Subscribe to our channel," the singer urged fans in a video that has since been viewed '
        "millions of times, before announcing a farewell tour of twelve cities across the country.",
    ]
    cleaned = clean_text(_story_with(middle=keep))
    for line in keep:
        assert line in cleaned
    _assert_story_kept(cleaned)


def test_credit_glued_to_a_long_paragraph_is_cut_but_the_paragraph_kept() -> None:
    paragraph = (
        "The review, published on Monday, found that the service had missed its own targets in nine of "
        "the last twelve months, that complaints had doubled since the new timetable was introduced, and "
        "that staff shortages at two depots were the main cause of cancellations, a conclusion the "
        "operator said it accepted in full while promising a recovery plan within weeks. © Jane Roe"
    )
    cleaned = clean_text(_story_with(middle=[paragraph]))
    assert "© Jane Roe" not in cleaned
    assert paragraph.removesuffix(" © Jane Roe") in cleaned


def test_title_echo_is_removed_in_text_mode_only() -> None:
    title = "Council approves budget after long debate"
    text = _story_with(middle=[title])
    assert title not in clean_text(text, title=title, text_mode=True)
    assert title in clean_text(text, title=title)


def test_trailing_widget_residue_is_removed_in_text_mode() -> None:
    cleaned = clean_text(_story_with(tail=["Chats", "Have your say", "Comments (12)"]), text_mode=True)
    assert cleaned.split("\n")[-1] == STORY[-1]


def test_paragraph_separators_are_preserved() -> None:
    blank = "\n\n".join(["Subscribe", *STORY, "Advertisement"])
    assert clean_text(blank) == "\n\n".join(STORY)
    single = "\n".join(["Subscribe", *STORY, "Advertisement"])
    assert clean_text(single) == "\n".join(STORY)


def test_classify_reports_reasons() -> None:
    verdicts = classify(_story_with(middle=["READ MORE: Something else entirely"]))
    reasons = {v.text: v.reason for v in verdicts}
    assert reasons["READ MORE: Something else entirely"] == "read_more"
    assert all(reasons[line] is None for line in STORY)


def test_caption_helpers() -> None:
    assert caption_stamp_date("A vendor in Kabul - Example News, 1920, 22.09.2021") == (22, 9, 2021)
    assert caption_stamp_date("No stamp here.") is None
    assert is_caption_line("Photo: AFP / Giuseppe Cacace")
    assert not is_caption_line(STORY[0])


def test_empty_and_whitespace_input() -> None:
    assert clean_text("") == ""
    assert clean_text(" \n\n \t") == ""


def test_cleaner_is_linear_on_long_documents() -> None:
    text = "\n".join(STORY * 800 + ["Subscribe", "Related articles", "Some other headline here"] * 50)
    started = time.perf_counter()
    cleaned = clean_text(text)
    assert time.perf_counter() - started < 2.0
    assert STORY[0] in cleaned and "Related articles" not in cleaned


_sentence = st.lists(
    st.text(alphabet=st.characters(categories=("Ll", "Lu", "Nd")), min_size=1, max_size=12),
    min_size=1,
    max_size=40,
).map(lambda words: " ".join(words))


@settings(max_examples=150, deadline=None)
@given(st.lists(_sentence, min_size=1, max_size=30))
def test_output_is_an_ordered_subset_of_input_lines(lines: list[str]) -> None:
    """The cleaner only removes (or trims the end of) lines: it never invents or reorders text
    (apart from Unicode NFC normalisation)."""
    cleaned = [line for line in clean_text("\n".join(lines)).split("\n") if line]
    source = [unicodedata.normalize("NFC", line).strip() for line in lines if line.strip()]
    pos = 0
    for out in cleaned:
        while pos < len(source) and not source[pos].startswith(out):
            pos += 1
        assert pos < len(source), f"{out!r} is not an input line"
        pos += 1
