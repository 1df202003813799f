"""Generated news pages and archives for the throughput benchmarks.

Real archives are large and not ours to ship, so the benchmarks build their own: pages that
look like real news sites (a big head with scripts and styles, mega-menu navigation, cookie
banners, share bars, related and most-read lists, comments, a long footer) wrapped around a
story composed from word lists. Every page's story, title, URL and date differ, so every page
gets its own record id and article id; everything is derived from the page index, so the same
index always gives the same page.
"""

from __future__ import annotations

import gzip
import html
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

ArchiveFormat = Literal["warc", "jsonl", "dir", "text"]

FIRST_NAMES = (
    "Amara", "Bilal", "Chiara", "Dmitri", "Elena", "Farah", "Gustav", "Hana", "Ines", "Jonas", "Kwame",
    "Leila", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tove", "Ugo", "Vera",
    "Wanjiru", "Xavier", "Yusuf", "Zofia",
)
LAST_NAMES = (
    "Achebe", "Bergstrom", "Castillo", "Dubois", "Eriksen", "Fonseca", "Garber", "Haddad", "Ivanova",
    "Jansen", "Kowalski", "Lindqvist", "Mensah", "Nakamura", "Okafor", "Petrov", "Quinlan", "Rahman",
    "Santos", "Takahashi", "Ueda", "Varga", "Whitfield", "Yilmaz", "Zhou",
)
ROLES = (
    "finance minister", "mayor", "chief executive", "spokesperson", "union leader", "central bank governor",
    "opposition leader", "health commissioner", "port director", "senior economist", "police chief",
    "foreign minister", "head of research", "climate envoy", "prosecutor", "party chair",
)
ORGS = (
    "the national rail operator", "the regional council", "the central bank", "the shipping alliance",
    "the teachers' union", "the energy regulator", "the health ministry", "the coastal authority",
    "the consumer watchdog", "the farmers' federation", "the statistics office", "the airport operator",
    "the water utility", "the chamber of commerce", "the supreme court", "the housing agency",
)
PLACES = (
    "Lisbon", "Nairobi", "Gdansk", "Osaka", "Valparaiso", "Tromso", "Marseille", "Hamburg", "Accra",
    "Montevideo", "Tbilisi", "Cork", "Dundee", "Bergen", "Izmir", "Da Nang", "Mombasa", "Rotterdam",
    "Halifax", "Tallinn", "Cebu", "Antwerp", "Durban", "Genoa",
)
TOPICS = (
    "budget", "ferry service", "port expansion", "wage deal", "flood defences", "rail strike",
    "housing plan", "fuel subsidy", "hospital merger", "fishing quota", "grain harvest", "school reform",
    "tax rebate", "bridge repair", "wind farm", "water tariff", "airport runway", "trade agreement",
    "pension reform", "heatwave response", "mining licence", "election timetable", "bus network",
)
ADJECTIVES = (
    "controversial", "long-delayed", "ambitious", "modest", "sweeping", "temporary", "costly", "revised",
    "landmark", "disputed", "emergency", "cross-party", "regional", "provisional", "record", "unexpected",
)
VERBS = (
    "approve", "reject", "postpone", "review", "expand", "cut", "suspend", "fund", "challenge",
    "renegotiate", "scrap", "extend", "publish", "investigate", "defend", "announce",
)
NUMBERS = ("two", "three", "four", "five", "a dozen", "several", "about forty", "nearly 300", "1,200", "18")
UNITS = ("million euros", "per cent", "jobs", "households", "kilometres", "vessels", "schools", "days", "tonnes")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
SECTIONS = ("world", "business", "politics", "science", "health", "climate", "europe", "africa", "asia", "sport")

