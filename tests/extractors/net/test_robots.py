"""robots.txt parsing (RFC 9309 semantics) and the per-host cache."""

from __future__ import annotations

import asyncio

from extractors.net.robots import RobotsCache, parse_robots, product_token, robots_url_for
from schemas.failures import PipelineError, Reason

UA = "newsflow/0.1 (news ingestion bot)"


def _allowed(robots: str, path: str, ua: str = UA) -> bool:
    return parse_robots(robots.encode(), ua).allowed(f"https://site.example{path}")


def test_product_token() -> None:
    assert product_token(UA) == "newsflow"
    assert product_token("Mozilla/5.0 (compatible)") == "mozilla"


def test_longest_match_wins_so_allow_under_disallow_root_works() -> None:
    robots = "User-agent: *\nDisallow: /\nAllow: /news/\n"
    assert _allowed(robots, "/news/2024/story")
    assert not _allowed(robots, "/private")
    # order in the file does not matter
    robots_reversed = "User-agent: *\nAllow: /news/\nDisallow: /\n"
    assert _allowed(robots_reversed, "/news/a") and not _allowed(robots_reversed, "/about")


def test_allow_wins_a_tie() -> None:
    robots = "User-agent: *\nDisallow: /page\nAllow: /page\n"
    assert _allowed(robots, "/page")


def test_wildcards_and_end_anchor() -> None:
    robots = "User-agent: *\nDisallow: /*?\nDisallow: /*.pdf$\nDisallow: /search*results\n"
    assert not _allowed(robots, "/article?utm_source=x")
    assert _allowed(robots, "/article")
    assert not _allowed(robots, "/files/report.pdf")
    assert _allowed(robots, "/files/report.pdf.html")
    assert not _allowed(robots, "/search/all/results")
    assert _allowed(robots, "/searching")


def test_our_group_overrides_star_and_tokens_match_case_insensitively() -> None:
    robots = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: OtherBot\nUser-agent: NewsFlow\nDisallow: /drafts/\n\n"
        "User-agent: newsflow/2.0\nDisallow: /tmp/\n"
    )
    assert _allowed(robots, "/story")  # our groups do not disallow /, the * group is ignored
    assert not _allowed(robots, "/drafts/x")
    assert not _allowed(robots, "/tmp/x")  # groups naming us are merged
    assert not _allowed(robots, "/story", ua="SomeoneElse/1.0")


def test_empty_disallow_comments_bom_and_unknown_lines() -> None:
    robots = "\ufeff# hello\nUser-agent: * # everyone\nCrawl-delay: 3\nDisallow:\nSitemap: https://x/s.xml\n"
    assert _allowed(robots, "/anything")
    robots2 = "User-agent: *\nDisallow: /a # no a\nfoo bar baz\nDisallow: /b\n"
    assert not _allowed(robots2, "/a/1") and not _allowed(robots2, "/b") and _allowed(robots2, "/c")


def test_rules_before_any_user_agent_are_ignored() -> None:
    assert _allowed("Disallow: /\n", "/x")


def test_percent_encoding_is_normalized() -> None:
    robots = "User-agent: *\nDisallow: /caf%C3%A9/\nDisallow: /a~b\n"
    assert not _allowed(robots, "/café/menu")
    assert not _allowed(robots, "/caf%c3%a9/menu")
    assert not _allowed(robots, "/a%7Eb")


def test_robots_txt_itself_is_always_allowed_and_non_utf8_survives() -> None:
    assert _allowed("User-agent: *\nDisallow: /\n", "/robots.txt")
    policy = parse_robots(b"User-agent: *\nDisallow: /\xff\xfe\nDisallow: /x\n", UA)
    assert not policy.allowed("https://s.example/x")


def test_robots_url_for() -> None:
    assert robots_url_for("HTTPS://News.Example:8443/a/b?c#d") == "https://news.example:8443/robots.txt"


def test_cache_fetches_once_per_host_even_concurrently_and_failures_allow() -> None:
    calls: list[str] = []

    async def fetch(url: str) -> tuple[int, bytes]:
        calls.append(url)
        await asyncio.sleep(0.01)
        if "down" in url:
            raise PipelineError(Reason.TIMEOUT, "no answer")
        if "err" in url:
            return 503, b"User-agent: *\nDisallow: /\n"
        if "missing" in url:
            return 404, b""
        return 200, b"User-agent: *\nDisallow: /private/\n"

    async def main() -> list[bool]:
        cache = RobotsCache(fetch, UA)
        urls = [f"https://a.example/private/{i}" for i in range(5)] + ["https://a.example/public"]
        urls += ["https://down.example/x", "https://err.example/x", "https://missing.example/x"]
        return list(await asyncio.gather(*(cache.allowed(u) for u in urls)))

    results = asyncio.run(main())
    assert results == [False] * 5 + [True, True, True, True]
    assert sorted(calls) == sorted(f"https://{h}.example/robots.txt" for h in ("a", "down", "err", "missing"))
