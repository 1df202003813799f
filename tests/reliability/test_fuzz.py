"""Fuzzing the parsers with hypothesis (bounded: deterministic, 200 examples each, no deadline).

Contract under test: the only exception that may escape ``parse_feed``, ``extract_html``,
``extract_text_dump`` and ``clean_text`` is ``PipelineError`` (``canonicalize_url`` never raises
at all), and what comes out is clean: no NUL/control characters or lone surrogates, no
``<script>`` tags, links that are canonical http(s) URLs, and a cleaner that never invents text.

Inputs: random bytes/text, structured random HTML and URLs, and byte-level mutations of the
project's own well-formed feeds and pages (tests/fixtures/hostile/) spiced with hostile
snippets (entity declarations, NULs, broken CDATA, scripts, BOMs).
"""

from __future__ import annotations

import os
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.content.cleaner import clean_text
from extractors.content.html_extract import extract_html
from extractors.content.textdump import extract_text_dump
from extractors.normalize.article import build_article
from extractors.normalize.urls import article_id_for, canonicalize_url
from extractors.sources.feeds import parse_feed
from schemas.failures import PipelineError
from schemas.records import ExtractedDoc, ParsedFeed
from tests.reliability.conftest import HOSTILE

# R1_FUZZ_EXAMPLES=5000 turns the bounded, reproducible run into a random bug hunt
_HUNT = int(os.environ.get("R1_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_HUNT or 200, deadline=None, derandomize=not _HUNT, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# C0 controls except \t \n, DEL, C1 controls, lone surrogates, non-characters
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SCRIPT_TAG = re.compile(r"<\s*script\b", re.IGNORECASE)

FEED_SEEDS = [p.read_bytes() for p in sorted((HOSTILE / "feeds").iterdir())
              if p.name.startswith(("wellformed", "encoding", "entities", "illformed_broken"))]
PAGE_SEEDS = [p.read_text(encoding="utf-8").replace("@@NUL@@", "\x00").replace("@@CTRL@@", "\x01\x1b")
              .replace("@@SECRET_URI@@", "file:///nonexistent/r1").encode("utf-8")
              for p in sorted((HOSTILE / "flow" / "pages").iterdir())]
HOSTILE_SNIPPETS = [
    b"\x00", b"\x00\x00\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\x80\x81\xfe", b"&#0;", b"&#x1F;", b"&#xD800;",
    b"&nbsp;", b"&undefined;", b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<!DOCTYPE x [<!ENTITY a \"b\">]>",
    b'<!ENTITY lol "&lol;&lol;">', b'<!ENTITY x SYSTEM "file:///etc/passwd">', b"&x;", b"<script>alert(1)</script>",
    b"<item>", b"</item>", b"<entry>", b"<title>", b"</title>", b"<link>javascript:alert(1)</link>",
    b'<link href="data:text/html,x"/>', b'<?xml version="1.0" encoding="utf-16"?>', b'encoding="x-bogus"',
    b"<rss version=\"2.0\">", b"<feed xmlns=\"http://www.w3.org/2005/Atom\">", b"\r\n", b"\t" * 50,
]


def _assert_clean(value: str | None, what: str) -> None:
    if value:
        bad = _CONTROL.search(value)
        assert bad is None, f"{what} holds U+{ord(bad.group()):04X}: {value[:200]!r}"


def _assert_doc(doc: ExtractedDoc) -> None:
    assert isinstance(doc, ExtractedDoc)
    assert doc.published_at is None or doc.published_at.utcoffset() is not None


def _assert_stored(doc: ExtractedDoc) -> None:
    """What ``build_article`` would store from ``doc`` is clean (or a classified refusal)."""
    try:
        art = build_article(url="https://harbour.example/news/story", doc=doc, entry=None, origin="rss",
                            text_source="page", run_id="fuzz", tolerance_hours=24.0)
    except PipelineError:
        return
    for what in ("title", "text", "summary", "outlet", "site_name"):
        _assert_clean(getattr(art, what), f"stored {what}")
    for name in [*art.authors, *art.tags]:
        _assert_clean(name, "stored author/tag")


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed document with a few random byte-level edits (insert, delete, flip, cut, repeat)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, max(len(data), 1)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "flip", "truncate", "repeat"]))
        if op == "insert":
            data[pos:pos] = draw(st.one_of(st.sampled_from(HOSTILE_SNIPPETS), st.binary(max_size=16)))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "flip" and pos < len(data):
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "truncate":
            del data[pos:]
        elif op == "repeat":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 200))] * draw(st.integers(2, 5))
    return bytes(data)


# ----------------------------------------------------------------------------- parse_feed


