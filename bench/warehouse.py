"""Benchmark 5: bulk upsert through ``load_batch`` and the analysts' queries on a big warehouse.

* Upsert: 100,000 validated ``Article`` records (built beforehand, not timed) loaded by
  ``load_batch`` into a migrated, empty DuckDB file, then the very same batch again (nothing
  changes, so nothing may be written). Target ≥ 50,000 rows/s, re-upsert of similar speed.
* Queries: 1,000,000 synthetic articles (plus one feed link each) generated in SQL straight
  into the migrated schema, then the typical questions, each timed on a fresh read-only
  connection (cold) and as the median of three repeats (warm). Target < 1 s each.
* Row-group sizes (``--row-group-sizes``): the upsert and the 1M-article file once per writer
  row-group size listed, side by side in one run — the upserts alternating over two rounds, the
  queries asked of every file in turn (order reversed in the second round), wall and CPU, and
  the files' sizes. The top-level figures are then the first listed size's.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import load_average, save_result, say, writer_row_groups

UPSERT_TARGET = 50_000.0
QUERY_TARGET_S = 1.0
SOURCES = 300
BASE = datetime(2026, 11, 1, tzinfo=UTC)


def synthetic_articles(n: int, *, run_id: str = "bench-upsert") -> list[Any]:
    """Validated Article models with realistic text sizes (~2-4 KB) and varied sources/dates."""
    from bench.corpus import headline, paragraphs
    from schemas.records import Article

    rng = random.Random(5)
    pool = paragraphs(rng, 400)
    out = []
    for i in range(n):
        body = "\n\n".join(pool[(i * 7 + k * 131) % len(pool)] for k in range(5 + i % 4))
        src = f"outlet{i % SOURCES}.example"
        url = f"https://www.{src}/news/{i}"
        out.append(Article(
            article_id=hashlib.sha256(url.encode()).hexdigest()[:32], url=url, outlet=src,
            feed_url=f"https://www.{src}/rss.xml", title=headline(random.Random(i)),
            authors=[f"Reporter {i % 97}"], published_at=BASE - timedelta(minutes=7 * i),
            published_at_source="feed", language="en", text=body, summary=body[:200],
            word_count=len(body.split()), content_hash=hashlib.sha256(body.encode()).hexdigest(),
            origin="rss", text_source="page", tags=["world"] if i % 3 == 0 else [],
            fetched_at=BASE, ingested_at=BASE, run_id=run_id,
        ))
    return out


def bench_upsert(workdir: Path, rows: int, *, articles: list[Any] | None = None,
                 options: bool = True) -> dict[str, Any]:
    from warehouse.batch import Batch
    from warehouse.db import connect_write
    from warehouse.load import load_batch

    db = workdir / "upsert.duckdb"
    for f in (db, db.with_name(db.name + ".wal")):
        f.unlink(missing_ok=True)
    connect_write(db).close()  # migrations once, outside the timing
    t0 = time.perf_counter()
    arts = articles if articles is not None else synthetic_articles(rows)
    build_s = time.perf_counter() - t0
    batch = Batch(articles=arts)
    t0, c0 = time.perf_counter(), time.process_time()
    tables = batch.to_arrow()
    arrow_s, arrow_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    first = load_batch(db, batch, staging_dir=workdir / "staging")
    first_s, first_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    again = load_batch(db, Batch(articles=arts), staging_dir=workdir / "staging")
    again_s, again_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "rows": rows,
        "models_build_s": round(build_s, 2),
        "to_arrow_s": round(arrow_s, 2),
        "to_arrow_cpu_s": round(arrow_cpu, 2),
        "upsert_s": round(first_s, 2),
        "upsert_rows_per_s": round(rows / first_s),
        # CPU of the whole process (DuckDB's threads included): what other jobs on the machine cannot move
        "upsert_cpu_s": round(first_cpu, 2),
        "upsert_rows_per_cpu_s": round(rows / first_cpu) if first_cpu else None,
        "upsert_new": first.articles_new,
        "reupsert_s": round(again_s, 2),
        "reupsert_rows_per_s": round(rows / again_s),
        "reupsert_cpu_s": round(again_cpu, 2),
        "reupsert_new": again.articles_new,
        "reupsert_ratio": round(first_s / again_s, 2),
        "db_mib": round(db.stat().st_size / 2**20, 1),
        "met": rows / first_s >= UPSERT_TARGET and rows / again_s >= UPSERT_TARGET and again.articles_new == 0,
        "options": bench_upsert_options(workdir, tables) if options else None,
    }


def _old_writer(db: Path) -> Any:
    """The write connection before issue 13's second round: the file opened directly (DuckDB's
    default 122,880-row groups), same settings."""
    import duckdb

    from warehouse.db import WRITE_MEMORY_LIMIT

    conn = duckdb.connect(str(db))
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(f"SET memory_limit = '{WRITE_MEMORY_LIMIT}'")
    return conn


def _default_text_compression(conn: Any) -> None:
    """Rebuild ``articles`` as before migration 009 (DuckDB picks the text's compression)."""
    from importlib.resources import files

    sql = files("warehouse").joinpath("migrations", "009_articles_text_zstd.sql").read_text(encoding="utf-8")
    conn.execute(sql.replace(" USING COMPRESSION zstd", ""))


def _fresh_paragraphs(articles: Any) -> Any:
    """``articles`` with each text rebuilt from as many newly drawn paragraphs (none shared)."""
    import pyarrow as pa

    from bench.corpus import paragraphs

    rng = random.Random(13)
    texts = ["\n\n".join(paragraphs(rng, t.count("\n\n") + 1)) for t in articles.column("text").to_pylist()]
    return articles.set_column(articles.schema.get_field_index("text"), "text", pa.array(texts, pa.string()))


def _text_scans(db: Path) -> dict[str, float]:
    """CPU seconds of the keyword counts over the loaded texts (second of two runs)."""
    from warehouse.db import connect_read

    out: dict[str, float] = {}
    conn = connect_read(db)
    try:
        for name in ("keyword count (text ILIKE)", "keyword count (regexp_matches, case-insensitive)"):
            sql, params = QUERIES[name]
            conn.execute(sql, params).fetchall()
            c0 = time.process_time()
            conn.execute(sql, params).fetchall()
            out[name] = round(time.process_time() - c0, 3)
    finally:
        conn.close()
    return out


def bench_upsert_options(workdir: Path, tables: dict[str, Any]) -> dict[str, Any]:
    """The same Arrow batch through ``apply_tables`` under differently set-up writers, side by side.

    CPU seconds of the whole process (DuckDB's threads included) for the inserts and for the
    commit (the checkpoint), each variant into a fresh migrated file; wall seconds are reported
    but depend on what else runs on the machine. The ceiling variants insert the same Arrow
    articles into a plain table with no key (and none of the loader's SQL).
    """
    from warehouse.db import connect_write
    from warehouse.load import apply_tables

    articles = tables["articles"]
    rows = articles.num_rows
    db = workdir / "options.duckdb"
    out: dict[str, Any] = {}

    def fresh() -> None:
        for f in (db, db.with_name(db.name + ".wal")):
            f.unlink(missing_ok=True)
        connect_write(db).close()

    def run(name: str, *, old: bool = False, default_text: bool = False, settings: tuple[str, ...] = (),
            data: dict[str, Any] | None = None, ceiling: str | None = None, scans: bool = False,
            row_groups: int | None = None) -> None:
        with writer_row_groups(row_groups):
            fresh()
            conn = _old_writer(db) if old else connect_write(db)
        try:
            if default_text:
                _default_text_compression(conn)
            for sql in settings:
                conn.execute(sql)
            if ceiling is not None:
                ddl = conn.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'articles'").fetchall()[0][0]
                # the same columns and compression, no key
                conn.execute(ddl.replace("CREATE TABLE articles(", "CREATE TABLE plain(").replace(" PRIMARY KEY", ""))
                if ceiling == "no text":
                    conn.execute("ALTER TABLE plain DROP COLUMN text")
                conn.execute("CHECKPOINT")
            marks: list[tuple[float, float]] = []

            def mark(_conn: Any = None) -> None:
                marks.append((time.process_time(), time.perf_counter()))

            mark()
            if ceiling is None:
                apply_tables(conn, data or tables, before_commit=mark)
            else:
                src = articles if ceiling != "no text" else articles.drop_columns(["text"])
                conn.register("_src", src)
                conn.begin()
                conn.execute("INSERT INTO plain SELECT * FROM _src").fetchall()
                mark()
                conn.commit()
                conn.unregister("_src")
            mark()
        finally:
            conn.close()
        (c0, w0), (c1, _), (c2, w2) = marks
        out[name] = {"insert_cpu_s": round(c1 - c0, 2), "commit_cpu_s": round(c2 - c1, 2),
                     "cpu_s": round(c2 - c0, 2), "rows_per_cpu_s": round(rows / (c2 - c0)),
                     "wall_s": round(w2 - w0, 2), "db_mib": round(db.stat().st_size / 2**20, 1)}
        if scans:
            out[name]["scan_cpu_s"] = _text_scans(db)
        say(f"warehouse:   option {name}: {out[name]}")

    run("before: file opened directly (122,880-row groups), DuckDB's text compression", old=True, default_text=True)
    run("16,384-row groups, DuckDB's text compression", default_text=True, row_groups=16_384)
    run("16,384-row groups, text zstd", row_groups=16_384)
    run("connect_write now (its row groups, text zstd)")
    run("now + preserve_insertion_order=false", settings=("SET preserve_insertion_order = false",))
    run("now + threads=1", settings=("SET threads = 1",))
    run("now, rows sorted by article_id", data={**tables, "articles": articles.sort_by("article_id")})
    run("now without the memory cap", settings=("SET memory_limit = '16GB'",))
    run("ceiling: plain INSERT into a table with no key, same writer", ceiling="plain")
    run("ceiling without the text column", ceiling="no text")
    run("before, ceiling: plain INSERT, no key", old=True, default_text=True, ceiling="plain")
    # The benchmark's bodies repeat 400 paragraphs, which flatters zstd (the file shrinks 8x); the
    # same rows with every paragraph drawn afresh (word-list prose, nothing repeated) are nearer
    # real news text.
    unique = {**tables, "articles": _fresh_paragraphs(articles)}
    run("unique paragraphs: before", old=True, default_text=True, data=unique, scans=True)
    run("unique paragraphs: 16,384-row groups, DuckDB's text compression", default_text=True, data=unique,
        scans=True, row_groups=16_384)
    run("unique paragraphs: 16,384-row groups, text zstd", data=unique, scans=True, row_groups=16_384)
    run("unique paragraphs: now", data=unique, scans=True)
    for f in (db, db.with_name(db.name + ".wal")):
        f.unlink(missing_ok=True)
    return out


def build_big(db: Path, rows: int) -> float:
    """``rows`` articles and their feed links generated by SQL in the migrated schema."""
    from bench.corpus import paragraphs
    from warehouse.db import connect_write

    for f in (db, db.with_name(db.name + ".wal")):
        f.unlink(missing_ok=True)
    t0 = time.perf_counter()
    conn = connect_write(db)
    try:
        paras = paragraphs(random.Random(11), 1000)
        conn.execute("CREATE TEMP TABLE paras AS SELECT unnest(?) AS p", [paras])
        conn.execute("CREATE TEMP TABLE plist AS SELECT list(p) AS ps FROM paras")
        np_ = len(paras)
        picks = ", ".join(f"ps[(hash(i, {k}) % {np_})::INTEGER + 1]" for k in range(6))
        conn.execute(f"""
            INSERT INTO articles BY NAME
            SELECT md5(i::VARCHAR)[:32] AS article_id,
                   'https://www.outlet' || (i % {SOURCES}) || '.example/news/' || i AS url,
                   'outlet' || (i % {SOURCES}) || '.example' AS outlet,
                   'https://www.outlet' || (i % {SOURCES}) || '.example/rss.xml' AS feed_url,
                   'Headline number ' || i AS title,
                   ['Reporter ' || (i % 97)] AS authors,
                   TIMESTAMPTZ '{BASE.isoformat()}' - to_minutes((i * 0.5)::BIGINT) AS published_at,
                   'feed' AS published_at_source,
                   'en' AS language,
                   concat_ws(chr(10) || chr(10), {picks}) AS text,
                   NULL AS summary,
                   400 AS word_count,
                   md5('c' || i::VARCHAR) AS content_hash,
                   'rss' AS origin, 'page' AS text_source,
                   CASE WHEN i % 3 = 0 THEN ['world'] ELSE [] END AS tags,
                   NULL AS archive_path, NULL AS archive_record,
                   TIMESTAMPTZ '{BASE.isoformat()}' - to_minutes((i * 0.5)::BIGINT) AS fetched_at,
                   TIMESTAMPTZ '{BASE.isoformat()}' - to_minutes((i * 0.5)::BIGINT) AS ingested_at,
                   'bench-big' AS run_id
            FROM range({rows}) AS t(i), plist
        """)
        conn.execute("""
            INSERT INTO article_feeds BY NAME
            SELECT article_id, feed_url, url AS guid, url AS entry_url, ingested_at AS first_seen_at, run_id FROM articles
        """)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return time.perf_counter() - t0


ID = object()  # placeholder: the id of an article picked from the database

QUERIES: dict[str, tuple[str, list[Any]]] = {
    "daily counts per outlet (v_daily_counts, last 30 days)": (
        "SELECT day, outlet, articles FROM v_daily_counts WHERE day >= ?::DATE - 30 ORDER BY day DESC, articles DESC",
        [BASE.date()],
    ),
    "daily counts per outlet (v_daily_counts, all)": (
        "SELECT day, outlet, articles FROM v_daily_counts ORDER BY day, outlet", [],
    ),
    "keyword filter (text ILIKE, newest 100)": (
        "SELECT article_id, outlet, title, published_at FROM articles WHERE text ILIKE ? "
        "ORDER BY published_at DESC LIMIT 100",
        ["%wind farm%"],
    ),
    "keyword count (text ILIKE)": ("SELECT count(*) FROM articles WHERE text ILIKE ?", ["%tromso%"]),
    "keyword count (regexp_matches, case-insensitive)": (
        "SELECT count(*) FROM articles WHERE regexp_matches(text, ?)", ["(?i)tromso"],
    ),
    "top sources last 7 days": (
        "SELECT outlet, count(*) AS n FROM articles WHERE published_at >= ?::TIMESTAMPTZ - INTERVAL 7 DAY "
        "GROUP BY outlet ORDER BY n DESC LIMIT 20",
        [BASE],
    ),
    "one article by id (v_articles)": ("SELECT * FROM v_articles WHERE article_id = ?", [ID]),
    "one article by id (articles)": ("SELECT * FROM articles WHERE article_id = ?", [ID]),
}


def _some_id(db: Path) -> str:
    from warehouse.db import connect_read

    probe = connect_read(db)
    try:
        row = probe.execute("SELECT article_id FROM articles LIMIT 1 OFFSET 123457 % (SELECT count(*) FROM articles)"
                            ).fetchone()
    finally:
        probe.close()
    return row[0] if row else ""


def time_query(db: Path, sql: str, params: list[Any]) -> dict[str, Any]:
    """One query on a fresh read-only connection (cold), then repeated (warm, median): wall and
    CPU seconds of the process (DuckDB's threads included)."""
    from warehouse.db import connect_read

    conn = connect_read(db)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        rows = conn.execute(sql, params).fetchall()
        cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
        warm, warm_cpu = [], []
        for _ in range(3 if cold < QUERY_TARGET_S else 1):  # slow ones once: the suite has a time budget
            t0, c0 = time.perf_counter(), time.process_time()
            conn.execute(sql, params).fetchall()
            warm.append(time.perf_counter() - t0)
            warm_cpu.append(time.process_time() - c0)
    finally:
        conn.close()
    return {"cold_s": round(cold, 3), "warm_s": round(statistics.median(warm), 3),
            "cold_cpu_s": round(cold_cpu, 3), "warm_cpu_s": round(statistics.median(warm_cpu), 3),
            "rows": len(rows), "met": cold < QUERY_TARGET_S}


def _params(params: list[Any], some_id: str) -> list[Any]:
    return [some_id if p is ID else p for p in params]


def bench_queries(db: Path) -> dict[str, Any]:
    some_id = _some_id(db)
    return {name: time_query(db, sql, _params(params, some_id)) for name, (sql, params) in QUERIES.items()}


def _row_groups(db: Path) -> int:
    from warehouse.db import connect_read

    conn = connect_read(db)
    try:
        row = conn.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('articles')").fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else 0


def compare_row_groups(workdir: Path, sizes: Sequence[int], upsert_rows: int, query_rows: int,
                       rounds: int = 2) -> dict[str, Any]:
    """The bulk upsert and the 1M-article queries with the writer's row groups at each size, side by
    side in one run: upserts alternate size by size over ``rounds``; each size builds its own 1M
    file, then every query is asked of each file in turn (order reversed every other round)."""
    distinct = list(dict.fromkeys(sizes))
    out: dict[str, Any] = {str(n): {"row_group_size": n, "upserts": [], "queries": {}} for n in distinct}
    arts = synthetic_articles(upsert_rows)
    for r in range(rounds):
        for n in distinct if r % 2 == 0 else distinct[::-1]:
            load = load_average()
            with writer_row_groups(n):
                up = bench_upsert(workdir, upsert_rows, articles=arts, options=False)
            up["load_average"] = [load, load_average()]
            out[str(n)]["upserts"].append(up)
            say(f"warehouse:   {n}-row groups, round {r + 1}: upsert {up['upsert_rows_per_s']}/s "
                f"({up['upsert_cpu_s']} CPU-s), re-upsert {up['reupsert_rows_per_s']}/s "
                f"({up['reupsert_cpu_s']} CPU-s), file {up['db_mib']} MiB, load {up['load_average']}")
    del arts
    dbs = {n: workdir / f"big-{n}.duckdb" for n in distinct}
    for n, db in dbs.items():
        load = load_average()
        c0 = time.process_time()
        with writer_row_groups(n):
            build_s = build_big(db, query_rows)
        out[str(n)].update(query_db_build_s=round(build_s, 1), query_db_build_cpu_s=round(time.process_time() - c0, 1),
                           query_db_mib=round(db.stat().st_size / 2**20, 1), query_db_row_groups=_row_groups(db),
                           build_load_average=[load, load_average()])
        say(f"warehouse:   {n}-row groups: {query_rows} articles in {build_s:.1f}s, "
            f"{out[str(n)]['query_db_mib']} MiB, {out[str(n)]['query_db_row_groups']} row groups")
    ids = {n: _some_id(db) for n, db in dbs.items()}
    for name, (sql, params) in QUERIES.items():
        for r in range(rounds):
            for n in distinct if r % 2 == 0 else distinct[::-1]:
                q = time_query(dbs[n], sql, _params(params, ids[n]))
                q["load_average"] = load_average()
                out[str(n)]["queries"].setdefault(name, []).append(q)
        say(f"warehouse:   {name}: " + "; ".join(
            f"{n}: cold " + "/".join(str(q["cold_s"]) for q in out[str(n)]["queries"][name]) + " s (CPU "
            + "/".join(str(q["cold_cpu_s"]) for q in out[str(n)]["queries"][name]) + "), warm "
            + "/".join(str(q["warm_s"]) for q in out[str(n)]["queries"][name]) + " s" for n in distinct))
    for db in dbs.values():
        for f in (db, db.with_name(db.name + ".wal")):
            f.unlink(missing_ok=True)
    return out


def run(*, workdir: Path, upsert_rows: int = 100_000, query_rows: int = 1_000_000,
        results_dir: Path | None = None, row_group_sizes: Sequence[int] = ()) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    if row_group_sizes:
        sizes = compare_row_groups(workdir, row_group_sizes, upsert_rows, query_rows)
        first = sizes[str(row_group_sizes[0])]
        up = first["upserts"][0]
        data = {
            "upsert": up,
            "query_rows": query_rows,
            "query_db_build_s": first["query_db_build_s"],
            "query_db_mib": first["query_db_mib"],
            "queries": {name: qs[0] for name, qs in first["queries"].items()},
            "row_group_sizes": sizes,
        }
    else:
        up = bench_upsert(workdir, upsert_rows)
        say(f"warehouse: upsert {up['rows']} rows in {up['upsert_s']}s = {up['upsert_rows_per_s']}/s, re-upsert "
            f"{up['reupsert_s']}s = {up['reupsert_rows_per_s']}/s ({up['reupsert_new']} new); "
            f"target >= {UPSERT_TARGET:.0f}/s")
        big = workdir / "big.duckdb"
        build_s = build_big(big, query_rows)
        say(f"warehouse: generated {query_rows} articles in {build_s:.1f}s ({big.stat().st_size / 2**20:.0f} MiB)")
        queries = bench_queries(big)
        for name, q in queries.items():
            say(f"warehouse:   {name}: cold {q['cold_s']}s, warm {q['warm_s']}s ({q['rows']} rows)")
        data = {
            "upsert": up,
            "query_rows": query_rows,
            "query_db_build_s": round(build_s, 1),
            "query_db_mib": round(big.stat().st_size / 2**20, 1),
            "queries": queries,
        }
    data.update(upsert_target_rows_per_s=UPSERT_TARGET, query_target_s=QUERY_TARGET_S,
                met=up["met"] and all(q["met"] for q in data["queries"].values()))
    save_result("warehouse", data, results_dir)
    return data
