"""HTML pages: charset decoding, extraction + cleaning, metadata, block/paywall detection."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trafilatura
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.content.html_extract import detect_block, extract_html
from extractors.normalize.text import decode_bytes

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
URL = "https://www.coastal-courier.example/news/night-ferry-returns?utm_source=feed"

STORY = [
    "The overnight ferry linking the mainland with the outer islands will resume sailings on Monday",
    "Engineers worked in shifts through the weekend to replace the hydraulic arms",
    '"Islanders have been incredibly patient, and we are grateful to everyone who kept supplies moving',
    "Supplies flown in",
    "During the closure, fresh food and medicines were flown to the islands on chartered flights",
    "Shopkeepers on the largest island said shelves had been half empty",
    "The operator has promised a review of how the harbour infrastructure is maintained",
    "The first sailing is scheduled to leave the mainland at 23:15 on Monday",
]
PAGE_BOILERPLATE = [
    "We use cookies",
    "Accept all",
    "Sport",
    "Weather",
    "Share on Facebook",
    "Print",
    "Photo: Fiona Gray",
    "Sign up to our free daily newsletter",
    "READ MORE",
    "Advertisement",
    "(Photo by Fiona Gray / Island Images)",
    "Follow The Coastal Courier on Twitter",
    "Related articles",
    "Chartered flights carry supplies to cut-off islands",
    "Island fuel prices rise",
    "Leave a Reply",
    "Your email address will not be published",
    "All rights reserved",
    "Privacy policy",
]


def _page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


# --- decoding -------------------------------------------------------------------------------

TEXT = "Café crème — “naïve” Zürich €5 déjà vu"


def _html(body: str, meta: str = "") -> str:
    return f"<html><head>{meta}<title>t</title></head><body><p>{body}</p></body></html>"


def test_decode_follows_the_http_charset() -> None:
    raw = _html(TEXT).encode("cp1252")
    assert TEXT in decode_bytes(raw, "text/html; charset=windows-1252")


def test_decode_follows_meta_charset_and_http_equiv() -> None:
    raw = _html("Привет, мир", '<meta charset="windows-1251">').encode("cp1251")
    assert "Привет, мир" in decode_bytes(raw, "text/html")
    raw = _html("Привет, мир", '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">').encode(
        "koi8-r"
    )
    assert "Привет, мир" in decode_bytes(raw, None)


def test_decode_prefers_the_bom() -> None:
    assert TEXT in decode_bytes(codecs.BOM_UTF8 + _html(TEXT).encode("utf-8"), "text/html; charset=iso-8859-1")
    assert TEXT in decode_bytes(codecs.BOM_UTF16_LE + _html(TEXT).encode("utf-16-le"), None)


def test_wrong_single_byte_declaration_with_utf8_bytes_gives_utf8() -> None:
    raw = _html(TEXT, '<meta charset="iso-8859-1">').encode("utf-8")
    decoded = decode_bytes(raw, "text/html; charset=ISO-8859-1")
    assert TEXT in decoded
    assert "Ã" not in decoded and "â€" not in decoded


def test_declared_utf8_that_is_really_cp1252_has_no_replacement_chars() -> None:
    raw = _html(TEXT, '<meta charset="utf-8">').encode("cp1252")
    decoded = decode_bytes(raw, "text/html; charset=utf-8")
    assert "\ufffd" not in decoded
    assert TEXT in decoded


def test_undeclared_legacy_bytes_are_detected() -> None:
    raw = _html("Le cœur de la forêt était très calme ce matin-là, déjà à l’aube." * 5).encode("cp1252")
    decoded = decode_bytes(raw, None)
    assert "\ufffd" not in decoded
    assert "forêt était très" in decoded


def test_undeclared_cyrillic_bytes_are_not_read_as_western() -> None:
    raw = _html("Правительство утвердило новый бюджет города на следующий год. " * 5).encode("cp1251")
    decoded = decode_bytes(raw, None)
    assert "Правительство утвердило новый бюджет" in decoded


def test_mostly_utf8_page_with_a_stray_legacy_byte() -> None:
    raw = _html("Grüße aus Köln " * 20).encode("utf-8") + b"<p>Preis: 5 \x80</p>"
    decoded = decode_bytes(raw, "text/html; charset=utf-8")
    assert "\ufffd" not in decoded
    assert "Grüße aus Köln" in decoded and "5 €" in decoded


def test_nul_characters_are_stripped() -> None:
    assert "\x00" not in decode_bytes(_html("a\x00b").encode("utf-8"), None)
    assert decode_bytes(b"", None) == ""


@settings(max_examples=60, deadline=None)
@given(
    st.text(
        alphabet=st.characters(categories=("L", "N", "P", "Zs"), max_codepoint=0x2FFF),
        min_size=1,
        max_size=200,
    ),
    st.sampled_from(["utf-8", "cp1252", "iso-8859-15", "cp1251", "utf-16"]),
)
def test_declared_charset_round_trips(text: str, charset: str) -> None:
    try:
        raw = _html(text).encode(charset)
    except UnicodeEncodeError:
        return  # not representable in that charset
    decoded = decode_bytes(raw, f"text/html; charset={charset}")
    assert "\ufffd" not in decoded
    if charset != "utf-16":
        # a single-byte declaration loses to bytes that are valid UTF-8, which is what such
        # bytes almost always are; for the rest the declaration must be honoured
        if raw.isascii() or _not_utf8(raw):
            assert text.replace("\x00", "") in decoded
    else:
        assert text in decoded


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# --- extraction -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def article():
    return extract_html(_page("article_boilerplate.html"), URL, content_type="text/html; charset=utf-8", tolerance_hours=24.0)


def test_story_kept_and_page_boilerplate_removed(article) -> None:
    for sentence in STORY:
        assert sentence in article.text, f"story text lost: {sentence!r}"
    for fragment in PAGE_BOILERPLATE:
        assert fragment not in article.text, f"boilerplate left: {fragment!r}"
    assert not article.blocked and article.block_reason is None


def test_cleaner_removes_what_trafilatura_leaves(article) -> None:
    """The page's in-article furniture survives plain trafilatura; our path removes it."""
    plain = trafilatura.extract(_page("article_boilerplate.html").decode("utf-8")) or ""
    leftovers = ["READ MORE", "Advertisement", "(Photo by Fiona Gray", "Follow The Coastal Courier"]
    assert all(fragment in plain for fragment in leftovers)
    assert not any(fragment in article.text for fragment in leftovers)


