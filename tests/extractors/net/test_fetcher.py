"""The fetcher against real servers on 127.0.0.1: pytest-httpserver for ordinary HTTP, and the
suite's raw-socket server (tests/support/http_server.py) for what well-behaved servers never do:
stall, drip, reset."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from extractors.net import netguard
from extractors.net.fetcher import Fetcher, FetchResult, _GuardedBackend, parse_retry_after
from schemas.failures import PipelineError, Reason
from schemas.settings import DEFAULT_USER_AGENT, Settings
from tests.support.http_server import Conn, Hit, RawServer


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "allow_private_networks": True,
        "respect_robots": False,
        "per_host_delay": 0,
        "retries": 0,
        "retry_backoff": 0.01,
        "feed_timeout": 2,
        "page_timeout": 2,
    }
    base.update(overrides)
    return Settings(**base)


async def _fetch(settings: Settings, url: str, **kwargs: Any) -> FetchResult:
    async with Fetcher(settings) as fetcher:
        return await fetcher.fetch(url, **kwargs)


def fetch(settings: Settings, url: str, *, kind: str = "feed", **kwargs: Any) -> FetchResult:
    return asyncio.run(_fetch(settings, url, kind=kind, **kwargs))


def fetch_error(settings: Settings, url: str, *, kind: str = "feed", **kwargs: Any) -> PipelineError:
    with pytest.raises(PipelineError) as info:
        fetch(settings, url, kind=kind, **kwargs)
    return info.value


def paths(server: HTTPServer) -> list[str]:
    return [req.path for req, _ in server.log]


# ---------------------------------------------------------------- basics


def test_success_sends_identifying_headers_and_fills_result(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/feed.xml", headers={"User-Agent": DEFAULT_USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    ).respond_with_data(
        "<rss/>", content_type="application/rss+xml; charset=utf-8", headers={"ETag": '"v1"', "X-Thing": "A"}
    )
    result = fetch(make_settings(), httpserver.url_for("/feed.xml"))
    assert result.status == 200 and result.body == b"<rss/>" and not result.not_modified
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.headers["x-thing"] == "A" and result.etag == '"v1"'
    assert all(k == k.lower() for k in result.headers)
    assert result.final_url == result.url == httpserver.url_for("/feed.xml")
    assert result.redirects == [] and result.elapsed > 0


def test_conditional_get_returns_not_modified(httpserver: HTTPServer) -> None:
    stamp = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    httpserver.expect_request("/etag", headers={"If-None-Match": '"v7"'}).respond_with_data("", status=304)
    httpserver.expect_request(
        "/lm", headers={"If-Modified-Since": "Wed, 01 May 2024 12:00:00 GMT"}
    ).respond_with_data("", status=304, headers={"ETag": '"v8"'})
    httpserver.expect_request("/etag").respond_with_data("<rss>new</rss>", content_type="text/xml")
    settings = make_settings()
    by_etag = fetch(settings, httpserver.url_for("/etag"), etag='"v7"')
    assert by_etag.not_modified and by_etag.status == 304 and by_etag.body == b""
    by_date = fetch(settings, httpserver.url_for("/lm"), last_modified=stamp)
    assert by_date.not_modified and by_date.etag == '"v8"'
    by_string = fetch(settings, httpserver.url_for("/lm"), last_modified="Wed, 01 May 2024 12:00:00 GMT")
    assert by_string.not_modified
    fresh = fetch(settings, httpserver.url_for("/etag"), etag='"old"')
    assert not fresh.not_modified and fresh.body == b"<rss>new</rss>"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as many servers send
        ("gzip", lambda d: gzip.compress(d[:10]) + gzip.compress(d[10:])),  # two gzip members
        ("gzip", lambda d: gzip.compress(d) + b"\0\0\0junk"),  # padding after the member
        ("x-gzip, identity", gzip.compress),
        ("gzip, gzip", lambda d: gzip.compress(gzip.compress(d))),  # applied twice
    ],
)
def test_compressed_bodies_are_decoded(httpserver: HTTPServer, encoding: str, compress: Any) -> None:
    payload = b"<rss>" + b"story " * 5000 + b"</rss>"
    httpserver.expect_request("/z").respond_with_data(
        compress(payload), content_type="application/xml", headers={"Content-Encoding": encoding}
    )
    assert fetch(make_settings(), httpserver.url_for("/z")).body == payload


def test_unknown_content_encoding_is_a_decoding_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/br").respond_with_data(b"\x1b\x00", headers={"Content-Encoding": "br"})
    httpserver.expect_request("/bad").respond_with_data(
        b"plainly not gzip", headers={"Content-Encoding": "gzip"}
    )
    assert fetch_error(make_settings(), httpserver.url_for("/br")).reason == Reason.DECODING_ERROR
    assert fetch_error(make_settings(), httpserver.url_for("/bad")).reason == Reason.DECODING_ERROR


def test_usage_errors() -> None:
    async def outside() -> None:
        await Fetcher(make_settings()).fetch("http://127.0.0.1/", kind="feed")

    with pytest.raises(RuntimeError):
        asyncio.run(outside())
    with pytest.raises(ValueError):
        fetch(make_settings(), "http://127.0.0.1/", kind="image")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/feed", Reason.UNSUPPORTED_SCHEME),
        ("http:///nohost", Reason.INVALID_URL),
        ("http://[::1/feed", Reason.INVALID_URL),
    ],
)
def test_bad_urls_fail_without_retry(url: str, reason: Reason) -> None:
    assert fetch_error(make_settings(retries=3, retry_backoff=1), url).reason == reason


# ---------------------------------------------------------------- redirects


def test_relative_redirects_are_followed_and_recorded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a/start").respond_with_data("", status=301, headers={"Location": "next"})
    httpserver.expect_request("/a/next").respond_with_data(
        "", status=307, headers={"Location": "/final#frag"}
    )
    httpserver.expect_request("/final").respond_with_data("<rss/>", content_type="application/rss+xml")
    result = fetch(make_settings(), httpserver.url_for("/a/start"))
    assert result.body == b"<rss/>"
    assert result.final_url == httpserver.url_for("/final")
    assert result.redirects == [httpserver.url_for("/a/next"), httpserver.url_for("/final")]


def test_malformed_location_is_invalid_url() -> None:
    with RawServer() as server:
        server.routes["/r"] = lambda c: c.send(b"HTTP/1.1 302 Found\r\nLocation: http://[::1/x\r\nContent-Length: 0\r\n\r\n")
        assert fetch_error(make_settings(retries=2), server.url("/r")).reason == Reason.INVALID_URL
        assert len(server.hits) == 1


def test_location_with_space_is_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=308, headers={"Location": "/new feed.xml"})
    httpserver.expect_request("/new feed.xml").respond_with_data("<rss/>", content_type="text/xml")
    assert fetch(make_settings(), httpserver.url_for("/old")).final_url.endswith("/new%20feed.xml")


def _chain(server: HTTPServer, n: int) -> str:
    for i in range(n):
        server.expect_request(f"/hop{i}").respond_with_data(
            "", status=302, headers={"Location": f"/hop{i + 1}"}
        )
    server.expect_request(f"/hop{n}").respond_with_data("<rss/>", content_type="text/xml")
    return server.url_for("/hop0")


def test_redirect_cap(httpserver: HTTPServer) -> None:
    start = _chain(httpserver, 3)
    assert len(fetch(make_settings(max_redirects=3), start).redirects) == 3
    httpserver.clear_log()
    assert fetch_error(make_settings(max_redirects=2), start).reason == Reason.TOO_MANY_REDIRECTS
    assert paths(httpserver) == ["/hop0", "/hop1", "/hop2"]  # the hop beyond the cap is never requested
    assert fetch_error(make_settings(max_redirects=0), start).reason == Reason.TOO_MANY_REDIRECTS


def test_redirect_loop_is_detected(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("", status=302, headers={"Location": "/y"})
    httpserver.expect_request("/y").respond_with_data("", status=302, headers={"Location": "/x#again"})
    err = fetch_error(make_settings(max_redirects=10, retries=2), httpserver.url_for("/x"))
    assert err.reason == Reason.REDIRECT_LOOP
    assert paths(httpserver) == ["/x", "/y"]  # permanent: not retried


def test_redirect_to_other_scheme_or_without_location(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ftp").respond_with_data("", status=302, headers={"Location": "ftp://x/y"})
    httpserver.expect_request("/noloc").respond_with_data("", status=302)
    assert fetch_error(make_settings(), httpserver.url_for("/ftp")).reason == Reason.UNSUPPORTED_SCHEME
    assert fetch_error(make_settings(), httpserver.url_for("/noloc")).reason == Reason.UNEXPECTED_STATUS


@pytest.fixture
def test_server_counts_as_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat exactly 127.0.0.1 (where the test servers listen) as public; everything else keeps the
    real policy, so 'public first hop, private later hop' can be exercised locally."""
    real = netguard.is_blocked_address
    monkeypatch.setattr(netguard, "is_blocked_address", lambda ip: str(ip) != "127.0.0.1" and real(ip))


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706434:{port}/",  # decimal 127.0.0.2
        "http://[::1]:{port}/",
        "http://10.0.0.5/",
    ],
)
def test_redirect_to_private_address_is_refused(
    httpserver: HTTPServer, test_server_counts_as_public: None, target: str
) -> None:
    httpserver.expect_request("/ok").respond_with_data("<rss/>", content_type="text/xml")
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": target.format(port=httpserver.port)}
    )
    guarded = make_settings(allow_private_networks=False, retries=2)
    err = fetch_error(guarded, httpserver.url_for("/go"))
    assert err.reason == Reason.BLOCKED_ADDRESS  # not a timeout/connect error: refused before connecting
    assert paths(httpserver) == ["/go"]
    # control: the same first hop is fine when it redirects somewhere public (the exempted server)
    httpserver.expect_request("/go-ok").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{httpserver.port}/ok"}
    )
    assert fetch(guarded, httpserver.url_for("/go-ok")).body == b"<rss/>"


