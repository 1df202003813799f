"""A local news web: many hosts serving RSS feeds and article pages with added latency.

Run as ``python -m bench.newsserver --config CFG.json --ready READY.json`` (the benchmarks
start it in its own process so its CPU use does not share a GIL with the flow being
measured). Each host is a loopback address (127.0.0.2, 127.0.0.3, ...) on one port, because
the fetcher's politeness is keyed by host name: different ports of one address would count
as one site. Every request sleeps ``latency`` seconds (slow hosts longer) before answering,
like a remote server; HTTP/1.1 keep-alive lets the client reuse connections.

Feeds with an even number send an ETag/Last-Modified and answer 304 to a matching
conditional request; odd ones send no validators and the same body every time (the flow's
body-hash check must catch them). ``/robots.txt`` is a 404 (everything allowed). A control
listener on 127.0.0.1 answers ``GET /stats`` (request counts by kind), ``GET /peaks`` (the most
requests each host ever had in flight at once, a request counting from its arrival to its
answer, latency included) and ``GET /reset`` (both cleared).
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import html
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Layout:
    """How many hosts, feeds and items, and how slow: everything the server and the bound need."""

    feeds: int
    items: int
    hosts: int
    latency: float = 0.05
    slow_hosts: int = 0
    slow_latency: float = 0.5
    first_index: int = 0  # page indices start here (fresh stories per run when changed)

    def host_ip(self, h: int) -> str:
        return f"127.0.0.{2 + h}" if self.hosts <= 250 else f"127.0.{2 + h // 250}.{2 + h % 250}"

    def host_of_feed(self, f: int) -> int:
        return f % self.hosts

    def host_latency(self, h: int) -> float:
        return self.slow_latency if h >= self.hosts - self.slow_hosts else self.latency

    def feeds_on(self, h: int) -> list[int]:
        return [f for f in range(self.feeds) if self.host_of_feed(f) == h]


@dataclass
class _Site:
    layout: Layout
    port: int
    feeds: dict[tuple[str, str], tuple[bytes, str | None]] = field(default_factory=dict)  # (ip, path) → body, etag
    pages: dict[tuple[str, str], bytes] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    in_flight: dict[str, int] = field(default_factory=dict)  # host ip → requests being answered now
    peaks: dict[str, int] = field(default_factory=dict)  # host ip → most ever in flight at once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def arrive(self, ip: str) -> None:
        with self.lock:
            n = self.in_flight[ip] = self.in_flight.get(ip, 0) + 1
            if n > self.peaks.get(ip, 0):
                self.peaks[ip] = n

    def leave(self, ip: str) -> None:
        with self.lock:
            self.in_flight[ip] -= 1


def feed_url(layout: Layout, port: int, f: int) -> str:
    return f"http://{layout.host_ip(layout.host_of_feed(f))}:{port}/feeds/{f}.xml"


def build_site(layout: Layout, port: int, now: datetime | None = None) -> _Site:
    """Pre-render every feed and page so serving costs no generation time."""
    from bench.corpus import make_page

    site = _Site(layout, port)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    for f in range(layout.feeds):
        h = layout.host_of_feed(f)
        ip = layout.host_ip(h)
        items = []
        for k in range(layout.items):
            index = layout.first_index + f * layout.items + k
            path = f"/news/{f}/story-{index}.html"
            url = f"http://{ip}:{port}{path}"
            when = now - timedelta(minutes=3 * k + f % 50)
            page = make_page(index, url=url, outlet_index=h, published=when)
            site.pages[(ip, path)] = page.html.encode("utf-8")
            items.append(
                f"<item><title>{html.escape(page.title)}</title><link>{html.escape(url)}</link>"
                f'<guid isPermaLink="true">{html.escape(url)}</guid>'
                f"<pubDate>{email.utils.format_datetime(when)}</pubDate>"
                f"<author>{html.escape(page.author)}</author>"
                f"<description>{html.escape(page.title)}. A report from {html.escape(page.outlet)}.</description></item>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Feed {f}</title><link>http://{ip}:{port}/</link><description>Section {f}</description>"
            f"<lastBuildDate>{email.utils.format_datetime(now)}</lastBuildDate>{''.join(items)}</channel></rss>"
        ).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"' if f % 2 == 0 else None
        site.feeds[(ip, f"/feeds/{f}.xml")] = (body, etag)
    return site


def _handler(site: _Site) -> type[BaseHTTPRequestHandler]:
    last_modified = email.utils.format_datetime(datetime(2026, 1, 1, tzinfo=UTC), usegmt=True)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # silence per-request logging
            return

        def _send(self, status: int, body: bytes = b"", ctype: str | None = None,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            ip = self.connection.getsockname()[0]
            site.arrive(ip)
            try:
                self._answer(ip)
            finally:
                site.leave(ip)

        def _answer(self, ip: str) -> None:
            path = self.path.split("?", 1)[0]
            h = next((i for i in range(site.layout.hosts) if site.layout.host_ip(i) == ip), 0)
            time.sleep(site.layout.host_latency(h))
            if path == "/robots.txt":
                site.count("robots")
                self._send(404, b"no robots here", "text/plain")
                return
            feed = site.feeds.get((ip, path))
            if feed is not None:
                body, etag = feed
                if etag and self.headers.get("If-None-Match") == etag:
                    site.count("feed_304")
                    self._send(304, headers={"ETag": etag})
                    return
                site.count("feed")
                extra = {"ETag": etag, "Last-Modified": last_modified} if etag else {}
                self._send(200, body, "application/rss+xml; charset=utf-8", extra)
                return
            page = site.pages.get((ip, path))
            if page is not None:
                site.count("page")
                self._send(200, page, "text/html; charset=utf-8")
                return
            site.count("other")
            self._send(404, b"not found", "text/plain")

    return Handler


def _control(site: _Site) -> type[BaseHTTPRequestHandler]:
    class Control(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            with site.lock:
                body = json.dumps(site.peaks if self.path.startswith("/peaks") else site.counts).encode()
                if self.path.startswith("/reset"):
                    site.counts.clear()
                    site.peaks.clear()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Control


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def _bind_all(layout: Layout, handler: type[BaseHTTPRequestHandler]) -> tuple[int, list[_Server]]:
    """Bind every host address to one shared port (retrying with a new port on a clash)."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind((layout.host_ip(0), 0))
            port = probe.getsockname()[1]
        servers: list[_Server] = []
        try:
            for h in range(layout.hosts):
                servers.append(_Server((layout.host_ip(h), port), handler))
            return port, servers
        except OSError:
            for s in servers:
                s.server_close()
    raise RuntimeError("could not bind one port on every loopback host address")


