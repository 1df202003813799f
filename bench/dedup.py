"""Benchmark 7: CPU of story dedup per article, with 100,000 articles in the index, against the
CPU of extracting the article from its page (``trafilatura.extract``), side by side in one run.

Single process, ``time.process_time`` (all threads of the process, so DuckDB's too):

* ``extract``: ``trafilatura.extract`` on each of ``pages`` real pages of the trafilatura
  evaluation set (decoded once beforehand, as in benchmark 1's ``raw``), each followed at once
  by ``sketch_text`` of the text it gave (timed separately: both under the same load);
* the index: ``index`` filler articles (texts drawn word by word from the word frequencies of
  those pages, 250–1,000 words, so they share words but not stories) plus a copy, an excerpt or
  an edited reprint of every third page, loaded through the real path
  (``sketch_text`` + ``update_story_index`` in batches of 500) into a DuckDB file whose
  ``articles`` table holds a row per indexed article;
* ``dedup``: those sketches arrive as new articles in batches of ``batch`` (default 500, the
  flows' ``batch_size``: one load batch): one ``update_story_index`` (candidates join,
  ``assign_groups``, bulk writes) per batch; dedup per article = sketch + its share of that. Also measured one article at a time (a quiet hour's single new story).

Target: dedup CPU per article ÷ extraction CPU per page < 0.10.
"""

from __future__ import annotations

import gc
import gzip
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ratio, save_result, say

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "trafilatura-eval"
TARGET = 0.10
BUILD_BATCH = 500
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _pages(corpus: Path, limit: int) -> list[tuple[str, str]]:
    from extractors.normalize.text import decode_bytes

    files = sorted((corpus / "pages").glob("*.gz"))
    if limit and 0 < limit < len(files):
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    out = []
    for f in files:
        body = gzip.decompress(f.read_bytes())
        out.append((f.name.removesuffix(".html.gz"), decode_bytes(body, None)))
    return out


class _Filler:
    """Word-salad articles with the word frequencies of real ones (fast, numpy)."""

    def __init__(self, texts: list[str], seed: int = 7) -> None:
        counts: dict[str, int] = {}
        for t in texts:
            for w in t.split():
                counts[w] = counts.get(w, 0) + 1
        self.vocab = np.array(list(counts), dtype=object)
        p = np.array(list(counts.values()), dtype=np.float64)
        self.cdf = np.cumsum(p / p.sum())
        self.rng = np.random.default_rng(seed)

    def text(self) -> str:
        n = int(self.rng.integers(250, 1000))
        picks = np.minimum(np.searchsorted(self.cdf, self.rng.random(n)), len(self.vocab) - 1)
        return " ".join(self.vocab[picks])


