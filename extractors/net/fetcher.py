"""The only HTTP client in newsflow: a polite, bounded, SSRF-guarded fetcher.

Every request goes through :class:`Fetcher`, which turns every way a fetch can go wrong into a
``PipelineError`` with a fixed ``Reason`` so callers never see an httpcore exception.  Guarantees:

* **Address guard** — the URL, every redirect hop, and the actual TCP connect are checked by
  :mod:`extractors.net.netguard`; the connection goes to the address that was checked (no rebinding).
* **Bounded** — a whole-request deadline per attempt (connect + headers + body, including a server
  that drips one byte at a time, which per-read timeouts never catch), and a size cap
  counted on *decoded* bytes while streaming, decoding ourselves in small steps so a gzip bomb is
  cut off after ``cap`` bytes instead of being inflated in memory.
* **Polite** — identifying User-Agent, a global concurrency limit, a per-host concurrency limit
  and a minimum gap between request starts to one host; waiting for one host never holds a slot
  another host could use.  robots.txt is honoured for pages (see :mod:`extractors.net.robots`).
* **Retries** — exponential backoff, only for transient reasons; never for 4xx; a 429/503 whose
  Retry-After is longer than :data:`MAX_INLINE_RETRY_AFTER` is returned to the caller (with
  ``retry_after`` set) so the feed is backed off instead of being hammered within the run.

The deadline applies per attempt and excludes time spent queueing for politeness slots, so a long
queue for one host never turns into timeouts.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import random
import re
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from extractors.net import netguard
from extractors.net.robots import MAX_ROBOTS_BYTES, RobotsCache
from schemas.failures import PipelineError, Reason, reason_for_status
from schemas.settings import Settings, load_settings

log = logging.getLogger(__name__)

Kind = Literal["feed", "page"]
_RequestKind = Literal["feed", "page", "robots"]

#: Longest server-requested wait (seconds) we sit out inside one run before giving up.
MAX_INLINE_RETRY_AFTER = 5.0
#: DNS answers are reused this long (seconds) between the hop check and the connect.
DNS_CACHE_TTL = 30.0
#: Largest decoded piece produced per decompression step (bounds memory per step).
_DECODE_STEP = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/feed+json;q=0.8, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "robots": "text/plain, */*;q=0.5",
}
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FEED_EXTRA_TYPES = frozenset(
    {"application/octet-stream", "binary/octet-stream", "application/json", "application/feed+json"}
)
_HTML_SNIFF = re.compile(rb"<(?:!doctype\s+html|html|head|body|title|meta|div|p)[\s>/]", re.IGNORECASE)


@dataclass(slots=True)
class FetchResult:
    """A successful (2xx or 304) response. ``redirects`` lists every URL redirected to, in order;
    ``elapsed`` is wall-clock seconds for the whole ``fetch`` call, retries included."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    content_type: str | None
    not_modified: bool = False
    elapsed: float = 0.0
    redirects: list[str] = field(default_factory=list)

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/invalid."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def format_http_date(value: datetime) -> str:
    """An aware datetime as an RFC 9110 IMF-fixdate (for If-Modified-Since)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return email.utils.format_datetime(value.astimezone(UTC), usegmt=True)


def mime_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def looks_like_html(body: bytes) -> bool:
    """Cheap sniff for untyped responses: an HTML tag near the start."""
    return _HTML_SNIFF.search(body[:2048]) is not None


def content_type_allowed(kind: _RequestKind, content_type: str | None) -> bool:
    """Whether a declared type is acceptable before reading the body (missing type is decided later)."""
    mime = mime_type(content_type)
    if kind == "robots" or not mime:
        return True
    if kind == "page":
        return mime in _PAGE_TYPES
    return (
        mime.startswith("text/")
        or mime in _FEED_EXTRA_TYPES
        or "xml" in mime
        or any(word in mime for word in ("rss", "atom", "rdf"))
    )


# ---------------------------------------------------------------- content decoding


class _Inflate:
    """Incremental gzip/deflate decoder that yields pieces of at most ``_DECODE_STEP`` bytes."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
        self._d = zlib.decompressobj(self._wbits)
        self._started = False
        self._done = False
        self._members = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self._done:
            try:
                out = self._d.decompress(data, _DECODE_STEP)
            except zlib.error:
                if self._members:  # junk after a complete gzip member: keep what we decoded
                    self._done = True
                    return
                if self._gzip or self._started:
                    raise
                # "deflate" is often sent as a raw stream without the zlib header.
                self._wbits = -zlib.MAX_WBITS
                self._d = zlib.decompressobj(self._wbits)
                self._started = True
                continue
            self._started = True
            if out:
                yield out
            if self._d.eof:
                self._members += 1
                rest = self._d.unused_data
                if not (self._gzip and rest):
                    self._done = True  # trailing bytes after a deflate stream are ignored
                    return
                self._d = zlib.decompressobj(self._wbits)  # next gzip member
                data = rest
                continue
            data = self._d.unconsumed_tail
            if not data and len(out) < _DECODE_STEP:
                return


