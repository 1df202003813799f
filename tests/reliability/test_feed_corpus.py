"""Scenario 1: feed corpus replay through the real poll path.

Every document is served by a real HTTP server on 127.0.0.1 (with the status, headers and
content encoding it asks for) and goes through exactly what ``hourly_ingest`` does:
``poll_feeds`` (``Fetcher.fetch(kind="feed")``), ``parse_feeds`` (``parse_feed``), then each
entry with a usable link through ``run_job`` with the feed-text fallback.  Asserted: nothing
escapes, every feed gets a classified outcome, every entry ends as an Article or a classified
reject, and stored text is clean.

Two sources: the project's own fixtures in ``tests/fixtures/hostile/feeds/`` (always run; one or
more per corpus category) and feedparser's corpus in ``../shared`` (skipped when absent).
"""

from __future__ import annotations

import collections
import gzip
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from extractors.normalize.urls import article_id_for, canonicalize_url
from flows.decisions import FeedOutcome
from flows.ingest import parse_feeds, poll_feeds
from flows.jobs import PageJob, run_job
from schemas.failures import Reason
from schemas.records import FeedSpec, FeedState
from schemas.settings import Settings
from tests.reliability.conftest import (
    HOSTILE,
    LocalServer,
    Route,
    assert_clean,
    route_for_file,
    text_problems,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "feedparser-tests"
OWN = HOSTILE / "feeds"
CLASSIFIED = {"ok", "warning", "failed", "not_modified"}
REASONS = {r.value for r in Reason}


def replay_settings(tmp_path: Path) -> Settings:
    """Loopback server, no politeness gaps (one host serves every document), no retries.

    Four parallel requests: server and client share one process and two cores, and more
    parallelism only adds GIL contention."""
    return Settings(
        db=tmp_path / "unused.duckdb",
        allow_private_networks=True,
        per_host_delay=0,
        per_host_concurrency=4,
        global_concurrency=8,
        retries=0,
        feed_timeout=15,
    )


@dataclass
class Replay:
    outcomes: dict[str, FeedOutcome]
    entry_results: list[tuple[str, str, str]] = field(default_factory=list)  # (feed, entry link, result)
    mojibake: set[str] = field(default_factory=set)  # feeds whose text looks mis-decoded
    elapsed: float = 0.0

    def summary(self) -> str:
        feeds = collections.Counter(
            o.status if o.status != "failed" else f"failed:{o.reason}" for o in self.outcomes.values()
        )
        entries = collections.Counter(r for _, _, r in self.entry_results)
        return (f"{len(self.outcomes)} feeds in {self.elapsed:.1f}s; feeds {dict(sorted(feeds.items()))}; "
                f"entries {dict(sorted(entries.items()))}; suspected mojibake in {len(self.mojibake)} feeds "
                f"{sorted(u.rsplit('/', 2)[-2] + '/' + u.rsplit('/', 1)[-1] for u in self.mojibake)}")


def replay(server: LocalServer, paths: dict[str, Path], settings: Settings, *, strict_charset: bool = True) -> Replay:
    """Serve ``paths`` (URL path → file), poll + parse them, run every entry through ``run_job``.

    ``strict_charset=False`` records suspected mojibake instead of failing: feedparser's corpus
    holds undeclared Big5/EUC/TIS-620 documents that no parser without detection can decode.
    """
    started = time.monotonic()
    for url_path, file in paths.items():
        server.routes[url_path] = route_for_file(file, rewrite_location=lambda loc: _local(server, loc))
    specs = [FeedSpec(url=server.url(p)) for p in paths]
    polls = poll_feeds.fn(specs, {}, settings)
    outcomes = parse_feeds.fn(polls, settings.future_tolerance_hours)
    # conditional GET: a second poll with the validators the first one saw
    conditional = {
        o.spec.url: FeedState(feed_url=o.spec.url, etag=o.result.etag, last_modified=o.result.last_modified)
        for o in outcomes
        if o.result is not None and not o.result.not_modified and (o.result.etag or o.result.last_modified)
    }
    if conditional:
        again = parse_feeds.fn(
            poll_feeds.fn([FeedSpec(url=u) for u in conditional], conditional, settings),
            settings.future_tolerance_hours,
        )
        repolled = {o.spec.url: o for o in again}
    else:
        repolled = {}
    result = Replay({o.spec.url: o for o in outcomes})
    result.outcomes.update({f"{u} (conditional)": o for u, o in repolled.items()})
    for o in outcomes:
        for i, entry in enumerate(o.parsed.entries if o.parsed else []):
            link = canonicalize_url(entry.link) if entry.link else None
            if link is None:
                result.entry_results.append((o.spec.url, str(entry.link), Reason.NO_LINK.value))
                continue
            job = PageJob(key=article_id_for(link), url=link, origin="rss", run_id="corpus-replay",
                          entry=entry, feed_url=o.spec.url, tolerance_hours=24.0)
            res = run_job(job)
            has_text = bool((entry.content or "").strip() or (entry.summary or "").strip())
            got = "article" if res.article is not None else res.reason.value if res.reason else None
            # the feed-text fallback: text → Article, no text → NO_TEXT, never anything else
            assert got == ("article" if has_text else Reason.NO_TEXT.value), (
                f"{o.spec.url} entry {i}: {got} {res.message} (has text: {has_text})")
            if res.article is not None:
                a = res.article
                for what, value in (("title", a.title), ("text", a.text), ("summary", a.summary)):
                    problems = text_problems(value, mojibake=strict_charset)
                    assert not problems, f"{o.spec.url} entry {i}: article {what} {problems}"
                    if text_problems(value):
                        result.mojibake.add(o.spec.url)
            result.entry_results.append((o.spec.url, link, str(got)))
    result.elapsed = time.monotonic() - started
    return result


def _local(server: LocalServer, location: str) -> str:
    """Point absolute Locations of the original suite's server at ours."""
    for prefix in ("http://localhost:8097/tests/", "http://localhost:8097/"):
        if location.startswith(prefix):
            return server.url("/" + location[len(prefix):])
    return location


def check_classified(rep: Replay, *, strict_charset: bool = True) -> None:
    for url, o in rep.outcomes.items():
        assert o.status in CLASSIFIED, f"{url}: unclassified outcome {o.status}"
        if o.status == "failed":
            assert o.reason in REASONS, f"{url}: failure without a Reason ({o.reason})"
            assert o.reason != Reason.INTERNAL.value, f"{url}: an unexpected exception escaped: {o.message}"
        if o.parsed is not None:
            assert_clean(o.parsed.title, f"{url} feed title", mojibake=strict_charset)
            if text_problems(o.parsed.title):
                rep.mojibake.add(url)
            for e in o.parsed.entries:
                assert e.link is None or canonicalize_url(e.link) is not None, f"{url}: link {e.link!r}"
                for what in ("title", "summary", "content"):
                    assert_clean(getattr(e, what), f"{url} entry {what}", mojibake=strict_charset)
                    if text_problems(getattr(e, what)):
                        rep.mojibake.add(url)
    for _, _, res in rep.entry_results:
        assert res == "article" or res in REASONS


# ----------------------------------------------------------------------------- project fixtures

# file → (expected status, reason or None, texts that must appear among the entry titles)
OWN_EXPECT: dict[str, tuple[str, str | None, list[str]]] = {
    "wellformed_rss2.xml": ("ok", None, ["Ferry timetable restored", "Library opens late"]),
    "wellformed_atom.xml": ("ok", None, ["Harbour bridge repainted"]),
    "wellformed_rdf.rdf": ("ok", None, ["Council approves cycle lanes"]),
    "encoding_bogus_charset.xml": ("warning", None, ["Café owners welcome the new square"]),
    "encoding_cp1252_declared_utf8.xml": ("warning", None, ["Naïve “hope” for the façade"]),
    "encoding_utf8_header_latin1.xml": ("ok", None, ["Zürich trams run again"]),
    "encoding_utf16le_bom.xml": ("ok", None, ["Łódź ferry test — ok"]),
    "encoding_utf16be_nobom.xml": ("ok", None, ["Ærøskøbing gets a new quay"]),
    "entities_undeclared_html.xml": ("warning", None, ["Crème brûlée — the © problem"]),
    "illformed_broken_xml.xml": ("warning", None, ["Unclosed but readable"]),
    "illformed_empty.xml": ("failed", "empty_body", []),
    "illformed_incomplete_cdata.xml": ("warning", None, ["Half a story"]),
    "illformed_html_page.html": ("failed", "not_a_feed", []),
    "http_301.xml": ("ok", None, ["Redirect target story"]),
    "http_302_no_location.xml": ("failed", "http_unexpected_status", []),
    "http_404.xml": ("failed", "http_404", []),
    "http_etag_304.xml": ("ok", None, ["Conditional story"]),
    "http_redirect_target.xml": ("ok", None, ["Redirect target story"]),
}


def _compressed_routes(server: LocalServer) -> dict[str, tuple[str, str | None]]:
    """Good and corrupt gzip/deflate variants of a wellformed fixture → expected (status, reason)."""
    plain = (OWN / "wellformed_rss2.xml").read_bytes()
    gz = gzip.compress(plain)
    zl = zlib.compress(plain)
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = raw.compress(plain) + raw.flush()
    variants = {
        "/cmp/gzip.xml": (gz, "gzip", ("ok", None)),
        "/cmp/deflate-zlib.xml": (zl, "deflate", ("ok", None)),
        "/cmp/deflate-raw.xml": (raw_deflate, "deflate", ("ok", None)),
        "/cmp/gzip-corrupt.xml": (gz[:20] + bytes(b ^ 0x5A for b in gz[20:60]) + gz[60:], "gzip",
                                  ("failed", "decoding_error")),
        "/cmp/gzip-not-compressed.xml": (plain, "gzip", ("failed", "decoding_error")),
        "/cmp/deflate-corrupt.xml": (b"\x78\x9c" + bytes(b ^ 0xA5 for b in zl[2:50]), "deflate",
                                     ("failed", "decoding_error")),
        "/cmp/gzip-truncated.xml": (gz[: len(gz) // 2], "gzip", (None, None)),
    }
    out = {}
    for path, (body, enc, expect) in variants.items():
        server.routes[path] = Route(body=body, headers=[("Content-Type", "application/rss+xml"),
                                                        ("Content-Encoding", enc)])
        out[server.url(path)] = expect
    return out


def test_own_fixtures_cover_every_category_and_replay_clean(canned_server: LocalServer, tmp_path: Path) -> None:
    files = sorted(p for p in OWN.iterdir() if p.is_file())
    assert {p.name for p in files} == set(OWN_EXPECT), "fixture list and expectations drifted apart"
    categories = {p.name.split("_", 1)[0] for p in files} | {"compression"}
    assert categories >= {"encoding", "entities", "illformed", "http", "compression", "wellformed"}
    compressed = _compressed_routes(canned_server)
    rep = replay(canned_server, {f"/own/{p.name}": p for p in files}, replay_settings(tmp_path))
    print("\nown fixtures:", rep.summary())
    check_classified(rep)

    for name, (status, reason, titles) in OWN_EXPECT.items():
        o = rep.outcomes[canned_server.url(f"/own/{name}")]
        if status is not None:
            assert (o.status, o.reason) == (status, reason), f"{name}: {o.status} {o.reason} {o.message}"
        got = [e.title for e in (o.parsed.entries if o.parsed else [])]
        for t in titles:
            assert t in got, f"{name}: title {t!r} not among {got}"

    # a redirect is followed to its target; the ETag feed answers the conditional re-poll with 304
    moved = rep.outcomes[canned_server.url("/own/http_301.xml")]
    assert moved.result is not None and moved.result.final_url == canned_server.url("/own/http_redirect_target.xml")
    cond = rep.outcomes[canned_server.url("/own/http_etag_304.xml") + " (conditional)"]
    assert cond.status == "not_modified" and cond.http_status == 304

    specs_rep = _replay_urls(list(compressed), replay_settings(tmp_path))
    for url, (status, reason) in compressed.items():
        o = specs_rep[url]
        assert o.status in CLASSIFIED and (o.status != "failed" or o.reason in REASONS)
        if status is not None:
            assert (o.status, o.reason) == (status, reason), f"{url}: {o.status} {o.reason} {o.message}"
        if status == "ok":
            assert [e.title for e in o.parsed.entries][:1] == ["Ferry timetable restored"]  # type: ignore[union-attr]

    # every entry with an http(s) link became an article (they all carry text) or a classified reject
    assert rep.entry_results, "no entries replayed"
    linked = [r for _, link, r in rep.entry_results if link.startswith("http")]
    assert linked.count("article") >= 8, rep.summary()


def _replay_urls(urls: list[str], settings: Settings) -> dict[str, FeedOutcome]:
    polls = poll_feeds.fn([FeedSpec(url=u) for u in urls], {}, settings)
    return {o.spec.url: o for o in parse_feeds.fn(polls, settings.future_tolerance_hours)}


def test_own_fixture_entries_follow_link_policy(canned_server: LocalServer, tmp_path: Path) -> None:
    """Relative links resolve against the channel link; guid-as-link is used; javascript: is dropped."""
    rep = replay(canned_server, {"/own/wellformed_rss2.xml": OWN / "wellformed_rss2.xml"}, replay_settings(tmp_path))
    o = rep.outcomes[canned_server.url("/own/wellformed_rss2.xml")]
    assert o.parsed is not None
    links = {e.title: e.link for e in o.parsed.entries}
    assert links["Ferry timetable restored"] == "https://harbour.example/news/ferry-timetable"
    assert links["Library opens late"] == "https://harbour.example/news/library-late"  # relative → channel link
    assert links["Guid only story"] == "https://harbour.example/news/guid-only"  # permalink guid
    assert links["Script link story"] is None  # javascript: never becomes a link
    results = {link: r for _, link, r in rep.entry_results}
    assert results["https://harbour.example/news/ferry-timetable"] == "article"
    assert results["None"] == Reason.NO_LINK.value


# ----------------------------------------------------------------------------- feedparser's corpus


def test_feedparser_corpus_replay(canned_server: LocalServer, tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser corpus not found at {CORPUS} (../shared/corpora is optional)")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "LICENSE")
    assert len(files) > 2000, f"corpus looks incomplete: {len(files)} files"
    paths = {"/" + p.relative_to(CORPUS).as_posix(): p for p in files}
    # the original suite's server answered this one path with a bare 304
    canned_server.routes["/-/return-304.xml"] = Route(status=304)
    rep = replay(canned_server, paths, replay_settings(tmp_path), strict_charset=False)
    check_classified(rep, strict_charset=False)
    print("\nfeedparser corpus:", rep.summary())
    assert rep.elapsed < 60, f"corpus replay took {rep.elapsed:.1f}s"

    by_name = {url.rsplit("/", 2)[-2] + "/" + url.rsplit("/", 1)[-1]: o for url, o in rep.outcomes.items()}
    # status handling of the http/ cases
    assert by_name["http/http_status_404.xml"].reason == "http_404"
    for code in ("301", "302", "303", "307"):
        o = by_name[f"http/http_status_{code}.xml"]
        assert o.status == "ok" and o.result is not None and o.result.final_url.endswith("/http/target.xml")
    assert by_name["http/http_status_302-no-location.xml"].reason == "http_unexpected_status"
    assert by_name["http/http_redirect_to_304.xml"].status == "not_modified"
    assert by_name["http/http_status_304.xml (conditional)"].status == "not_modified"
    # compression: the good streams decode to a feed, the broken ones are classified, not crashes
    for good in ("compression/gzip.gz", "compression/deflate.z", "compression/deflate-no-headers.z"):
        assert by_name[good].status in ("ok", "warning"), (good, by_name[good].reason, by_name[good].message)
    for bad in ("compression/gzip-not-compressed.gz", "compression/gzip-struct-error.gz"):
        assert by_name[bad].status == "failed", bad

    counts = collections.Counter(o.status for o in rep.outcomes.values())
    assert counts["ok"] + counts["warning"] > 0.8 * len(files), rep.summary()
    linked = [r for _, link, r in rep.entry_results if link.startswith("http")]
    assert linked.count("article") >= 20, rep.summary()
