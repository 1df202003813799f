"""Full-text search: a tantivy index in a directory beside the database.

The warehouse stays the source of truth; the index is derived from it and can be rebuilt from it
at any time (``rebuild``). Loads keep it current incrementally (``upsert``): documents are keyed
by ``article_id`` (raw tokenizer), so indexing the same article twice replaces it — idempotent.
Ranking is tantivy's BM25 over title (boosted) and text; queries use tantivy's language:
``"exact phrase"``, ``AND``/``OR``/``NOT`` (or ``+``/``-``), ``title:word``, parentheses.

The article text is indexed but not stored (storing it doubled the index and cost load time):
snippets are cut at query time from the warehouse's text of the hits shown (the database is found
through ``source-db.txt``, written when the index is created, or beside the index).

Only one process may write an index at a time (tantivy holds a lock file); a writer that finds it
busy raises IndexBusy, and the loader then remembers the ids in ``pending-ids.txt`` for the next
upsert to pick up (read back from the warehouse). Readers never block.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import pyarrow as pa

from warehouse.db import connect_read
from warehouse.staging import swap_directory

SCHEMA_VERSION = "2"  # 2: body indexed, not stored
VERSION_FILE = "newsflow-search-version"
PENDING_FILE = "pending-ids.txt"
SOURCE_FILE = "source-db.txt"
SNIPPET_CHARS = 200
WRITER_HEAP = 64_000_000


class SearchError(Exception):
    """A problem an analyst can act on (bad query syntax, no index yet)."""


class IndexBusy(Exception):
    """Another process is writing the index right now."""


@dataclass(frozen=True)
class SearchDoc:
    article_id: str
    title: str | None
    text: str
    outlet: str | None
    day: datetime | None  # publication time, else ingestion time (UTC)
    url: str | None
    language: str | None


@dataclass(frozen=True)
class Hit:
    article_id: str
    score: float
    title: str
    outlet: str
    day: datetime | None
    url: str
    snippet: str  # plain text; highlighted terms between « and »
    snippet_html: str


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[Hit]
    indexed: int
    seconds: float


def index_dir_for(db: str | Path) -> Path:
    """The index lives beside the database: ``data/newsflow.duckdb`` → ``data/newsflow.search``."""
    db = Path(db)
    return db.parent / f"{db.stem}.search"


def _schema() -> Any:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("article_id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True)
    sb.add_text_field("body", stored=False)
    sb.add_text_field("outlet", stored=True, tokenizer_name="raw")
    sb.add_date_field("day", stored=True, indexed=True, fast=True)
    sb.add_text_field("url", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("language", stored=True, tokenizer_name="raw", index_option="basic")
    return sb.build()


def exists(index_dir: str | Path) -> bool:
    d = Path(index_dir)
    return (d / VERSION_FILE).is_file() and (d / VERSION_FILE).read_text().strip() == SCHEMA_VERSION


def stale(index_dir: str | Path) -> bool:
    """An index of an older schema (or a damaged one) is in the way: it must be rebuilt."""
    d = Path(index_dir)
    return not exists(d) and ((d / VERSION_FILE).exists() or (d / "meta.json").exists())


def db_for_index(index_dir: str | Path) -> Path:
    """The warehouse an index was built from: as noted at creation, else the database beside it."""
    d = Path(index_dir)
    noted = d / SOURCE_FILE
    if noted.is_file() and noted.read_text(encoding="utf-8").strip():
        return Path(noted.read_text(encoding="utf-8").strip())
    return d.parent / f"{d.name.removesuffix('.search')}.duckdb"


def _open(index_dir: Path, *, create: bool, db: str | Path | None = None) -> Any:
    import tantivy

    if exists(index_dir):
        return tantivy.Index.open(str(index_dir))
    if not create:
        what = "an index of an older version" if stale(index_dir) else "no search index"
        raise SearchError(f"{what} at {index_dir}: run 'newsflow search --rebuild'")
    index_dir.mkdir(parents=True, exist_ok=True)
    idx = tantivy.Index(_schema(), path=str(index_dir))
    if db is not None:
        (index_dir / SOURCE_FILE).write_text(str(Path(db).resolve()) + "\n", encoding="utf-8")
    (index_dir / VERSION_FILE).write_text(SCHEMA_VERSION + "\n")
    return idx


def _writer(idx: Any, *, wait: float, threads: int = 1, heap: int = WRITER_HEAP) -> Any:
    deadline = time.monotonic() + wait
    while True:
        try:
            return idx.writer(heap_size=heap, num_threads=threads)
        except ValueError as exc:
            if "LockBusy" not in str(exc) and "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise IndexBusy(str(exc).splitlines()[0]) from None
            time.sleep(0.1)


def _utc(v: datetime | date | None) -> datetime | None:
    if v is None:
        return None
    if not isinstance(v, datetime):
        return datetime(v.year, v.month, v.day, tzinfo=UTC)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def _document(d: SearchDoc) -> Any:
    import tantivy

    fields: dict[str, Any] = {"article_id": d.article_id, "body": d.text or ""}
    if d.title:
        fields["title"] = d.title
    if d.outlet:
        fields["outlet"] = d.outlet
    if d.url:
        fields["url"] = d.url
    if d.language:
        fields["language"] = d.language
    day = _utc(d.day)
    if day is not None:
        fields["day"] = day
    return tantivy.Document(**fields)


def doc_from_article(a: Any) -> SearchDoc:
    """A SearchDoc from an Article record (either schema: ``outlet`` or the older ``source``)."""
    outlet = getattr(a, "outlet", None) or getattr(a, "source", None)
    return SearchDoc(article_id=a.article_id, title=a.title, text=a.text, outlet=outlet,
                     day=a.published_at or a.ingested_at, url=a.url, language=a.language)


def _add_all(writer: Any, docs: Iterable[SearchDoc], *, replace: bool) -> int:
    n = 0
    for d in docs:
        if replace:
            writer.delete_documents_by_term("article_id", d.article_id)
        writer.add_document(_document(d))
        n += 1
    return n


def _read_pending(index_dir: Path) -> list[str]:
    p = index_dir / PENDING_FILE
    if not p.is_file():
        return []
    return [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]


_pending_lock = threading.Lock()  # a loader thread notes ids while a commit thread settles them


def remember_pending(index_dir: str | Path, ids: Iterable[str]) -> None:
    """Note ids an upsert could not index (busy index) so the next upsert picks them up."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with _pending_lock, (index_dir / PENDING_FILE).open("a", encoding="utf-8") as fh:
        fh.writelines(f"{i}\n" for i in ids)