_SENTENCES = (
    "{Person}, the {role} of {org}, said on {weekday} that the {adj} {topic} would {verb} {num} {unit} by {month}.",
    "Officials in {place} confirmed that talks over the {topic} had stalled after {num} rounds of negotiation.",
    "\u201cWe cannot {verb} the {topic} without a clear plan,\u201d {Person} told reporters outside the town hall.",
    "The {adj} proposal, first floated in {month}, would cost {num} {unit} over the next decade.",
    "Critics argue that {org} has failed to {verb} earlier commitments on the {topic}.",
    "According to figures released by {org}, {num} {unit} were affected in {place} alone.",
    "Residents of {place} have been asked to comment on the {topic} before the end of {month}.",
    "{Person} added that a {adj} review of the {topic} was expected to be published within {num} weeks.",
    "Analysts said the decision to {verb} the {topic} could ripple through the economy of {place}.",
    "The vote, scheduled for {weekday}, follows {num} months of pressure from {org}.",
    "In a statement, {org} said it would {verb} the {adj} measures if conditions in {place} worsened.",
    "Opposition members described the {topic} as {adj} and called on the {role} to resign.",
    "Shares in companies linked to the {topic} rose {num} {unit} in early trading in {place}.",
    "Previous attempts to {verb} the {topic} collapsed in {month} amid protests in {place}.",
)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _sentence(rng: random.Random) -> str:
    return rng.choice(_SENTENCES).format(
        Person=_person(rng), role=rng.choice(ROLES), org=rng.choice(ORGS), weekday=rng.choice(WEEKDAYS),
        adj=rng.choice(ADJECTIVES), topic=rng.choice(TOPICS), verb=rng.choice(VERBS), num=rng.choice(NUMBERS),
        unit=rng.choice(UNITS), month=rng.choice(MONTHS), place=rng.choice(PLACES),
    )


def paragraphs(rng: random.Random, count: int) -> list[str]:
    """Story paragraphs of 2-6 sentences each."""
    return [" ".join(_sentence(rng) for _ in range(rng.randint(2, 6))) for _ in range(count)]


def headline(rng: random.Random) -> str:
    return (f"{rng.choice(PLACES)} {rng.choice(ORGS).removeprefix('the ').split(' ')[-1]} moves to "
            f"{rng.choice(VERBS)} {rng.choice(ADJECTIVES)} {rng.choice(TOPICS)}")


# --------------------------------------------------------------------------- site chrome


@dataclass(frozen=True)
class Outlet:
    """A fake publication: its name and one of a few page layouts."""

    name: str
    domain: str
    layout: int


OUTLETS = tuple(
    Outlet(name=f"The {place} {kind}", domain=f"{place.lower().replace(' ', '')}-{kind.lower()}.example",
           layout=i % 3)
    for i, (place, kind) in enumerate(
        (p, k) for p in PLACES[:16] for k in ("Herald", "Courier", "Tribune")
    )
)


