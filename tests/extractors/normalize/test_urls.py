"""URL canonicalization: spellings of one story collapse to one id; anything not http(s) is refused."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.normalize.urls import (
    TRACKING_PARAMS,
    article_id_for,
    canonicalize_url,
    host_of,
    registrable_part,
    same_site,
    site_key,
)

BASE = "https://news.example.com/world/story?id=42"


@pytest.mark.parametrize(
    "variant",
    [
        "https://news.example.com/world/story?id=42",
        "https://news.example.com/world/story?id=42&utm_source=x",
        "https://news.example.com/world/story?UTM_Campaign=spring&id=42&utm_medium=rss",
        "https://news.example.com/world/story?id=42#comments",
        "HTTPS://NEWS.Example.COM/world/story?id=42",
        "https://news.example.com:443/world/story?id=42",
        "https://news.example.com/world/story?id=42&",
        "https://news.example.com/world/story?id=42&fbclid=abc&gclid=def&mc_cid=1&mc_eid=2",
        "  https://news.example.com/world/story?id=42\n",
        "https://user:secret@news.example.com/world/story?id=42",
        "https://news.example.com/world/./other/../story?id=42",
        "https://news.example.com/world/%73tory?id=42",
        "https://news.example.com./world/story?id=42",
        "https://news.exa\tmple.com/world/story?id=42",
    ],
)
def test_variants_collapse_to_one_id(variant: str) -> None:
    canonical = canonicalize_url(variant)
    assert canonical == BASE
    assert article_id_for(canonical) == article_id_for(BASE)


def test_trailing_question_mark_and_empty_path() -> None:
    assert canonicalize_url("http://example.com?") == "http://example.com/"
    assert canonicalize_url("http://example.com") == "http://example.com/"
    assert canonicalize_url("http://example.com:80") == "http://example.com/"
    assert canonicalize_url("http://example.com:8080") == "http://example.com:8080/"
    assert canonicalize_url("https://example.com:80/") == "https://example.com:80/"


def test_every_documented_tracking_param_is_removed() -> None:
    for name in sorted(TRACKING_PARAMS):
        url = f"https://example.com/a?keep=1&{name}=zzz"
        assert canonicalize_url(url) == "https://example.com/a?keep=1", name
        assert canonicalize_url(f"https://example.com/a?{name.upper()}=1") == "https://example.com/a"


def test_meaningful_params_are_kept_sorted_and_repeats_keep_order() -> None:
    assert (
        canonicalize_url("https://example.com/s?q=tide&page=2&utm_x=1")
        == "https://example.com/s?page=2&q=tide"
    )
    # stable sort: repeated names keep their relative order (it can matter to the server)
    assert canonicalize_url("https://example.com/s?b=2&a=9&b=1") == "https://example.com/s?a=9&b=2&b=1"
    # names that merely contain a tracking word are not tracking params
    assert canonicalize_url("https://example.com/s?reference=1&outm_source=2") == (
        "https://example.com/s?outm_source=2&reference=1"
    )
    # blank values and value-less flags survive; '=' inside a value stays
    assert canonicalize_url("https://example.com/s?flag&x=&y=a=b") == "https://example.com/s?flag&x=&y=a=b"


def test_percent_encoding_is_normalised() -> None:
    assert canonicalize_url("http://example.com/%7euser/a%2fb") == "http://example.com/~user/a%2Fb"
    assert canonicalize_url("http://example.com/a b/ü") == "http://example.com/a%20b/%C3%BC"
    assert canonicalize_url("http://example.com/100%") == "http://example.com/100%25"
    assert canonicalize_url("http://example.com/?q=a%26b&r=c+d") == "http://example.com/?q=a%26b&r=c+d"
    # the same path spelled raw and encoded is one URL
    assert canonicalize_url("http://example.com/ü") == canonicalize_url("http://example.com/%c3%bc")


def test_unicode_host_is_idna_encoded_and_ipv6_kept() -> None:
    assert canonicalize_url("https://Bücher.example/x") == "https://xn--bcher-kva.example/x"
    assert canonicalize_url("http://[2001:DB8::1]:8080/a") == "http://[2001:db8::1]:8080/a"
    assert canonicalize_url("http://[2001:db8::1]:80/a") == "http://[2001:db8::1]/a"


def test_relative_urls_resolve_against_base() -> None:
    base = "https://example.com/news/2024/index.html"
    assert canonicalize_url("story.html", base=base) == "https://example.com/news/2024/story.html"
    assert canonicalize_url("/about", base=base) == "https://example.com/about"
    assert canonicalize_url("../x?utm_source=a", base=base) == "https://example.com/news/x"
    assert canonicalize_url("//cdn.example.com/a", base=base) == "https://cdn.example.com/a"
    assert canonicalize_url("https://other.example/a", base=base) == "https://other.example/a"
    assert canonicalize_url("story.html") is None  # no base: cannot resolve


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>",
        "mailto:desk@example.com",
        "ftp://example.com/file",
        "file:///etc/passwd",
        "urn:newsflow:archive:abc",
        "",
        "   ",
        "http://",
        "http:///path",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "http://example.com:-1/",
        "http://example.com:port/",
        "http://[::1/",
        "http://<script>/",
        "http://xn--.example/",
        "http://a..b/",
    ],
)
def test_non_http_and_broken_urls_give_none(bad: str) -> None:
    assert canonicalize_url(bad) is None


def test_non_string_input_gives_none() -> None:
    assert canonicalize_url(None) is None
    assert canonicalize_url(b"http://example.com/") is None
    assert canonicalize_url(42) is None


def test_article_id_is_stable_sha256_prefix() -> None:
    a = article_id_for("https://example.com/a")
    assert re.fullmatch(r"[0-9a-f]{32}", a)
    assert a == article_id_for("https://example.com/a")
    assert a != article_id_for("https://example.com/b")


def test_host_and_site_keys() -> None:
    assert host_of("https://WWW.Example.com:8443/x") == "www.example.com"
    assert host_of("not a url") == ""
    assert host_of(None) == ""
    assert site_key("https://www.example.com/x") == "example.com"
    assert site_key("https://m.example.com/x") == "example.com"
    assert site_key("https://amp.example.com/x") == "example.com"
    assert site_key("https://news.example.com/x") == "news.example.com"
    assert site_key("https://www.com/") == "www.com"  # never strip down to a bare TLD
    assert site_key("http://127.0.0.1:8000/x") == "127.0.0.1"
    assert registrable_part("news.bbc.co.uk") == "bbc.co.uk"
    assert registrable_part("a.b.example.com") == "example.com"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("https://www.example.com/a", "https://example.com/b", True),
        ("https://m.example.com/a", "http://www.example.com/b", True),
        ("https://news.example.com/a", "https://www.example.com/b", True),
        ("https://news.paper.co.uk/a", "https://www.paper.co.uk/b", True),
        ("https://paper.co.uk/a", "https://other.co.uk/b", False),
        ("https://example.com/a", "https://example.org/a", False),
        ("https://example.com/a", "urn:newsflow:archive:1", False),
        ("http://127.0.0.1/a", "http://127.0.0.2/a", False),
        ("http://127.0.0.1/a", "http://127.0.0.1:9/b", True),
    ],
)
def test_same_site(a: str, b: str, expected: bool) -> None:
    assert same_site(a, b) is expected
    assert same_site(b, a) is expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.one_of(st.none(), st.text(max_size=60)))
def test_random_strings_never_raise_and_results_are_fixed_points(url: str, base: str | None) -> None:
    out = canonicalize_url(url, base=base)
    if out is not None:
        assert out.startswith(("http://", "https://"))
        assert out.isascii() and out.isprintable() and " " not in out
        assert canonicalize_url(out) == out


_URLISH = st.builds(
    lambda scheme, host, path, query, frag: f"{scheme}://{host}/{path}?{query}#{frag}",
    st.sampled_from(["http", "HTTPS", "https"]),
    st.sampled_from(["example.com", "WWW.Example.COM:443", "bücher.example", "[::1]:80", "a.b.c"]),
    st.text(max_size=30),
    st.text(max_size=30),
    st.text(max_size=10),
)


@settings(max_examples=200, deadline=None)
@given(_URLISH)
def test_urlish_inputs_are_idempotent(url: str) -> None:
    out = canonicalize_url(url)
    if out is not None:
        assert canonicalize_url(out) == out
        assert "#" not in out
