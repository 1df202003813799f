"""Imported by the extraction pool's forkserver only (``flows.pool``): runs one small HTML page
and one text dump through the whole per-document path, so every lazily loaded piece (parsers,
trafilatura's tables, the language model, the line model, the event coder's gazetteer and
lexicon, the story sketcher) is loaded once, in the forkserver, and every worker forked from it
starts warm instead of loading them again on its first document. A failure here only costs the
warm start: the workers load what they need themselves, as before.
"""

from __future__ import annotations

import contextlib

_STORY = (
    "The finance minister of Portugal said on Monday that the government would fund the new "
    "ferry service between Lisbon and the islands, after talks with the port authority ended."
)
_PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Ferry service funded</title>"
    "<meta property='article:published_time' content='2024-03-04T09:00:00Z'></head><body><main><article>"
    f"<h1>Ferry service funded</h1><p>{_STORY}</p><p>{_STORY}</p><p>Critics said the plan came late.</p>"
    "</article></main></body></html>"
)
_DUMP = f"Ferry service funded\n\nSubscribe to our newsletter\n{_STORY}\n{_STORY}\nShare this article\n"


def warm_up() -> None:
    from flows.jobs import PageJob, run_job

    for html, text in ((_PAGE.encode(), None), (None, _DUMP)):
        with contextlib.suppress(Exception):
            run_job(PageJob(key="warm-up", url="https://warm-up.example/story", origin="archive", run_id="warm-up",
                            html=html, text=text, tolerance_hours=24.0))


warm_up()