def _check_feed(body: bytes, content_type: str | None = None) -> None:
    try:
        parsed = parse_feed(body, "https://harbour.example/feed.xml", content_type=content_type)
    except PipelineError:
        return
    assert isinstance(parsed, ParsedFeed)
    for what in ("title", "site_url", "language"):
        _assert_clean(getattr(parsed, what), f"feed {what}")
    if parsed.site_url is not None:
        assert canonicalize_url(parsed.site_url) is not None
    for e in parsed.entries:
        for what in ("title", "summary", "content", "guid"):
            _assert_clean(getattr(e, what), f"entry {what}")
        for name in [*e.authors, *e.tags]:
            _assert_clean(name, "entry author/tag")
        assert e.link is None or canonicalize_url(e.link) is not None, f"entry link {e.link!r}"
        assert e.published_at is None or e.published_at.utcoffset() is not None


@FUZZ
@given(st.binary(max_size=4096))
def test_parse_feed_random_bytes(body: bytes) -> None:
    _check_feed(body)


@FUZZ
@given(mutated(FEED_SEEDS), st.sampled_from([None, "application/rss+xml", "text/xml; charset=iso-8859-1",
                                               "application/atom+xml; charset=utf-16", "text/html"]))
def test_parse_feed_mutated_feeds(body: bytes, content_type: str | None) -> None:
    _check_feed(body, content_type)


# ----------------------------------------------------------------------------- HTML


# no <title>/<textarea>: their content is text by definition, so a script inside would be legit text
_TAGS = ["p", "div", "article", "main", "h1", "span", "a", "li", "ul", "script", "style", "noscript", "svg",
         "table", "td", "pre", "template", "section", "body", "head"]
MARKER = "r1fuzzmarker"  # appears only inside real <script>/<style> elements


@st.composite
def random_html(draw: st.DrawFn) -> str:
    """Random nesting of common tags (scripts included) around random text, sometimes unclosed."""
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["<!DOCTYPE html>", '<meta charset="utf-8">', '<meta charset="x-bogus">',
                                           '<meta http-equiv="Content-Type" content="text/html; charset=latin-1">'])))
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(f"<{draw(st.sampled_from(_TAGS))}>")
        elif kind == 1:
            parts.append(f"</{draw(st.sampled_from(_TAGS))}>")
        elif kind == 2:
            parts.append(draw(st.text(max_size=200)))
        else:
            parts.append(draw(st.sampled_from([
                f"<script>alert('{MARKER}')</script>", f"<style>/* {MARKER} */</style>", f"<script>{MARKER}", "<p>" + "Harbour pilots agreed to resume night sailings. " * 5 + "</p>",
                "&nbsp;&amp;&lt;&#0;&#x1;&#xFFFF;", "<!-- comment -->", "<![CDATA[x]]>", "<p onclick=\"alert(1)\">",
                "<a href=\"javascript:alert(1)\">link</a>", "<img src=x onerror=alert(1)>", "<br/>" * 20,
            ])))
    return "".join(parts)


@FUZZ
@given(st.one_of(random_html(), st.text(max_size=2000)))
def test_extract_html_random_html(html: str) -> None:
    try:
        doc = extract_html(html, "https://harbour.example/news/story", tolerance_hours=24.0)
    except PipelineError:
        return
    _assert_doc(doc)
    _assert_clean(doc.text, "text")
    assert MARKER not in doc.text, f"script/style content kept: {doc.text[:300]!r}"
    _assert_stored(doc)


@FUZZ
@given(st.one_of(mutated(PAGE_SEEDS), st.binary(max_size=4096)),
       st.sampled_from([None, "text/html", "text/html; charset=utf-8", "text/html; charset=iso-8859-1",
                        "text/html; charset=utf-16", "text/html; charset=x-bogus"]))
def test_extract_html_mutated_pages(body: bytes, content_type: str | None) -> None:
    try:
        doc = extract_html(body, "https://harbour.example/news/story", content_type=content_type, tolerance_hours=24.0)
    except PipelineError:
        return
    _assert_doc(doc)
    _assert_clean(doc.text, "text")
    _assert_stored(doc)
    assert doc.canonical_url is None or canonicalize_url(doc.canonical_url) is not None


# ----------------------------------------------------------------------------- plain text

_LINES = [
    "Harbour pilots agree night deal By Jo Roe", "By Jane Doe and John Roe", "Published 3 March 2026",
    "Tuesday, 03/03/2026 09:30", "Subscribe to our newsletter", "Share on Facebook", "Photo: Staff photographer",
    "Harbour pilots agreed on Tuesday to resume night sailings after a week of talks with the port authority.",
    "Related articles", "Most popular", "We use cookies", "", "", "All rights reserved", "Read more",
    "Updated: 10000-01-01", "© 2026 Harbour Herald",
]


@st.composite
def text_dump(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(st.sampled_from(_LINES), st.text(max_size=120)), max_size=30))
    return draw(st.sampled_from(["\n", "\r\n", "\n\n", "\r"])).join(lines)


@FUZZ
@given(st.one_of(text_dump(), st.text(max_size=3000)))
def test_extract_text_dump_random_text(text: str) -> None:
    try:
        doc = extract_text_dump(text, tolerance_hours=24.0)
    except PipelineError:
        return
    _assert_doc(doc)
    _assert_stored(doc)
    assert doc.published_at is None or doc.published_at_source == "text"


