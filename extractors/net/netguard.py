"""Refuse URLs that would make the crawler talk to itself or to the internal network (SSRF guard).

Feed lists and redirects come from outside, so before any connection we check the scheme and
resolve the host: if ANY address it resolves to is loopback, private, link-local (cloud metadata
lives at 169.254.169.254), multicast, reserved, unspecified or carrier-grade NAT — directly or
wrapped in an IPv6 form that reaches IPv4 (mapped, 6to4, NAT64) — the URL is refused.  Checking
every address (not just the first) stops a hostname that mixes public and private answers.

``allow_private=True`` (tests, intranet deployments) skips only the address policy; scheme and
URL-shape checks always apply.  The HTTP layer applies :func:`resolve_and_check_async` at
connect time and connects to the checked address, so DNS rebinding between check and connect
does not slip through.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import SplitResult, unquote, urlsplit

from schemas.failures import PipelineError, Reason

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: ``(host, port) -> addresses``; injectable so tests can fake DNS answers.
AsyncResolver = Callable[[str, int], Awaitable[Sequence[str]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Hosts made only of these characters may be legacy numeric IPv4 forms (127.1, 0x7f.1, 2130706433).
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form actually reaches (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@functools.lru_cache(maxsize=4096)  # pure; every request checks its host's addresses again
def is_blocked_address(address: str | IPAddress) -> bool:
    """True when connecting to ``address`` could reach something that is not the public internet."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return is_blocked_address(inner)
        if ip.is_site_local:
            return True
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local:
        return True
    if ip.is_private or ip.is_reserved:
        return True
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return True
    return not ip.is_global


@functools.lru_cache(maxsize=4096)  # pure; asked for every URL and every connect
def parse_ip_literal(host: str) -> IPAddress | None:
    """Parse ``host`` as an IP address, including the legacy IPv4 spellings resolvers accept."""
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(unquote(candidate))
    except ValueError:
        pass
    if _NUMERIC_HOST.match(candidate) and any(c.isdigit() for c in candidate):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(candidate))
        except OSError:
            return None
    return None


def split_url(url: str) -> tuple[SplitResult, str, int]:
    """Validate scheme and shape; return the split URL, its ASCII host and port."""
    if not isinstance(url, str) or not url.strip():
        raise PipelineError(Reason.INVALID_URL, "empty URL")
    if _CONTROL.search(url.strip()):
        raise PipelineError(Reason.INVALID_URL, f"whitespace or control character in URL {url!r}")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise PipelineError(Reason.INVALID_URL, f"{url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise PipelineError(Reason.INVALID_URL, f"no scheme in {url!r}")
    if scheme not in ALLOWED_SCHEMES:
        raise PipelineError(Reason.UNSUPPORTED_SCHEME, f"scheme {scheme!r} not allowed: {url[:80]!r}")
    host = parts.hostname or ""
    if not host:
        raise PipelineError(Reason.INVALID_URL, f"no host in {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise PipelineError(Reason.INVALID_URL, f"{url!r}: {exc}") from None
    if parse_ip_literal(host) is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise PipelineError(Reason.INVALID_URL, f"bad host name {host!r}: {exc}") from None
    return parts, host, port if port is not None else DEFAULT_PORTS[scheme]


def _addresses_from_getaddrinfo(infos: Sequence[tuple]) -> list[str]:
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    return seen


async def resolve_async(host: str, port: int) -> list[str]:
    """Default resolver that runs getaddrinfo off the event loop."""
    loop = asyncio.get_running_loop()
    return _addresses_from_getaddrinfo(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))


def _check_addresses(host: str, addresses: Sequence[str], *, allow_private: bool) -> list[IPAddress]:
    if not addresses:
        raise PipelineError(Reason.DNS_ERROR, f"{host} resolved to no address")
    ips: list[IPAddress] = []
    for raw in addresses:
        try:
            ip = ipaddress.ip_address(raw)
        except ValueError:
            raise PipelineError(Reason.DNS_ERROR, f"{host} resolved to unparsable {raw!r}") from None
        if not allow_private and is_blocked_address(ip):
            raise PipelineError(Reason.BLOCKED_ADDRESS, f"{host} resolves to non-public address {ip}")
        ips.append(ip)
    return ips


def _dns_error(host: str, exc: BaseException) -> PipelineError:
    if isinstance(exc, UnicodeError):
        return PipelineError(Reason.INVALID_URL, f"bad host name {host!r}: {exc}")
    return PipelineError(Reason.DNS_ERROR, f"cannot resolve {host}: {exc}")


async def resolve_and_check_async(
    host: str, port: int, *, allow_private: bool, resolver: AsyncResolver | None = None
) -> list[IPAddress]:
    """Resolve ``host`` off the event loop and apply the address policy; returns the addresses
    that may be used."""
    literal = parse_ip_literal(host)
    if literal is not None:
        return _check_addresses(host, [str(literal)], allow_private=allow_private)
    try:
        addresses = await (resolver or resolve_async)(host, port)
    except (OSError, UnicodeError) as exc:
        raise _dns_error(host, exc) from None
    return _check_addresses(host, addresses, allow_private=allow_private)


async def check_url_async(url: str, *, allow_private: bool, resolver: AsyncResolver | None = None) -> None:
    """Raise ``PipelineError`` unless ``url`` is http(s) and (unless allowed) resolves only publicly."""
    _, host, port = split_url(url)
    await check_host_async(host, port, allow_private=allow_private, resolver=resolver)


async def check_host_async(host: str, port: int, *, allow_private: bool, resolver: AsyncResolver | None = None) -> None:
    """:func:`check_url_async` for a host and port already taken from a URL by :func:`split_url`."""
    if allow_private:
        return
    await resolve_and_check_async(host, port, allow_private=False, resolver=resolver)
