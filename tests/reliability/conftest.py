"""Shared helpers for the reliability suite: the canned-route server for corpus replay, hostile
content and SSRF scenarios (``canned_server``), and the flow harness around it.

Everything network-related binds to 127.0.0.1 only.
"""

from __future__ import annotations

import gzip
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from warehouse.pages import pages_root, read_body

HOSTILE = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"

# ----------------------------------------------------------------------------- a local server


@dataclass
class Route:
    """One canned response. ``etag``/``last_modified`` make the route answer conditional GETs
    with 304; ``chunked`` streams the body without a Content-Length (so only a streaming size
    cap can stop it)."""

    body: bytes = b""
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    chunked: bool = False


Handler = Callable[[str, dict[str, str]], Route]


class LocalServer:
    """A threaded stdlib HTTP/1.1 server on 127.0.0.1 serving canned routes and logging requests.

    Why not pytest-httpserver here: the corpus replay needs raw control over status lines,
    Content-Encoding and chunked bodies, and a listen backlog large enough for 64 parallel
    connects (the stdlib default of 5 turns bursts into one-second SYN retries).
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route | Handler] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        server_self = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                server_self._serve(self)

        class _Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # clients hanging up mid-response is part of what these tests do

        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self.port = int(self._httpd.server_address[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: str | bytes, content_type: str | None = "text/html; charset=utf-8",
            **kw: Any) -> str:
        """Serve ``body`` at ``path``; returns the absolute URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        headers = list(kw.pop("headers", []))
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        self.routes[path] = Route(body=data, headers=headers, **kw)
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.routes[path] = Route(status=status, headers=[("Location", location)])
        return self.url(path)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.log if p == path)

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in req.headers.items()}
        with self._lock:
            self.log.append((req.path, headers))
        route = self.routes.get(path)
        if callable(route):
            route = route(req.path, headers)
        if route is None:
            route = Route(body=b"not found", status=404, headers=[("Content-Type", "text/plain")])
        status, body = route.status, route.body
        if (route.etag and headers.get("if-none-match") == route.etag) or (
            route.last_modified and headers.get("if-modified-since") == route.last_modified
        ):
            status, body = 304, b""
        try:
            req.send_response(status)
            for k, v in route.headers:
                req.send_header(k, v)
            if route.etag:
                req.send_header("ETag", route.etag)
            if route.last_modified:
                req.send_header("Last-Modified", route.last_modified)
            if route.chunked and status != 304:
                req.send_header("Transfer-Encoding", "chunked")
                req.end_headers()
                step = 64 * 1024
                for i in range(0, len(body), step):
                    piece = body[i : i + step]
                    req.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                req.wfile.write(b"0\r\n\r\n")
            else:
                req.send_header("Content-Length", str(len(body) if status != 304 else 0))
                req.end_headers()
                if status != 304:
                    req.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            req.close_connection = True  # the client hung up on purpose (size cap, deadline)


@pytest.fixture
def canned_server() -> Iterator[LocalServer]:
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------------------- fixture files with headers

_HEADER_LINE = re.compile(r"^Header:\s+([A-Za-z][A-Za-z0-9-]*):\s*(.*?)\s*$", re.MULTILINE)


def declared_headers(body: bytes) -> list[tuple[str, str]]:
    """``Header: Name: value`` lines in a document's leading comment (the corpus convention).

    Only ASCII-compatible heads carry them; UTF-16/32 and EBCDIC files simply have none.
    """
    head = body[:4096].decode("latin-1")
    start = head.find("<!--")
    end = head.find("-->", start)
    if start < 0 or end < 0:
        return []
    return [(m.group(1), m.group(2)) for m in _HEADER_LINE.finditer(head[start:end])]


def route_for_file(path: Path, *, rewrite_location: Callable[[str], str] | None = None) -> Route:
    """A Route serving a fixture file as its header lines ask.

    ``Status`` sets the status, ``ETag``/``Last-Modified`` make it conditional, ``Location`` is
    passed through ``rewrite_location``; ``.gz``/``.z`` files are sent as gzip/deflate encoded
    (their bytes are already the encoded stream); a missing Content-Type is guessed from the
    extension like a static file server would.
    """
    body = path.read_bytes()
    route = Route(body=body)
    has_type = False
    for name, value in declared_headers(body):
        low = name.lower()
        if low == "status":
            route.status = int(value.split()[0])
        elif low == "etag":
            route.etag = value
        elif low == "last-modified":
            route.last_modified = value
        elif low == "location":
            route.headers.append(("Location", rewrite_location(value) if rewrite_location else value))
        else:
            has_type = has_type or low == "content-type"
            route.headers.append((name, value))
    if path.suffix == ".gz":
        route.headers.append(("Content-Encoding", "gzip"))
    elif path.suffix == ".z":
        route.headers.append(("Content-Encoding", "deflate"))
    if not has_type:
        guessed = "application/xml" if path.suffix in (".gz", ".z") else mimetypes.guess_type(path.name)[0]
        route.headers.append(("Content-Type", guessed or "application/octet-stream"))
    return route