def serve(layout: Layout, ready: Path) -> None:
    # the pages name their own URLs, so they are built once the shared port is known
    port, servers = _bind_all(layout, BaseHTTPRequestHandler)
    site = build_site(layout, port)
    handler = _handler(site)
    for s in servers:
        s.RequestHandlerClass = handler
    control = _Server(("127.0.0.1", 0), _control(site))
    for s in [*servers, control]:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    info = {"port": port, "control": f"http://127.0.0.1:{control.server_address[1]}",
            "feeds": [feed_url(layout, port, f) for f in range(layout.feeds)], "pages": len(site.pages)}
    tmp = ready.with_suffix(".tmp")
    tmp.write_text(json.dumps(info), encoding="utf-8")
    tmp.replace(ready)
    threading.Event().wait()


@dataclass
class Running:
    """A started news server, seen from the benchmark process."""

    port: int
    control: str
    feeds: list[str]
    pid: int

    def stats(self, reset: bool = False) -> dict[str, int]:
        import urllib.request

        with urllib.request.urlopen(self.control + ("/reset" if reset else "/stats"), timeout=10) as resp:
            return {k: int(v) for k, v in json.loads(resp.read()).items()}

    def peaks(self) -> dict[str, int]:
        """The most requests each host (by IP) had in flight at once since the last reset."""
        import urllib.request

        with urllib.request.urlopen(self.control + "/peaks", timeout=10) as resp:
            return {k: int(v) for k, v in json.loads(resp.read()).items()}

    def write_feed_list(self, path: Path) -> Path:
        import yaml

        specs = [{"url": u, "name": f"Bench feed {i}", "tags": ["bench"]} for i, u in enumerate(self.feeds)]
        path.write_text(yaml.safe_dump({"feeds": specs}, sort_keys=False), encoding="utf-8")
        return path


@contextmanager
def running(layout: Layout, workdir: Path, timeout: float = 300) -> Iterator[Running]:
    """Start the server in its own process and stop it (and only it) on the way out."""
    import subprocess
    import sys
    from dataclasses import asdict

    from bench.common import base_env, kill_tree

    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "newsserver.json"
    ready = workdir / "newsserver.ready"
    ready.unlink(missing_ok=True)
    cfg.write_text(json.dumps(asdict(layout)), encoding="utf-8")
    log = (workdir / "newsserver.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bench.newsserver", "--config", str(cfg), "--ready", str(ready)],
                            env=base_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"news server exited: {(workdir / 'newsserver.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("news server did not start in time")
            time.sleep(0.1)
        info = json.loads(ready.read_text(encoding="utf-8"))
        yield Running(port=info["port"], control=info["control"], feeds=info["feeds"], pid=proc.pid)
    finally:
        kill_tree(proc.pid)
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", required=True, type=Path)
    ap.add_argument("--ready", required=True, type=Path)
    args = ap.parse_args()
    layout = Layout(**json.loads(args.config.read_text(encoding="utf-8")))
    serve(layout, args.ready)


if __name__ == "__main__":
    main()
