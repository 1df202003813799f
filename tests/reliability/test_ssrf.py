"""Scenario 4: SSRF. With ``NEWSFLOW_ALLOW_PRIVATE_NETWORKS=false``, feed items, feed URLs and
redirects that point at loopback, private, link-local (cloud metadata), IPv4-mapped addresses,
non-http schemes, or DNS names that resolve to such addresses are refused before any connection
and recorded as rejects.

How this stays honest without sending traffic anywhere but 127.0.0.1:

* DNS is faked at ``socket.getaddrinfo`` (what ``loop.getaddrinfo`` calls): ``public.example``
  → 127.0.0.1, ``internal.example`` → 10.0.0.5, ... Any other name fails to resolve.
* The guard is left intact except for exactly one exemption: the test server's own
  127.0.0.1:<port>, which must be reachable to serve the feed and the redirects. Every other
  loopback port stays blocked, and a second "canary" server on 127.0.0.1 proves it: it must never
  receive a request.
* ``socket.socket.connect`` is spied on: every connect is recorded, and one to any address other
  than 127.0.0.1 is refused on the spot (so even a guard bug cannot send a packet out), then
  reported by the test.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from extractors.net import netguard
from extractors.net.fetcher import Fetcher
from extractors.normalize.urls import canonicalize_url
from schemas.failures import PipelineError, Reason
from schemas.settings import Settings
from tests.reliability.conftest import STORY, LocalServer, Route, run_ingest, write_feeds_file
from tests.support.dbrows import rows

FAKE_DNS: dict[str, list[str]] = {
    "public.example": ["127.0.0.1"],
    "internal.example": ["10.0.0.5"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": ["93.184.216.34", "10.1.2.3"],  # one private answer taints the name
    "mapped.example": ["::ffff:10.0.0.9"],  # IPv4-mapped IPv6 reaching a private IPv4
    "cgnat.example": ["100.64.1.1"],
}


@dataclass
class NetSpy:
    """What the process tried to do on the network while the test ran."""

    server_port: int
    connects: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)

    def outside_loopback(self) -> list[tuple[str, int]]:
        return [(h, p) for h, p in self.connects if h != "127.0.0.1"]

    def to_port(self, port: int) -> list[tuple[str, int]]:
        return [(h, p) for h, p in self.connects if p == port]


@pytest.fixture
def net_spy(monkeypatch: pytest.MonkeyPatch, canned_server: LocalServer) -> Iterator[NetSpy]:
    """Fake DNS, spy on connect(), block private networks, exempt only the test server."""
    spy = NetSpy(server_port=canned_server.port)
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_check = netguard.resolve_and_check_async

    def fake_getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                         flags: int = 0) -> list[tuple[Any, ...]]:
        name = (host.decode() if isinstance(host, bytes) else str(host or "")).lower().rstrip(".")
        spy.lookups.append(name)
        if name in FAKE_DNS:
            out = []
            for addr in FAKE_DNS[name]:
                v6 = ipaddress.ip_address(addr).version == 6
                fam = socket.AF_INET6 if v6 else socket.AF_INET
                sockaddr = (addr, int(port or 0), 0, 0) if v6 else (addr, int(port or 0))
                out.append((fam, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
            return out
        try:
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            if name != "localhost":
                raise socket.gaierror(socket.EAI_NONAME, f"r1 fake DNS: no such test host {name!r}") from None
        return real_getaddrinfo(host, port, family, type, proto, flags)

    def check(address: Any) -> None:
        host, port = str(address[0]), int(address[1])
        spy.connects.append((host, port))
        if host != "127.0.0.1":
            raise ConnectionRefusedError(f"r1 spy: refused connect to non-loopback {host}:{port}")

    def spy_connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address)
        return real_connect(self, address)

    def spy_connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address)
        return real_connect_ex(self, address)

    async def guard_with_one_exemption(host: str, port: int, *, allow_private: bool,
                                       resolver: Any = None) -> list[Any]:
        try:
            return await real_check(host, port, allow_private=allow_private, resolver=resolver)
        except PipelineError as exc:
            if exc.reason is Reason.BLOCKED_ADDRESS and port == spy.server_port:
                ips = await real_check(host, port, allow_private=True, resolver=resolver)
                if ips and all(str(ip) == "127.0.0.1" for ip in ips):
                    return ips
            raise

    monkeypatch.setenv("NEWSFLOW_ALLOW_PRIVATE_NETWORKS", "false")
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    monkeypatch.setenv("NEWSFLOW_PAGE_TIMEOUT", "5")
    monkeypatch.setenv("NEWSFLOW_FEED_TIMEOUT", "5")
    monkeypatch.setenv("NEWSFLOW_WORKERS", "1")  # nothing to extract here: skip the process pool
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", spy_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", spy_connect_ex)
    monkeypatch.setattr(netguard, "resolve_and_check_async", guard_with_one_exemption)
    yield spy


@pytest.fixture
def canary_server() -> Iterator[LocalServer]:
    """A real service on 127.0.0.1 that the crawler must never reach (stands in for an admin API)."""
    server = LocalServer().start()
    server.routes["/"] = Route(body=b"canary", headers=[("Content-Type", "text/html")])
    try:
        yield server
    finally:
        server.stop()


def _rss(items: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{title}</title><link>{link.replace('&', '&amp;')}</link>"
        f"<guid isPermaLink=\"false\">ssrf-{i}</guid><description>{STORY[0]}</description></item>"
        for i, (title, link) in enumerate(items)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>SSRF</title>'
            f"<link>https://news.example/</link><description>x</description>{body}</channel></rss>")


def test_private_targets_in_items_feeds_and_redirects_are_refused_and_recorded(
    net_spy: NetSpy, canned_server: LocalServer, canary_server: LocalServer, prefect_harness: None,
    tmp_path: Path, db_path: Path,
) -> None:
    pub = f"http://public.example:{canned_server.port}"
    canary = canary_server.port
    blocked_items = {
        "loopback canary": f"http://127.0.0.1:{canary}/admin",
        "localhost canary": f"http://localhost:{canary}/admin",
        "ipv6 loopback": f"http://[::1]:{canary}/admin",
        "decimal loopback": f"http://2130706433:{canary}/admin",
        "ten": "http://10.0.0.1/admin",
        "one seven two": "http://172.16.5.4/internal",
        "one nine two": "http://192.168.1.1/router",
        "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "mapped literal": "http://[::ffff:10.0.0.9]/x",
        "dns internal": "http://internal.example/wiki",
        "dns metadata": "http://metadata.example/latest/meta-data/",
        "dns mixed": "http://mixed.example/page",
        "dns mapped": "http://mapped.example/page",
        "dns cgnat": "http://cgnat.example/page",
    }
    # public-looking URLs (allowed first hop) redirecting to private targets
    redirects = {
        "/go-metadata": ("http://169.254.169.254/latest/meta-data/", Reason.BLOCKED_ADDRESS),
        "/go-internal": ("http://internal.example:8080/", Reason.BLOCKED_ADDRESS),
        "/go-canary": (f"http://127.0.0.1:{canary}/", Reason.BLOCKED_ADDRESS),
        "/go-ten": ("http://10.20.30.40/", Reason.BLOCKED_ADDRESS),
        "/go-chain": (f"{pub}/go-metadata", Reason.BLOCKED_ADDRESS),  # two hops, second one private
        "/go-file": ("file:///etc/passwd", Reason.UNSUPPORTED_SCHEME),
        "/go-ftp": ("ftp://internal.example/pub/", Reason.UNSUPPORTED_SCHEME),
        "/go-gopher": ("gopher://127.0.0.1:11211/_stats", Reason.UNSUPPORTED_SCHEME),
    }
    for path, (target, _) in redirects.items():
        canned_server.redirect(path, target)
    unusable = {"file item": "file:///etc/passwd", "ftp item": "ftp://10.0.0.1/secrets.txt"}
    items = list(blocked_items.items()) + [(p.strip("/"), pub + p) for p in redirects] + list(unusable.items())
    canned_server.add("/feed.xml", _rss(items), "application/rss+xml")
    canned_server.redirect("/feed-moved", "http://169.254.169.254/feed.xml", 301)
    private_feeds = ["http://10.0.0.1/feed.xml", "http://internal.example/feed.xml", f"{pub}/feed-moved",
                     f"http://127.0.0.1:{canary}/feed.xml"]
    feeds = write_feeds_file(tmp_path / "feeds.yaml", [f"{pub}/feed.xml", *private_feeds])

    summary = run_ingest(feeds, db_path)

    assert summary["load_status"] == "loaded"
    rejects = rows(db_path, "SELECT stage, reason, url, payload FROM rejects")
    by_url = {(r[2], r[0]): r[1] for r in rejects}
    for title, url in blocked_items.items():
        key = canonicalize_url(url)
        assert key is not None, f"{title}: test URL does not canonicalize"
        assert by_url.get((key, "fetch")) == "blocked_address", f"{title}: {url} not refused: {rejects}"
    for path, (_, reason) in redirects.items():
        assert by_url.get((pub + path, "fetch")) == reason.value, f"redirect {path}: {rejects}"
    for url in private_feeds:
        assert by_url.get((url, "poll")) == "blocked_address", f"feed {url}: {rejects}"
    # non-http item links never become fetch candidates: they are rejected as having no usable link
    no_link_titles = {json.loads(r[3])["title"] for r in rejects if r[1] == "no_link" and r[3]}
    assert no_link_titles & set(unusable), f"non-http items were not recorded: {rejects}"

    # nothing reached a private service or left loopback
    assert canary_server.log == [], f"the canary on 127.0.0.1:{canary} was reached: {canary_server.log}"
    assert net_spy.to_port(canary) == []
    assert net_spy.outside_loopback() == [], f"connect() to non-loopback: {net_spy.outside_loopback()}"
    # the allowed first hops were served; no redirect target on this server was requested twice
    for path in redirects:
        assert canned_server.hits(path) >= 1, f"{path} was never requested (the test proves nothing)"
    assert canned_server.hits("/go-metadata") == 2  # once directly, once as the chain's first target
    assert "internal.example" in net_spy.lookups  # names really went through (fake) DNS
    feed_rows = dict(rows(db_path, "SELECT feed_url, last_reason FROM feeds"))
    assert all(feed_rows[u] == "blocked_address" for u in private_feeds), feed_rows


def _settings(tmp_path: Path) -> Settings:
    return Settings(db=tmp_path / "x.duckdb", allow_private_networks=False, retries=0, per_host_delay=0,
                    respect_robots=False, feed_timeout=5, page_timeout=5)


def test_dns_rebinding_between_check_and_connect_never_connects_privately(
    net_spy: NetSpy, canned_server: LocalServer, tmp_path: Path
) -> None:
    """A name that answers 127.0.0.1 (the exempt test server) to the first lookup and a private
    address afterwards: the connection must go to a checked address or not happen at all."""
    canned_server.add("/page", "<html><body><p>hello</p></body></html>")
    answers = iter([["127.0.0.1"]] + [["10.0.0.5"]] * 20)
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    async def go() -> Any:
        async with Fetcher(_settings(tmp_path), resolver=rebinding) as f:
            try:
                return await f.fetch(f"http://rebind.example:{canned_server.port}/page", kind="page")
            except PipelineError as exc:
                return exc

    result = asyncio.run(go())
    assert calls, "the injected resolver was not used"
    assert net_spy.outside_loopback() == []
    if isinstance(result, PipelineError):
        assert result.reason is Reason.BLOCKED_ADDRESS
    else:  # the connect reused the checked answer
        assert result.status == 200 and canned_server.hits("/page") == 1


def test_literal_private_urls_are_refused_before_connect(
    net_spy: NetSpy, canary_server: LocalServer, tmp_path: Path
) -> None:
    """The Fetcher alone (no flow): every private form and scheme is refused, nothing is sent."""
    canary = canary_server.port
    cases = {
        f"http://127.0.0.1:{canary}/": Reason.BLOCKED_ADDRESS,
        f"http://127.1:{canary}/": Reason.BLOCKED_ADDRESS,
        f"http://0x7f000001:{canary}/": Reason.BLOCKED_ADDRESS,
        f"http://[::ffff:127.0.0.1]:{canary}/": Reason.BLOCKED_ADDRESS,
        f"http://localhost:{canary}/": Reason.BLOCKED_ADDRESS,
        "http://0.0.0.0/": Reason.BLOCKED_ADDRESS,
        "http://[::]/": Reason.BLOCKED_ADDRESS,
        "http://169.254.169.254/latest/meta-data/": Reason.BLOCKED_ADDRESS,
        "http://[fd00::1]/": Reason.BLOCKED_ADDRESS,
        "http://metadata.example/": Reason.BLOCKED_ADDRESS,
        "file:///etc/passwd": Reason.UNSUPPORTED_SCHEME,
        "ftp://10.0.0.1/": Reason.UNSUPPORTED_SCHEME,
        "data:text/html,<p>x</p>": Reason.UNSUPPORTED_SCHEME,
        "javascript:alert(1)": Reason.UNSUPPORTED_SCHEME,
        "http://no-such-host.example/": Reason.DNS_ERROR,
    }

    async def go() -> dict[str, Reason | None]:
        out: dict[str, Reason | None] = {}
        async with Fetcher(_settings(tmp_path)) as f:
            for url in cases:
                for kind in ("feed", "page"):
                    try:
                        await f.fetch(url, kind=kind)  # type: ignore[arg-type]
                        out[f"{kind} {url}"] = None
                    except PipelineError as exc:
                        out[f"{kind} {url}"] = exc.reason
        return out

    got = asyncio.run(go())
    for url, reason in cases.items():
        for kind in ("feed", "page"):
            assert got[f"{kind} {url}"] is reason, f"{kind} {url}: {got[f'{kind} {url}']}"
    assert canary_server.log == [] and net_spy.to_port(canary) == []
    assert net_spy.outside_loopback() == []