# ----------------------------------------------------------------------------- clean-text checks

# C0 controls except \t \n \r, DEL, C1 controls, the replacement character, non-characters.
_DIRTY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ufffe\uffff]")
# UTF-8 read as latin-1/cp1252: "Ã©", "Ã¨", "â€™", "Â " ...
_MOJIBAKE = re.compile(r"Ã[\u00a0-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                       r"\u2013-\u203a\u20ac\u2122]|â€|Â[\u00a0-\u00bf]")
_SCRIPT = re.compile(r"<\s*/?\s*script\b", re.IGNORECASE)


def text_problems(value: str | None, *, mojibake: bool = True) -> list[str]:
    """Why ``value`` is not clean stored text (empty list when it is)."""
    if not value:
        return []
    out = []
    bad = _DIRTY.search(value)
    if bad:
        out.append(f"control/replacement char U+{ord(bad.group()):04X} at {bad.start()}")
    moj = _MOJIBAKE.search(value) if mojibake else None
    if moj:
        out.append(f"mojibake {moj.group()!r} in {value[max(0, moj.start() - 20): moj.end() + 20]!r}")
    if _SCRIPT.search(value):
        out.append("script tag")
    return out


def assert_clean(value: str | None, what: str = "text", *, mojibake: bool = True) -> None:
    problems = text_problems(value, mojibake=mojibake)
    assert not problems, f"{what} is not clean: {problems}"


# ----------------------------------------------------------------------------- warehouse helpers


def every_stored_string(db: Path) -> Iterator[tuple[str, str, str]]:
    """(table, column, value) for every text value in every table, list elements included and
    raw page bodies decompressed (inline or from their files, reported as ``body_gz``), so a test
    can prove a string never reached the warehouse."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='main' "
            "AND table_type='BASE TABLE'").fetchall()]
        for table in tables:
            cols = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema='main' AND table_name=?", [table]).fetchall()
            for col, dtype in cols:
                if dtype not in ("VARCHAR", "VARCHAR[]", "BLOB"):
                    continue
                for (val,) in con.execute(f'SELECT "{col}" FROM "{table}"').fetchall():
                    if val is None:
                        continue
                    if isinstance(val, bytes):
                        yield table, col, gzip.decompress(val).decode("utf-8", "replace") if col == "body_gz" \
                            else val.decode("latin-1")
                    elif isinstance(val, list):
                        for item in val:
                            if item is not None:
                                yield table, col, str(item)
                    elif table == "raw_pages" and col == "body_ref":
                        # the body moved to its file beside the database: still part of what is stored
                        yield table, col, str(val)
                        yield table, "body_gz", read_body(pages_root(db), val).decode("utf-8", "replace")
                    else:
                        yield table, col, str(val)
    finally:
        con.close()


def write_feeds_file(path: Path, urls: list[str]) -> Path:
    path.write_text(yaml.safe_dump({"feeds": [{"url": u} for u in urls]}), encoding="utf-8")
    return path


def run_ingest(feeds: Path, db: Path) -> dict[str, Any]:
    """One real ``hourly_ingest`` flow run (needs the ``prefect_harness`` fixture)."""
    from flows.ingest import hourly_ingest

    started = time.monotonic()
    summary = hourly_ingest(feeds_file=str(feeds), db=str(db))
    summary.setdefault("_elapsed", time.monotonic() - started)
    return summary


# ----------------------------------------------------------------------------- page builders


def article_html(title: str, paragraphs: list[str], *, charset: str | None = "utf-8", head_extra: str = "",
                 body_extra: str = "") -> str:
    """A plain news page (no dates anywhere, so a stored date can only come from the feed)."""
    meta = f'<meta charset="{charset}">' if charset else ""
    paras = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang=\"en\"><head>{meta}<title>{title}</title>{head_extra}</head>"
            f"<body><header><nav><a href=\"/\">Home</a></nav></header><main><article><h1>{title}</h1>"
            f"{paras}{body_extra}</article></main><footer>Contact the newsroom</footer></body></html>")


STORY = [
    "Harbour pilots agreed on Tuesday to resume night sailings after a week of talks with the port "
    "authority, ending a dispute that had stranded dozens of cargo ships outside the breakwater.",
    "The agreement adds a second pilot to every night crossing and funds new radar equipment on the "
    "northern approach, where two near misses were recorded last winter.",
    "Shipping companies said the first vessels would enter the harbour before midnight, and the "
    "backlog of waiting ships should clear by the end of the week if the weather holds.",
    "Union representatives said members would vote on the deal at a meeting next month, but that "
    "night work would restart immediately while the ballot is organised.",
]