def _variant(text: str, rng: random.Random) -> str:
    words = text.split()
    kind = rng.randrange(3)
    if kind == 0:  # copy with other furniture
        return "Advertisement\nBy Staff Reporter\n" + " ".join(words) + "\n© 2026 Metro Wire"
    if kind == 1:  # excerpt
        return " ".join(words[: max(30, int(len(words) * rng.uniform(0.25, 0.6)))]) + " … Read more"
    for _ in range(max(1, len(words) // 40)):  # lightly edited reprint
        words[rng.randrange(len(words))] = "reportedly"
    return "Editor's note: updated.\n" + " ".join(words)


def _insert_articles(conn: Any, ids: list[str], when: list[datetime]) -> None:
    import pyarrow as pa

    t = pa.table({"article_id": ids, "published_at": pa.array(when, pa.timestamp("us", tz="UTC"))})
    conn.register("_bench_ids", t)
    try:
        conn.execute("""
            INSERT INTO articles (article_id, url, outlet, title, published_at, text, word_count, content_hash,
                                  origin, text_source, ingested_at, run_id)
            SELECT article_id, 'https://bench.example.org/' || article_id, 'bench', 'Title ' || article_id,
                   published_at, 'text', 1, md5(article_id), 'rss', 'page', published_at, 'bench'
            FROM _bench_ids
        """)
    finally:
        conn.unregister("_bench_ids")


def run(*, workdir: Path, corpus: Path = DEFAULT_CORPUS, index: int = 100_000, pages: int = 500, batch: int = 500,
        singles: int = 50, results_dir: Path | None = None) -> dict[str, Any]:
    if not (corpus / "pages").is_dir():
        msg = f"dedup: skipped, no pages under {corpus / 'pages'}"
        say(msg)
        skipped: dict[str, Any] = {"skipped": True, "reason": msg}
        save_result("dedup", skipped, results_dir)
        return skipped

    import trafilatura

    from extractors.stories import assign_groups, sketch_text
    from warehouse.db import connect_write
    from warehouse.stories import update_story_index

    clock = time.process_time
    docs = _pages(corpus, pages)
    for _name, html in docs[:5]:  # warm-up
        trafilatura.extract(html)
    extract_cpu: list[float] = []
    sketch_cpu = 0.0
    texts: list[tuple[str, str]] = []
    new_at = T0 + timedelta(days=30)
    new_sketches = []
    gc.collect()
    for name, html in docs:  # extraction and sketching back to back, page by page (same load)
        t0 = clock()
        text = trafilatura.extract(html)
        t1 = clock()
        extract_cpu.append(t1 - t0)
        if text and len(text.split()) >= 20:
            new_sketches.append(sketch_text(f"new-{name}", text, new_at))
            sketch_cpu += clock() - t1
            texts.append((name, text))
    say(f"dedup: extraction {1000 * sum(extract_cpu) / len(docs):.2f} ms/page on {len(docs)} pages, "
        f"{len(texts)} texts")

    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "dedup.duckdb"
    db.unlink(missing_ok=True)
    conn = connect_write(db)
    try:
        filler = _Filler([t for _n, t in texts])
        rng = random.Random(11)
        build_cpu, w_build = 0.0, time.perf_counter()
        built = 0
        variants = [(f"copy-{n}", _variant(t, rng)) for n, t in texts[::3]]
        total = index
        while built < total:
            n = min(BUILD_BATCH, total - built)
            docs_in = [variants[i] if i < len(variants) else (f"fill-{i:07d}", filler.text())
                       for i in range(built, built + n)]
            when = [T0 + timedelta(seconds=20 * i) for i in range(built, built + n)]
            _insert_articles(conn, [aid for aid, _t in docs_in], when)
            t0 = clock()  # timed: the backfill's own dedup work, not the generation of filler
            sketches = [sketch_text(aid, text, seen) for (aid, text), seen in zip(docs_in, when, strict=True)]
            update_story_index(conn, sketches, assign_groups)
            build_cpu += clock() - t0
            built += n
            if built % 20_000 == 0:
                say(f"dedup: index {built:,} articles")
        build_wall = time.perf_counter() - w_build
        bands = conn.execute("SELECT count(*) FROM story_bands").fetchall()[0][0]
        say(f"dedup: index of {total:,} built in {build_wall:.0f}s ({1000 * build_cpu / total:.2f} ms CPU/article), "
            f"{bands:,} band rows")

        _insert_articles(conn, [f"new-{n}" for n, _t in texts], [new_at] * len(texts))
        index_cpu = 0.0
        groups_joined = 0
        gc.collect()
        for start in range(0, len(new_sketches), batch):
            t0 = clock()
            out = update_story_index(conn, new_sketches[start:start + batch], assign_groups)
            index_cpu += clock() - t0
            groups_joined += sum(1 for a in out if a.new and a.dup_group_id != a.article_id)

        # One article at a time: re-sketched copies of already loaded texts (reprocess-like,
        # so the single lookups also find and rewrite existing rows).
        single_cpu = 0.0
        single_texts = texts[:singles]
        _insert_articles(conn, [f"one-{n}" for n, _t in single_texts], [new_at] * len(single_texts))
        for n, t in single_texts:
            t0 = clock()
            update_story_index(conn, [sketch_text(f"one-{n}", t, new_at)], assign_groups)
            single_cpu += clock() - t0
    finally:
        conn.close()
        db.unlink(missing_ok=True)

    n_new = len(texts)
    ext = 1000 * sum(extract_cpu) / len(docs)
    per_article = 1000 * (sketch_cpu + index_cpu) / n_new
    single = 1000 * single_cpu / max(1, len(single_texts))
    data: dict[str, Any] = {
        "index_articles": total,
        "band_rows": bands,
        "pages": len(docs),
        "new_articles": n_new,
        "batch": batch,
        "extract_ms_per_page": round(ext, 3),
        "dedup_ms_per_article": round(per_article, 3),
        "sketch_ms_per_article": round(1000 * sketch_cpu / n_new, 3),
        "index_ms_per_article": round(1000 * index_cpu / n_new, 3),
        "ratio_dedup_extract": ratio(per_article, ext),
        "single_article_ms": round(single, 3),
        "ratio_single_extract": ratio(single, ext),
        "new_joined_existing_groups": groups_joined,
        "build_ms_per_article": round(1000 * build_cpu / total, 3),
        "build_wall_s": round(build_wall, 1),
        "target": TARGET,
        "met": per_article / ext < TARGET if ext else False,
    }
    save_result("dedup", data, results_dir)
    say(f"dedup: {per_article:.3f} ms/article (sketch {data['sketch_ms_per_article']}, index "
        f"{data['index_ms_per_article']}) in batches of {batch} vs extraction {ext:.2f} ms/page = "
        f"{data['ratio_dedup_extract']} (target < {TARGET}); one at a time {single:.2f} ms = "
        f"{data['ratio_single_extract']}; {groups_joined} of {n_new} new articles joined a story")
    return data
