"""The coder's data files (``extractors/events/data/*.tsv``): one reader for all of them."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources


def data_rows(name: str) -> Iterator[dict[str, str]]:
    """Rows of a tab-separated data file as dicts keyed by its header; blank lines and ``#``
    comments skipped, missing trailing cells read as empty."""
    text = resources.files("extractors.events").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            header = cells
            continue
        yield dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True))
