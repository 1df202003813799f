"""Scoring the text-dump path on dumps it did not write (issue 12).

Three sets, all generated at test time and never committed:

* ``tuning`` / ``heldout``: naive dumps of the 990 pages of trafilatura's evaluation corpus,
  split by site (``tests.support.dumpgen.split_of``), scored with the corpus's own
  with/without snippets;
* ``bench``: dumps of the benchmark's generated news pages, scored with snippets read from the
  page's markup (story paragraphs must be kept; menus, share bars, captions, promos, related
  lists, comments and footers must go).

Dumps are cached as JSON under a directory the caller chooses (one per test session), so a
second run in the same session only re-scores.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lxml import html as lxml_html

from tests.support.dumpgen import eval_pages, html_to_dump, read_page_html
from tests.support.evalscore import Totals, score

__all__ = ["ScoredDump", "bench_dumps", "eval_dumps", "score_set"]


@dataclass(frozen=True)
class ScoredDump:
    """One dump with its snippets; ``source`` groups dumps of one site."""

    url: str
    split: str
    source: str
    dump: str
    with_: tuple[str, ...]
    without: tuple[str, ...]


def _dump_one(item: tuple[str, str]) -> tuple[str, str]:
    url, path = item
    return url, html_to_dump(read_page_html(path))


def eval_dumps(corpus: Path, cache_dir: Path, *, workers: int = 2) -> list[ScoredDump]:
    """Dumps of the evaluation corpus (made once per cache directory)."""
    from tests.support.dumpgen import site_of

    pages = list(eval_pages(corpus))
    cache = cache_dir / "eval_dumps.json"
    if cache.is_file():
        dumps: dict[str, str] = json.loads(cache.read_text(encoding="utf-8"))
    else:
        items = [(p.url, p.html_path) for p in pages]
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            dumps = dict(pool.map(_dump_one, items, chunksize=25))
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(dumps), encoding="utf-8")
    return [ScoredDump(p.url, p.split, site_of(p.url), dumps[p.url], p.with_, p.without) for p in pages]


_STORY_XPATH = (
    "//div[contains(@class,'article-body') or contains(@class,'story__content')"
    " or contains(@class,'entry-content')]/p"
)
_FURNITURE_XPATH = (
    "//header//a | //nav//a | //footer//a | //footer//p | //div[@class='share-tools']/a | //figcaption"
    " | //div[@class='inline-promo'] | //section[@class='related']//li | //section[@class='comments']//p"
    " | //div[@class='breadcrumbs'] | //div[@class='tags']"
)


def _snippets(markup: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    root = lxml_html.document_fromstring(markup)
    keep = tuple(" ".join(el.text_content().split()) for el in root.xpath(_STORY_XPATH))
    drop = []
    for el in root.xpath(_FURNITURE_XPATH):
        text = " ".join(el.text_content().split())
        # a furniture snippet that also occurs in the story (a one-word link) cannot be scored
        if len(text) >= 4 and not any(text in k for k in keep) and text not in drop:
            drop.append(text)
    return keep, tuple(drop)


def bench_dumps(count: int, outlets: int = 8) -> list[ScoredDump]:
    """Dumps of ``count`` generated benchmark pages spread over ``outlets`` outlets (so each
    outlet has several documents, as in a backfill)."""
    from bench.corpus import make_page

    out = []
    for index in range(count):
        page = make_page(index, outlet_index=index % outlets)
        keep, drop = _snippets(page.html)
        out.append(ScoredDump(page.url, "bench", page.outlet, html_to_dump(page.html), keep, drop))
    return out


def score_set(dumps: Iterable[ScoredDump], extract: Callable[[ScoredDump], str]) -> Totals:
    """Sum snippet counts of ``extract(dump)`` (the kept text) over ``dumps``."""
    totals = Totals()
    for item in dumps:
        totals.add(score(extract(item), item.with_, item.without))
    return totals
