"""The SSRF guard: schemes, URL shape, and every non-public address class (also via DNS)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence

import pytest

from extractors.net import netguard
from schemas.failures import PipelineError, Reason

BLOCKED_LITERALS = [
    # loopback
    "127.0.0.1",
    "127.255.255.254",
    "[::1]",
    # private
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "[fc00::1]",
    "[fd12:3456:789a::1]",
    # link-local incl. cloud metadata
    "169.254.169.254",
    "169.254.0.1",
    "[fe80::1]",
    "[fe80::1%25eth0]",
    # multicast
    "224.0.0.1",
    "239.255.255.250",
    "[ff02::1]",
    # reserved / broadcast
    "240.0.0.1",
    "255.255.255.255",
    # unspecified
    "0.0.0.0",
    "[::]",
    # shared address space / CGNAT
    "100.64.0.1",
    "100.127.255.254",
    # IPv4-mapped, 6to4 and NAT64 wrappers around blocked IPv4
    "[::ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:a00:1]",
    "[2002:7f00:1::]",
    "[2002:a9fe:a9fe::1]",
    "[64:ff9b::a9fe:a9fe]",
    # deprecated site-local, documentation, IPv4-compatible
    "[fec0::1]",
    "[2001:db8::1]",
    "[::127.0.0.1]",
]

# Spellings of loopback/metadata that resolvers (inet_aton) accept.
LEGACY_IPV4 = [
    "2130706433",  # decimal 127.0.0.1
    "0x7f000001",  # hex
    "017700000001",  # octal
    "0x7f.1",
    "127.1",
    "0177.0.0.1",
    "0",  # 0.0.0.0
    "2852039166",  # decimal 169.254.169.254
]

PUBLIC_LITERALS = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "[2606:4700:4700::1111]",
    "[::ffff:8.8.8.8]",
    "[2002:808:808::1]",
    "[64:ff9b::808:808]",
]


def _check(url: str, **kwargs: object) -> None:
    asyncio.run(netguard.check_url_async(url, **kwargs))  # type: ignore[arg-type]


def _reason(url: str, **kwargs: object) -> Reason | None:
    try:
        _check(url, **kwargs)
    except PipelineError as exc:
        return exc.reason
    return None


@pytest.mark.parametrize("host", BLOCKED_LITERALS + LEGACY_IPV4)
def test_non_public_addresses_are_blocked(host: str) -> None:
    assert _reason(f"http://{host}/feed.xml", allow_private=False) == Reason.BLOCKED_ADDRESS
    assert _reason(f"https://{host}:8443/x", allow_private=False) == Reason.BLOCKED_ADDRESS
    # the same URL passes when private networks are allowed
    assert _reason(f"http://{host}/feed.xml", allow_private=True) is None


@pytest.mark.parametrize("host", PUBLIC_LITERALS)
def test_public_addresses_pass(host: str) -> None:
    assert _reason(f"http://{host}/feed.xml", allow_private=False) is None


def test_is_blocked_address_on_edges_of_ranges() -> None:
    # just outside the private/CGNAT ranges is public
    assert not netguard.is_blocked_address("172.32.0.1")
    assert not netguard.is_blocked_address("100.128.0.1")
    assert not netguard.is_blocked_address("11.0.0.1")
    assert netguard.is_blocked_address("172.16.0.0")
    assert netguard.is_blocked_address("100.64.0.0")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", Reason.UNSUPPORTED_SCHEME),
        ("ftp://example.com/feed.xml", Reason.UNSUPPORTED_SCHEME),
        ("javascript:alert(1)", Reason.UNSUPPORTED_SCHEME),
        ("data:text/html,<h1>x</h1>", Reason.UNSUPPORTED_SCHEME),
        ("gopher://127.0.0.1:6379/_INFO", Reason.UNSUPPORTED_SCHEME),
        ("", Reason.INVALID_URL),
        ("example.com/feed", Reason.INVALID_URL),
        ("http://", Reason.INVALID_URL),
        ("http:///path-only", Reason.INVALID_URL),
        ("http://exa mple.com/", Reason.INVALID_URL),
        ("http://example.com:99999/", Reason.INVALID_URL),
        ("http://example.com/\x00", Reason.INVALID_URL),
    ],
)
def test_scheme_and_shape_checks_apply_even_when_private_allowed(url: str, reason: Reason) -> None:
    assert _reason(url, allow_private=True) == reason
    assert _reason(url, allow_private=False) == reason


def _resolver(answers: dict[str, Sequence[str]], calls: list[str] | None = None) -> netguard.AsyncResolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    return resolve


def test_hostnames_are_resolved_and_any_bad_answer_blocks() -> None:
    resolver = _resolver(
        {
            "news.example": ["93.184.216.34", "2606:2800:220:1::1"],
            "mixed.example": ["93.184.216.34", "10.1.2.3"],
            "rebind.example": ["169.254.169.254"],
            "v6local.example": ["2606:2800:220:1::1", "::1"],
        }
    )
    assert _reason("https://news.example/rss", allow_private=False, resolver=resolver) is None
    assert (
        _reason("https://mixed.example/rss", allow_private=False, resolver=resolver) == Reason.BLOCKED_ADDRESS
    )
    assert (
        _reason("https://rebind.example/", allow_private=False, resolver=resolver) == Reason.BLOCKED_ADDRESS
    )
    assert (
        _reason("http://v6local.example/", allow_private=False, resolver=resolver) == Reason.BLOCKED_ADDRESS
    )


def test_dns_failure_is_transient_dns_error() -> None:
    with pytest.raises(PipelineError) as info:
        _check("https://nowhere.example/", allow_private=False, resolver=_resolver({}))
    assert info.value.reason == Reason.DNS_ERROR
    assert info.value.transient


def test_allow_private_skips_resolution_but_not_scheme() -> None:
    calls: list[str] = []
    _check("http://intranet.example/", allow_private=True, resolver=_resolver({}, calls))
    assert calls == []
    assert _reason("file:///x", allow_private=True) == Reason.UNSUPPORTED_SCHEME


def test_ip_literals_are_not_sent_to_the_resolver() -> None:
    calls: list[str] = []
    assert _reason("http://0x7f000001/", allow_private=False, resolver=_resolver({}, calls)) == (
        Reason.BLOCKED_ADDRESS
    )
    assert calls == []


def test_real_getaddrinfo_resolves_localhost_to_loopback() -> None:
    assert _reason("http://localhost:8080/feed", allow_private=False) == Reason.BLOCKED_ADDRESS


def test_idna_host_is_encoded_before_resolution() -> None:
    calls: list[str] = []
    resolver = _resolver({"xn--bcher-kva.example": ["93.184.216.34"]}, calls)
    assert _reason("https://bücher.example/feed", allow_private=False, resolver=resolver) is None
    assert calls == ["xn--bcher-kva.example"]


def test_resolver_that_yields_to_the_loop_is_checked_like_any_other() -> None:
    async def resolver(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(0)
        return {"ok.example": ["8.8.4.4"], "bad.example": ["192.168.0.10"]}[host]

    async def run(url: str) -> Reason | None:
        try:
            await netguard.check_url_async(url, allow_private=False, resolver=resolver)
        except PipelineError as exc:
            return exc.reason
        return None

    async def main() -> list[Reason | None]:
        return [
            await run("http://ok.example/"),
            await run("http://bad.example/"),
            await run("http://[::ffff:10.0.0.1]/"),
            await run("ftp://ok.example/"),
        ]

    assert asyncio.run(main()) == [
        None,
        Reason.BLOCKED_ADDRESS,
        Reason.BLOCKED_ADDRESS,
        Reason.UNSUPPORTED_SCHEME,
    ]


def test_async_default_resolver_uses_the_loop() -> None:
    async def main() -> Reason | None:
        try:
            await netguard.check_url_async("http://localhost/", allow_private=False)
        except PipelineError as exc:
            return exc.reason
        return None

    assert asyncio.run(main()) == Reason.BLOCKED_ADDRESS