@lru_cache(maxsize=256)
def _chrome(outlet_index: int, variant: int) -> tuple[str, str, str]:
    """Head extras, page top and page bottom for one outlet (cached: built once per outlet)."""
    outlet = OUTLETS[outlet_index % len(OUTLETS)]
    rng = random.Random(f"chrome-{outlet_index}-{variant}")
    css = "\n".join(
        f".c{rng.randrange(10**6)} {{ margin: {rng.randint(0, 24)}px; color: #{rng.randrange(16**6):06x}; "
        f"font: {rng.randint(11, 22)}px/1.{rng.randint(2, 8)} sans-serif; }}"
        for _ in range(120)
    )
    js = "\n".join(
        f"window.__cfg{i} = {json.dumps({'slot': rng.randrange(10**5), 'ads': [rng.randrange(99) for _ in range(8)]})};"
        for i in range(60)
    )
    menu = "\n".join(
        f'<li class="menu-item"><a href="/{s}/{t.replace(" ", "-")}">{html.escape(t.title())}</a></li>'
        for s in SECTIONS for t in rng.sample(TOPICS, 10)
    )
    icons = "".join(
        f'<svg class="icon icon-{n}" viewBox="0 0 24 24"><g><path d="M{rng.randint(1, 9)} {rng.randint(1, 9)}'
        f'h{rng.randint(4, 14)}v{rng.randint(4, 14)}z"/><circle cx="12" cy="12" r="{rng.randint(2, 9)}"/></g></svg>'
        for n in ("facebook", "x", "mail", "link", "print", "search", "menu", "user", "bell", "close")
    )
    cards = "\n".join(
        f'<div class="card card--{rng.choice(SECTIONS)}"><a class="card__link" href="/{rng.choice(SECTIONS)}/'
        f'{rng.randrange(10**7)}"><div class="card__media"><img src="/img/{rng.randrange(10**7)}.jpg" '
        f'loading="lazy" alt=""></div><div class="card__body"><h3 class="card__title">{html.escape(headline(rng))}'
        f'</h3><p class="card__standfirst">{html.escape(_sentence(rng))}</p><span class="card__time">'
        f"{rng.randint(1, 23)} hours ago</span></div></a></div>"
        for _ in range(36)
    )
    sitemap = "\n".join(
        f'<div class="footer-col"><h4>{s.title()}</h4><ul>'
        + "".join(f'<li><a href="/{s}/{t.replace(" ", "-")}">{t.title()}</a></li>' for t in rng.sample(TOPICS, 8))
        + "</ul></div>"
        for s in SECTIONS
    )
    blob = json.dumps({"experiments": [{"id": rng.randrange(10**9), "weights": [rng.random() for _ in range(12)],
                                        "name": headline(rng)} for _ in range(120)]})
    head = (f"<style>{css}</style>\n<script>{js}</script>\n"
            f'<script id="__STATE__" type="application/json">{blob}</script>\n'
            f'<link rel="stylesheet" href="https://cdn.{outlet.domain}/assets/site.{rng.randrange(10**8):08x}.css">\n'
            f'<script async src="https://cdn.{outlet.domain}/assets/app.{rng.randrange(10**8):08x}.js"></script>')
    most_read = "\n".join(
        f'<li><a href="/{rng.choice(SECTIONS)}/{rng.randrange(10**6)}">{html.escape(headline(rng))}</a></li>'
        for _ in range(10)
    )
    footer_links = " ".join(f'<a href="/{w}">{w.title()}</a>' for w in (
        "about", "contact", "careers", "advertise", "privacy", "cookies", "terms", "accessibility",
        "newsletters", "archive", "corrections", "sitemap"))
    cookie = ('<div id="cookie-consent" class="banner">We use cookies and similar technologies to improve '
              "your experience, measure audiences and show you personalised advertising. "
              '<button>Accept all</button> <button>Manage preferences</button></div>')
    nav_cls = ("site-nav", "masthead__nav", "header-menu")[outlet.layout]
    top = (f'<div hidden class="icon-sprite">{icons}</div>\n{cookie}\n<header class="site-header"><a class="logo" href="/">{html.escape(outlet.name)}</a>\n'
           f'<nav class="{nav_cls}"><ul>{menu}</ul></nav>\n'
           '<form class="search" action="/search"><input name="q" placeholder="Search"></form>\n'
           '<a class="subscribe" href="/subscribe">Subscribe from 1 euro a week</a> '
           '<a href="/login">Sign in</a></header>\n'
           '<div class="ad-slot leaderboard" data-slot="top">Advertisement</div>')
    bottom = (f'<aside class="most-read"><h2>Most read</h2><ol>{most_read}</ol></aside>\n'
              f'<section class="more-from"><h2>More stories</h2><div class="grid">{cards}</div></section>\n'
              '<section class="newsletter-signup"><h2>Get the morning briefing</h2><p>Sign up for our '
              'free newsletter and get the day\'s top stories in your inbox every morning.</p>'
              '<form><input type="email" placeholder="Email address"><button>Sign up</button></form></section>\n'
              f'<footer class="site-footer"><div class="sitemap">{sitemap}</div><p>{footer_links}</p><p>&copy; 2026 {html.escape(outlet.name)}. '
              "All rights reserved. Reproduction without permission is prohibited.</p></footer>\n"
              '<script>(function(){var s=document.createElement("script");s.src="/metrics.js";'
              "document.body.appendChild(s);})();</script>")
    return head, top, bottom


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Page:
    index: int
    url: str
    title: str
    author: str
    published: datetime
    html: str
    outlet: str
    section: str


