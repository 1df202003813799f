"""Which stored story a new record is: exact duplicates and updated versions (plain functions).

The flows ask the warehouse what it knows and hand the answers here; nothing in this module does
I/O, so every rule has a fast unit test.

* **Exact duplicates** are one article: the same canonical URL gives the same ``article_id``
  already; beyond that, the same outlet publishing the same normalised headline within
  ``TITLE_WINDOW`` is the same story under a second URL (a section path, a tracking variant the
  URL rules do not know). The second record becomes a link to the first, not a new row.
* **Updated articles**: a feed item that comes back with a different fingerprint (date, title,
  summary or content changed) is fetched again; if the page's text changed, the new text replaces
  the article and the earlier one is kept in ``article_versions`` (the load does that in SQL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from schemas.records import FeedEntry

__all__ = [
    "TITLE_WINDOW",
    "KnownTitle",
    "entry_changed",
    "entry_changed_since",
    "entry_fingerprint",
    "follow",
    "resolve_exact_duplicates",
]

TITLE_WINDOW = timedelta(days=7)


def entry_fingerprint(entry: FeedEntry) -> str:
    """What a feed item says about its story, hashed: a new date, headline, summary or body
    changes it; the order of tags or the guid does not."""
    parts = (
        entry.published_at.isoformat() if entry.published_at else "",
        " ".join((entry.title or "").split()),
        " ".join((entry.summary or "").split()),
        " ".join((entry.content or "").split()),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def entry_changed(previous: str | None, entry: FeedEntry) -> bool:
    """True when a known feed item must be fetched again. An item stored before fingerprints
    existed (``previous is None``) is not: its fingerprint is recorded and compared next time."""
    return entry_changed_since(previous, entry_fingerprint(entry))


def entry_changed_since(previous: str | None, current: str | None) -> bool:
    """``entry_changed`` on fingerprints already computed."""
    return previous is not None and current is not None and previous != current


@dataclass(frozen=True)
class KnownTitle:
    """A stored article that a new one may duplicate: same outlet and normalised headline."""

    article_id: str
    outlet: str
    title_key: str
    when: datetime  # published_at, else ingested_at


class Titled(Protocol):
    """What duplicate folding reads of an article (an ``Article``, or a row of its Arrow table)."""

    @property
    def article_id(self) -> str: ...
    @property
    def outlet(self) -> str: ...
    @property
    def title_key(self) -> str | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def fetched_at(self) -> datetime | None: ...
    @property
    def ingested_at(self) -> datetime: ...


A = TypeVar("A", bound=Titled)


def _when(a: Titled) -> datetime:
    return a.published_at or a.fetched_at or a.ingested_at


def resolve_exact_duplicates(
    articles: Iterable[A], known: Iterable[KnownTitle], *, window: timedelta = TITLE_WINDOW
) -> tuple[list[A], dict[str, str]]:
    """Split new articles into those to store and a map ``new article_id → stored article_id``
    for those that repeat a story (same outlet, same title key, within ``window``).

    Within the batch the earliest copy (then the smallest id) is kept, so the result does not
    depend on the order in which copies arrived. An article whose id is already stored is never
    redirected (that is an update of itself, handled by versions).
    """
    index: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
    for k in known:
        index.setdefault((k.outlet, k.title_key), []).append((k.when, k.article_id))
    stored_ids = {k.article_id for k in known}
    keep: list[A] = []
    redirect: dict[str, str] = {}
    batch = sorted(articles, key=lambda a: (_when(a), a.article_id))
    for a in batch:
        if a.title_key is None or a.article_id in stored_ids:
            keep.append(a)
            continue
        slot = index.setdefault((a.outlet, a.title_key), [])
        when = _when(a)
        match = min(
            ((abs(when - t), aid) for t, aid in slot if abs(when - t) < window and aid != a.article_id),
            default=None,
        )
        if match is not None:
            redirect[a.article_id] = match[1]
            continue
        slot.append((when, a.article_id))
        keep.append(a)
    return keep, redirect


def follow(redirect: Mapping[str, str], article_id: str) -> str:
    """The stored id a (possibly redirected) article id ends at."""
    seen = set()
    while article_id in redirect and article_id not in seen:
        seen.add(article_id)
        article_id = redirect[article_id]
    return article_id
