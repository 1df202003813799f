"""End-to-end: the hourly flow under a real Prefect API against a real local news site."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.flows.site import BOILERPLATE_MARKERS, Site, article_page, atom, load_stories, rdf, rss
from tests.support.dbrows import rows as _rows

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _feeds_file(tmp_path: Path, urls: list[str]) -> Path:
    p = tmp_path / "feeds.yaml"
    p.write_text(yaml.safe_dump({"feeds": [{"url": u, "name": u.rsplit("/", 1)[-1]} for u in urls]}))
    return p


def _run(feeds: Path, db: Path) -> dict[str, Any]:
    from flows.ingest import hourly_ingest

    return hourly_ingest(feeds_file=str(feeds), db=str(db))


@pytest.fixture
def news(site: Site, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("NEWSFLOW_PAGE_TIMEOUT", "2")
    monkeypatch.setenv("NEWSFLOW_FEED_TIMEOUT", "5")
    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    stories = load_stories()
    for s in stories:
        site.static(f"/news/{s['slug']}", article_page(s), "text/html; charset=utf-8")
    link = {s["slug"]: f"{site.base}/news/{s['slug']}" for s in stories}
    site.static("/rss.xml", rss([(s, link[s["slug"]]) for s in stories[:2]]), "application/rss+xml")
    site.static("/atom.xml", atom([(s, link[s["slug"]]) for s in stories[2:4]]), "application/atom+xml")
    site.static("/rdf.xml", rdf([(stories[4], link[stories[4]["slug"]])]), "application/rdf+xml")
    return {"stories": stories, "link": link}


def test_first_run_loads_every_story_clean(site: Site, news: dict[str, Any], tmp_path: Path, db_path: Path) -> None:
    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml", f"{site.base}/atom.xml", f"{site.base}/rdf.xml"])
    summary = _run(feeds, db_path)
    assert summary["load_status"] == "loaded"
    rows = _rows(db_path, "SELECT url, title, text, authors, published_at, published_at_source, outlet, origin, "
                          "text_source, word_count, language, feed_url FROM articles ORDER BY url")
    assert len(rows) == 5
    by_title = {r[1]: r for r in rows}
    for s in news["stories"]:
        r = by_title[s["title"]]
        text = r[2]
        for para in s["paragraphs"]:
            assert para in text, f"story paragraph lost from {s['slug']}"
        for marker in BOILERPLATE_MARKERS:
            assert marker not in text, f"boilerplate {marker!r} left in {s['slug']}"
        assert r[0] == news["link"][s["slug"]]
        # every feed kind states the date, and the feed's date has precedence over the page's
        assert (r[4], r[5]) == (datetime.fromisoformat(s["date"]).astimezone(UTC), "feed")
        assert r[7] == "rss" and r[8] == "page" and r[10] == "en"
        assert r[9] == len(" ".join(s["paragraphs"]).split()) or abs(r[9] - len(" ".join(s["paragraphs"]).split())) <= 3
    # every story is counted under the name its feed has in the feed list, not the page's site name
    feed_of = {**dict.fromkeys([0, 1], "rss.xml"), **dict.fromkeys([2, 3], "atom.xml"), 4: "rdf.xml"}
    assert {by_title[s["title"]][6] for s in news["stories"]} == set(feed_of.values())
    for i, s in enumerate(news["stories"]):
        assert by_title[s["title"]][6] == feed_of[i]
    runs = _rows(db_path, "SELECT flow, status, articles_new, feeds_ok FROM runs")
    assert runs == [("hourly_ingest", "completed", 5, 3)]
    raw = _rows(db_path, "SELECT count(*) FROM raw_pages")
    assert raw == [(5,)]


def test_second_run_is_conditional_and_adds_nothing(site: Site, news: dict[str, Any], tmp_path: Path,
                                                    db_path: Path) -> None:
    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml", f"{site.base}/atom.xml"])
    _run(feeds, db_path)
    before = _rows(db_path, "SELECT count(*) FROM articles")[0][0]
    n_log = len(site.log)
    summary = _run(feeds, db_path)
    second = site.log[n_log:]
    assert {p for p, _ in second} == {"/rss.xml", "/atom.xml"}, "the second run fetched a page"
    assert all(h.get("if-none-match") for _, h in second), "feed requests were not conditional"
    assert summary["feeds_unchanged"] == 2 and summary["articles_new"] == 0
    assert _rows(db_path, "SELECT count(*) FROM articles")[0][0] == before == 4
    assert _rows(db_path, "SELECT count(*) FROM article_feeds")[0][0] == 4


def test_feed_adding_one_item_yields_exactly_one_article(site: Site, news: dict[str, Any], tmp_path: Path,
                                                         db_path: Path) -> None:
    stories, link = news["stories"], news["link"]
    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml"])
    _run(feeds, db_path)
    site.static("/rss.xml", rss([(s, link[s["slug"]]) for s in stories[:3]]), "application/rss+xml")
    n_log = len(site.log)
    summary = _run(feeds, db_path)
    pages = [p for p, _ in site.log[n_log:] if p.startswith("/news/")]
    assert pages == [f"/news/{stories[2]['slug']}"]
    assert summary["articles_new"] == 1
    assert _rows(db_path, "SELECT count(*) FROM articles")[0][0] == 3


def test_same_story_via_two_feeds_and_utm_variant_is_one_article(site: Site, news: dict[str, Any], tmp_path: Path,
                                                                 db_path: Path) -> None:
    s = news["stories"][0]
    plain = news["link"][s["slug"]]
    site.static("/a.xml", rss([(s, plain)], title="A"), "application/rss+xml")
    site.static("/b.xml", rss([(s, plain + "?utm_source=feed&utm_medium=rss#top")], title="B"), "application/rss+xml")
    feeds = _feeds_file(tmp_path, [f"{site.base}/a.xml", f"{site.base}/b.xml"])
    _run(feeds, db_path)
    assert _rows(db_path, "SELECT count(*), min(url) FROM articles") == [(1, plain)]
    links = _rows(db_path, "SELECT feed_url FROM article_feeds ORDER BY feed_url")
    assert [r[0] for r in links] == [f"{site.base}/a.xml", f"{site.base}/b.xml"]
    assert len(site.requests_to(f"/news/{s['slug']}")) == 1


def test_bad_feeds_and_pages_become_rejects_while_the_rest_load(site: Site, news: dict[str, Any], tmp_path: Path,
                                                                db_path: Path) -> None:
    stories, link = news["stories"], news["link"]
    site.static("/not-a-feed", "<html><body><h1>Welcome</h1><p>Nothing here</p></body></html>", "text/html")
    site.slow("/news/slow", 5)
    missing = dict(stories[3], slug="missing")
    slow = dict(stories[4], slug="slow")
    site.static("/mixed.xml", rss([(stories[0], link[stories[0]["slug"]]),
                                   (missing, f"{site.base}/news/missing"),
                                   (slow, f"{site.base}/news/slow")]), "application/rss+xml")
    dead = f"http://127.0.0.1:{_dead_port()}/feed.xml"
    feeds = _feeds_file(tmp_path, [dead, f"{site.base}/not-a-feed", f"{site.base}/mixed.xml"])
    summary = _run(feeds, db_path)
    assert summary["feeds_failed"] == 2
    rejects = _rows(db_path, "SELECT stage, reason, url FROM rejects ORDER BY url")
    reasons = {(r[1], r[2]) for r in rejects}
    assert ("connect_error", dead) in reasons
    assert ("not_a_feed", f"{site.base}/not-a-feed") in reasons
    arts = {r[0]: r[1:] for r in _rows(db_path, "SELECT url, text_source, text_source_reason, language FROM articles")}
    assert arts[link[stories[0]["slug"]]] == ("page", None, "en")
    # the two broken pages fall back to the feed's own summary and say why; they are stored,
    # so they are not rejects (rejects hold only what was lost)
    assert arts[f"{site.base}/news/missing"] == ("feed", "http_404", "en")
    assert arts[f"{site.base}/news/slow"] == ("feed", "timeout", "en")
    assert not any(url in (f"{site.base}/news/missing", f"{site.base}/news/slow") for _, url in reasons)
    health = dict(_rows(db_path, "SELECT feed_url, last_status FROM v_feed_health"))
    assert health[dead] == "failed" and health[f"{site.base}/mixed.xml"] == "ok"


def test_run_publishes_feed_health_artifacts(site: Site, news: dict[str, Any], tmp_path: Path, db_path: Path) -> None:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
    dead = f"http://127.0.0.1:{_dead_port()}/gone.xml"
    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml", dead])
    summary = _run(feeds, db_path)

    async def latest(key: str) -> Any:
        async with get_client() as client:
            found = await client.read_artifacts(artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[summary["run_id"]])))
            return [a.model_dump(mode="json") for a in found]

    table = asyncio.run(latest("feed-health"))
    md = asyncio.run(latest("ingest-summary"))
    assert len(table) == 1 and len(md) == 1
    rows = table[0]["data"] if isinstance(table[0]["data"], list) else json.loads(table[0]["data"])
    by_feed = {r["feed"]: r for r in rows}
    assert by_feed["gone.xml"]["status"] == "failed" and by_feed["gone.xml"]["reason"] == "connect_error"
    assert by_feed["rss.xml"]["status"] == "ok" and by_feed["rss.xml"]["new"] == 2
    assert "connect_error" in md[0]["data"]


def test_a_failed_load_fails_the_run(site: Site, news: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     db_path: Path) -> None:
    import flows.shared as shared_mod

    def broken_load(db: Any, batch: Any, **_: Any) -> Any:
        raise OSError("disk full while writing the batch")

    monkeypatch.setattr(shared_mod, "load_batch", broken_load)
    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml"])
    from flows.ingest import hourly_ingest

    state = hourly_ingest(feeds_file=str(feeds), db=str(db_path), return_state=True)
    assert state.is_failed()
    err = state.result(raise_on_failure=False)
    assert isinstance(err, OSError) and str(err) == "disk full while writing the batch"
    # the failure is recorded, and nothing was half-written
    assert _rows(db_path, "SELECT status FROM runs") == [("failed",)]
    assert _rows(db_path, "SELECT count(*) FROM articles") == [(0,)]


def test_a_run_that_dies_between_two_loads_stores_nothing_twice_and_loses_nothing(
        site: Site, news: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_path: Path) -> None:
    """A busy run loads its articles in batches while it is still extracting; it dies at its
    second load. What the first load stored stays (once); the feeds keep their old state, so the
    next run sees every item again, fetches only the stories not stored and stores each once."""
    import flows.shared as shared_mod

    stories, link = news["stories"], news["link"]
    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "2")
    real_load = shared_mod.load_batch
    loads: list[int] = []

    def dies_at_second_load(db: Any, batch: Any, **kw: Any) -> Any:
        loads.append(len(batch.articles))
        if len(loads) == 2:
            raise OSError("killed between two loads")
        return real_load(db, batch, **kw)

    monkeypatch.setattr(shared_mod, "load_batch", dies_at_second_load)
    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml", f"{site.base}/atom.xml", f"{site.base}/rdf.xml"])
    from flows.ingest import hourly_ingest

    state = hourly_ingest(feeds_file=str(feeds), db=str(db_path), return_state=True)
    assert state.is_failed()
    assert loads[0] == 2, "the first batch was not loaded while the run went on"
    stored = {r[0] for r in _rows(db_path, "SELECT url FROM articles")}
    assert len(stored) == 2
    assert _rows(db_path, "SELECT count(*) FROM article_feeds") == [(2,)]
    # no feed state was written: the next run cannot take the feeds as unchanged
    assert _rows(db_path, "SELECT count(*) FROM feeds WHERE last_polled_at IS NOT NULL") == [(0,)]
    assert _rows(db_path, "SELECT status FROM runs") == [("failed",)]

    monkeypatch.setattr(shared_mod, "load_batch", real_load)
    n_log = len(site.log)
    summary = _run(feeds, db_path)
    fetched = {p for p, _ in site.log[n_log:] if p.startswith("/news/")}
    assert fetched == {f"/news/{s['slug']}" for s in stories if link[s["slug"]] not in stored}
    assert summary["load_status"] == "loaded" and summary["articles_new"] == 3
    urls = [r[0] for r in _rows(db_path, "SELECT url FROM articles")]
    assert sorted(urls) == sorted(link[s["slug"]] for s in stories)  # every story, each once
    assert _rows(db_path, "SELECT count(*), count(DISTINCT (article_id, feed_url, guid)) FROM article_feeds") == [(5, 5)]
    assert _rows(db_path, "SELECT count(*) FROM feeds WHERE last_polled_at IS NOT NULL") == [(3,)]


def test_a_busy_run_loads_in_batches_of_batch_size(site: Site, news: dict[str, Any], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, db_path: Path) -> None:
    import flows.shared as shared_mod

    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "2")
    real_load = shared_mod.load_batch
    batches: list[tuple[int, int, bool]] = []

    def counting(db: Any, batch: Any, **kw: Any) -> Any:
        batches.append((len(batch.articles), len(batch.feed_states), batch.run is not None))
        return real_load(db, batch, **kw)

    monkeypatch.setattr(shared_mod, "load_batch", counting)
    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml", f"{site.base}/atom.xml", f"{site.base}/rdf.xml"])
    summary = _run(feeds, db_path)
    assert summary["articles_new"] == 5 and summary["load_status"] == "loaded"
    assert len(batches) >= 2 and batches[0] == (2, 0, False)  # a part: articles only
    assert batches[-1][1:] == (3, True)  # the last load: every feed's state and the run record
    assert sum(n for n, _, _ in batches) == 5
    assert _rows(db_path, "SELECT articles_new, status FROM runs") == [(5, "completed")]
    # the parts are loaded in one task run, not one each; the last load is a task run of its own
    names = _task_run_names(summary["run_id"], want=("load-parts", "load"))
    assert sorted(n.rsplit("-", 1)[0] for n in names if n.startswith("load")) == ["load", "load-parts"]


def _task_run_names(run_id: str, want: tuple[str, ...], timeout: float = 20.0) -> list[str]:
    """Names of the flow run's task runs, waiting until each task in ``want`` has one (the server
    records task runs from the client's events, a moment after they happen)."""
    import asyncio
    import time

    from prefect.client.orchestration import get_client

    async def names() -> list[str]:
        async with get_client() as client:
            resp = await client._client.post("/task_runs/filter", json={
                "flow_runs": {"id": {"any_": [run_id]}}, "limit": 200, "offset": 0})
            resp.raise_for_status()
            return [r["name"] for r in resp.json()]

    deadline = time.monotonic() + timeout
    while True:
        got = asyncio.run(names())
        if all(any(n.rsplit("-", 1)[0] == w for n in got) for w in want) or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_an_early_poll_is_used_only_when_it_polled_the_states_the_flow_reads(
        site: Site, news: dict[str, Any], tmp_path: Path, db_path: Path) -> None:
    import flows.ingest as fi
    from extractors.sources.feedlist import load_feed_list
    from flows.poll import start_early_poll
    from schemas.settings import load_settings

    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml", f"{site.base}/atom.xml"])
    _run(feeds, db_path)
    settings = load_settings(db=db_path, feeds_file=feeds)
    specs = load_feed_list(feeds)

    # the CLI's case: polled just before the flow, nothing changed since -> the flow polls nothing itself
    early = start_early_poll(settings, specs)
    assert early is not None and early.outcomes() is not None
    n_log = len(site.log)
    fi.early_poll = early
    summary = _run(feeds, db_path)
    assert fi.early_poll is None, "an early poll is taken once"
    assert site.log[n_log:] == [], "the flow polled again although the early poll was current"
    assert summary["feeds_unchanged"] == 2 and summary["articles_new"] == 0

    # another run went in between (the feeds' stored states changed): the early poll is stale
    stale = start_early_poll(settings, specs)
    assert stale is not None and stale.outcomes() is not None
    _run(feeds, db_path)
    n_log = len(site.log)
    fi.early_poll = stale
    summary = _run(feeds, db_path)
    assert sorted(p for p, _ in site.log[n_log:]) == ["/atom.xml", "/rss.xml"], "a stale early poll was used"
    assert summary["feeds_unchanged"] == 2
    runs = _rows(db_path, "SELECT count(*) FROM runs WHERE status = 'completed'")
    assert runs == [(4,)]