BASE_DATE = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)


def page_url(index: int, *, base_url: str | None = None, outlet_index: int | None = None) -> str:
    """Where page ``index`` lives: its outlet's domain, or ``base_url`` (a local test server)."""
    rng = random.Random(f"url-{index}")
    oi = index % len(OUTLETS) if outlet_index is None else outlet_index
    section = rng.choice(SECTIONS)
    day = BASE_DATE + timedelta(hours=index % (24 * 300))
    slug = "-".join(headline(rng).lower().split()[:6]).replace("'", "")
    root = base_url.rstrip("/") if base_url else f"https://www.{OUTLETS[oi].domain}"
    return f"{root}/{section}/{day:%Y/%m/%d}/{slug}-{index}"


def make_page(index: int, *, url: str | None = None, outlet_index: int | None = None,
              published: datetime | None = None) -> Page:
    """One news page; deterministic in ``index`` (and ``url``/``outlet_index`` when given)."""
    rng = random.Random(index * 7919 + 17)
    oi = index % len(OUTLETS) if outlet_index is None else outlet_index % len(OUTLETS)
    outlet = OUTLETS[oi]
    head_extra, top, bottom = _chrome(oi, index % 2)
    url = url or page_url(index, outlet_index=oi)
    title = headline(rng)
    author = _person(rng)
    section = rng.choice(SECTIONS)
    when = published or (BASE_DATE + timedelta(minutes=11 * index + rng.randrange(600)))
    paras = paragraphs(rng, rng.randint(6, 14))
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    # a mid-article promo and an image caption, as real pages have
    mid = len(paras) // 2
    body_parts = body.split("\n")
    body_parts.insert(mid, '<div class="inline-promo"><a href="/subscribe">Read more: our coverage of '
                           f"the {html.escape(rng.choice(TOPICS))} dispute</a></div>")
    body = "\n".join(body_parts)
    related = "\n".join(
        f'<li><a href="/{section}/{rng.randrange(10**6)}">{html.escape(headline(rng))}</a></li>' for _ in range(6)
    )
    comments = "\n".join(
        f'<li class="comment"><span class="user">{html.escape(_person(rng))}</span> '
        f"<p>{html.escape(_sentence(rng))}</p></li>" for _ in range(rng.randint(0, 5))
    )
    desc = html.escape(paras[0][:160])
    t = html.escape(title)
    ldjson = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                         "datePublished": when.isoformat(), "author": {"@type": "Person", "name": author},
                         "publisher": {"@type": "Organization", "name": outlet.name}})
    article_cls = ("article-body", "story__content", "entry-content")[outlet.layout]
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} | {html.escape(outlet.name)}</title>
<link rel="canonical" href="{html.escape(url)}">
<meta name="description" content="{desc}">
<meta name="author" content="{html.escape(author)}">
<meta property="og:title" content="{t}">
<meta property="og:url" content="{html.escape(url)}">
<meta property="og:site_name" content="{html.escape(outlet.name)}">
<meta property="article:published_time" content="{when.isoformat()}">
<meta property="article:section" content="{section}">
<script type="application/ld+json">{ldjson}</script>
{head_extra}
</head><body class="layout-{outlet.layout}">
{top}
<main id="content"><article class="story">
<div class="breadcrumbs"><a href="/">Home</a> &rsaquo; <a href="/{section}">{section.title()}</a></div>
<h1 class="headline">{t}</h1>
<div class="byline">By <a rel="author" href="/authors/{author.lower().replace(' ', '-')}">{html.escape(author)}</a>
<time datetime="{when.isoformat()}">{when:%d %B %Y, %H:%M} UTC</time></div>
<div class="share-tools"><a href="#">Share on Facebook</a> <a href="#">Share on X</a> <a href="#">Email</a> <a href="#">Copy link</a></div>
<figure><img src="/images/{index}.jpg" alt=""><figcaption>{html.escape(rng.choice(PLACES))} harbour at dawn. Photograph: Staff photographer</figcaption></figure>
<div class="{article_cls}">
{body}
</div>
<div class="tags">Topics: <a href="/t/{section}">{section}</a> <a href="/t/{rng.choice(TOPICS).replace(' ', '-')}">{rng.choice(TOPICS)}</a></div>
</article>
<section class="related"><h2>Related stories</h2><ul>{related}</ul></section>
<section class="comments"><h2>Comments</h2><ol>{comments}</ol><p>Comments are closed for this article.</p></section>
</main>
{bottom}
</body></html>"""
    return Page(index=index, url=url, title=title, author=author, published=when, html=doc,
                outlet=outlet.name, section=section)


def iter_pages(count: int, *, start: int = 0) -> Iterator[Page]:
    for i in range(start, start + count):
        yield make_page(i)


# --------------------------------------------------------------------------- archives


def _warc_record(p: Page) -> bytes:
    """One WARC response record as its own gzip member (level 1: writing must not dominate the run)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    body = p.html.encode("utf-8")
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    http_headers = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        protocol="HTTP/1.1",
    )
    record = writer.create_warc_record(
        p.url, "response", payload=io.BytesIO(body), http_headers=http_headers,
        warc_headers_dict={"WARC-Date": p.published.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    writer.write_record(record)
    return gzip.compress(buf.getvalue(), compresslevel=1)


def _jsonl_record(p: Page) -> bytes:
    line = json.dumps({"url": p.url, "title": p.title, "published_at": p.published.isoformat(), "html": p.html})
    return gzip.compress(line.encode("utf-8") + b"\n", compresslevel=1)


def _text_dump(p: Page) -> bytes:
    """The page as a naive scraper saves it: title, then every visible block on its own line."""
    from tests.support.dumpgen import html_to_dump

    return html_to_dump(p.html).encode("utf-8")


def _encode_range(args: tuple[str, int, int]) -> list[bytes]:
    fmt, lo, hi = args
    enc = {"warc": _warc_record, "jsonl": _jsonl_record, "text": _text_dump}[fmt]
    return [enc(make_page(i)) for i in range(lo, hi)]


def _encoded(fmt: str, start: int, count: int, workers: int) -> Iterator[list[bytes]]:
    step = 200
    ranges = [(fmt, lo, min(lo + step, start + count)) for lo in range(start, start + count, step)]
    if workers <= 1 or len(ranges) < 2:
        yield from map(_encode_range, ranges)
        return
    import multiprocessing as mp

    with mp.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_encode_range, ranges)


def write_archive(directory: Path, count: int, fmt: ArchiveFormat = "warc", *, start: int = 0,
                  workers: int = 1, name: str = "pages") -> Path:
    """Write pages ``start .. start+count-1`` as one archive under ``directory``; return its path.

    ``warc``: ``<name>.warc.gz``, HTTP response records, one gzip member each (what crawlers
    write); ``jsonl``: ``<name>.jsonl.gz`` with url/title/published_at/html; ``dir``: one
    ``.html`` file per page; ``text``: one ``.txt`` dump per page (title, then each visible
    block of the page on its own line, furniture included). Pages are generated in ``workers``
    processes when > 1.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "dir":
        out = directory / name
        out.mkdir(exist_ok=True)
        for p in iter_pages(count, start=start):
            (out / f"{p.index:06d}.html").write_text(p.html, encoding="utf-8")
        return out
    if fmt == "text":
        out = directory / name
        out.mkdir(exist_ok=True)
        index = start
        for chunk in _encoded("text", start, count, workers):
            for dump in chunk:
                (out / f"{index:06d}.txt").write_bytes(dump)
                index += 1
        return out
    if fmt not in ("warc", "jsonl"):
        raise ValueError(f"unknown archive format {fmt!r}")
    path = directory / f"{name}.{fmt}.gz"
    with path.open("wb") as fh:
        for chunk in _encoded(fmt, start, count, workers):
            fh.writelines(chunk)
    return path
