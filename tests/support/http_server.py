"""The one test HTTP server: ``RawServer``, a plain-socket HTTP/1.1 server on 127.0.0.1.

Each route writes raw bytes, so a route can serve a canned document, redirect, stall after the
headers, drip one byte at a time, reset the connection, stream an endless body or a gzip bomb —
things a well-behaved framework server will not do. Every request is logged with monotonic
timestamps of when it arrived and when the connection ended, so tests can assert how long the
client stayed and whether one host's fetches waited for another's.
"""

from __future__ import annotations

import contextlib
import hashlib
import select
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Longest a misbehaving route keeps a connection open when the client never gives up.
MAX_HOLD = 60.0

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 404: "Not Found",
            410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass
class Hit:
    """One request as the server saw it; ``ended`` is when the connection was finished with."""

    path: str
    headers: dict[str, str]
    started: float
    ended: float | None = None
    outcome: str = "open"  # sent | client_closed | reset | held
    bytes_sent: int = 0

    @property
    def duration(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started


class Conn:
    """The accepted socket plus the parsed request, handed to a route."""

    def __init__(self, sock: socket.socket, hit: Hit, stop: threading.Event) -> None:
        self.sock = sock
        self.hit = hit
        self.stop = stop

    def send(self, data: bytes) -> bool:
        """Send everything; False (and the hit marked) if the client has gone away."""
        try:
            self.sock.sendall(data)
        except OSError:
            self.hit.outcome = "client_closed"
            return False
        self.hit.bytes_sent += len(data)
        return True

    def head(self, status: int, headers: dict[str, str] | None = None) -> bool:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines.append("Connection: close")
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def respond(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        hdrs = {**(headers or {}), "Content-Length": str(len(body))}
        if self.head(status, hdrs) and self.send(body):
            self.hit.outcome = "sent"

    def client_gone(self, wait: float) -> bool:
        """Wait up to ``wait`` seconds for the client to close its side (EOF or reset)."""
        try:
            ready, _, _ = select.select([self.sock], [], [], wait)
            if not ready:
                return False
            return self.sock.recv(4096) == b""
        except OSError:
            return True

    def hold(self) -> None:
        """Say nothing more until the client gives up (or the server stops)."""
        deadline = time.monotonic() + MAX_HOLD
        while not self.stop.is_set() and time.monotonic() < deadline:
            if self.client_gone(0.05):
                self.hit.outcome = "client_closed"
                return
        self.hit.outcome = "held"

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0) instead of an orderly close."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.hit.outcome = "reset"


Route = Callable[[Conn], None]


class RawServer:
    """A threaded raw-socket HTTP server on 127.0.0.1; ``routes`` maps a path to a Route."""

    def __init__(self, host_name: str = "127.0.0.1") -> None:
        self.host_name = host_name  # the name clients use in URLs (e.g. "localhost" for a second host)
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=f"rawserver-{self.port}", daemon=True)

    # -- lifecycle

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    @property
    def base(self) -> str:
        return f"http://{self.host_name}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits_to(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def paths(self, since: int = 0) -> list[str]:
        with self._lock:
            return [h.path for h in self.hits[since:]]

    # -- serving

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        try:
            raw = b""
            while b"\r\n\r\n" not in raw and len(raw) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                raw += chunk
            head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            target = request_line.split(" ")[1] if " " in request_line else "/"
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            hit = Hit(path=target.split("?", 1)[0], headers=headers, started=time.monotonic())
            with self._lock:
                self.hits.append(hit)
            conn = Conn(sock, hit, self._stop)
            route = self.routes.get(hit.path)
            try:
                if route is None:
                    conn.respond(404, b"not found", {"Content-Type": "text/plain"})
                else:
                    route(conn)
            finally:
                hit.ended = time.monotonic()
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    # -- route builders

    def static(self, path: str, body: str | bytes, content_type: str | None, status: int = 200,
               headers: dict[str, str] | None = None) -> None:
        """A fixed response; 200s carry an ETag and answer a matching If-None-Match with 304."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'

        def route(c: Conn) -> None:
            extra = dict(headers or {})
            if content_type is not None:
                extra["Content-Type"] = content_type
            if status == 200:
                if c.hit.headers.get("if-none-match") == etag:
                    c.respond(304, b"", {"ETag": etag})
                    return
                extra["ETag"] = etag
            c.respond(status, data, extra)

        self.routes[path] = route

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.routes[path] = lambda c: c.respond(status, b"", {"Location": to})

    def stall(self, path: str, content_type: str = "application/rss+xml") -> None:
        """Headers promising a body, then silence."""

        def route(c: Conn) -> None:
            if c.head(200, {"Content-Type": content_type, "Content-Length": "5000"}):
                c.send(b"<?xml version=\"1.0\"?><rss")
                c.hold()

        self.routes[path] = route

    def drip(self, path: str, interval: float = 0.1, content_type: str = "application/rss+xml") -> None:
        """A body that never ends, one byte per ``interval`` (each read succeeds, the whole never does)."""

        def route(c: Conn) -> None:
            if not c.head(200, {"Content-Type": content_type}):
                return
            deadline = time.monotonic() + MAX_HOLD
            while not c.stop.is_set() and time.monotonic() < deadline:
                if not c.send(b" ") or c.client_gone(interval):
                    c.hit.outcome = "client_closed"
                    return
            c.hit.outcome = "held"

        self.routes[path] = route

    def reset(self, path: str, after_bytes: bytes = b"") -> None:
        """Reset the connection, optionally after sending a partial response."""

        def route(c: Conn) -> None:
            if after_bytes:
                c.send(after_bytes)
                time.sleep(0.05)
            c.reset()

        self.routes[path] = route

    def endless(self, path: str, content_type: str, chunk: bytes = b"<p>" + b"x" * 65530 + b"</p>",
                limit: int = 512 * 1024 * 1024) -> None:
        """A body with no length that keeps coming until the client hangs up (or ``limit`` bytes)."""

        def route(c: Conn) -> None:
            if not c.head(200, {"Content-Type": content_type}):
                return
            while c.hit.bytes_sent < limit and not c.stop.is_set():
                if not c.send(chunk):
                    return
            c.hit.outcome = "sent"

        self.routes[path] = route

    def sequence(self, path: str, routes: Sequence[Route]) -> None:
        """The n-th request gets the n-th route; the last one repeats."""
        count = [0]
        lock = threading.Lock()

        def route(c: Conn) -> None:
            with lock:
                i = min(count[0], len(routes) - 1)
                count[0] += 1
            routes[i](c)

        self.routes[path] = route

    def gated(self, path: str, gate: threading.Event, inner: Route) -> None:
        """Hold the request until ``gate`` is set (or MAX_HOLD), then answer with ``inner``."""

        def route(c: Conn) -> None:
            gate.wait(MAX_HOLD)
            inner(c)

        self.routes[path] = route

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Route:
        return lambda c: c.respond(status, body, headers)


# --------------------------------------------------------------------------- payloads


def gzip_bomb(decoded_mb: int = 300) -> bytes:
    """A gzip stream of ``decoded_mb`` MiB of spaces inside an RSS shell, built without holding it."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [comp.compress(b'<?xml version="1.0"?><rss version="2.0"><channel><title>')]
    block = b" " * (1024 * 1024)
    for _ in range(decoded_mb):
        out.append(comp.compress(block))
    out.append(comp.compress(b"</title></channel></rss>"))
    out.append(comp.flush())
    return b"".join(out)


def gzip_route(server: RawServer, path: str, compressed: bytes, content_type: str) -> None:
    server.static(path, compressed, content_type, headers={"Content-Encoding": "gzip"})


# --------------------------------------------------------------------------- subprocesses