def _settle_pending(index_dir: Path, done: set[str]) -> None:
    """Drop the ids just indexed from the pending file, keeping any noted meanwhile."""
    p = index_dir / PENDING_FILE
    with _pending_lock:
        left = [i for i in dict.fromkeys(_read_pending(index_dir)) if i not in done]
        if left:
            p.write_text("".join(f"{i}\n" for i in left), encoding="utf-8")
        else:
            p.unlink(missing_ok=True)


def _docs_for_ids(db: str | Path, ids: list[str]) -> list[SearchDoc]:
    if not ids:
        return []
    conn = connect_read(db)
    try:
        conn.register("_want", pa.table({"id": pa.array(list(dict.fromkeys(ids)), pa.string())}))
        sql = _select_sql(conn) + " SEMI JOIN _want AS w ON a.article_id = w.id"
        rows = conn.execute(sql).fetchall()
    finally:
        conn.close()
    return [SearchDoc(*r) for r in rows]


def upsert(index_dir: str | Path, docs: Sequence[SearchDoc], *, db: str | Path | None = None,
           wait: float = 2.0) -> int:
    """Add or replace ``docs`` (by article_id) and commit; also index ids left pending earlier.

    Creates the index when missing (an empty one plus these docs: ``rebuild`` adds older articles);
    an index of an older schema is rebuilt from ``db`` first (SearchError without ``db``).
    Raises IndexBusy when another process holds the writer for longer than ``wait`` seconds.
    """
    index_dir = Path(index_dir)
    if stale(index_dir):
        if db is None:
            raise SearchError(f"an index of an older version at {index_dir}: run 'newsflow search --rebuild'")
        rebuild(db, index_dir)
    idx = _open(index_dir, create=True, db=db)
    writer = _writer(idx, wait=wait)
    had_pending = (index_dir / PENDING_FILE).exists()
    have = {d.article_id for d in docs}
    pending = [i for i in dict.fromkeys(_read_pending(index_dir)) if i not in have]
    extra: list[SearchDoc] = []
    if pending and db is not None:
        with contextlib.suppress(Exception):  # the warehouse may be busy: try again next time
            extra = _docs_for_ids(db, pending)
            # ids not in the database yet (staged) stay in the pending file for a later upsert
    try:
        n = _add_all(writer, [*docs, *extra], replace=True)
        writer.commit()
        writer.wait_merging_threads()
    except BaseException:
        with contextlib.suppress(Exception):
            writer.rollback()
        raise
    if had_pending or docs:
        _settle_pending(index_dir, have | {d.article_id for d in extra})
    return n


