"""A small but varied warehouse for the analyst's commands (search, export, report).

Outlets of different sizes over three weeks, undated articles, three languages, one story carried
by four outlets (same text), feeds that fail, hourly runs and rejects — built through the real
loader, so it has whichever schema the migrations give.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from schemas.failures import Reason
from schemas.records import RunRecord
from tests.support.factories import BASE, article, feed_state, link, reject
from warehouse.batch import Batch
from warehouse.load import load_batch

OUTLETS = ("harbour-times.example", "valley-post.example", "northern-wire.example", "city-ledger.example",
           "coast-radio.example")
TOPICS = ("flood defences along the river", "the budget vote in parliament", "a rail strike over wages",
          "wildfire smoke over the valley", "a vaccine trial for children")
SHARED_TEXT = ("Rescue teams reached the flooded village of Marrow Fen at dawn after the dyke gave way, "
               "officials said, and more than two hundred residents were taken to the school hall.")


# one sentence each, coded by the real event coder (extractors.events); pair k is reported
# len(EVENT_SENTENCES) - k times, so the pairs' activity differs clearly
EVENT_SENTENCES = ("Russia accused Ukraine of shelling the city.", "China threatened Taiwan with sanctions.",
                   "Iran rejected the proposal by the United States.", "Israeli troops attacked Hamas fighters in Gaza.",
                   "The United Nations sent food aid to Sudan.")


def build(db: Path, *, days: int = 21, events: bool = False) -> dict[str, int]:
    """Load the corpus into ``db``; returns counts the tests check against.

    ``events``: also articles reporting coded events (entities, events, quotes loaded as the
    enrichment step does), spread over the weeks of the span.
    """
    arts = []
    i = 0
    for day in range(days):
        for k, outlet in enumerate(OUTLETS):
            # outlet k publishes (5 - k) stories a day, more on weekdays: sizes differ clearly
            for j in range(max(1, 5 - k) + (day % 7 < 5)):
                topic = TOPICS[(i + k) % len(TOPICS)]
                lang = "de" if k == 4 and j % 2 else ("fr" if k == 3 and j == 0 else "en")
                text = (f"Report {i} from {outlet} on {topic}. Local officials described the situation on day "
                        f"{day} and promised an update. " + "Further details were not released. " * (3 + j))
                arts.append(article(i, outlet=outlet, text=text, title=f"{topic.capitalize()} (report {i})",
                                    url=f"https://{outlet}/news/{i}", feed_url=f"https://{outlet}/rss",
                                    published=BASE + timedelta(days=day, hours=j * 2 + k), language=lang))
                i += 1
    undated = [article(i + n, outlet=OUTLETS[n % 2], published=None, url=f"https://{OUTLETS[n % 2]}/undated/{n}",
                       text=f"An undated notice number {n} about opening hours of the town library.")
               for n in range(6)]
    i += len(undated)
    shared_hash = hashlib.sha256(SHARED_TEXT.encode()).hexdigest()
    copies = [article(i + n, outlet=OUTLETS[n], text=SHARED_TEXT, title="Village evacuated as dyke breaks",
                      url=f"https://{OUTLETS[n]}/wire/marrow-fen", content_hash=shared_hash,
                      published=BASE + timedelta(days=days - 2, hours=n)) for n in range(4)]
    i += len(copies)
    event_arts = []
    for k, sentence in enumerate(EVENT_SENTENCES if events else ()):
        for n in range(len(EVENT_SENTENCES) - k):
            day = (n * 5 + k * 3) % days
            event_arts.append(article(i, outlet=OUTLETS[(k + n) % len(OUTLETS)], title=sentence.rstrip("."),
                                      text=f"{sentence} Officials gave no further details on day {day}.",
                                      url=f"https://{OUTLETS[(k + n) % len(OUTLETS)]}/world/{i}",
                                      published=BASE + timedelta(days=day, hours=n)))
            i += 1
    all_arts = [*arts, *undated, *copies, *event_arts]
    feeds = [feed_state(f"https://{o}/rss", name=o.split(".")[0].replace("-", " ").title(),
                        polled=BASE + timedelta(days=days), status="failed" if k == 2 else "ok",
                        failures=3 if k == 2 else 0) for k, o in enumerate(OUTLETS)]
    runs = [RunRecord.model_validate({
        "run_id": f"run-{h}", "flow": "hourly_ingest", "started_at": BASE + timedelta(hours=6 * h),
        "finished_at": BASE + timedelta(hours=6 * h, minutes=1), "status": "completed", "feeds_total": 5,
        "feeds_ok": 4 - (h % 5 == 0), "feeds_not_modified": h % 2, "feeds_failed": 1 + (h % 5 == 0) - h % 2,
        "articles_new": 10 + h % 7}) for h in range(days * 4)]
    rejects = [reject(n, reason=(Reason.NOT_FOUND, Reason.NO_TEXT, Reason.SERVER_ERROR)[n % 3]) for n in range(11)]
    load_batch(db, Batch(run=runs[0], articles=all_arts, links=[link(a) for a in all_arts], rejects=rejects,
                         feed_states=feeds))
    for r in runs[1:]:
        load_batch(db, Batch(run=r, articles=[], links=[]))
    if event_arts:
        from extractors.events.enrich import enrich
        from warehouse.events import load_enrichment

        tables: dict[str, list[dict]] = {}
        for a in event_arts:
            for t, got in enrich(a.text, article_id=a.article_id, published_at=a.published_at).table_rows().items():
                tables.setdefault(t, []).extend(got)
        load_enrichment(db, [a.article_id for a in event_arts], tables)
    return {"articles": len(all_arts), "dated": len(arts) + len(copies) + len(event_arts), "outlets": len(OUTLETS), "days": days,
            "copies": len(copies), "event_articles": len(event_arts)}


def outlet_column(db: Path) -> str:
    """``outlet`` (migration 003) or ``source`` (before it): tests run on either schema."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'articles'").fetchall()}
    finally:
        con.close()
    return "outlet" if "outlet" in cols else "source"