def test_metadata(article) -> None:
    assert article.title == "Night ferry service returns to the islands after storm repairs"
    assert article.authors == ["Morag Lindsay", "Ewan Brodie"]
    assert article.published_at == datetime(2023, 11, 6, 6, 30, tzinfo=UTC)
    assert article.published_at_source == "html"
    assert article.site_name == "The Coastal Courier"
    assert article.language == "en"
    assert (
        article.summary
        == "The overnight ferry resumes sailings on Monday after three weeks of repairs to the harbour ramp."
    )
    assert article.tags == ["Transport", "Islands", "Ferries"]
    assert article.canonical_url == "https://www.coastal-courier.example/news/night-ferry-returns"


def test_challenge_page_is_blocked() -> None:
    doc = extract_html(_page("challenge.html"), "https://news.example.org/story", tolerance_hours=24.0)
    assert doc.blocked
    assert doc.block_reason and doc.block_reason.startswith("challenge")


def test_paywall_page_is_blocked() -> None:
    doc = extract_html(_page("paywall.html"), "https://ledger.example/city/water", tolerance_hours=24.0)
    assert doc.blocked
    assert doc.block_reason and doc.block_reason.startswith("paywall")
    assert doc.title == "Inside the race to rebuild the city's water network"


def _long_article(extra: str = "", title: str = "Security experts debate captchas") -> str:
    paragraphs = "".join(
        f"<p>Paragraph {i}: researchers said the captcha systems used by banks were increasingly solved by "
        f"software, and that enable JavaScript and cookies prompts frustrated many users of the service.</p>"
        for i in range(12)
    )
    return (
        f"<html><head><title>{title}</title>{extra}</head><body><article><h1>{title}</h1>"
        f"{paragraphs}</article></body></html>"
    )


def test_long_article_about_captchas_is_not_blocked() -> None:
    doc = extract_html(
        _long_article('<script src="https://www.google.com/recaptcha/api.js"></script>'),
        "https://x.example/a", tolerance_hours=24.0,
    )
    assert not doc.blocked
    assert "Paragraph 11" in doc.text


def test_access_denied_page_is_blocked() -> None:
    html = "<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1><p>You don't have permission to access this server.</p></body></html>"
    doc = extract_html(html, "https://x.example/a", tolerance_hours=24.0)
    assert doc.blocked


def test_detect_block_needs_structure_not_just_words() -> None:
    from trafilatura.utils import load_html

    html = _long_article()
    tree = load_html(html)
    assert detect_block(html, tree, "x" * 3000, "Security experts debate captchas", None) is None


def test_relative_canonical_og_url_fallback_and_url_date() -> None:
    body = "".join(
        f"<p>Sentence number {i} of a reasonably long story about the harbour and its boats.</p>"
        for i in range(8)
    )
    html = f'<html><head><title>Harbour boats | Example Site</title><meta property="og:site_name" content="Example Site"><link rel="canonical" href="/2022/05/17/harbour"></head><body><article>{body}</article></body></html>'
    doc = extract_html(html, "https://example.org/2022/05/17/harbour?ref=rss", tolerance_hours=24.0)
    assert doc.canonical_url == "https://example.org/2022/05/17/harbour"
    assert doc.title == "Harbour boats"
    assert doc.published_at == datetime(2022, 5, 17, tzinfo=UTC)
    html = html.replace(
        '<link rel="canonical" href="/2022/05/17/harbour">',
        '<meta property="og:url" content="https://example.org/harbour">',
    )
    assert extract_html(html, "https://example.org/x", tolerance_hours=24.0).canonical_url == "https://example.org/harbour"


def test_language_detected_from_text_when_page_has_none() -> None:
    body = "".join(
        "<p>Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke über den Fluss zu sanieren, "
        "nachdem Gutachter schwere Schäden an den Pfeilern festgestellt hatten.</p>"
        for _ in range(4)
    )
    doc = extract_html(
        f"<html><head><title>Brücke</title></head><body><article>{body}</article></body></html>",
        "https://x.example/", tolerance_hours=24.0,
    )
    assert doc.language == "de"


@pytest.mark.parametrize("junk", [b"", b"   ", b"\x00\x00", b"not html at all", b"<html></html>"])
def test_garbage_input_gives_an_empty_document(junk: bytes) -> None:
    doc = extract_html(junk, "https://x.example/", tolerance_hours=24.0)
    assert doc.text == "" or len(doc.text) < 30


def test_control_characters_are_stripped_from_fields() -> None:
    body = "".join(
        f"<p>Paragraph {i} about the budget\x07 that the council approved on Wednesday.</p>" for i in range(5)
    )
    doc = extract_html(
        f"<html><head><title>Budget&#x1; approved&#xFFFF;</title></head><body>{body}</body></html>", URL, tolerance_hours=24.0
    )
    assert doc.title == "Budget approved"
    assert "\x07" not in doc.text and "Paragraph 4 about the budget that the council approved" in doc.text
