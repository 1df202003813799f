"""Backfill end to end: every archive kind through the real flow into a real DuckDB file."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.flows.site import BOILERPLATE_MARKERS, article_page, load_stories
from tests.support.dbrows import rows as _rows

pytestmark = pytest.mark.usefixtures("prefect_harness")

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "seed_archive"


def _backfill(paths: list[Path], db: Path, **kw: Any) -> dict[str, Any]:
    from flows.backfill import backfill

    return backfill(paths=[str(p) for p in paths], db=str(db), **kw)


def _write_warc(path: Path, pages: list[tuple[str, bytes]], extra_non_html: bool = True) -> None:
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=path.suffix == ".gz")
        for url, body in pages:
            req = w.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
            w.write_record(req)
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
        if extra_non_html:
            headers = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record("https://img.example.org/x.png", "response",
                                                payload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
                                                http_headers=headers))


@pytest.fixture
def archive(tmp_path: Path) -> dict[str, Any]:
    """One archive of each kind, written fresh: HTML (plain and gzipped), JSONL(.gz), WARC(.gz), text."""
    stories = load_stories()
    root = tmp_path / "archive"
    (root / "html").mkdir(parents=True)
    (root / "html" / "a.html").write_text(article_page(stories[0], canonical=f"https://herald.example.org/{stories[0]['slug']}"))
    (root / "html" / "b.htm.gz").write_bytes(gzip.compress(article_page(stories[1]).encode()))
    lines = [
        {"url": f"https://herald.example.org/{stories[2]['slug']}?utm_source=x", "html": article_page(stories[2]),
         "published_at": "2026-11-18T11:00:00Z", "source": "Harbour Herald"},
        {"url": "https://wire.example.net/item/77", "title": stories[3]["title"],
         "text": "\n\n".join(stories[3]["paragraphs"]) + "\n\nSubscribe\nShare this article"},
    ]
    with gzip.open(root / "records.jsonl.gz", "wt", encoding="utf-8") as fh:
        for ln in lines:
            fh.write(json.dumps(ln) + "\n")
    _write_warc(root / "crawl.warc.gz", [(f"https://news.example.com/{stories[4]['slug']}",
                                          article_page(stories[4]).encode())])
    (root / "dump.txt").write_text(
        f"{stories[0]['title']} extra edition\n\nSubscribe\n" + "\n".join(stories[1]["paragraphs"][::-1])
        + "\nRelated articles\nSome other headline about ports\n", encoding="utf-8")
    return {"root": root, "stories": stories}


def test_every_archive_kind_loads_through_the_same_path(archive: dict[str, Any], db_path: Path) -> None:
    summary = _backfill([archive["root"]], db_path)
    assert (summary["read"], summary["loaded"], summary["rejected"]) == (6, 6, 0), summary
    # the WARC's request record and its PNG response are counted, not loaded
    assert summary["not_articles"] == {"warc_non_html": 1, "warc_request": 1}
    rows = _rows(db_path, "SELECT url, title, text, origin, text_source, archive_path, archive_record, "
                          "published_at, published_at_source, outlet, domain, site_name FROM articles")
    by_title = {r[1]: r for r in rows}
    stories = archive["stories"]
    for s in stories:
        r = by_title.get(s["title"])
        assert r is not None, f"{s['title']} missing: {list(by_title)}"
        for para in s["paragraphs"]:
            assert para in r[2]
        for marker in [*BOILERPLATE_MARKERS, "Share this article"]:
            assert marker not in r[2]
        assert r[3] == "archive" and r[4] == "archive" and r[5] and r[6]
    # the canonical link of a saved page and utm-stripping of a JSONL url
    assert by_title[stories[0]["title"]][0] == f"https://herald.example.org/{stories[0]['slug']}"
    jl = by_title[stories[2]["title"]]
    assert jl[0] == f"https://herald.example.org/{stories[2]['slug']}" and jl[9] == "Harbour Herald"
    assert jl[10] == "example.org"  # registrable domain of herald.example.org
    # a record with no outlet of its own is counted under its page's site name, else its domain
    wire = by_title[stories[3]["title"]]
    assert (wire[9], wire[10]) == ("example.net", "example.net")
    assert (jl[7], jl[8]) == (datetime(2026, 11, 18, 11, 0, tzinfo=UTC), "archive")  # the record's own date
    assert by_title[stories[4]["title"]][0] == f"https://news.example.com/{stories[4]['slug']}"
    # the plain-text dump: title from line 1, its URL a stable archive urn
    dump = [r for r in rows if r[5].endswith("dump.txt")]
    assert dump[0][0].startswith("urn:newsflow:archive:")
    assert len(dump) == 1 and dump[0][1] == f"{stories[0]['title']} extra edition"
    assert "Related articles" not in dump[0][2] and "Some other headline" not in dump[0][2]
    raw = _rows(db_path, "SELECT origin, count(*) FROM raw_pages GROUP BY 1")
    assert raw == [("archive", 6)]


def test_rerun_adds_nothing_and_force_replaces(archive: dict[str, Any], db_path: Path) -> None:
    _backfill([archive["root"]], db_path)
    before = _rows(db_path, "SELECT article_id, content_hash FROM articles ORDER BY 1")
    again = _backfill([archive["root"]], db_path)
    assert again["loaded"] == 0 and again["skipped"] == 6
    assert _rows(db_path, "SELECT article_id, content_hash FROM articles ORDER BY 1") == before
    forced = _backfill([archive["root"]], db_path, force=True)
    assert forced["loaded"] == 6 and forced["skipped"] == 0
    assert _rows(db_path, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(6, 6)]
    assert _rows(db_path, "SELECT count(*) FROM archive_records") == [(6,)]
    # a moved copy of the archive is the same content: nothing new
    moved = archive["root"].parent / "moved"
    shutil.copytree(archive["root"], moved)
    assert _backfill([moved], db_path)["skipped"] == 6


def test_corrupt_and_binary_files_become_rejects_while_the_rest_load(archive: dict[str, Any], tmp_path: Path,
                                                                    db_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    good = gzip.compress(b'{"url": "https://x.example.org/a", "text": "Alpha story.\\n\\nIt has a second paragraph with words."}\n' * 1)
    (bad / "cut.jsonl.gz").write_bytes(good + gzip.compress(b'{"url": "https://x.example.org/b", "text": "B"}\n' * 50)[:40])
    warc = tmp_path / "w.warc.gz"
    _write_warc(warc, [("https://y.example.org/p", article_page(archive["stories"][1]).encode())], extra_non_html=False)
    (bad / "cut.warc.gz").write_bytes(warc.read_bytes()[:-30])
    (bad / "image.txt").write_bytes(bytes(range(256)) * 8)
    (bad / "broken.jsonl").write_text('{"url": "https://z.example.org/1", "html": "<p>x</p>"\nnot json\n')
    summary = _backfill([bad, archive["root"] / "dump.txt"], db_path)
    reasons = dict(_rows(db_path, "SELECT reason, count(*) FROM rejects GROUP BY 1"))
    assert reasons.get("corrupt_archive", 0) >= 2, reasons
    assert reasons.get("binary_file") == 1, reasons
    assert reasons.get("invalid_record", 0) >= 1, reasons
    assert summary["rejected"] == sum(reasons.values())
    loaded = {r[0] for r in _rows(db_path, "SELECT url FROM articles")}
    assert "https://x.example.org/a" in loaded  # records before the damage are kept
    assert any(u.startswith("urn:newsflow:archive:") for u in loaded)


def test_seed_archive_end_to_end(db_path: Path) -> None:
    summary = _backfill([SEED], db_path)
    assert summary["loaded"] == 5 and summary["rejected"] == 0
    rows = _rows(db_path, "SELECT archive_path, title, authors, published_at, published_at_source, language, text "
                          "FROM articles ORDER BY archive_path")
    assert len(rows) == 5
    for path, title, _authors, published, source, lang, text in rows:
        first = Path(path).read_text(encoding="utf-8").splitlines()[0]
        assert title and first.startswith(title)
        assert lang == "en"
        assert (published is None) == (source is None)
        for junk in ("Subscribe", "Spread the love", "log in or register", "READ MORE", "Related articles",
                     "Editor's choice", "Source: Read Full Article", "Leave a Reply", "Заголовок"):
            assert junk not in text, f"{junk!r} left in {path}"
    dated = {Path(r[0]).name: r[3] for r in rows if r[3] is not None}
    assert len(dated) == 2, dated
    # five different stories (they share quotes and background, not their story): five groups
    assert _rows(db_path, "SELECT count(DISTINCT dup_group_id), count(dup_group_id) FROM articles") == [(5, 5)]
    # undated stories are on no day (never on the day of the backfill), and are counted per outlet
    assert _rows(db_path, "SELECT sum(articles) FROM v_daily_counts") == [(2,)]
    assert _rows(db_path, "SELECT sum(undated) FROM v_outlets") == [(3,)]
    # every article is enriched in the same load: the sample archive's example events are there
    coded = _rows(db_path, "SELECT event_type, actor_code, recipient_code, modality, date_precision, "
                           "location_text FROM v_events_dyadic")
    kinds = {r[0] for r in coded}
    assert {"REQUEST", "CONSULT", "AGREE", "REJECT", "SUPPORT"} <= kinds, kinds
    assert ("REQUEST", "GBRGOV", "RUS", "future") in {r[:4] for r in coded} or \
        ("REQUEST", "GBRGOV", "RUSGOV", "future") in {r[:4] for r in coded}, coded
    # the Anhui conference is in an undated article: "last week" cannot be resolved, so no date
    assert any(r[0] == "CONSULT" and r[5] == "Anhui" and r[4] is None for r in coded), coded
    assert all(r[4] is not None for r in coded if r[0] == "REQUEST" and r[1] == "GBRGOV")  # dated article
    assert _rows(db_path, "SELECT count(DISTINCT article_id) FROM entities") == [(5,)]
    assert _rows(db_path, "SELECT count(*) > 0 FROM quotes WHERE speaker_entity_id IS NOT NULL") == [(True,)]
    assert all(r[4] == "text" for r in rows if r[3] is not None)


def test_reprocess_reextracts_stored_pages(archive: dict[str, Any], db_path: Path) -> None:
    from flows.reprocess import reprocess

    _backfill([archive["root"]], db_path)
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE articles SET text = 'stale text', content_hash = 'x', word_count = 2")
    con.close()
    counts = reprocess(db=str(db_path))
    assert counts["pages"] == 6 and counts["updated"] == 6 and counts["rejected"] == 0
    assert _rows(db_path, "SELECT count(*) FROM articles WHERE text = 'stale text'") == [(0,)]
    assert _rows(db_path, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(6, 6)]
    again = reprocess(db=str(db_path))
    assert again["updated"] == 0 and again["unchanged"] == 6


def test_archive_bodies_stay_in_the_archive_and_reprocess_reads_them_there(archive: dict[str, Any],
                                                                          db_path: Path) -> None:
    from flows.reprocess import reprocess

    _backfill([archive["root"]], db_path)
    stored = dict(_rows(db_path, "SELECT json_extract_string(json_extract_string(headers_json, "
                                 "'$.\"x-newsflow-archive\"'), '$.kind'), count(coalesce(body_ref, body_gz::VARCHAR)) "
                                 "FROM raw_pages GROUP BY 1"))
    # JSONL lines cannot be found by seeking: their bodies are kept (in a file beside the
    # warehouse); HTML, text and WARC are not
    assert stored == {"html": 0, "text": 0, "warc": 0, "jsonl": 2}, stored
    assert _rows(db_path, "SELECT count(*) FROM raw_pages WHERE body_bytes > 0") == [(6,)]
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE articles SET text = 'stale text', content_hash = 'x', word_count = 2")
    con.close()
    # one archive file gone, one rewritten with other content: clear rejects, the articles stay
    (archive["root"] / "crawl.warc.gz").unlink()
    (archive["root"] / "html" / "a.html").write_text("<html><body><p>another page</p></body></html>")
    counts = reprocess(db=str(db_path))
    assert counts["pages"] == 6 and counts["updated"] == 4 and counts["rejected"] == 2, counts
    msgs = _rows(db_path, "SELECT reason, message FROM rejects ORDER BY reason")
    assert [m[0] for m in msgs] == ["corrupt_archive", "invalid_record"], msgs
    assert "archive file not found" in msgs[0][1] and "crawl.warc.gz" in msgs[0][1]
    assert "changed since it was loaded" in msgs[1][1] and "kept" in msgs[1][1]
    assert _rows(db_path, "SELECT count(*) FROM articles WHERE text = 'stale text'") == [(2,)]
    assert _rows(db_path, "SELECT count(*) FROM articles") == [(6,)]