class _Decoder:
    """Content-Encoding chain (applied in order by the server, undone in reverse)."""

    def __init__(self, header: str | None) -> None:
        self._stages: list[_Inflate] = []
        names = [n.strip().lower() for n in (header or "").split(",") if n.strip()]
        for name in reversed(names):
            if name in ("gzip", "x-gzip"):
                self._stages.append(_Inflate(gzip=True))
            elif name == "deflate":
                self._stages.append(_Inflate(gzip=False))
            elif name != "identity":
                raise PipelineError(Reason.DECODING_ERROR, f"unsupported Content-Encoding {name!r}")

    def feed(self, data: bytes, stage: int = 0) -> Iterator[bytes]:
        if stage == len(self._stages):
            if data:
                yield data
            return
        for piece in self._stages[stage].feed(data):
            yield from self.feed(piece, stage + 1)


# ---------------------------------------------------------------- guarded connections


class _CachingResolver:
    """Short-lived DNS cache so the hop check and the connect see the same answer with one lookup."""

    def __init__(self, resolver: netguard.AsyncResolver | None) -> None:
        self._resolver = resolver or netguard.resolve_async
        self._cache: dict[tuple[str, int], tuple[float, Sequence[str]]] = {}

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        key = (host.lower(), port)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < DNS_CACHE_TTL:
            return hit[1]
        addresses = list(await self._resolver(host, port))
        self._cache[key] = (now, addresses)
        return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host at connect time, then connects to a checked address only."""

    def __init__(self, *, allow_private: bool, resolver: netguard.AsyncResolver) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        ips = await netguard.resolve_and_check_async(
            host, port, allow_private=self._allow_private, resolver=self._resolver
        )
        last: Exception | None = None
        for ip in ips:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used by the fetcher")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process (loading the CA bundle is slow; contexts are shareable)."""
    return httpx.create_ssl_context(trust_env=False)


#: Most origins whose idle keep-alive connections are kept (each holds at most per-host-concurrency).
KEEPALIVE_ORIGINS = 128
#: An origin's idle connections are closed this long (seconds) after its last request.
KEEPALIVE_EXPIRY = 15.0


@dataclass(slots=True)
class _Origin:
    pool: httpcore.AsyncConnectionPool
    used: float  # time.monotonic() of its last request
    starting: int = 0  # requests handed to it that it has not registered yet (never closed then)


