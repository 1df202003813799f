"""Metadata on the 990-page quality corpus: our reader (``_read_meta`` and what extract_html
builds from it) against trafilatura's own ``extract_metadata``.

The corpus has no labelled metadata, so this measures what can be measured without labels:
how often each side finds a title, a date, an author and a site name; how often the two agree
when both find one; and the time each takes per page (on an already parsed tree).

    python -m bench.metadata   → figures on stdout and bench/results/metadata.json
"""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/")
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "trafilatura-eval"


def _norm(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def _ours(tree: Any, url: str) -> dict[str, Any]:
    from extractors.content import html_extract as hx

    meta = hx._read_meta(tree)
    date = hx._parse_published(meta, url, 24.0 * 365 * 100)  # no future window: compare parsing only
    site = next((meta.sites[k] for k in hx._SITE_KEYS if k in meta.sites), None)
    return {"title": hx._choose_title(meta, tree, url), "date": date.date().isoformat() if date else None,
            "authors": hx._clean_authors(meta.authors), "site": site}


def _theirs(tree: Any, url: str) -> dict[str, Any]:
    from trafilatura.metadata import extract_metadata

    doc = extract_metadata(tree, default_url=url)
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()] if doc is not None else []
    return {"title": doc.title if doc else None, "date": (doc.date or None) if doc else None,
            "authors": authors, "site": doc.sitename if doc else None}


def main() -> dict[str, Any]:
    from copy import deepcopy

    from trafilatura.utils import load_html

    from extractors.normalize.text import decode_bytes

    evaldata = json.loads((CORPUS / "evaldata.json").read_text(encoding="utf-8"))
    fields = ("title", "date", "authors", "site")
    found = {side: dict.fromkeys(fields, 0) for side in ("ours", "trafilatura")}
    both = dict.fromkeys(fields, 0)
    agree = dict.fromkeys(fields, 0)
    seconds = {"ours": 0.0, "trafilatura": 0.0}
    pages = 0
    # weak labels: a date in the URL path (/2019/05/17/) for the pages that have one
    url_dated = 0
    url_date_match = {"ours": 0, "trafilatura": 0}
    site_is_host = 0
    for url, item in evaldata.items():
        with gzip.open(CORPUS / item["file"], "rb") as fh:
            tree = load_html(decode_bytes(fh.read(), None))
        if tree is None:
            continue
        pages += 1
        copy = deepcopy(tree)  # trafilatura may prune the tree it is given
        t0 = time.perf_counter()
        ours = _ours(tree, url)
        t1 = time.perf_counter()
        theirs = _theirs(copy, url)
        t2 = time.perf_counter()
        seconds["ours"] += t1 - t0
        seconds["trafilatura"] += t2 - t1
        m = _URL_DATE.search(url)
        if m:
            url_dated += 1
            want = "-".join(m.groups())
            url_date_match["ours"] += ours["date"] == want
            url_date_match["trafilatura"] += theirs["date"] == want
        host = urlsplit(url).hostname or ""
        site_is_host += bool(theirs["site"]) and _norm(theirs["site"]).removeprefix("www.") in (
            host.removeprefix("www."), host.removeprefix("www.").split(".")[0])
        for f in fields:
            a, b = ours[f], theirs[f]
            found["ours"][f] += bool(a)
            found["trafilatura"][f] += bool(b)
            if a and b:
                both[f] += 1
                if f == "authors":
                    agree[f] += bool({_norm(x) for x in a} & {_norm(x) for x in b})
                else:
                    agree[f] += _norm(a) == _norm(b)
    result = {
        "pages": pages,
        "found": found,
        "both_found": both,
        "agree_when_both": {f: round(agree[f] / both[f], 3) if both[f] else None for f in fields},
        "ms_per_page": {k: round(1000 * v / max(pages, 1), 2) for k, v in seconds.items()},
        "url_dated_pages": url_dated,
        "url_date_matched": url_date_match,
        "trafilatura_site_is_the_host_name": site_is_host,
    }
    out = ROOT / "bench" / "results" / "metadata.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
