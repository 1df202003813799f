"""Plain-text dumps: the bundled seed archive and dumps written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.content.textdump import extract_text_dump, split_title_byline
from schemas.records import ExtractedDoc

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "data" / "seed_archive"
DUMPS = Path(__file__).resolve().parents[2] / "fixtures" / "text_dumps"


def _seed(prefix: str) -> ExtractedDoc:
    matches = sorted(SEED.glob(f"{prefix}_*.txt"))
    assert len(matches) == 1, f"seed file {prefix} missing from {SEED}"
    return extract_text_dump(matches[0].read_text(encoding="utf-8"), tolerance_hours=24.0)


def _dump(name: str) -> ExtractedDoc:
    return extract_text_dump((DUMPS / name).read_text(encoding="utf-8"), tolerance_hours=24.0)


def _paragraphs(doc: ExtractedDoc) -> list[str]:
    return doc.text.split("\n\n")


def _assert_kept(doc: ExtractedDoc, sentences: list[str]) -> None:
    for sentence in sentences:
        assert sentence in doc.text, f"story text lost: {sentence!r}"


def _assert_gone(doc: ExtractedDoc, fragments: list[str]) -> None:
    for fragment in fragments:
        assert fragment not in doc.text, f"boilerplate left: {fragment!r}"


# Lines of the seed files that are the sites' furniture, not the story.
SEED_BOILERPLATE = [
    "Subscribe",
    "Spread the love",
    "log in or register",
    "To participate in the discussion",
    "READ MORE",
    "Related articles",
    "Popular",
    "Editor's choice",
    "Source: Read Full Article",
    "Leave a Reply",
    "Your email address will not be published",
    "We use your sign-up",
    "Post Disclaimer",
    "Views expressed by writers",
    "© AFP",
    "Sputnik International, 1920",
    "Picture: Pakistani Foreign Minister",
    "(Photo by",
    "Photo: AFP / Giuseppe Cacace",
    "Editorial use only",
    "Newsfeed",
    "loader",
    "Chats",
    "Заголовок",
    "New ‘Storytelling’ in Skripal",  # teaser card headline
    "Kremlin Concerned Over Raab's Statement",  # teaser card headline
    "Russia 'Keeps Powder Dry'",  # teaser card headline
    "Borrell tells the European Parliament",  # related teaser
    "Turkey holds delicate talks with Sweden and Finland",  # popular teaser
    "Senior Turkish officials have met",  # teaser blurb
]


# Story lines of the seed files that must survive (per file).
SEED_STORY: dict[str, list[str]] = {
    "000": [
        "The US-led coalition in Afghanistan, of which Britain was a part, withdrew from the country last month",
        "UK Foreign Secretary Liz Truss will be asking Russia and China to join together",
        "“If we want to avoid Afghanistan becoming a haven for global terror then the international community",
        "Truss, the UK’s newly-minted top diplomat, made her way to New York on Sunday",
        "Britain is currently in charge of coordinating the P5 group",
        "“My visit to the UN is the start of an autumn where Global Britain leads the way on the world stage,”",
        "Truss took over as foreign secretary last week after Johnson reshuffled Dominic Raab",
        "Russia and China Step Into Afghan ‘Pandora’s Box’ Following US Exit",  # sub-heading
        "Both Russia and China have taken steps to establish diplomatic contacts with the Taliban",
        "Moscow, mindful of security considerations along its southern borders with Central Asia",
        "China pledged to provide Afghanistan with 200 million yuan ($31 million)",
        "Last week, at a meeting of the China and Russia-led Shanghai Cooperation Organisation",
        "During the same meeting, in a joint speech to the SCO and Collective Security Treaty Organisation",
        "According to Putin, the US and its NATO allies “left behind an open Pandora’s box",
        "“We are extremely interested in seeing Afghanistan assert itself as an independent",
    ],
    "001": [
        "China last week hosted a conference on Afghanistan in the Eastern province of Anhui.",
        "Since the withdrawal of American troops from Afghanistan in August last year",
        "Russia has also strengthened links with the Taliban regime.",
        "An explanation for Beijing and Moscow’s push to reinforce relations with the Taliban",
        "The ISKP, the Islamic State chapter active in Afghanistan and Central Asia",
        "Beijing and Moscow hope that a strengthened Taliban will ensure stability in the region",
        "By taking steps unilaterally to establish relations they are clearly indicating",
    ],
    "002": [
        "US and Turkey’s top diplomats have said they would continue to work on Afghanistan",
        '"We’re so grateful to Turkey for its very strong partnership in Afghanistan',
        '"And Turkey and the United States stand together as strong partners and NATO Allies',
        'Cavusoglu, for his part, thanked Blinken "for the excellent cooperation on Afghanistan, in many areas."',
        '"Of course, we will continue working on Afghanistan together',
        "UK calls on China, Russia to agree Afghanistan strategy",  # sub-heading
        "Britain will call for China and Russia to agree a coordinated international approach",
        "Foreign ministers from Britain, China, Russia, the United States and France will meet",
        "Britain, which is currently coordinating the so-called P5 group",
        "The Taliban's rapid takeover of Afghanistan following the withdrawal of United States",
        '"If we want to avoid Afghanistan becoming a haven for global terror then the international community',
        "The Taliban have promised they will not let Afghanistan, where Osama bin Laden plotted",
    ],
    "003": [
        "When Russian Foreign Minister Sergey Lavrov landed this month in Pakistan",
        "While Lavrov’s overt mission was to court Pakistan’s support",
        "Lavrov arrived in Islamabad with a bag of promises",
        "Whether Pakistan will support a Russia-sponsored political settlement in Afghanistan",
        "In exchange, the Taliban agreed to eliminate any al Qaeda remnants",
        "With the deadline for America’s withdrawal fast approaching",
        "The US is now actively seeking to leverage Turkey’s known influence",
        "Both Russia and China are opposed to an open-ended US military presence in Afghanistan",
        "Specifically, America’s military presence in Afghanistan is seen as a stumbling block",
        "Chinese diplomatic officials have recently claimed in press briefings",
        "Stability in Xinjiang is crucial for the BRI’s success.",
        "With Turkey’s inclusion in the Afghanistan stakes",
        "Turkey has recently adopted a tough approach to China’s mistreatment of Uighur Muslims",
        "With Turkey already supporting jihadi elements in Syria",
        "They both no doubt fear Turkey’s possible deployment of these Islamist militias",
    ],
    "004": [
        "Both China and Russia have been at loggerheads with the West",
        "Earlier this week, the Taliban’s spokesman claimed China and Russia are supporting the new regime",
        "Suhail Shaheen was asked on Sky News",
        "The spokesman went on to add: “We are getting political support from China and also Russia.”",
        "Barbara Kelemen, associate and the lead intelligence analyst for Asia",
        "“China has a long-standing relationship with the group",
        "“We anticipate this strategy to continue",
        "When asked how damaging the withdrawal of US troops from Afghanistan had been",
        "“Geopolitically, we will see the US lose influence",
        "But Ms Kelemen said it could be at least six months",
        "She believes this involvement could in fact come “indirectly”",
        "The security intelligence expert concluded:",
        "“Russia will use its channels through Central Asian countries to do the same.”",
    ],
}


@pytest.fixture(scope="module")
def seed_docs() -> dict[str, ExtractedDoc]:
    return {prefix: _seed(prefix) for prefix in ("000", "001", "002", "003", "004")}


def test_seed_titles_and_bylines(seed_docs: dict[str, ExtractedDoc]) -> None:
    for prefix, doc in seed_docs.items():
        first_line = (
            next(p for p in SEED.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8").split("\n")[0].strip()
        )
        if prefix == "003":
            assert doc.title == "Why Russia suddenly wants an ally in Pakistan"
            assert doc.authors == ["Salman Rafi Sheikh"]
        else:
            assert doc.title == first_line
    assert (
        seed_docs["000"].title
        == "UK Foreign Secretary Hopes Russia, China Will ‘Act as One’ in Engaging With Taliban"
    )


def test_seed_dates_only_where_stated(seed_docs: dict[str, ExtractedDoc]) -> None:
    assert seed_docs["000"].published_at == datetime(2021, 9, 22, tzinfo=UTC)  # lead caption stamp
    assert seed_docs["003"].published_at == datetime(2021, 4, 7, tzinfo=UTC)  # dotted = day first
    for prefix in ("000", "003"):
        assert seed_docs[prefix].published_at_source == "text"
    for prefix in ("001", "002", "004"):
        assert seed_docs[prefix].published_at is None
        assert seed_docs[prefix].published_at_source is None


def test_seed_language_and_layout(seed_docs: dict[str, ExtractedDoc]) -> None:
    for doc in seed_docs.values():
        assert doc.language == "en"
        paragraphs = _paragraphs(doc)
        assert len(paragraphs) >= 5
        assert all(p and p == p.strip() and "\n" not in p for p in paragraphs)


def test_seed_boilerplate_removed(seed_docs: dict[str, ExtractedDoc]) -> None:
    for doc in seed_docs.values():
        _assert_gone(doc, SEED_BOILERPLATE)
        assert doc.text.count("If we want to avoid Afghanistan") <= 1


def test_seed_000_story_kept(seed_docs: dict[str, ExtractedDoc]) -> None:
    doc = seed_docs["000"]
    _assert_kept(doc, SEED_STORY["000"])


def test_seed_001_story_kept(seed_docs: dict[str, ExtractedDoc]) -> None:
    _assert_kept(seed_docs["001"], SEED_STORY["001"])


def test_seed_002_story_kept_with_its_subheading_and_standfirst(seed_docs: dict[str, ExtractedDoc]) -> None:
    doc = seed_docs["002"]
    assert doc.summary is not None and doc.summary.startswith(
        "Turkey and the US agree to continue strong partnership"
    )
    _assert_kept(doc, SEED_STORY["002"])


def test_wire_quote_shared_by_two_files_is_kept_in_both(seed_docs: dict[str, ExtractedDoc]) -> None:
    """Wire copy is shared between outlets: a line seen in two files is not boilerplate."""
    shared = "needs to act as one in its engagement with the Taliban"
    assert shared in seed_docs["000"].text
    assert shared in seed_docs["002"].text


def test_seed_003_story_kept(seed_docs: dict[str, ExtractedDoc]) -> None:
    doc = seed_docs["003"]
    assert doc.summary == (
        "Russia seeks Pakistan’s support for its Afghan peace initiative but US and Turkey may beat Moscow "
        "to the geopolitical punch"
    )
    assert doc.summary not in doc.text
    _assert_kept(doc, SEED_STORY["003"])
    _assert_gone(doc, ["In this handout photo", "(L to R)", "Then-US Special Representative", "Disclaimer"])


def test_seed_004_story_kept(seed_docs: dict[str, ExtractedDoc]) -> None:
    doc = seed_docs["004"]
    assert doc.summary == "Taliban 'receiving Russia and China's support' says Shaheen"
    _assert_kept(doc, SEED_STORY["004"])


# --- dumps written for these tests: other wording, other positions --------------------------


def test_harbour_dump() -> None:
    doc = _dump("harbour_pier.txt")
    assert doc.title == "Harbour town votes to restore Victorian pier after decade of neglect"
    assert doc.authors == ["Martha Kelly-Owens"]
    assert doc.published_at == datetime(2023, 3, 14, tzinfo=UTC)
    assert doc.published_at_source == "text"
    assert doc.summary == (
        "Councillors back a four million pound rescue plan as campaigners celebrate the end of a long fight"
    )
    _assert_kept(
        doc,
        [
            "The council in Porthcarrow voted on Tuesday night to restore the town's Victorian pier",
            "Members approved the plan by 23 votes to four",
            '"We have waited a long time for this," said Jenny Marsh',
            "The restoration will replace the rotten timber deck",
            "What happens next",
            "Contractors will be invited to bid for the work in the spring",
            "Not everyone is convinced.",
            '"I want this pier to survive as much as anyone, but we must be honest about the risks," he said.',
            "The council said a contingency fund had been set aside",
        ],
    )
    _assert_gone(
        doc,
        [
            "Share this article",
            "Published 14 March",
            "Photo: Tom Aldridge",
            "The pier at low tide",
            "morning briefing",
            "Sign up",
            "Have your say",
            "Comments are closed",
            "More from Coast and Country",
            "Fishing fleet lands record mackerel catch",
            "Skippers say warmer waters",
            "Lifeboat crew honoured",
            "Three volunteers braved",
        ],
    )


def test_valley_rail_dump() -> None:
    doc = _dump("valley_rail.txt")
    assert doc.title == "Valley rail line to reopen for passengers after 40 years"
    assert doc.authors == []
    assert doc.published_at == datetime(2022, 2, 3, tzinfo=UTC)  # lead caption stamp, day first
    _assert_kept(
        doc,
        [
            "The railway line through the Morra valley will carry passengers again from next year",
            "Engineers have spent two years surveying the 18-kilometre route",
            '"This is a line that should never have closed," transport commissioner Aileen Brody told reporters',
            "The authority expects around 300,000 journeys a year",
            "Local businesses have welcomed the news.",
            "Residents will be consulted on the design of two new stops",
            "Consultation on the new stops",
            "The consultation opens next month and will run for eight weeks",
            '"We want the people who will use these trains every day to shape them," Brody said.',
        ],
    )
    _assert_gone(
        doc,
        [
            "Pictured:",
            "Northern Ledger",
            "Follow us on Telegram",
            "Bus drivers protest",
            "Economy",
            "Bus company warns of timetable cuts",
            "Comments (12)",
            "Trending now",
            "Storm warning issued",
            "Schools to stay open",
            "Town hall clock restored",
            "Διαβάστε",
        ],
    )


def test_german_dump() -> None:
    doc = _dump("radwege.txt")
    assert doc.title == "Stadtrat beschließt neues Radwegenetz für die Innenstadt"
    assert doc.authors == ["Anna Berger"]
    assert doc.published_at == datetime(2022, 5, 12, tzinfo=UTC)
    assert doc.language == "de"
    _assert_kept(
        doc,
        [
            "Der Stadtrat hat am Mittwochabend mit großer Mehrheit ein neues Radwegenetz",
            "Die Pläne sehen vor, mehrere Fahrspuren auf den Hauptstraßen in Radwege umzuwandeln.",
            "„Wir machen die Stadt sicherer für alle, die mit dem Rad unterwegs sind“, sagte Baudezernentin",
            "Kritik kam vom Einzelhandelsverband.",
            "Die ersten Abschnitte sollen bereits im Herbst gebaut werden.",
        ],
    )
    _assert_gone(
        doc,
        [
            "Von ANNA BERGER",
            "Veröffentlicht am",
            "Foto:",
            "Lesen Sie auch",
            "Anzeige",
            "Newsletter",
            "Teilen",
            "Kommentare",
            "Mehr zum Thema",
            "Parkgebühren in der Altstadt steigen",
        ],
    )


# --- units ----------------------------------------------------------------------------------


def test_split_title_byline() -> None:
    assert split_title_byline("Why the port matters By JANE ROE") == ("Why the port matters", ["Jane Roe"])
    assert split_title_byline("Why the port matters By Jane Roe and John Doe") == (
        "Why the port matters",
        ["Jane Roe", "John Doe"],
    )
    # "by" inside a headline is not a byline
    assert split_title_byline("Town shaken by storm damage") == ("Town shaken by storm damage", [])


def test_dates_are_only_taken_from_the_text() -> None:
    undated = "A quiet headline\n\n" + "\n\n".join(
        ["The committee met on Monday and agreed to continue its work on the new plan for the harbour."] * 3
    )
    doc = extract_text_dump(undated, tolerance_hours=24.0)
    assert doc.published_at is None and doc.published_at_source is None
    dated = "A quiet headline\n\n03.04.2022\n\n" + "\n\n".join(
        ["The committee met on Monday and agreed to continue its work on the new plan for the harbour."] * 3
    )
    assert extract_text_dump(dated, tolerance_hours=24.0).published_at == datetime(2022, 4, 3, tzinfo=UTC)
    written = "A quiet headline\nPublished: February 29, 2020\n" + "\n".join(
        ["The committee met on Monday and agreed to continue its work on the new plan for the harbour."] * 3
    )
    assert extract_text_dump(written, tolerance_hours=24.0).published_at == datetime(2020, 2, 29, tzinfo=UTC)


def test_dates_inside_later_captions_do_not_date_the_article() -> None:
    text = "\n".join(
        [
            "Talks resume on the border dispute",
            "Negotiators from both countries met again on Wednesday for the first time in a year, officials said.",
            "Delegates shake hands after signing an accord in Doha on February 29, 2020. (Photo by A. B. / AFP)",
            "The talks are expected to last three days and focus on trade routes and water rights.",
        ]
    )
    assert extract_text_dump(text, tolerance_hours=24.0).published_at is None


def test_future_or_impossible_dates_are_rejected() -> None:
    text = "Headline here now\n31.02.2021\nThe committee met on Monday and agreed to continue its work on the plan."
    assert extract_text_dump(text, tolerance_hours=24.0).published_at is None
    text = "Headline here now\n01.01.2199\nThe committee met on Monday and agreed to continue its work on the plan."
    assert extract_text_dump(text, tolerance_hours=24.0).published_at is None


def test_empty_dump() -> None:
    doc = extract_text_dump("\n\n  \n", tolerance_hours=24.0)
    assert doc.text == "" and doc.title is None


def test_crlf_bom_and_nul_are_handled() -> None:
    text = "\ufeffA headline for the test\r\n\r\nThe committee met on Monday and agreed to continue its work.\x00\r\n"
    doc = extract_text_dump(text, tolerance_hours=24.0)
    assert doc.title == "A headline for the test"
    assert doc.text == "The committee met on Monday and agreed to continue its work."


def test_menu_bar_above_the_story_and_byline_inside_it() -> None:
    text = "\n".join(
        [
            "Ferry fares frozen for islanders until next spring",
            "Home",
            "News",
            "Share",
            "By Jane Roe",
            "5 min read",
            "The ferry operator has agreed to freeze fares for island residents until next spring, the council said.",
            "The deal follows months of talks between councillors, the operator and the regional transport body.",
            '"This gives families certainty through the winter," said councillor Amy Ross.',
        ]
    )
    doc = extract_text_dump(text, tolerance_hours=24.0)
    assert doc.authors == ["Jane Roe"]
    assert doc.text.split("\n\n")[0].startswith("The ferry operator has agreed")
    for word in ("Home", "Share", "By Jane Roe", "5 min read"):
        assert word not in doc.text
    assert len(doc.text.split("\n\n")) == 3


def test_control_characters_are_stripped_from_the_document() -> None:
    doc = extract_text_dump(
        "Budget\x1b approved\ufffe\nThe council\x07 approved the budget on Wednesday evening.", tolerance_hours=24.0
    )
    assert doc.title == "Budget approved"
    assert doc.text == "The council approved the budget on Wednesday evening."