def test_loopback_first_hop_is_refused_without_contacting_it(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("<rss/>", content_type="text/xml")
    err = fetch_error(make_settings(allow_private_networks=False), httpserver.url_for("/feed"))
    assert err.reason == Reason.BLOCKED_ADDRESS
    assert paths(httpserver) == []


def test_connection_goes_to_the_checked_address(
    httpserver: HTTPServer, test_server_counts_as_public: None
) -> None:
    """The connect uses our resolver's (checked) answer, not a second, unchecked system lookup."""
    httpserver.expect_request("/feed").respond_with_data("<rss/>", content_type="text/xml")
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> Sequence[str]:
        lookups.append(host)
        return {"news.invalid": ["127.0.0.1"]}[host]

    async def run() -> FetchResult:
        async with Fetcher(make_settings(allow_private_networks=False), resolver=resolver) as f:
            return await f.fetch(f"http://news.invalid:{httpserver.port}/feed", kind="feed")

    assert asyncio.run(run()).body == b"<rss/>"
    assert lookups == ["news.invalid"]  # hop check and connect share one (cached) answer


def test_connect_time_guard_refuses_rebound_names() -> None:
    """If a name resolves to a private address by the time we connect, the connect is refused."""

    async def resolver(host: str, port: int) -> Sequence[str]:
        return ["93.184.216.34", "127.0.0.1"]

    async def run() -> None:
        backend = _GuardedBackend(allow_private=False, resolver=resolver)
        await backend.connect_tcp("rebind.invalid", 80, timeout=1)

    with pytest.raises(PipelineError) as info:
        asyncio.run(run())
    assert info.value.reason == Reason.BLOCKED_ADDRESS


# ---------------------------------------------------------------- size caps


def test_content_length_over_cap_is_refused_up_front(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000, content_type="text/xml")
    err = fetch_error(make_settings(max_feed_bytes=4096), httpserver.url_for("/big"))
    assert err.reason == Reason.TOO_LARGE and "Content-Length" in err.message
    assert fetch(make_settings(max_feed_bytes=5000), httpserver.url_for("/big")).body == b"x" * 5000


def test_unbounded_body_is_cut_off_while_streaming() -> None:
    with RawServer() as server:
        server.endless("/page", "text/html", limit=128 * 1024 * 1024)  # ~128 MB if nobody stops reading
        err = fetch_error(make_settings(max_page_bytes=256 * 1024), server.url("/page"), kind="page")
    assert err.reason == Reason.TOO_LARGE
    assert server.hits_to("/page")[0].bytes_sent < 20 * 1024 * 1024


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """~200 KB of gzip that inflates to 200 MB of zeros."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    data = b"".join(comp.compress(block) for _ in range(200)) + comp.flush()
    assert len(data) < 400 * 1024
    return data


def test_gzip_bomb_stops_at_cap_with_small_memory(httpserver: HTTPServer, gzip_bomb: bytes) -> None:
    httpserver.expect_request("/bomb").respond_with_data(
        gzip_bomb, content_type="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )
    settings = make_settings(max_feed_bytes=1024 * 1024)
    tracemalloc.start()
    try:
        started = time.monotonic()
        err = fetch_error(settings, httpserver.url_for("/bomb"))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.reason == Reason.TOO_LARGE and "decoded" in err.message
    print(f"gzip bomb peak traced memory: {peak / 1e6:.1f} MB")
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert elapsed < 5


# ---------------------------------------------------------------- deadlines and connection failures


def _stall(server: RawServer, path: str) -> None:
    server.routes[path] = lambda c: c.hold()  # read the request, then say nothing


def _drip(server: RawServer, path: str) -> None:
    server.drip(path, interval=0.05)


@pytest.mark.parametrize("handler", [_stall, _drip], ids=["stall", "slow-drip"])
def test_whole_request_deadline(handler: Callable[[RawServer, str], None]) -> None:
    with RawServer() as server:
        handler(server, "/feed")
        started = time.monotonic()
        err = fetch_error(make_settings(feed_timeout=0.6), server.url("/feed"))
        elapsed = time.monotonic() - started
    assert err.reason == Reason.TIMEOUT and err.transient
    assert 0.5 < elapsed < 1.6


def test_timeouts_are_retried_within_bounds() -> None:
    with RawServer() as server:
        _stall(server, "/f")
        started = time.monotonic()
        err = fetch_error(make_settings(feed_timeout=0.3, retries=1, retry_backoff=0.05), server.url("/f"))
        elapsed = time.monotonic() - started
        assert len(server.hits) == 2
    assert err.reason == Reason.TIMEOUT
    assert elapsed < 1.5


def _reset(server: RawServer, path: str) -> None:
    server.reset(path)  # TCP RST right after the request


def _hangup(server: RawServer, path: str) -> None:
    server.routes[path] = lambda c: c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")


@pytest.mark.parametrize("handler", [_reset, _hangup], ids=["rst", "truncated-body"])
def test_resets_are_transient_and_retried(handler: Callable[[RawServer, str], None]) -> None:
    with RawServer() as server:
        handler(server, "/feed")
        err = fetch_error(make_settings(retries=2), server.url("/feed"))
        assert len(server.hits) == 3
    assert err.reason == Reason.CONNECTION_RESET and err.transient


def test_connection_refused_is_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = fetch_error(make_settings(), f"http://127.0.0.1:{port}/feed")
    assert err.reason == Reason.CONNECT_ERROR and err.transient


# ---------------------------------------------------------------- statuses and retries


def test_server_error_is_retried_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/flaky").respond_with_data("boom", status=500)
    httpserver.expect_oneshot_request("/flaky").respond_with_data("boom", status=502)
    httpserver.expect_request("/flaky").respond_with_data("<rss/>", content_type="text/xml")
    result = fetch(make_settings(retries=2, retry_backoff=0.01), httpserver.url_for("/flaky"))
    assert result.body == b"<rss/>"
    assert paths(httpserver) == ["/flaky"] * 3


def test_server_error_gives_up_after_retries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("boom", status=503)
    err = fetch_error(make_settings(retries=2, retry_backoff=0.01), httpserver.url_for("/down"))
    assert err.reason == Reason.SERVER_ERROR and err.retry_after is None
    assert len(httpserver.log) == 3


@pytest.mark.parametrize(
    ("status", "reason"),
    [(404, Reason.NOT_FOUND), (410, Reason.GONE), (403, Reason.CLIENT_ERROR), (400, Reason.CLIENT_ERROR)],
)
def test_client_errors_are_not_retried(httpserver: HTTPServer, status: int, reason: Reason) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=status)
    err = fetch_error(make_settings(retries=3, retry_backoff=0.01), httpserver.url_for("/gone"))
    assert err.reason == reason and not err.transient
    assert len(httpserver.log) == 1


def test_rate_limit_with_long_retry_after_is_returned_not_waited(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/rl").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    started = time.monotonic()
    err = fetch_error(make_settings(retries=3), httpserver.url_for("/rl"))
    assert err.reason == Reason.RATE_LIMITED and err.retry_after == 120.0
    assert len(httpserver.log) == 1 and time.monotonic() - started < 1


def test_retry_after_http_date_is_parsed(httpserver: HTTPServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    httpserver.expect_request("/rl").respond_with_data("", status=503, headers={"Retry-After": when})
    err = fetch_error(make_settings(retries=2), httpserver.url_for("/rl"))
    assert err.reason == Reason.SERVER_ERROR
    assert err.retry_after is not None and 85 <= err.retry_after <= 91
    assert len(httpserver.log) == 1


def test_short_retry_after_is_honoured_in_run(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/rl").respond_with_data("", status=429, headers={"Retry-After": "1"})
    httpserver.expect_request("/rl").respond_with_data("<rss/>", content_type="text/xml")
    started = time.monotonic()
    result = fetch(make_settings(retries=1, retry_backoff=0.01), httpserver.url_for("/rl"))
    assert result.body == b"<rss/>" and len(httpserver.log) == 2
    assert time.monotonic() - started >= 1.0  # waited as asked, not just the 0.01 s backoff


def test_parse_retry_after() -> None:
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0  # in the past
    for bad in (None, "", "soon", "-5", "1.5e3"):
        assert parse_retry_after(bad) is None


# ---------------------------------------------------------------- content types


def _untyped(body: bytes) -> Response:
    response = Response(body)
    del response.headers["Content-Type"]
    return response


@pytest.mark.parametrize(
    ("kind", "ctype", "body", "ok"),
    [
        ("page", "text/html; charset=utf-8", b"<html></html>", True),
        ("page", "application/xhtml+xml", b"<html></html>", True),
        ("page", "application/pdf", b"%PDF-1.4", False),
        ("page", "image/jpeg", b"\xff\xd8", False),
        ("page", "application/rss+xml", b"<rss/>", False),
        ("page", None, b"\n  <!DOCTYPE html><html><p>hi</p></html>", True),
        ("page", None, b"\x89PNG\r\n\x1a\n\x00\x00", False),
        ("feed", "application/rss+xml", b"<rss/>", True),
        ("feed", "application/atom+xml", b"<feed/>", True),
        ("feed", "application/x-rss+xml", b"<rss/>", True),
        ("feed", "text/xml", b"<rss/>", True),
        ("feed", "text/plain", b"<rss/>", True),
        ("feed", "text/html", b"<html>not a feed</html>", True),  # the feed parser decides
        ("feed", "application/octet-stream", b"<rss/>", True),
        ("feed", None, b"<rss/>", True),
        ("feed", "image/png", b"\x89PNG", False),
        ("feed", "video/mp4", b"\x00", False),
    ],
)
def test_content_type_policy(
    httpserver: HTTPServer, kind: str, ctype: str | None, body: bytes, ok: bool
) -> None:
    if ctype is None:
        httpserver.expect_request("/doc").respond_with_response(_untyped(body))
    else:
        httpserver.expect_request("/doc").respond_with_data(body, content_type=ctype)
    settings = make_settings(retries=2)
    if ok:
        assert fetch(settings, httpserver.url_for("/doc"), kind=kind).body == body
    else:
        assert fetch_error(settings, httpserver.url_for("/doc"), kind=kind).reason == Reason.BAD_CONTENT_TYPE
        assert len(httpserver.log) == 1


# ---------------------------------------------------------------- robots.txt


def test_robots_disallow_is_enforced_for_pages_only_and_fetched_once(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt", headers={"User-Agent": DEFAULT_USER_AGENT}).respond_with_data(
        "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    for path in ("/news/1", "/news/2", "/news/3", "/private/feed.xml"):
        httpserver.expect_request(path).respond_with_data("<html><p>x</p></html>", content_type="text/html")

    async def run() -> list[object]:
        async with Fetcher(make_settings(respect_robots=True)) as f:
            pages = [f.fetch(httpserver.url_for(p), kind="page") for p in ("/news/1", "/news/2", "/news/3")]
            blocked = f.fetch(httpserver.url_for("/private/secret"), kind="page")
            feed = f.fetch(httpserver.url_for("/private/feed.xml"), kind="feed")
            return await asyncio.gather(*pages, blocked, feed, return_exceptions=True)

    *pages, blocked, feed = asyncio.run(run())
    assert all(isinstance(p, FetchResult) for p in pages)
    assert isinstance(blocked, PipelineError) and blocked.reason == Reason.ROBOTS_DISALLOWED
    assert isinstance(feed, FetchResult)  # feeds are not subject to robots.txt
    requested = paths(httpserver)
    assert requested.count("/robots.txt") == 1
    assert "/private/secret" not in requested


def test_robots_checked_on_redirect_target(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /members/\n")
    httpserver.expect_request("/story").respond_with_data(
        "", status=302, headers={"Location": "/members/story"}
    )
    err = fetch_error(make_settings(respect_robots=True), httpserver.url_for("/story"), kind="page")
    assert err.reason == Reason.ROBOTS_DISALLOWED
    assert "/members/story" not in paths(httpserver)


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_unavailable_robots_allows(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n", status=status)
    httpserver.expect_request("/page").respond_with_data("<html><p>x</p></html>", content_type="text/html")
    result = fetch(make_settings(respect_robots=True, retries=0), httpserver.url_for("/page"), kind="page")
    assert result.status == 200


def test_robots_not_fetched_when_disabled(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n")
    httpserver.expect_request("/page").respond_with_data("<html><p>x</p></html>", content_type="text/html")
    assert fetch(make_settings(respect_robots=False), httpserver.url_for("/page"), kind="page").status == 200
    assert paths(httpserver) == ["/page"]


# ---------------------------------------------------------------- politeness


def _host(hit: Hit) -> str:
    return hit.headers["host"].rsplit(":", 1)[0]


def _record(server: RawServer, paths: Sequence[str], delays: dict[str, float] | None = None) -> None:
    """Answer ``paths`` with a small feed after a per-Host delay; the server logs every start."""

    def route(c: Conn) -> None:
        time.sleep((delays or {}).get(_host(c.hit), 0))
        c.respond(200, b"<rss/>", {"Content-Type": "text/xml"})

    for path in paths:
        server.routes[path] = route


def _starts(server: RawServer, host: str) -> list[float]:
    return [h.started for h in server.hits if _host(h) == host]


def _max_inflight(hits: Sequence[Hit]) -> dict[str, int]:
    """Most requests of each Host the server was answering at one time."""
    out: dict[str, int] = {}
    for host in {_host(h) for h in hits}:
        events = sorted(e for h in hits if _host(h) == host
                        for e in ((h.started, 1), (h.ended if h.ended is not None else float("inf"), -1)))
        now = top = 0
        for _, step in events:
            now += step
            top = max(top, now)
        out[host] = top
    return out


def _url(server: RawServer, path: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{server.port}{path}"


def _gather(settings: Settings, urls: list[str]) -> tuple[list[FetchResult], dict[str, float]]:
    finished: dict[str, float] = {}

    async def one(f: Fetcher, url: str) -> FetchResult:
        result = await f.fetch(url, kind="feed")
        finished[url] = time.monotonic()
        return result

    async def run() -> list[FetchResult]:
        async with Fetcher(settings) as f:
            return list(await asyncio.gather(*(one(f, u) for u in urls)))

    return asyncio.run(run()), finished


def test_per_host_delay_spaces_one_host_but_not_another() -> None:
    with RawServer() as server:
        _record(server, [f"/{x}{i}" for x in "ab" for i in range(3)])
        urls = [_url(server, f"/a{i}", host="127.0.0.1") for i in range(3)]
        urls += [_url(server, f"/b{i}", host="localhost") for i in range(3)]
        started = time.monotonic()
        # a delay long enough that "queued behind the other host" and "not queued" stay far apart
        # on a loaded machine (a shorter one made the margins a few scheduler ticks wide)
        _gather(make_settings(per_host_delay=1.0, per_host_concurrency=4), urls)
    a, b = _starts(server, "127.0.0.1"), _starts(server, "localhost")
    assert len(a) == len(b) == 3
    for starts in (a, b):
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert all(gap >= 0.9 for gap in gaps), gaps  # spaced by the delay, less arrival jitter
    assert abs(b[0] - a[0]) < 0.6  # the second host is not queued behind the first one's gaps (>= 1 s)
    assert a[0] - started < 0.9  # nor is the first request held for a gap


def test_slow_host_does_not_hold_back_other_hosts() -> None:
    with RawServer() as server:
        _record(server, ["/s0", "/s1", "/fast"], delays={"127.0.0.1": 0.8})
        slow = [_url(server, f"/s{i}", host="127.0.0.1") for i in range(2)]
        fast = _url(server, "/fast", host="localhost")
        started = time.monotonic()
        # 2 global slots, 1 per host: queued slow requests must not occupy the second global slot.
        settings = make_settings(global_concurrency=2, per_host_concurrency=1, feed_timeout=5)
        results, finished = _gather(settings, [*slow, fast])
    assert all(r.status == 200 for r in results)
    assert finished[fast] - started < 0.5
    assert max(finished[u] for u in slow) - started >= 1.6  # the slow host really was serialized
    assert _max_inflight(server.hits)["127.0.0.1"] == 1


def test_queueing_for_politeness_does_not_eat_the_deadline() -> None:
    with RawServer() as server:
        _record(server, [f"/q{i}" for i in range(3)])
        urls = [_url(server, f"/q{i}") for i in range(3)]
        # the third request waits ~0.8 s for its turn, far beyond the 0.3 s request deadline
        results, _ = _gather(make_settings(per_host_delay=0.4, feed_timeout=0.3), urls)
    assert [r.status for r in results] == [200, 200, 200]
    starts = _starts(server, "127.0.0.1")
    assert starts[-1] - starts[0] >= 0.75


def test_per_host_and_global_concurrency_limits() -> None:
    with RawServer() as server:
        _record(server, [f"/c{i}" for i in range(3)], delays={"127.0.0.1": 0.1, "localhost": 0.1})
        urls = [_url(server, f"/c{i}", host=h) for i in range(3) for h in ("127.0.0.1", "localhost")]
        _gather(make_settings(per_host_concurrency=2, global_concurrency=32), urls)
        assert _max_inflight(server.hits) == {"127.0.0.1": 2, "localhost": 2}
        first = len(server.hits)
        _gather(make_settings(per_host_concurrency=2, global_concurrency=1), urls)
        assert _max_inflight(server.hits[first:]) == {"127.0.0.1": 1, "localhost": 1}


class _KeepAliveSite:
    """HTTP/1.1 keep-alive servers on ``n`` ports of 127.0.0.1 (``n`` origins), recording every
    TCP connection they accept and which of them the client has closed."""

    def __init__(self, n: int) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.opened: dict[int, int] = {}  # server port → connections accepted
        self.closed_by_client: set[tuple[int, int]] = set()  # (server port, client port)
        lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with lock:
                    port = self.server.server_address[1]
                    site.opened[port] = site.opened.get(port, 0) + 1

            def finish(self) -> None:
                with lock:
                    site.closed_by_client.add((self.server.server_address[1], self.client_address[1]))
                super().finish()

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                body = b"<rss><channel><title>t</title></channel></rss>"
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.servers = [Server(("127.0.0.1", 0), Handler) for _ in range(n)]
        for s in self.servers:
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.ports = [s.server_address[1] for s in self.servers]

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def test_each_origin_keeps_its_connections_alive_with_many_origins() -> None:
    """40 origins (more than the 32 idle connections one shared pool kept), three rounds of one
    request each: every origin's later requests reuse its connection instead of opening one each."""
    site = _KeepAliveSite(40)
    try:
        urls = [f"http://127.0.0.1:{port}/feed{r}" for r in range(3) for port in site.ports]
        settings = make_settings(per_host_concurrency=2, global_concurrency=32)

        async def run() -> None:
            async with Fetcher(settings) as f:
                for url in urls:  # one at a time: round robin over the origins
                    await f.fetch(url, kind="feed")

        asyncio.run(run())
    finally:
        site.close()
    assert sorted(site.opened) == sorted(site.ports)
    assert all(n == 1 for n in site.opened.values()), site.opened


def test_idle_origins_beyond_the_cap_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for 3 origins' idle connections, the least recently used ones are closed by the
    client while the run goes on, and the last 3 only when the fetcher closes."""
    import extractors.net.fetcher as fetcher_module

    monkeypatch.setattr(fetcher_module, "KEEPALIVE_ORIGINS", 3)
    site = _KeepAliveSite(6)
    closed_before_end: set[int] = set()
    try:
        settings = make_settings()

        async def run() -> None:
            async with Fetcher(settings) as f:
                for port in site.ports:
                    await f.fetch(f"http://127.0.0.1:{port}/feed", kind="feed")
                await asyncio.sleep(0.3)  # the server threads see the closes
                closed_before_end.update(port for port, _ in site.closed_by_client)

        asyncio.run(run())
        deadline = time.monotonic() + 5
        while len(site.closed_by_client) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        site.close()
    assert closed_before_end == set(site.ports[:3]), (closed_before_end, site.ports)
    assert {port for port, _ in site.closed_by_client} == set(site.ports)
