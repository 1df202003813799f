"""Raw page bodies kept beside the warehouse, not inside it: content-addressed gzip files.

DuckDB's checkpoint rewrites the blocks of a table it appends to, so megabytes of page bodies in
``raw_pages`` made a loader's peak memory follow the table's size. Bodies now live in a folder
next to the database file (``data/newsflow.duckdb`` → ``data/newsflow.pages/``, like the search
index's ``.search``), one gzip file per distinct body,
named by the SHA-256 of the stored bytes; ``raw_pages.body_ref`` keeps that name (the locator),
``body_bytes`` the uncompressed size. Rows written before migration 006 keep their body inline in
``body_gz`` and are still read by ``page_body``.

Writing is crash-safe and idempotent: a body goes to a temporary file in the target folder, is
flushed to disk and renamed to its final name, and the loader commits the rows that name it only
after every file of the batch is durable. Storing the same bytes twice finds the file already
there. A crash can leave a file that no committed row names (harmless: the next store of that
body reuses it) or a ``*.tmp`` file (ignored).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from schemas.records import RawPage

PAGES_SUFFIX = ".pages"
GZIP_LEVEL = 4  # most of level 9's ratio on HTML at a fraction of its CPU
_SUFFIX = ".gz"
_LOCATOR = re.compile(r"^([0-9a-f]{64})\.gz$")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_FHCRC = 0x02
_OS_UNKNOWN = 0xFF


class BodyMissing(Exception):
    """A raw page's body cannot be read back (file gone, damaged, or the row names none)."""


def pages_root(db_path: str | Path) -> Path:
    """The folder holding the bodies of the pages stored in ``db_path``."""
    db_path = Path(db_path)
    return db_path.parent / f"{db_path.stem}{PAGES_SUFFIX}"


def _normalise(gz: bytes) -> bytes:
    """Zero the gzip header's timestamp and mark its OS unknown, so equal bodies compressed at
    different times (or by zlib's and Python's gzip writers) are equal bytes and share one file.
    Leaves anything that is not a plain gzip member untouched."""
    plain = len(gz) >= 10 and gz[:3] == _GZIP_MAGIC and not gz[3] & _FHCRC
    if plain and (gz[4:8] != b"\0\0\0\0" or gz[9] != _OS_UNKNOWN):
        return gz[:4] + b"\0\0\0\0" + gz[8:9] + b"\xff" + gz[10:]
    return gz


def path_of(root: Path, locator: str) -> Path:
    """Where a locator's file lives: ``root/<first two hex digits>/<locator>``."""
    if not _LOCATOR.match(locator):
        raise BodyMissing(f"not a body locator: {locator!r}")
    return Path(root) / locator[:2] / locator


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# fsync of many small files one after the other costs ~6 ms each here; issued from a few threads
# at once the file system commits them together (~0.3 ms a file, about the cost of not syncing)
_SYNC_THREADS = 8


def store_compressed_many(root: str | Path, bodies: Iterable[bytes]) -> list[str]:
    """Store gzip-compressed bodies (as the extraction workers produce them); return their
    locators, in order.

    New bodies are written to temporary files, flushed to disk, then renamed to their final names,
    and the folders holding them flushed: when this returns every body is durable, so rows naming
    them may be committed. A body already stored is not written again.
    """
    root = Path(root)
    locators: list[str] = []
    pending: dict[Path, Path] = {}  # temporary file -> final name
    written: set[str] = set()  # locators of this call's pending files
    folders_made: set[Path] = set()
    try:
        for gz in bodies:
            gz = _normalise(gz)
            locator = hashlib.sha256(gz).hexdigest() + _SUFFIX
            locators.append(locator)
            if locator in written:
                continue
            final = path_of(root, locator)
            if final.exists():
                continue
            if final.parent not in folders_made:
                final.parent.mkdir(parents=True, exist_ok=True)
                folders_made.add(final.parent)
            tmp = final.with_name(f".{locator}.{uuid.uuid4().hex}.tmp")
            with open(tmp, "xb") as fh:
                pending[tmp] = final
                written.add(locator)
                fh.write(gz)
        if not pending:
            return locators
        folders = [*sorted({final.parent for final in pending.values()}), root]
        with ThreadPoolExecutor(min(_SYNC_THREADS, len(pending))) as pool:
            list(pool.map(_fsync, pending))
            for tmp, final in list(pending.items()):
                os.replace(tmp, final)
                del pending[tmp]
            list(pool.map(_fsync, folders))
    finally:
        for tmp in pending:  # an error on the way: no half-written file is left behind
            tmp.unlink(missing_ok=True)
    return locators


def store_body(root: str | Path, body: bytes) -> str:
    """Store one uncompressed body (gzip-compressed here); return its locator."""
    return store_compressed_many(root, [gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)])[0]


def read_body(root: str | Path, locator: str) -> bytes:
    """The uncompressed body a locator names; BodyMissing if the file is gone or damaged."""
    path = path_of(Path(root), locator)
    try:
        gz = path.read_bytes()
    except FileNotFoundError:
        raise BodyMissing(f"raw body {locator} is missing from {root}") from None
    if hashlib.sha256(gz).hexdigest() + _SUFFIX != locator:
        raise BodyMissing(f"raw body file {path} is damaged (its content does not match its name)")
    return gzip.decompress(gz)


def page_body(db_path: str | Path, page: RawPage) -> bytes:
    """The original document of a stored raw page: from its file, or inline for older rows."""
    if page.body_ref:
        return read_body(pages_root(db_path), page.body_ref)
    if page.body_gz is not None:
        return gzip.decompress(page.body_gz)
    raise BodyMissing(f"raw page {page.page_id} has no stored body")


def externalize(root: str | Path, raw_pages: pa.Table) -> pa.Table:
    """Move the inline ``body_gz`` of a ``raw_pages`` load table into files: the returned table
    names them in ``body_ref`` and carries no body. Rows without an inline body are kept as they
    are. The files are on disk before this returns (so the rows may be committed)."""
    if raw_pages.num_rows == 0 or "body_gz" not in raw_pages.column_names:
        return raw_pages
    inline = raw_pages.column("body_gz").to_pylist()
    if all(b is None for b in inline):
        return raw_pages
    refs = raw_pages.column("body_ref").to_pylist() if "body_ref" in raw_pages.column_names else [None] * len(inline)
    todo = [i for i, b in enumerate(inline) if b is not None]
    for i, locator in zip(todo, store_compressed_many(root, [inline[i] for i in todo]), strict=True):
        refs[i] = locator
    out = raw_pages
    idx = out.column_names.index("body_gz")
    out = out.set_column(idx, out.schema.field(idx), pa.nulls(out.num_rows, out.schema.field(idx).type))
    ref_field = pa.field("body_ref", pa.string(), nullable=True)
    ref_col = pa.array(refs, pa.string())
    if "body_ref" in out.column_names:
        j = out.column_names.index("body_ref")
        return out.set_column(j, out.schema.field(j), ref_col)
    return out.append_column(ref_field, ref_col)
