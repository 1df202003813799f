"""Sketching an article's text: words → shingles → MinHash signatures → LSH band keys.

Pure functions, no I/O. Two MinHash sketches (datasketch, scheme ``affine32``) per article:

* the *full* sketch over every distinct word shingle of the text, for copies and reprints
  (their Jaccard similarity is high);
* the *lead* sketch over the shingles of the first ``LEAD_WORDS`` words only, for excerpts:
  an excerpt keeps the start of a story, so its lead equals the story's lead although the
  Jaccard similarity of the whole texts is low.

Shingles are hashed once to 32 bits here (words by CRC-32, then a 64-bit mix of ``SHINGLE``
consecutive word hashes); the MinHash is datasketch's ``affine32`` scheme with its permutations
(the hashes pre-mixed with the MurmurHash3 finaliser, then the permutations), computed here on
the whole array of hashes as datasketch's ``update_batch`` computes it. datasketch itself is not
imported at run time (only the tests compare with it).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import numpy as np

from schemas.stories import SKETCH_VERSION, StorySketch

SHINGLE = 4  # words per shingle
NUM_PERM = 128  # permutations of the full sketch
LEAD_PERM = 64  # permutations of the lead sketch
LEAD_WORDS = 48  # words of the lead
MIN_SHINGLES = 8  # fewer distinct shingles than this: too short to compare, never grouped
SEED = 20261130  # permutation seed: part of SKETCH_VERSION

# LSH banding: (bands, rows) per sketch. A pair becomes a candidate when all ``rows`` values
# of at least one band agree; P(candidate) = 1 - (1 - s**rows)**bands at similarity s.
FULL_BANDS = (32, 4)  # s=0.5 → 0.87, s=0.6 → 0.99, s=0.2 → 0.05
LEAD_BANDS = (16, 4)  # s=0.7 → 0.98, s=0.3 → 0.12

_WORD_RE = re.compile(r"\w+")
_U64 = np.uint64
_M1, _M2 = _U64(0xFF51AFD7ED558CCD), _U64(0xC4CEB9FE1A85EC53)
_S33 = _U64(33)
_GOLD = _U64(0x9E3779B97F4A7C15)
_LEAD_SALT = _U64(0x5EAD5EAD5EAD5EAD)
_MASK32 = _U64(0xFFFFFFFF)
_U32 = np.uint32
_S16, _S13 = _U32(16), _U32(13)
_C1, _C2 = _U32(0x85EBCA6B), _U32(0xC2B2AE35)
_MAX32 = _U32(0xFFFFFFFF)
_BLOCK = 4096  # shingles per block of the MinHash


@cache
def _permutations(num_perm: int, seed: int) -> np.ndarray:
    """The affine permutations ``h -> a * h + b`` (mod 2**32) of one sketch, as a (2, num_perm)
    uint32 array: drawn from ``np.random.RandomState(seed)`` in the order datasketch's MinHash
    draws them for scheme ``affine32`` (first every ``a``, odd so the map is a bijection, then
    every ``b``), so the signatures are datasketch's. Made here rather than by datasketch, whose
    import pulls in scipy (~0.7 s and ~60 MiB of RSS in every extraction worker); a test checks that
    the values stay equal to datasketch's."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    return h ^ (h >> _S33)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (datasketch's pre-mix of the affine32 scheme)."""
    h = h ^ (h >> _S16)
    h = h * _C1
    h = h ^ (h >> _S13)
    h = h * _C2
    return h ^ (h >> _S16)


def words(text: str) -> list[str]:
    """Case-folded word tokens: punctuation, whitespace and layout never matter."""
    if not text.isascii():  # ASCII is already in NFKC
        text = unicodedata.normalize("NFKC", text)
    return _WORD_RE.findall(text.casefold())


def _word_hashes(tokens: list[str]) -> np.ndarray:
    """CRC-32 of each token, computed once per distinct word."""
    table = {w: zlib.crc32(w.encode("utf-8")) for w in set(tokens)}
    return np.array([table[t] for t in tokens], dtype=np.uint64)


def shingle_hashes(tokens: list[str], k: int = SHINGLE) -> np.ndarray:
    """Distinct 32-bit hashes of the ``k``-word shingles (one shingle for shorter texts)."""
    if not tokens:
        return np.empty(0, dtype=np.uint32)
    with np.errstate(over="ignore"):
        wh = _word_hashes(tokens)
        n = max(1, len(tokens) - k + 1)
        h = np.full(n, _GOLD, dtype=np.uint64)
        for j in range(min(k, len(tokens))):
            h = _fmix64((h ^ wh[j:j + n]) * _GOLD)
    return np.unique((h & _MASK32).astype(np.uint32))


def minhash(hashes: np.ndarray, permutations: np.ndarray) -> np.ndarray:
    """datasketch MinHash (affine32) of precomputed 32-bit shingle hashes.

    The same arithmetic as datasketch's ``MinHash.update_batch`` with an identity hash function
    (its 32-bit MurmurHash3 finaliser, then ``a * h + b`` modulo 2**32 per permutation, the minimum
    over the shingles), done on the array directly instead of through a Python call per shingle,
    in blocks so a huge text does not make a shingles × permutations matrix at once.
    """
    a, b = permutations
    signature = np.full(len(a), _MAX32, dtype=np.uint32)
    hv = _fmix32(hashes.astype(np.uint32)).reshape(-1, 1)
    for lo in range(0, len(hv), _BLOCK):
        np.minimum(signature, (hv[lo:lo + _BLOCK] * a + b).min(axis=0), out=signature)
    return signature


def band_keys(signature: np.ndarray, bands: int, rows: int, salt: np.uint64) -> np.ndarray:
    """One signed 64-bit key per band: a mix of the band number and its ``rows`` values."""
    with np.errstate(over="ignore"):
        values = signature[: bands * rows].astype(np.uint64).reshape(bands, rows)
        h = _fmix64(np.arange(bands, dtype=np.uint64) * _GOLD + salt)
        for j in range(rows):
            h = _fmix64((h ^ values[:, j]) * _GOLD)
    return h.view(np.int64)


@dataclass(frozen=True)
class Sketched:
    """Arrays of one sketch, decoded (what comparisons work on)."""

    shingles: int
    lead_shingles: int
    signature: np.ndarray
    lead_signature: np.ndarray


def sketch_text(article_id: str, text: str, first_seen: datetime) -> StorySketch:
    """The story sketch of one article's text. Texts with fewer than ``MIN_SHINGLES`` distinct
    shingles get empty signatures and no band keys: they always stay in a group of their own."""
    tokens = words(text)
    full = shingle_hashes(tokens)
    lead = shingle_hashes(tokens[:LEAD_WORDS])
    if len(full) < MIN_SHINGLES:
        return StorySketch(article_id=article_id, first_seen=first_seen, version=SKETCH_VERSION,
                           tokens=len(tokens), shingles=len(full), lead_shingles=len(lead),
                           signature=b"", lead_signature=b"", band_keys=[])
    sig = minhash(full, _permutations(NUM_PERM, SEED))
    lead_sig = minhash(lead, _permutations(LEAD_PERM, SEED + 1))
    keys = np.concatenate([band_keys(sig, *FULL_BANDS, salt=_U64(0)),
                           band_keys(lead_sig, *LEAD_BANDS, salt=_LEAD_SALT)])
    return StorySketch(article_id=article_id, first_seen=first_seen, version=SKETCH_VERSION,
                       tokens=len(tokens), shingles=len(full), lead_shingles=len(lead),
                       signature=sig.astype("<u4").tobytes(), lead_signature=lead_sig.astype("<u4").tobytes(),
                       band_keys=keys.tolist())


def decode(sketch: StorySketch) -> Sketched:
    return Sketched(sketch.shingles, sketch.lead_shingles,
                    np.frombuffer(sketch.signature, dtype="<u4"), np.frombuffer(sketch.lead_signature, dtype="<u4"))