class _OriginPools:
    """One small ``httpcore`` pool per origin, the least recently used closed beyond a cap.

    httpcore's single pool scans every connection for every request it queues or releases and,
    once it holds more connections than its keep-alive limit, closes idle ones on each release:
    with more hosts than that limit (the busy hour has 50) nearly every request opened a new TCP
    (and TLS) connection, and the scans grew with the pool. A pool per origin, sized to the
    per-host concurrency, keeps each host's connections alive between its politeness gaps and
    makes every scan a few connections long. All pools connect through the same guarded backend.
    """

    def __init__(self, settings: Settings, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend
        self._size = settings.per_host_concurrency
        self._origins: dict[tuple[bytes, bytes, int | None], _Origin] = {}  # least recently used first

    def _origin_for(self, url: httpcore.URL) -> _Origin:
        key = (url.scheme, url.host, url.port)
        origin = self._origins.pop(key, None)  # re-inserted last
        if origin is None:
            origin = _Origin(httpcore.AsyncConnectionPool(
                ssl_context=_ssl_context(),
                max_connections=self._size,
                max_keepalive_connections=self._size,
                keepalive_expiry=KEEPALIVE_EXPIRY,
                http1=True,
                http2=False,
                network_backend=self._backend,
            ), 0.0)
        origin.used = time.monotonic()
        self._origins[key] = origin
        return origin

    def _stale(self) -> list[httpcore.AsyncConnectionPool]:
        """Idle pools beyond the cap or past their keep-alive, oldest first, taken out of the map."""
        out: list[httpcore.AsyncConnectionPool] = []
        cutoff = time.monotonic() - KEEPALIVE_EXPIRY
        oldest = next(iter(self._origins.values()), None)
        if oldest is None or (len(self._origins) <= KEEPALIVE_ORIGINS and oldest.used > cutoff):
            return out  # the usual case, without walking the map
        for key, origin in list(self._origins.items()):
            if len(self._origins) <= KEEPALIVE_ORIGINS and origin.used > cutoff:
                break
            if not origin.starting and all(c.is_idle() or c.is_closed() for c in origin.pool.connections):
                del self._origins[key]
                out.append(origin.pool)
        return out

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        origin = self._origin_for(request.url)
        origin.starting += 1
        try:
            for stale in self._stale():
                await stale.aclose()
            # from here until its response is closed, the request holds a connection of the pool
            return await origin.pool.handle_async_request(request)
        finally:
            origin.starting -= 1

    async def aclose(self) -> None:
        origins, self._origins = self._origins, {}
        for origin in origins.values():
            await origin.pool.aclose()


# ---------------------------------------------------------------- politeness and deadlines


class _HostGate:
    def __init__(self, concurrency: int) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.lock = asyncio.Lock()
        self.next_start = 0.0


class _Budget:
    """A per-attempt deadline spent only while doing network work (not while queueing)."""

    def __init__(self, total: float) -> None:
        self.total = total
        self.remaining = total

    @asynccontextmanager
    async def spend(self) -> AsyncIterator[None]:
        if self.remaining <= 0:
            raise PipelineError(Reason.TIMEOUT, f"no complete response within {self.total:g}s")
        start = time.monotonic()
        try:
            async with asyncio.timeout(self.remaining):
                yield
        except TimeoutError:
            raise PipelineError(Reason.TIMEOUT, f"no complete response within {self.total:g}s") from None
        finally:
            self.remaining -= time.monotonic() - start


def _loop_key(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def _strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


@dataclass(slots=True)
class _Hop:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    redirect_to: str | None = None


def _header_dict(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers by lower-case name, repeated ones joined by ", " (as httpx's ``items()``);
    values are UTF-8, or Latin-1 when they are not (HTTP allows only ASCII, Latin-1 is seen)."""
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


# ---------------------------------------------------------------- the fetcher


class Fetcher:
    """Async context manager owning the guarded connection pools and the politeness state.

    Requests go straight to ``httpcore`` (one pool per origin, :class:`_OriginPools`); ``httpx``
    is used only to normalise URLs (``httpx.URL``: IDNA hosts, percent-encoded paths), as its
    client layer (cookie jar, auth and redirect machinery, request/response models) cost about a
    fifth of the CPU of a request and did nothing the fetcher needs: redirects are followed here.
    Unlike httpx's client, no cookie jar: a cookie a site sets is not sent back to it (nothing
    relied on that; a page is fetched as by a first-time visitor).

    ``resolver`` (``async (host, port) -> [address, ...]``) replaces DNS, for tests.
    """

    def __init__(self, settings: Settings | None = None, *, resolver: netguard.AsyncResolver | None = None):
        self.settings = settings if settings is not None else load_settings()
        self._resolver = _CachingResolver(resolver)
        self._pools: _OriginPools | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._global: asyncio.Semaphore | None = None
        self._gates: dict[str, _HostGate] = {}
        self._robots: RobotsCache | None = None

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        backend = _GuardedBackend(allow_private=s.allow_private_networks, resolver=self._resolver)
        self._pools = _OriginPools(s, backend)
        self._headers = [
            (b"Accept-Encoding", b"gzip, deflate"),
            (b"Connection", b"keep-alive"),
            (b"User-Agent", s.user_agent.encode("ascii")),
        ]
        self._global = asyncio.Semaphore(s.global_concurrency)
        if s.respect_robots:
            self._robots = RobotsCache(self._fetch_robots, s.user_agent)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._pools is not None:
            await self._pools.aclose()
            self._pools = None

    # -- public API

    async def fetch(
        self,
        url: str,
        *,
        kind: Kind,
        etag: str | None = None,
        last_modified: str | datetime | None = None,
    ) -> FetchResult:
        """GET ``url`` as a feed or a page; raise ``PipelineError`` for anything but 2xx/304."""
        if kind not in ("feed", "page"):
            raise ValueError(f"kind must be 'feed' or 'page', not {kind!r}")
        if self._pools is None:
            raise RuntimeError("Fetcher must be used as 'async with Fetcher(settings) as f'")
        headers = {"Accept": _ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = (
                format_http_date(last_modified) if isinstance(last_modified, datetime) else last_modified
            )
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                result = await self._attempt(url, kind, headers)
            except PipelineError as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise
                attempt += 1
                log.info("retry %d for %s in %.2fs after %s", attempt, url, delay, exc)
                await asyncio.sleep(delay)
                continue
            result.elapsed = time.monotonic() - started
            return result

    # -- internals

    def _retry_delay(self, exc: PipelineError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if not exc.transient or attempt >= self.settings.retries:
            return None
        delay = self.settings.retry_backoff * (2**attempt) * random.uniform(1.0, 1.2)
        if exc.retry_after is not None:
            if exc.retry_after > MAX_INLINE_RETRY_AFTER:
                return None
            delay = max(delay, exc.retry_after)
        return delay

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """Per-host slot + start gap first, then a global slot: a busy host never holds global slots."""
        assert self._global is not None
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = _HostGate(self.settings.per_host_concurrency)
        async with gate.semaphore:
            async with gate.lock:
                wait = gate.next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._global.acquire()
                gate.next_start = time.monotonic() + self.settings.per_host_delay
            try:
                yield
            finally:
                self._global.release()

    async def _fetch_robots(self, robots_url: str) -> tuple[int, bytes]:
        result = await self._attempt(robots_url, "robots", {"Accept": _ACCEPT["robots"]})
        return result.status, result.body

    async def _attempt(self, url: str, kind: _RequestKind, headers: dict[str, str]) -> FetchResult:
        """One try: follow redirects by hand, guarding and rate-limiting every hop."""
        s = self.settings
        budget = _Budget(s.feed_timeout if kind == "feed" else s.page_timeout)
        netguard.split_url(url)  # shape and scheme errors before any parsing below
        current = _strip_fragment(url.strip())
        visited = {_loop_key(current)}
        redirects: list[str] = []
        while True:
            _, host, port = netguard.split_url(current)
            if not s.allow_private_networks:  # else there is nothing to wait for
                async with budget.spend():
                    await netguard.check_host_async(host, port, allow_private=False, resolver=self._resolver)
            if kind == "page" and self._robots is not None and not await self._robots.allowed(current):
                raise PipelineError(Reason.ROBOTS_DISALLOWED, f"robots.txt disallows {current}")
            async with self._slot(host), budget.spend():
                hop = await self._request(current, kind, headers, budget.total)
            if hop.redirect_to is None:
                break
            nxt = _strip_fragment(hop.redirect_to)
            netguard.split_url(nxt)
            if _loop_key(nxt) in visited:
                raise PipelineError(Reason.REDIRECT_LOOP, f"{current} redirects back to {nxt}")
            if len(redirects) >= s.max_redirects:
                raise PipelineError(
                    Reason.TOO_MANY_REDIRECTS, f"more than {s.max_redirects} redirects from {url}"
                )
            visited.add(_loop_key(nxt))
            redirects.append(nxt)
            current = nxt
        return FetchResult(
            url=url,
            final_url=current,
            status=hop.status,
            headers=hop.headers,
            body=hop.body,
            content_type=hop.headers.get("content-type"),
            not_modified=hop.status == 304,
            redirects=redirects,
        )

    async def _request(self, url: str, kind: _RequestKind, headers: dict[str, str], timeout: float) -> _Hop:
        """One HTTP exchange; httpcore errors become PipelineErrors."""
        assert self._pools is not None
        try:
            target = httpx.URL(url)
            request = httpcore.Request(
                b"GET",
                httpcore.URL(scheme=target.raw_scheme, host=target.raw_host, port=target.port,
                             target=target.raw_path),
                headers=[(b"Host", target.netloc), *self._headers,
                         *((k.encode("ascii"), v.encode("ascii")) for k, v in headers.items())],
                extensions={"timeout": {"connect": min(self.settings.connect_timeout, timeout),
                                        "read": timeout, "write": timeout, "pool": timeout}},
            )
            response = await self._pools.handle_async_request(request)
            try:
                return await self._handle(response, url, kind)
            finally:
                await response.aclose()
        except PipelineError:
            raise
        except httpcore.TimeoutException as exc:
            raise PipelineError(Reason.TIMEOUT, f"{url}: {type(exc).__name__}") from None
        except httpcore.ConnectError as exc:
            raise PipelineError(Reason.CONNECT_ERROR, f"{url}: {exc}") from None
        except (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError) as exc:
            raise PipelineError(Reason.CONNECTION_RESET, f"{url}: {type(exc).__name__}: {exc}") from None
        except (httpcore.LocalProtocolError, UnicodeEncodeError) as exc:  # our request is malformed (e.g. a bad stored ETag)
            raise PipelineError(Reason.INTERNAL, f"{url}: {exc}") from None
        except httpcore.UnsupportedProtocol as exc:
            raise PipelineError(Reason.UNSUPPORTED_SCHEME, f"{url}: {exc}") from None
        except httpx.InvalidURL as exc:
            raise PipelineError(Reason.INVALID_URL, f"{url}: {exc}") from None
        except zlib.error as exc:
            raise PipelineError(Reason.DECODING_ERROR, f"{url}: {exc}") from None
        except (httpcore.NetworkError, httpcore.ProxyError, httpcore.ConnectionNotAvailable) as exc:
            raise PipelineError(Reason.CONNECT_ERROR, f"{url}: {type(exc).__name__}: {exc}") from None

    async def _handle(self, response: httpcore.Response, url: str, kind: _RequestKind) -> _Hop:
        status = response.status
        headers = _header_dict(response.headers)
        location = headers.get("location")
        if status in _REDIRECT_STATUSES and location:
            try:
                target = urljoin(url, location.strip().replace(" ", "%20"))
            except ValueError:
                raise PipelineError(
                    Reason.INVALID_URL, f"bad Location {location[:200]!r} from {url}"
                ) from None
            return _Hop(status, headers, redirect_to=target)
        if status == 304:
            return _Hop(status, headers)
        reason = reason_for_status(status)
        if reason is not None:
            retry_after = parse_retry_after(headers.get("retry-after")) if status in (429, 503) else None
            raise PipelineError(reason, f"HTTP {status} from {url}", retry_after=retry_after)
        content_type = headers.get("content-type")
        if not content_type_allowed(kind, content_type):
            raise PipelineError(
                Reason.BAD_CONTENT_TYPE, f"{kind} served as {mime_type(content_type)!r}: {url}"
            )
        body = await self._read_body(response, headers, kind, url)
        if kind == "page" and not mime_type(content_type) and not looks_like_html(body):
            raise PipelineError(Reason.BAD_CONTENT_TYPE, f"untyped page that does not look like HTML: {url}")
        return _Hop(status, headers, body)

    async def _read_body(
        self, response: httpcore.Response, headers: dict[str, str], kind: _RequestKind, url: str
    ) -> bytes:
        """Stream and decode the body, stopping as soon as it exceeds the cap.

        robots.txt is truncated at the cap instead (RFC 9309 parses only the first 500 KiB).
        """
        s = self.settings
        cap = {"feed": s.max_feed_bytes, "page": s.max_page_bytes, "robots": MAX_ROBOTS_BYTES}[kind]
        truncate = kind == "robots"
        declared = headers.get("content-length", "").strip()
        if not truncate and declared.isdigit() and int(declared) > cap:
            raise PipelineError(Reason.TOO_LARGE, f"Content-Length {declared} exceeds {cap} bytes: {url}")
        decoder = _Decoder(headers.get("content-encoding"))
        body = bytearray()
        async for raw in response.aiter_stream():
            for piece in decoder.feed(raw):
                body += piece
                if len(body) > cap:
                    if truncate:
                        return bytes(body[:cap])
                    raise PipelineError(Reason.TOO_LARGE, f"body exceeds {cap} bytes (decoded): {url}")
        return bytes(body)