@FUZZ
@given(st.one_of(text_dump(), st.text(max_size=3000)), st.one_of(st.none(), st.text(max_size=80)),
       st.sampled_from([None, "en", "de", "ja", "ru", "xx"]), st.booleans())
def test_clean_text_never_invents_text(text: str, title: str | None, language: str | None, text_mode: bool) -> None:
    try:
        out = clean_text(text, title=title, language=language, text_mode=text_mode)
    except PipelineError:
        return
    assert isinstance(out, str)
    assert "\x00" not in out and "\r" not in out and "\n\n\n" not in out
    source = unicodedata.normalize("NFC", text.replace("\x00", ""))
    cursor = 0
    for line in out.split("\n"):
        if not line:
            continue
        assert line == line.strip(), f"untrimmed line {line!r}"
        found = source.find(line, cursor)
        assert found >= 0, f"line not in the input (or out of order): {line!r}"
        cursor = found + len(line)


# ----------------------------------------------------------------------------- URLs

_SCHEMES = ["http", "https", "HTTP", "HtTpS", "javascript", "data", "ftp", "file", "mailto", "", "feed"]
_HOSTS = ["example.com", "WWW.Example.COM.", "bücher.example", "xn--bcher-kva.example", "127.0.0.1", "[::1]",
          "[fe80::1%25eth0]", "user:pass@example.com", "example.com:80", "example.com:443", "example.com:99999",
          "example.com:-1", "", "a..b", "例え.テスト", "exa mple.com", "%65xample.com", "[::ffff:10.0.0.1]"]


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(_SCHEMES))
    host = draw(st.one_of(st.sampled_from(_HOSTS), st.text(max_size=20)))
    path = draw(st.one_of(st.sampled_from(["", "/", "/a/../b/./c", "/%7Efoo/%zz", "/ü ber", "//x"]),
                          st.text(max_size=30)))
    query = draw(st.lists(st.tuples(st.sampled_from(["utm_source", "UTM_Medium", "fbclid", "id", "q", "", "a b"]),
                                    st.text(max_size=10)), max_size=4))
    url = f"{scheme}://{host}{path}" if scheme else f"{host}{path}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query)
    if draw(st.booleans()):
        url += "#" + draw(st.text(max_size=10))
    return draw(st.sampled_from(["", " ", "\t", "\n"])) + url


@FUZZ
@given(st.one_of(urls(), st.text(max_size=200)),
       st.one_of(st.none(), st.sampled_from(["https://harbour.example/news/", "http://[::1]:8080/a?b#c", "not a url",
                                             "javascript:alert(1)", "https://bücher.example/x/y"])))
def test_canonicalize_url_total_and_idempotent(url: str, base: str | None) -> None:
    out = canonicalize_url(url, base)  # must never raise, not even PipelineError
    if out is None:
        return
    assert out.startswith(("http://", "https://")), out
    assert out.isascii() and out.isprintable() and " " not in out, f"not a clean URL: {out!r}"
    assert "#" not in out
    assert canonicalize_url(out) == out, f"not idempotent: {url!r} → {out!r} → {canonicalize_url(out)!r}"
    assert len(article_id_for(out)) == 32


# ----------------------------------------------------------------------------- titles (found by the fuzzers)

TITLE_BUG = "R1 bug report 5: ExtractedDoc keeps control characters and non-characters (html_extract: title from " \
    "<title> character references; textdump: title and body text); build_article strips them before storage"


def test_extract_html_title_is_clean() -> None:
    doc = extract_html("<p><title>Budget&#x1; approved&#xFFFF;</title>", "https://harbour.example/a", tolerance_hours=24.0)
    _assert_clean(doc.title, "title")


def test_extract_text_dump_output_is_clean() -> None:
    doc = extract_text_dump("Budget\x1b approved\nThe council\x07 approved the budget on Wednesday evening.", tolerance_hours=24.0)
    _assert_clean(doc.title, "title")
    _assert_clean(doc.text, "text")


def test_stored_titles_are_clean_anyway() -> None:
    """What reaches the warehouse goes through build_article, which does clean titles."""
    for doc in (extract_html("<p><title>Budget&#x1; approved&#xFFFF;</title><p>The council approved it.</p>",
                             "https://harbour.example/a", tolerance_hours=24.0),
                extract_text_dump("Budget\x1b approved\nThe council approved the budget on Wednesday evening.", tolerance_hours=24.0)):
        doc = doc.model_copy(update={"text": doc.text or "The council approved it."})
        art = build_article(url="https://harbour.example/a", doc=doc, entry=None, origin="rss", text_source="page",
                            run_id="fuzz", tolerance_hours=24.0)
        assert art.title is not None and "Budget" in art.title
        _assert_clean(art.title, "stored title")
        assert not _SCRIPT_TAG.search(art.title)
