"""Records analysts can trust, end to end over a real HTTP server: one outlet one name, feed-text
articles that say why (and are not rejects), exact duplicates folded, updated articles versioned."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.flows.site import Site, article_page, load_stories, rss
from tests.support.dbrows import rows as _rows


def _run(feeds: Path, db: Path) -> dict[str, Any]:
    from flows.ingest import hourly_ingest

    return hourly_ingest(feeds_file=str(feeds), db=str(db))


def _feeds(tmp_path: Path, entries: list[dict[str, Any]]) -> Path:
    p = tmp_path / "feeds.yaml"
    p.write_text(yaml.safe_dump({"feeds": entries}))
    return p


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_PAGE_TIMEOUT", "3")
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    monkeypatch.setenv("NEWSFLOW_PER_HOST_DELAY", "0")


def test_outlet_comes_from_the_feed_list_and_blocked_pages_keep_a_language(
    site: Site, tmp_path: Path, db_path: Path, quick: None
) -> None:
    stories = load_stories()
    link = {s["slug"]: f"{site.base}/news/{s['slug']}" for s in stories}
    for s in stories[:3]:
        site.static(f"/news/{s['slug']}", article_page(s), "text/html; charset=utf-8")
    # two section feeds of one outlet, grouped by `outlet:`; a third feed named only by `name:`
    site.static("/world.xml", rss([(stories[0], link[stories[0]["slug"]])]), "application/rss+xml")
    site.static("/business.xml", rss([(stories[1], link[stories[1]["slug"]])]), "application/rss+xml")
    site.static("/blocked.xml", rss([(stories[2], link[stories[2]["slug"]]), (stories[3], f"{site.base}/gone/3")]),
                "application/rss+xml")
    feeds = _feeds(tmp_path, [
        {"url": f"{site.base}/world.xml", "name": "Herald World", "outlet": "The Harbour Herald"},
        {"url": f"{site.base}/business.xml", "name": "Herald Business", "outlet": "The Harbour Herald"},
        {"url": f"{site.base}/blocked.xml", "name": "Valley Post"},
    ])
    site.static("/robots.txt", "User-agent: *\nDisallow: /news/" + stories[2]["slug"] + "\n", "text/plain")
    _run(feeds, db_path)
    got = {r[0]: r[1:] for r in _rows(
        db_path, "SELECT title, outlet, domain, site_name, text_source, text_source_reason, language FROM articles")}
    assert got[stories[0]["title"]][:3] == ("The Harbour Herald", "127.0.0.1", "Harbour Herald")
    assert got[stories[1]["title"]][:3] == ("The Harbour Herald", "127.0.0.1", "Harbour Herald")
    # a page robots.txt forbids and a page that 404s: the feed's text stands in, says why, and is English
    blocked = got[stories[2]["title"]]
    assert blocked[0] == "Valley Post" and blocked[3:] == ("feed", "robots_disallowed", "en")
    gone = got[stories[3]["title"]]
    assert gone[0] == "Valley Post" and gone[3:] == ("feed", "http_404", "en")
    # degraded is not lost: nothing of this run is a reject
    assert _rows(db_path, "SELECT count(*) FROM rejects") == [(0,)]
    assert _rows(db_path, "SELECT outlet, articles, feed_text_only FROM v_outlets ORDER BY outlet") == [
        ("The Harbour Herald", 2, 0), ("Valley Post", 2, 2)]


def _item(story: dict[str, Any], url: str, guid: str, summary: str | None = None) -> str:
    return (f"<item><title>{html.escape(story['title'])}</title><link>{html.escape(url)}</link>"
            f"<guid isPermaLink=\"false\">{guid}</guid><pubDate>Fri, 20 Nov 2026 09:00:00 GMT</pubDate>"
            f"<description>{html.escape(summary or story['paragraphs'][0])}</description></item>")


def _channel(items: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
            f"<link>http://example.invalid/</link><description>d</description>{''.join(items)}</channel></rss>")


def test_an_updated_article_keeps_its_history(site: Site, tmp_path: Path, db_path: Path, quick: None) -> None:
    story = load_stories()[0]
    url = f"{site.base}/news/{story['slug']}"
    site.static(f"/news/{story['slug']}", article_page(story), "text/html; charset=utf-8")
    site.static("/rss.xml", _channel([_item(story, url, "g1")]), "application/rss+xml")
    feeds = _feeds(tmp_path, [{"url": f"{site.base}/rss.xml", "name": "Herald"}])
    _run(feeds, db_path)

    # the feed item comes back changed but the page did not: a conditional re-fetch, 304, no version
    site.static("/rss.xml", _channel([_item(story, url, "g1", summary="Updated: " + story["paragraphs"][0])]),
                "application/rss+xml")
    n = len(site.log)
    _run(feeds, db_path)
    refetch = [h for p, h in site.log[n:] if p == f"/news/{story['slug']}"]
    assert len(refetch) == 1 and refetch[0].get("if-none-match"), "the re-fetch was not conditional"
    assert _rows(db_path, "SELECT count(*) FROM article_versions") == [(0,)]

    # now the page itself changes (a correction appended) and the item changes again
    corrected = dict(story, paragraphs=[*story["paragraphs"], "Correction: an earlier version misstated the date."])
    site.static(f"/news/{story['slug']}", article_page(corrected), "text/html; charset=utf-8")
    site.static("/rss.xml", _channel([_item(story, url, "g1", summary="Corrected: " + story["paragraphs"][0])]),
                "application/rss+xml")
    summary = _run(feeds, db_path)
    arts = _rows(db_path, "SELECT article_id, text, version FROM articles")
    assert len(arts) == 1, "one URL must stay one row in articles"
    assert "Correction: an earlier version" in arts[0][1] and arts[0][2] == 2
    old = _rows(db_path, "SELECT article_id, version, text FROM article_versions")
    assert [(a, v) for a, v, _ in old] == [(arts[0][0], 1)]
    assert "Correction" not in old[0][2] and story["paragraphs"][0] in old[0][2]
    assert summary["articles_new"] == 0

    # the same item again: nothing is fetched, nothing changes
    n = len(site.log)
    _run(feeds, db_path)
    assert [p for p, _ in site.log[n:]] == ["/rss.xml"]
    assert _rows(db_path, "SELECT count(*) FROM article_versions") == [(1,)]


def test_same_outlet_same_headline_at_two_urls_is_one_article(
    site: Site, tmp_path: Path, db_path: Path, quick: None
) -> None:
    story = load_stories()[1]
    first, second = f"{site.base}/world/{story['slug']}", f"{site.base}/business/{story['slug']}-2"
    site.static(f"/world/{story['slug']}", article_page(story), "text/html; charset=utf-8")
    site.static(f"/business/{story['slug']}-2", article_page(story), "text/html; charset=utf-8")
    site.static("/world.xml", _channel([_item(story, first, "w1")]), "application/rss+xml")
    site.static("/business.xml", _channel([_item(story, second, "b1")]), "application/rss+xml")
    feeds = _feeds(tmp_path, [{"url": f"{site.base}/world.xml", "outlet": "Herald"},
                              {"url": f"{site.base}/business.xml", "outlet": "Herald"}])
    _run(feeds, db_path)
    arts = _rows(db_path, "SELECT article_id FROM articles")
    assert len(arts) == 1
    links = _rows(db_path, "SELECT article_id, guid FROM article_feeds ORDER BY guid")
    assert links == [(arts[0][0], "b1"), (arts[0][0], "w1")]
    # the next hour brings nothing new: both items are known
    _run(feeds, db_path)
    assert _rows(db_path, "SELECT count(*) FROM articles") == [(1,)]


def _story_page(story: dict[str, Any], site_name: str) -> str:
    return article_page(story).replace("Harbour Herald", site_name)


@pytest.mark.parametrize("excerpt_first", [True, False])
def test_wire_copies_and_an_excerpt_are_one_story_in_either_order(
    site: Site, tmp_path: Path, db_path: Path, quick: None, excerpt_first: bool
) -> None:
    stories = load_stories()
    wire = stories[2]
    # a longer wire story: several outlets run it; one runs only its first part
    full = dict(wire, paragraphs=[*wire["paragraphs"], *stories[3]["paragraphs"]])
    excerpt = dict(full, slug=full["slug"] + "-short", paragraphs=full["paragraphs"][:3])
    unrelated = stories[4]
    pages = {"/a/wire": _story_page(full, "Alpha Daily"), "/b/wire": _story_page(full, "Beta Post"),
             "/c/short": _story_page(excerpt, "Gamma News"), "/a/other": _story_page(unrelated, "Alpha Daily")}
    for path, body in pages.items():
        site.static(path, body, "text/html; charset=utf-8")
    # one feed per outlet; the excerpt's outlet publishes before (or after) the wire copies
    feed_items = {"alpha": [("/a/wire", full), ("/a/other", unrelated)], "beta": [("/b/wire", full)],
                  "gamma": [("/c/short", excerpt)]}
    feeds = _feeds(tmp_path, [{"url": f"{site.base}/{o}.xml", "outlet": o.title()} for o in feed_items])
    first = {"gamma"} if excerpt_first else {"alpha", "beta"}
    for rnd in (1, 2):
        for outlet, items in feed_items.items():
            shown = items if (outlet in first or rnd == 2) else []
            site.static(f"/{outlet}.xml", _channel([_item(st, site.base + p, p) for p, st in shown]),
                        "application/rss+xml")
        _run(feeds, db_path)
    groups = dict(_rows(db_path, "SELECT url, dup_group_id FROM articles"))
    assert len(groups) == 4
    copies = {groups[site.base + p] for p in ("/a/wire", "/b/wire", "/c/short")}
    assert len(copies) == 1 and None not in copies
    assert groups[site.base + "/a/other"] not in copies
    stories_view = _rows(db_path, "SELECT members, outlet_count FROM v_stories ORDER BY members DESC")
    assert stories_view[0] == (3, 3)  # the three copies, counted once, under three page outlets
