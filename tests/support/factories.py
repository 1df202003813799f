"""Builders for synthetic warehouse records (valid pydantic models with varied values)."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime, timedelta

from schemas.failures import Reason
from schemas.records import Article, ArticleFeedLink, FeedState, RawPage, Reject, RunRecord
from warehouse.batch import ArchiveRecordRow

BASE = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def hid(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def article(i: int, *, run_id: str = "run-1", outlet: str | None = None, text: str | None = None,
            published: datetime | bool | None = True, **overrides: object) -> Article:
    body = text if text is not None else f"Story number {i}. " + "Paragraph of reporting. " * (5 + i % 7)
    pub = BASE + timedelta(hours=i) if published is True else (published or None)
    fields: dict[str, object] = {
        "article_id": hid("article", i),
        "url": f"https://news{i % 5}.example.com/story/{i}",
        "outlet": outlet or f"news{i % 5}.example.com",
        "feed_url": f"https://news{i % 5}.example.com/rss.xml",
        "title": f"Headline {i}",
        "authors": [f"Reporter {i % 3}"] if i % 4 else [],
        "published_at": pub,
        "published_at_source": "feed" if pub else None,
        "language": "en",
        "text": body,
        "summary": f"Summary {i}" if i % 2 else None,
        "word_count": len(body.split()),
        "content_hash": hashlib.sha256(body.encode()).hexdigest(),
        "origin": "rss",
        "text_source": "page",
        "tags": ["world"] if i % 3 == 0 else [],
        "fetched_at": BASE,
        "ingested_at": BASE + timedelta(minutes=1),
        "run_id": run_id,
    }
    fields.update(overrides)
    return Article.model_validate(fields)


def link(a: Article, *, feed_url: str | None = None, guid: str | None = None, run_id: str = "run-1") -> ArticleFeedLink:
    return ArticleFeedLink(
        article_id=a.article_id,
        feed_url=feed_url or a.feed_url or "https://feed.example.com/rss",
        guid=guid or a.url,
        entry_url=a.url,
        first_seen_at=BASE,
        run_id=run_id,
    )


def raw_page(a: Article, *, run_id: str = "run-1", fetched_at: datetime = BASE) -> RawPage:
    html = f"<html><body><p>{a.text}</p></body></html>".encode()
    return RawPage(
        page_id=hid("page", a.article_id),
        article_id=a.article_id,
        url=a.url,
        final_url=a.url,
        http_status=200,
        content_type="text/html; charset=utf-8",
        headers_json='{"content-type": "text/html"}',
        body_gz=gzip.compress(html),
        body_bytes=len(html),
        fetched_at=fetched_at,
        run_id=run_id,
    )


def reject(i: int, *, run_id: str = "run-1", reason: Reason = Reason.NOT_FOUND) -> Reject:
    return Reject.make(run_id=run_id, stage="fetch", reason=reason, message=f"page {i} failed",
                       source="news.example.com", url=f"https://news.example.com/missing/{i}")


def feed_state(url: str, *, name: str | None = "Example News", polled: datetime = BASE, status: str = "ok",
               failures: int = 0) -> FeedState:
    return FeedState.model_validate({
        "feed_url": url,
        "name": name,
        "tags": ["world"],
        "etag": '"abc"',
        "last_status": status,
        "last_http_status": 200 if status == "ok" else 500,
        "last_reason": None if status == "ok" else "http_5xx",
        "consecutive_failures": failures,
        "backoff_until": None if status == "ok" else polled + timedelta(minutes=5),
        "last_polled_at": polled,
        "last_ok_at": polled if status == "ok" else None,
        "entries_last_seen": 10,
    })


def run_record(run_id: str = "run-1", *, status: str = "running", articles_new: int = 0) -> RunRecord:
    return RunRecord.model_validate({
        "run_id": run_id, "flow": "hourly_ingest", "started_at": BASE, "status": status,
        "articles_new": articles_new,
    })


def archive_row(i: int, *, status: str = "loaded", run_id: str = "run-1", article_id: str | None = None) -> ArchiveRecordRow:
    return ArchiveRecordRow.model_validate({
        "record_id": hid("record", i), "path": f"/archive/file{i % 3}.warc.gz", "locator": f"offset:{i * 100}",
        "article_id": article_id if status == "loaded" else None, "status": status, "run_id": run_id,
        "loaded_at": BASE,
    })
