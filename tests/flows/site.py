"""A small fake news site for end-to-end tests: feeds (RSS 2.0, Atom, RDF) and article pages
with the boilerplate real sites wrap around a story, served from a real HTTP server."""

from __future__ import annotations

import hashlib
import html
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "site"

BOILERPLATE_MARKERS = [
    "Subscribe to our newsletter",
    "Related articles",
    "Most popular",
    "We use cookies",
    "Share on Facebook",
    "Photo: Staff photographer",
    "All rights reserved",
]


def load_stories() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "stories.json").read_text(encoding="utf-8"))


def article_page(story: dict[str, Any], canonical: str | None = None) -> str:
    paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in story["paragraphs"])
    canon = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(story['title'])} | Harbour Herald</title>
{canon}
<meta name="author" content="{html.escape(story['author'])}">
<meta property="article:published_time" content="{story['date']}">
<meta property="og:site_name" content="Harbour Herald">
<meta name="description" content="{html.escape(story['paragraphs'][0][:150])}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a>
<a href="/subscribe">Subscribe</a> <a href="/login">Log in</a></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies</div>
<main><article>
<h1>{html.escape(story['title'])}</h1>
<div class="byline">By {html.escape(story['author'])}</div>
<div class="share">Share on Facebook Share on Twitter Email</div>
<figure><img src="/img/{story['slug']}.jpg"><figcaption>Photo: Staff photographer / Harbour Herald</figcaption></figure>
{paras}
<aside class="newsletter"><h3>Subscribe to our newsletter</h3><p>Get the day's top stories in your inbox.</p></aside>
</article>
<section class="related"><h2>Related articles</h2><ul>
<li><a href="/other-1">Ministers promise answers on port safety</a></li>
<li><a href="/other-2">Ferry strike enters its second week</a></li></ul></section>
<section class="popular"><h2>Most popular</h2><ol><li><a href="/p1">Storm warning for the coast</a></li></ol></section>
</main>
<footer>© 2026 Harbour Herald. All rights reserved. Privacy policy. Terms of use.</footer>
</body></html>"""


def editions_archive(root: Path, copies: int) -> Path:
    """A JSONL archive of ``copies`` x 5 distinct HTML articles (the fixture stories, each edition
    with its own title, URL and a paragraph from the next story), so the run lasts long enough
    to kill a worker in the middle of it."""
    stories = load_stories()
    root.mkdir(parents=True, exist_ok=True)
    path = root / "editions.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for k in range(copies):
            for i, story in enumerate(stories):
                other = stories[(i + k + 1) % len(stories)]
                edition = {**story, "title": f"{story['title']}, edition {k + 1}",
                           "paragraphs": [*story["paragraphs"], other["paragraphs"][k % len(other["paragraphs"])]]}
                fh.write(json.dumps({"url": f"https://herald.example.org/{story['slug']}-ed{k + 1}",
                                     "html": article_page(edition)}) + "\n")
    return path


def _rfc822(iso: str) -> str:
    from datetime import datetime
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(iso))


def rss(items: list[tuple[dict[str, Any], str]], title: str = "Harbour Herald - World") -> str:
    body = "".join(
        f"<item><title>{html.escape(s['title'])}</title><link>{html.escape(link)}</link>"
        f"<guid isPermaLink=\"false\">{s['slug']}</guid><pubDate>{_rfc822(s['date'])}</pubDate>"
        f"<description>{html.escape(s['paragraphs'][0])}</description></item>"
        for s, link in items
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>http://example.invalid/</link><description>World news</description>{body}</channel></rss>")


def atom(items: list[tuple[dict[str, Any], str]]) -> str:
    body = "".join(
        f"<entry><title>{html.escape(s['title'])}</title><link href=\"{html.escape(link)}\"/>"
        f"<id>urn:harbour:{s['slug']}</id><updated>{s['date']}</updated>"
        f"<author><name>{html.escape(s['author'])}</name></author>"
        f"<summary>{html.escape(s['paragraphs'][0])}</summary></entry>"
        for s, link in items
    )
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>Harbour Herald Atom</title><id>urn:harbour:feed</id><updated>2026-11-20T09:00:00Z</updated>"
            f"{body}</feed>")


def rdf(items: list[tuple[dict[str, Any], str]]) -> str:
    body = "".join(
        f'<item rdf:about="{html.escape(link)}"><title>{html.escape(s["title"])}</title>'
        f"<link>{html.escape(link)}</link><dc:date>{s['date']}</dc:date>"
        f"<description>{html.escape(s['paragraphs'][0])}</description></item>"
        for s, link in items
    )
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<channel rdf:about="http://example.invalid/rdf"><title>Harbour Herald RDF</title>'
            "<link>http://example.invalid/</link><description>x</description></channel>"
            f"{body}</rdf:RDF>")


@dataclass
class Site:
    """Routes for a werkzeug/pytest-httpserver server; records every request it sees."""

    base: str
    routes: dict[str, Callable[[Request], Response]] = field(default_factory=dict)
    log: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def handler(self, request: Request) -> Response:
        self.log.append((request.path, {k.lower(): v for k, v in request.headers.items()}))
        fn = self.routes.get(request.path)
        if fn is None:
            return Response("not found", status=404, content_type="text/plain")
        return fn(request)

    def static(self, path: str, body: str | bytes, content_type: str) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'

        def serve(req: Request) -> Response:
            if req.headers.get("If-None-Match") == etag:
                return Response(status=304, headers={"ETag": etag})
            return Response(data, content_type=content_type, headers={"ETag": etag})

        self.routes[path] = serve

    def slow(self, path: str, seconds: float) -> None:
        def serve(req: Request) -> Response:
            time.sleep(seconds)
            return Response("<html><body><p>late</p></body></html>", content_type="text/html")

        self.routes[path] = serve

    def requests_to(self, prefix: str) -> list[tuple[str, dict[str, str]]]:
        return [r for r in self.log if r[0].startswith(prefix)]