def _select_sql(conn: Any) -> str:
    cols = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'articles'").fetchall()}
    outlet = "outlet" if "outlet" in cols else "source"
    return (f"SELECT a.article_id, a.title, a.text, a.{outlet}, coalesce(a.published_at, a.ingested_at), "
            "a.url, a.language FROM articles AS a")


def iter_warehouse_docs(db: str | Path, batch_rows: int = 20_000) -> Iterator[SearchDoc]:
    """Every article of the warehouse as a SearchDoc, streamed."""
    from warehouse.export import arrow_reader

    conn = connect_read(db)
    try:
        for batch in arrow_reader(conn, _select_sql(conn), batch_rows=batch_rows):
            cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for row in zip(*cols, strict=True):
                yield SearchDoc(*row)
    finally:
        conn.close()


def rebuild(db: str | Path, index_dir: str | Path | None = None, *,
            progress: Callable[[int], None] | None = None, docs: Iterable[SearchDoc] | None = None,
            threads: int = 1) -> int:
    """Build the index from scratch (from the warehouse, or ``docs``) and swap it in atomically."""
    index_dir = Path(index_dir) if index_dir else index_dir_for(db)
    tmp = index_dir.with_name(f".{index_dir.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    idx = _open(tmp, create=True, db=db)
    writer = _writer(idx, wait=0, threads=threads, heap=max(WRITER_HEAP, 64_000_000 * threads))
    n = 0
    try:
        for d in docs if docs is not None else iter_warehouse_docs(db):
            writer.add_document(_document(d))
            n += 1
            if progress is not None and n % 5000 == 0:
                progress(n)
        writer.commit()
        writer.wait_merging_threads()
        if progress is not None:
            progress(n)
        with _pending_lock:  # ids noted for articles not in the warehouse yet (staged) stay noted
            if (index_dir / PENDING_FILE).is_file():
                shutil.copyfile(index_dir / PENDING_FILE, tmp / PENDING_FILE)
        swap_directory(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return n


def normalize_query(text: str) -> str:
    """``a AND NOT b`` means ``a NOT b``: tantivy reads ``AND NOT b`` as a clause that matches nothing.

    Phrases in double quotes are left as they are.
    """
    parts = text.split('"')
    for i in range(0, len(parts), 2):  # outside quotes
        parts[i] = re.sub(r"\bAND\s+NOT\b", "NOT", parts[i])
    return '"'.join(parts)


def _query(idx: Any, text: str, *, outlet: str | None, since: datetime | date | None,
           until: datetime | date | None = None) -> Any:
    import tantivy

    try:
        q = idx.parse_query(normalize_query(text), ["title", "body"], field_boosts={"title": 2.0},
                            conjunction_by_default=True)
    except ValueError as exc:
        raise SearchError(f"cannot parse query {text!r}: {str(exc).splitlines()[0]}") from None
    parts = [(tantivy.Occur.Must, q)]
    schema = idx.schema
    if outlet:
        parts.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "outlet", outlet)))
    if since is not None or until is not None:
        parts.append((tantivy.Occur.Must, tantivy.Query.range_query(
            schema, "day", tantivy.FieldType.Date, _utc(since), _utc(until))))
    return q if len(parts) == 1 else tantivy.Query.boolean_query(parts)


