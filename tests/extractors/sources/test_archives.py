"""Archive readers: every kind, stable ids, damage handling, streaming memory.

All archives are written by the tests themselves into ``tmp_path`` (WARC files with
warcio's ``WARCWriter``), except the bundled seed archive under ``data/seed_archive``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import shutil
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from extractors.normalize.urls import PSEUDO_URL_PREFIX, archive_pseudo_url
from extractors.sources.archives import (
    ArchiveProblem,
    ArchiveRecord,
    decode_text,
    detect_kind,
    discover,
    html_page_url,
    iter_records,
    make_record_id,
    read_record_at,
    record_url,
)
from schemas.failures import Reason

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "data" / "seed_archive"


def split(items: list) -> tuple[list[ArchiveRecord], list[ArchiveProblem]]:
    records = [i for i in items if isinstance(i, ArchiveRecord)]
    problems = [i for i in items if isinstance(i, ArchiveProblem)]
    assert len(records) + len(problems) == len(items)
    return records, problems


def read_all(path: Path, **kwargs) -> tuple[list[ArchiveRecord], list[ArchiveProblem]]:
    return split(list(iter_records(path, **kwargs)))


def page(title: str, paragraphs: int = 3, head_extra: str = "") -> bytes:
    body = "".join(
        f"<p>{title} paragraph {n} with enough words to be a story line.</p>" for n in range(paragraphs)
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>{head_extra}</head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    ).encode()


# --------------------------------------------------------------------------------------------
# seed archive and plain-text dumps
# --------------------------------------------------------------------------------------------


def test_seed_archive_yields_five_text_records() -> None:
    files = list(discover([SEED]))
    assert [f.name for f in files] == sorted(f.name for f in SEED.glob("*.txt"))
    assert len(files) == 5
    records = []
    for path in files:
        assert detect_kind(path) == "text"
        recs, problems = read_all(path)
        assert problems == []
        assert len(recs) == 1
        records.append(recs[0])
    for path, rec in zip(files, records, strict=True):
        assert rec.kind == "text"
        assert rec.path == str(path)
        assert rec.locator == ""
        assert rec.url is None and rec.html is None
        assert rec.text == path.read_text(encoding="utf-8").replace("\r\n", "\n")
        # first line of every dump is its headline
        assert rec.text.strip().splitlines()[0].strip()
        assert record_url(rec) == archive_pseudo_url(rec.record_id)
    assert len({r.record_id for r in records}) == 5


def test_text_decoding_fallbacks_and_nul(tmp_path: Path) -> None:
    story = "Café owners said the “new rules” – announced on Monday – would hurt trade.\nSecond line.\n"
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes(story.encode("cp1252"))
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"Headline\x00 here\r\nBody line one.\r\n")
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + story.encode("utf-8"))

    assert read_all(legacy)[0][0].text == story
    assert read_all(nul)[0][0].text == "Headline here\nBody line one.\n"
    assert read_all(bom)[0][0].text == story
    assert decode_text("Добрый день, министр заявил".encode()) == "Добрый день, министр заявил"


def test_empty_and_binary_text_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n\n ")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    noise = tmp_path / "noise.txt"
    noise.write_bytes(os.urandom(4096))

    recs, problems = read_all(empty)
    assert recs == [] and [p.reason for p in problems] == [Reason.INVALID_RECORD]
    assert problems[0].message == "empty file"
    for path in (binary, noise):
        assert detect_kind(path) is None
        recs, problems = read_all(path)
        assert recs == []
        assert [p.reason for p in problems] == [Reason.BINARY_FILE]
        assert "\n" not in problems[0].message


def test_unknown_extension(tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b,c\n1,2,3\n")
    assert detect_kind(notes) is None
    recs, problems = read_all(notes)
    assert recs == [] and [p.reason for p in problems] == [Reason.UNSUPPORTED_FORMAT]
    # content decides when it is unambiguous, whatever the name says
    saved = tmp_path / "saved_page.dat"
    saved.write_bytes(page("Saved"))
    assert detect_kind(saved) == "html"
    lines = tmp_path / "export.txt"
    lines.write_text(json.dumps({"url": "https://a.example/x", "text": "Body"}) + "\n")
    assert detect_kind(lines) == "jsonl"


# --------------------------------------------------------------------------------------------
# saved HTML pages
# --------------------------------------------------------------------------------------------


def test_html_files_plain_and_gzipped(tmp_path: Path) -> None:
    canonical = page(
        "Canon", head_extra='<link href="https://news.example/story?id=1&amp;p=2" rel="canonical">'
    )
    og = page("Og", head_extra='<meta property="og:url" content="https://news.example/og-story">')
    relative = page("Rel", head_extra='<link rel="canonical" href="/relative/only">')
    fragment = b"<div><p>Just a fragment of a saved page, no html element.</p></div>"
    (tmp_path / "a.html").write_bytes(canonical)
    (tmp_path / "b.htm").write_bytes(og)
    (tmp_path / "c.html.gz").write_bytes(gzip.compress(relative))
    (tmp_path / "d.htm").write_bytes(fragment)

    by_name = {}
    for path in discover([tmp_path]):
        recs, problems = read_all(path)
        assert problems == [], problems
        assert len(recs) == 1
        by_name[path.name] = recs[0]
    assert set(by_name) == {"a.html", "b.htm", "c.html.gz", "d.htm"}
    assert all(r.kind == "html" and r.text is None for r in by_name.values())
    assert by_name["a.html"].url == "https://news.example/story?id=1&p=2"
    assert by_name["a.html"].html == canonical
    assert by_name["b.htm"].url == "https://news.example/og-story"
    assert by_name["c.html.gz"].url is None  # a relative canonical says nothing about the host
    assert by_name["c.html.gz"].html == relative  # decompressed
    assert by_name["d.htm"].html == fragment
    assert record_url(by_name["c.html.gz"]).startswith(PSEUDO_URL_PREFIX)
    assert record_url(by_name["a.html"]) == by_name["a.html"].url


def test_html_page_url_prefers_canonical() -> None:
    both = page(
        "Both",
        head_extra="<meta property='og:url' content='https://x.example/og'>"
        "<LINK REL='alternate canonical' HREF='https://x.example/canon'>",
    )
    assert html_page_url(both) == "https://x.example/canon"
    assert html_page_url(page("None")) is None


def test_corrupt_gzip_html(tmp_path: Path) -> None:
    blob = gzip.compress(page("Cut", paragraphs=200))
    cut = tmp_path / "cut.html.gz"
    cut.write_bytes(blob[: len(blob) // 2])
    assert detect_kind(cut) == "html"
    recs, problems = read_all(cut)
    assert recs == []
    assert [p.reason for p in problems] == [Reason.CORRUPT_ARCHIVE]
    assert "truncated" in problems[0].message

    garbage = tmp_path / "garbage.html.gz"
    garbage.write_bytes(b"\x1f\x8b" + os.urandom(2000))
    recs, problems = read_all(garbage)
    assert recs == [] and [p.reason for p in problems] == [Reason.CORRUPT_ARCHIVE]


def test_too_large_documents(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    big.write_bytes(page("Big", paragraphs=100))
    big_gz = tmp_path / "big.html.gz"
    big_gz.write_bytes(gzip.compress(big.read_bytes()))
    for path in (big, big_gz):
        recs, problems = read_all(path, max_record_bytes=1000)
        assert recs == [] and [p.reason for p in problems] == [Reason.TOO_LARGE]
        assert len(read_all(path)[0]) == 1  # the default limit lets it through


# --------------------------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------------------------


def write_jsonl(path: Path, lines: list[str], *, gz: bool = False) -> None:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)


def test_jsonl_good_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "url": "https://a.example/1",
                "html": page("One").decode(),
                "title": "One",
                "published_at": "2021-04-07T10:30:00+02:00",
                "source": "A Example",
            }
        ),
        '{"url": "https://a.example/2", "text": "broken',  # invalid JSON
        json.dumps({"html": "<p>no url</p>"}),
        "",  # blank lines are not records
        json.dumps({"url": "https://a.example/4", "text": "Plain body.\u0000", "published_at": 1617784200}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"url": "https://a.example/6"}),
        json.dumps({"url": "https://a.example/7", "text": "Body", "title": 7}),
        json.dumps({"url": "https://a.example/8", "text": "Body", "published_at": "not a date"}),
    ]
    path = tmp_path / "export.jsonl"
    write_jsonl(path, lines)
    stats: Counter[str] = Counter()
    recs, problems = read_all(path, stats=stats)

    assert [r.locator for r in recs] == ["line:1", "line:5", "line:9"]
    one, four, eight = recs
    assert one.kind == "jsonl" and one.url == "https://a.example/1"
    assert one.html == page("One") and one.text is None
    assert one.title == "One" and one.outlet == "A Example"
    assert one.published_at == datetime(2021, 4, 7, 8, 30, tzinfo=UTC)
    assert one.published_at_raw == "2021-04-07T10:30:00+02:00"
    assert one.content_type == "text/html; charset=utf-8"
    assert four.text == "Plain body." and four.html is None and four.content_type is None
    assert four.published_at == datetime(2021, 4, 7, 8, 30, tzinfo=UTC)
    assert eight.published_at is None and eight.published_at_raw == "not a date"

    assert [(p.locator, p.reason) for p in problems] == [
        ("line:2", Reason.INVALID_RECORD),
        ("line:3", Reason.INVALID_RECORD),
        ("line:6", Reason.INVALID_RECORD),
        ("line:7", Reason.INVALID_RECORD),
        ("line:8", Reason.INVALID_RECORD),
    ]
    assert problems[0].payload == lines[1]
    assert "url" in problems[1].message
    assert "object" in problems[2].message
    assert "'html' or 'text'" in problems[3].message
    assert "title" in problems[4].message
    assert all("\n" not in p.message for p in problems)
    assert stats["blank_lines"] == 1


def test_jsonl_gz_matches_plain_and_long_line(tmp_path: Path) -> None:
    lines = [json.dumps({"url": f"https://b.example/{i}", "text": f"Story {i}"}) for i in range(5)]
    lines.insert(2, json.dumps({"url": "https://b.example/huge", "text": "x" * 5000}))
    plain, packed = tmp_path / "a.jsonl", tmp_path / "a.jsonl.gz"
    write_jsonl(plain, lines)
    write_jsonl(packed, lines, gz=True)
    r1, p1 = read_all(plain, max_record_bytes=1000)
    r2, p2 = read_all(packed, max_record_bytes=1000)
    assert [r.record_id for r in r1] == [r.record_id for r in r2]
    assert [r.locator for r in r1] == ["line:1", "line:2", "line:4", "line:5", "line:6"]
    assert (
        [(p.locator, p.reason) for p in p1]
        == [("line:3", Reason.TOO_LARGE)]
        == [(p.locator, p.reason) for p in p2]
    )


def test_truncated_jsonl_gz_keeps_records_before(tmp_path: Path) -> None:
    lines = [
        json.dumps({"url": f"https://c.example/{i}", "text": f"Story {i} " + os.urandom(300).hex()})
        for i in range(200)
    ]
    blob = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    assert detect_kind(path) == "jsonl"
    items = list(iter_records(path))
    recs, problems = split(items)
    assert 0 < len(recs) < 200
    assert [r.url for r in recs] == [f"https://c.example/{i}" for i in range(len(recs))]
    assert [p.reason for p in problems] == [Reason.CORRUPT_ARCHIVE]
    assert items[-1] is problems[0]  # the problem comes last, after the good records
    assert problems[0].locator == f"line:{len(recs) + 1}"


def test_jsonl_streaming_memory_is_flat(tmp_path: Path) -> None:
    n = 20_000
    data = "".join(
        json.dumps(
            {
                "url": f"https://d.example/{i}",
                "html": f"<html><body><p>Story {i}. " + "Words of the story. " * 20 + "</p></body></html>",
                "published_at": "2024-01-02T03:04:05Z",
            }
        )
        + "\n"
        for i in range(n)
    ).encode()
    path = tmp_path / "big.jsonl.gz"
    path.write_bytes(gzip.compress(data, compresslevel=1))
    del data

    count = 0
    tracemalloc.start()
    try:
        for item in iter_records(path):
            assert isinstance(item, ArchiveRecord)
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    # the uncompressed file is ~9 MB; a streaming reader holds a few records at a time
    assert peak < 1_500_000, peak


# --------------------------------------------------------------------------------------------
# WARC
# --------------------------------------------------------------------------------------------

WARC_DATE = "2021-09-22T08:15:30Z"


def build_warc(*, gz: bool, n_articles: int = 3) -> bytes:
    """A small crawl: warcinfo, then per article a request, the HTML response, an image and
    a redirect; plus one untyped HTML response, one gzip-encoded one, one dns record."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    writer.write_record(writer.create_warcinfo_record("test.warc", {"software": "newsflow-tests"}))

    def response(url: str, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        rec = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": WARC_DATE},
        )
        writer.write_record(rec)

    for i in range(n_articles):
        url = f"https://news.example/story-{i}"
        request = StatusAndHeaders(
            f"GET /story-{i} HTTP/1.1", [("Host", "news.example")], is_http_request=True
        )
        writer.write_record(writer.create_warc_record(url, "request", http_headers=request))
        response(
            url,
            "200 OK",
            [("Content-Type", "text/html; charset=ISO-8859-1"), ("X-Cache", "HIT")],
            page(f"Story {i}"),
        )
        response(url + ".jpg", "200 OK", [("Content-Type", "image/jpeg")], b"\xff\xd8\xff" + bytes(300))
        response(
            url + "/old",
            "301 Moved Permanently",
            [("Location", url), ("Content-Type", "text/html")],
            b"<html></html>",
        )
    response("https://news.example/untyped", "200 OK", [], page("Untyped"))
    response(
        "https://news.example/encoded",
        "200 OK",
        [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
        gzip.compress(page("Encoded")),
    )
    dns = writer.create_warc_record(
        "dns:news.example",
        "response",
        payload=io.BytesIO(b"news.example. 300 IN A 192.0.2.1\n"),
        warc_content_type="text/dns",
    )
    writer.write_record(dns)
    return buf.getvalue()


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_warc_html_responses_only(tmp_path: Path, gz: bool) -> None:
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    data = build_warc(gz=gz)
    path.write_bytes(data)
    assert detect_kind(path) == "warc"
    stats: Counter[str] = Counter()
    recs, problems = read_all(path, stats=stats)
    assert problems == []
    assert [r.url for r in recs] == [
        "https://news.example/story-0",
        "https://news.example/story-1",
        "https://news.example/story-2",
        "https://news.example/untyped",
        "https://news.example/encoded",
    ]
    first = recs[0]
    assert first.kind == "warc" and first.html == page("Story 0")
    assert first.content_type == "text/html; charset=ISO-8859-1"
    assert first.http_headers["content-type"] == "text/html; charset=ISO-8859-1"
    assert first.http_headers["x-cache"] == "HIT"
    assert first.published_at is None  # capture time is not publication time
    assert first.published_at_raw is None
    assert first.fetched_at == datetime(2021, 9, 22, 8, 15, 30, tzinfo=UTC)
    assert recs[3].html == page("Untyped") and recs[3].content_type is None
    assert recs[4].html == page("Encoded")  # content-encoding undone
    assert stats["warc_warcinfo"] == 1 and stats["warc_request"] == 3
    assert stats["warc_non_html"] == 3 and stats["warc_non_2xx"] == 3 and stats["warc_non_http"] == 1

    # locators are the byte offsets warcio itself reports for those records
    offsets: dict[str, int] = {}
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for rec in it:
            if rec.rec_type == "response":
                offsets.setdefault(rec.rec_headers.get_header("WARC-Target-URI"), it.get_record_offset())
    assert [r.locator for r in recs] == [f"offset:{offsets[str(r.url)]}" for r in recs]
    if not gz:
        off = int(first.locator.split(":")[1])
        assert data[off : off + 8] == b"WARC/1.0"


def test_warc_plain_and_gzip_give_same_ids(tmp_path: Path) -> None:
    (tmp_path / "a.warc").write_bytes(build_warc(gz=False))
    (tmp_path / "a.warc.gz").write_bytes(build_warc(gz=True))
    ids_plain = [r.record_id for r in read_all(tmp_path / "a.warc")[0]]
    ids_gz = [r.record_id for r in read_all(tmp_path / "a.warc.gz")[0]]
    assert ids_plain == ids_gz and len(set(ids_plain)) == 5


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_truncated_warc_keeps_records_before(tmp_path: Path, gz: bool) -> None:
    data = build_warc(gz=gz, n_articles=6)
    full = [r.record_id for r in read_all(_write(tmp_path / "full.warc", data))[0]]
    with open(tmp_path / "full.warc", "rb") as fh:
        it = ArchiveIterator(fh)
        boundaries = {it.get_record_offset() for _ in it} | {len(data)}

    cut_path = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    checked = 0
    cuts = list(range(len(data) // 40, len(data), len(data) // 37))
    if gz:  # inside the 8-byte trailer of a gzip member: all data there, CRC and size missing
        cuts += [b - 6 for b in sorted(boundaries) if b > 0]
    for cut in cuts:
        if any(0 <= b - cut <= 4 for b in boundaries):
            continue  # a cut on a record boundary leaves a valid, shorter WARC
        items = list(iter_records(_write(cut_path, data[:cut])))
        recs, problems = split(items)
        assert [r.record_id for r in recs] == full[: len(recs)], cut
        assert [p.reason for p in problems] == [Reason.CORRUPT_ARCHIVE], cut
        assert items[-1] is problems[0]
        assert problems[0].locator.startswith("offset:")
        checked += 1
    assert checked > 25 + (10 if gz else 0)


def test_whole_file_gzip_warc(tmp_path: Path) -> None:
    """``gzip crawl.warc`` (one gzip stream, not one member per record) still reads."""
    plain = build_warc(gz=False)
    expected = read_all(_write(tmp_path / "a.warc", plain))[0]
    blob = gzip.compress(plain)
    recs, problems = read_all(_write(tmp_path / "b.warc.gz", blob))
    assert problems == []
    assert [(r.record_id, r.locator) for r in recs] == [(r.record_id, r.locator) for r in expected]

    items = list(iter_records(_write(tmp_path / "c.warc.gz", blob[: len(blob) * 2 // 3])))
    recs, problems = split(items)
    assert 0 < len(recs) < len(expected)
    assert [r.record_id for r in recs] == [r.record_id for r in expected[: len(recs)]]
    assert [p.reason for p in problems] == [Reason.CORRUPT_ARCHIVE] and items[-1] is problems[0]


def test_not_a_warc_despite_extension(tmp_path: Path) -> None:
    path = tmp_path / "notes.warc"
    path.write_text("This is a plain note, not a web archive.\n")
    recs, problems = read_all(path)
    assert recs == [] and [p.reason for p in problems] == [Reason.CORRUPT_ARCHIVE]


def test_warc_record_too_large(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.warc.gz", build_warc(gz=True, n_articles=1))
    recs, problems = read_all(path, max_record_bytes=100)
    assert recs == []
    # the image is skipped without being read; only HTML bodies hit the limit
    assert [p.reason for p in problems] == [Reason.TOO_LARGE] * 3


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# ids, discovery, helpers
# --------------------------------------------------------------------------------------------


def test_record_ids_are_stable_across_reads_and_copies(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.warc.gz").write_bytes(build_warc(gz=True))
    write_jsonl(
        src / "b.jsonl", [json.dumps({"url": f"https://e.example/{i}", "text": f"T{i}"}) for i in range(3)]
    )
    (src / "c.txt").write_text("Headline\n\nBody.\n")
    (src / "d.html").write_bytes(page("D"))
    copy = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(src, copy)
    (copy / "c.txt").rename(copy / "renamed.txt")

    def ids(root: Path) -> list[str]:
        return sorted(r.record_id for p in discover([root]) for r in read_all(p)[0])

    first = ids(src)
    assert len(first) == 5 + 3 + 1 + 1 == len(set(first))
    assert ids(src) == first
    assert ids(copy) == first
    # a changed document is a different record
    (copy / "renamed.txt").write_text("Headline\n\nBody, corrected.\n")
    assert ids(copy) != first
    assert make_record_id("text", None, b"x") != make_record_id("html", None, b"x")
    assert make_record_id("html", "https://a/", b"x") != make_record_id("html", "https://b/", b"x")


def test_discover_order_hidden_and_duplicates(tmp_path: Path) -> None:
    for rel in ["b/2.txt", "b/1.txt", "a.txt", "c/d/3.html", ".hidden/x.txt", "b/.secret.txt"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("Headline\nBody\n")
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path, tmp_path / "a.txt"])]
    assert found == ["a.txt", "b/1.txt", "b/2.txt", "c/d/3.html"]
    explicit = tmp_path / ".hidden" / "x.txt"
    assert list(discover([explicit])) == [explicit]  # named explicitly, so taken
    with pytest.raises(FileNotFoundError):
        list(discover([tmp_path / "missing"]))


def test_records_survive_pickling(tmp_path: Path) -> None:
    """The flow ships records to a process pool."""
    recs, _ = read_all(_write(tmp_path / "a.warc", build_warc(gz=False, n_articles=1)))
    problem = ArchiveProblem("p", "line:1", Reason.INVALID_RECORD, "bad", "payload")
    assert pickle.loads(pickle.dumps(recs[0])) == recs[0]
    assert pickle.loads(pickle.dumps(problem)) == problem


# --------------------------------------------------------------------------------------------
# reading one record again by its locator (reprocess of a page whose body was not stored)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_read_record_at_gives_back_each_record(tmp_path: Path, gz: bool) -> None:
    path = _write(tmp_path / ("crawl.warc.gz" if gz else "crawl.warc"), build_warc(gz=gz, n_articles=4))
    recs, _ = read_all(path)
    assert recs and all(r.rereadable for r in recs)
    for rec in reversed(recs):  # any order: each read seeks on its own
        again = read_record_at(str(path), rec.locator)
        assert isinstance(again, ArchiveRecord), again
        assert (again.record_id, again.url, again.html, again.locator) == (rec.record_id, rec.url, rec.html, rec.locator)


def test_read_record_at_a_corrupt_record_in_the_middle(tmp_path: Path) -> None:
    """Records gzipped one by one: the damaged member is a clear problem, its neighbours read fine."""
    members: list[bytes] = []
    for i in range(5):
        buf = io.BytesIO()
        writer = WARCWriter(buf, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"https://news.example/s{i}", "response",
                                                      payload=io.BytesIO(page(f"Story {i}", 20)), http_headers=http))
        members.append(buf.getvalue())
    offsets = [sum(len(m) for m in members[:i]) for i in range(5)]
    bad = bytearray(members[2])
    mid = len(bad) // 2
    bad[mid : mid + 40] = bytes(40)  # deflate data overwritten inside the third record
    path = _write(tmp_path / "crawl.warc.gz", b"".join([*members[:2], bytes(bad), *members[3:]]))
    results = [read_record_at(str(path), f"offset:{off}") for off in offsets]
    problem = results[2]
    assert isinstance(problem, ArchiveProblem) and problem.reason is Reason.CORRUPT_ARCHIVE
    assert problem.locator == f"offset:{offsets[2]}" and problem.message
    for i in (0, 1, 3, 4):
        rec = results[i]
        assert isinstance(rec, ArchiveRecord), rec
        assert rec.url == f"https://news.example/s{i}" and rec.html == page(f"Story {i}", 20)
        assert rec.locator == f"offset:{offsets[i]}"
    # the stream reader stops at the damage; the records before it are the same records
    streamed, problems = read_all(path)
    assert [r.record_id for r in streamed] == [results[0].record_id, results[1].record_id]  # type: ignore[union-attr]
    assert [p.reason for p in problems] == [Reason.CORRUPT_ARCHIVE]


def test_read_record_at_whole_files_and_what_cannot_be_found(tmp_path: Path) -> None:
    html = _write(tmp_path / "a.html", page("Saved page"))
    dump = _write(tmp_path / "d.txt", b"A title\n\nA story line with words in it.\n")
    for path in (html, dump):
        (rec,), _ = read_all(path)
        assert rec.rereadable
        again = read_record_at(str(path), "")
        assert isinstance(again, ArchiveRecord) and again.record_id == rec.record_id
    jsonl = _write(tmp_path / "r.jsonl", b'{"url": "https://x.example/1", "text": "Some text here."}\n')
    (line,), _ = read_all(jsonl)
    assert not line.rereadable  # a line number is not a place one can seek to: its body is kept
    cannot = read_record_at(str(jsonl), line.locator)
    assert isinstance(cannot, ArchiveProblem) and "seeking" in cannot.message
    gone = read_record_at(str(tmp_path / "moved-away.warc.gz"), "offset:0")
    assert isinstance(gone, ArchiveProblem) and gone.reason is Reason.CORRUPT_ARCHIVE
    assert "not found" in gone.message
    warc = _write(tmp_path / "c.warc", build_warc(gz=False))
    first = read_all(warc)[0][0]
    off = int(first.locator.split(":")[1])
    assert isinstance(read_record_at(str(warc), f"offset:{off + 3}"), ArchiveProblem)  # not a record start


def test_whole_stream_gzip_warc_records_are_not_rereadable(tmp_path: Path) -> None:
    path = _write(tmp_path / "one-stream.warc.gz", gzip.compress(build_warc(gz=False)))
    recs, problems = read_all(path)
    assert len(recs) == 5 and problems == []
    # after its first record the file is read through a decompressing stream, whose offsets are
    # not offsets in the file: those records keep their body in the warehouse
    assert not any(r.rereadable for r in recs[1:])
