"""flows/jobs.py: the one per-document path, run in-process (no Prefect, no pool)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from flows.jobs import PageJob, run_job
from schemas.failures import Reason
from schemas.records import FeedEntry

BODY = " ".join(
    "The harbour board approved the new ferry timetable after a long public meeting on Tuesday."
    for _ in range(6)
)


def _page(published: datetime) -> bytes:
    stamp = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "<html><head><title>Ferry timetable approved</title>"
        f'<meta property="article:published_time" content="{stamp}"></head>'
        f"<body><article><h1>Ferry timetable approved</h1><p>{BODY}</p><p>{BODY}</p></article></body></html>"
    ).encode()


def _dump(published: datetime) -> str:
    return f"Ferry timetable approved\n\n{published:%Y-%m-%d}\n\n{BODY}\n\n{BODY}\n"


def _job(tolerance: float, **kw: object) -> PageJob:
    return PageJob(key="k", url="https://harbour.example/news/ferry", origin="archive", run_id="run-1",
                   tolerance_hours=tolerance, **kw)  # type: ignore[arg-type]


def _ahead(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


@pytest.mark.parametrize("tolerance", [48.0, 24.0])
def test_page_date_follows_the_configured_future_tolerance(tolerance: float) -> None:
    # NEWSFLOW_FUTURE_TOLERANCE_HOURS=48 must keep a page dated 36 h ahead; 24 must drop it
    when = _ahead(36)
    art = run_job(_job(tolerance, html=_page(when))).article
    assert art is not None
    expected = (when, "html") if tolerance > 36 else (None, None)
    assert (art.published_at, art.published_at_source) == expected


@pytest.mark.parametrize("tolerance", [96.0, 24.0])
def test_text_dump_date_follows_the_configured_future_tolerance(tolerance: float) -> None:
    when = _ahead(60)  # the dump states a day; midnight of a day 60 h ahead is > 24 h and < 96 h ahead
    day = when.replace(hour=0, minute=0, second=0)
    art = run_job(_job(tolerance, text=_dump(when))).article
    assert art is not None
    expected = (day, "text") if tolerance > 60 else (None, None)
    assert (art.published_at, art.published_at_source) == expected


def test_archive_hint_wins_over_the_page_date_and_title_hint_fills_a_gap() -> None:
    hint = datetime(2021, 3, 4, 5, 6, tzinfo=UTC)
    page = _page(datetime(2020, 1, 1, tzinfo=UTC)).replace(b"<title>Ferry timetable approved</title>", b"")
    page = page.replace(b"<h1>Ferry timetable approved</h1>", b"")
    art = run_job(_job(24.0, html=page, published_hint=hint, title_hint="Hinted title")).article
    assert art is not None
    assert (art.published_at, art.published_at_source, art.title) == (hint, "archive", "Hinted title")


def test_compressed_raw_body_round_trips() -> None:
    body = _page(datetime(2022, 5, 17, tzinfo=UTC))
    res = run_job(_job(24.0, html=body, compress_raw=True))
    assert res.raw_gz is not None and gzip.decompress(res.raw_gz) == body
    assert run_job(_job(24.0, html=body)).raw_gz is None


def test_nothing_to_extract_is_a_classified_reject() -> None:
    res = run_job(_job(24.0))
    assert (res.article, res.reason, res.message) == (None, Reason.NO_TEXT, "nothing to extract")


def test_empty_page_falls_back_to_the_feed_entry_text() -> None:
    entry = FeedEntry(feed_url="https://harbour.example/feed.xml", title="Ferry", content=BODY)
    res = run_job(PageJob(key="k", url="https://harbour.example/news/ferry", origin="rss", run_id="r",
                          tolerance_hours=24.0, html=b"<html><body></body></html>", entry=entry))
    assert res.article is not None
    assert (res.article.text_source, res.reason) == ("feed", Reason.NO_TEXT)


def test_block_page_is_flagged_and_not_stored() -> None:
    page = (b"<html><head><title>Just a moment...</title></head><body><h1>Checking your browser before "
            b"accessing the site</h1><p>Enable JavaScript and cookies to continue</p></body></html>")
    res = run_job(_job(24.0, html=page))
    assert (res.article, res.blocked, res.reason) == (None, True, Reason.BLOCK_PAGE)


_WORKER_SCRIPT = """
import json, sys
from datetime import UTC, datetime
from flows.jobs import PageJob, run_job
body = " ".join(f"Sentence {i} says the harbour board approved ferry timetable number {i}." for i in range(40))
page = (f"<html><head><title>Ferry</title></head><body><article><h1>Ferry</h1><p>{body}</p>"
        f"<p>{body}</p></article></body></html>").encode()
r = run_job(PageJob(key="k", url="https://harbour.example/news/ferry", origin="archive", run_id="r",
                    tolerance_hours=24.0, html=page))
print(json.dumps({"keys": len(r.sketch.band_keys) if r.sketch else 0, "events": r.enrichment is not None,
                  "loaded": sorted(m for m in ("scipy", "datasketch") if m in sys.modules)}))
"""


def test_a_worker_extracting_a_page_imports_neither_datasketch_nor_scipy() -> None:
    """A pool worker's whole per-document path (extraction, story sketch, event coding) in a fresh
    interpreter: the sketch's permutations are made with NumPy, so scipy (~60 MiB of RSS and
    ~0.7 s per worker, pulled in by datasketch) is never loaded where pages are extracted."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _WORKER_SCRIPT], capture_output=True, text=True, cwd=root,
                         check=True, timeout=300)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["keys"] > 0 and got["events"]  # the page was sketched and coded
    assert got["loaded"] == []