def _first(doc: Any, field: str) -> Any:
    vals = doc.to_dict().get(field) or []
    return vals[0] if vals else None


def _texts(db: str | Path, ids: list[str]) -> dict[str, str]:
    """The warehouse text of ``ids``; empty when the warehouse cannot be read right now."""
    if not ids:
        return {}
    try:
        conn = connect_read(db)
    except Exception:  # missing or locked: hits keep their title, without a snippet
        return {}
    try:
        conn.register("_want", pa.table({"id": pa.array(ids, pa.string())}))
        return dict(conn.execute(
            "SELECT a.article_id, a.text FROM articles AS a SEMI JOIN _want AS w ON a.article_id = w.id").fetchall())
    finally:
        conn.close()


def search(index_dir: str | Path, text: str, *, outlet: str | None = None, since: datetime | date | None = None,
           limit: int = 10, db: str | Path | None = None) -> SearchResult:
    """Ranked hits (BM25) with a snippet each, and the total number of matching articles.

    Snippets are cut from the texts in ``db`` (default: the index's own warehouse, db_for_index).
    """
    import tantivy

    t0 = time.perf_counter()
    idx = _open(Path(index_dir), create=False)
    idx.reload()
    searcher = idx.searcher()
    query = _query(idx, text, outlet=outlet, since=since)
    res = searcher.search(query, max(limit, 1), count=True)
    gen = tantivy.SnippetGenerator.create(searcher, query, idx.schema, "body")
    gen.set_max_num_chars(SNIPPET_CHARS)
    found = [(score, searcher.doc(addr)) for score, addr in res.hits[:limit]]
    texts = _texts(db if db is not None else db_for_index(index_dir),
                   [i for i in (_first(doc, "article_id") for _, doc in found) if i])
    hits: list[Hit] = []
    for score, doc in found:
        body = texts.get(_first(doc, "article_id") or "", "")
        snip = gen.snippet_from_doc(tantivy.Document(body=body))
        frag = snip.fragment()
        if frag.strip():
            marked, last = [], 0
            for r in sorted(snip.highlighted(), key=lambda r: r.start):
                marked += [frag[last:r.start], "«", frag[r.start:r.end], "»"]
                last = r.end
            marked.append(frag[last:])
            plain, html = "".join(marked), snip.to_html()
        else:  # the match is in the title only (or the text could not be read)
            plain = body[:SNIPPET_CHARS]
            html = escape(plain)
        hits.append(Hit(article_id=_first(doc, "article_id"), score=float(score), title=_first(doc, "title") or "",
                        outlet=_first(doc, "outlet") or "", day=_first(doc, "day"), url=_first(doc, "url") or "",
                        snippet=" ".join(plain.split()), snippet_html=html))
    return SearchResult(total=res.count or 0, hits=hits, indexed=searcher.num_docs,
                        seconds=time.perf_counter() - t0)


def count(index_dir: str | Path, text: str) -> int:
    """How many articles match ``text`` (no ranking, no documents read)."""
    idx = _open(Path(index_dir), create=False)
    idx.reload()
    return idx.searcher().search(_query(idx, text, outlet=None, since=None), 1, count=True).count or 0


def indexed_count(index_dir: str | Path) -> int | None:
    """Documents in the index, or None when there is no index."""
    if not exists(index_dir):
        return None
    idx = _open(Path(index_dir), create=False)
    return int(idx.searcher().num_docs)
