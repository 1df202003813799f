"""Sketches: what changes a sketch and what must not."""

from __future__ import annotations

from datetime import UTC, datetime

from extractors.stories import compare, decode, sketch_text
from extractors.stories.sketch import FULL_BANDS, LEAD_BANDS, LEAD_WORDS, NUM_PERM, words
from schemas.stories import SKETCH_VERSION
from tests.extractors.stories.texts import seed_texts

T = datetime(2026, 1, 5, tzinfo=UTC)


def test_layout_case_and_punctuation_do_not_change_the_sketch() -> None:
    text = seed_texts()["001_099a6c5a35363460"]
    relaid = "  ".join(text.upper().replace(",", " ,").split())
    a, b = sketch_text("a", text, T), sketch_text("b", relaid, T)
    assert a.signature == b.signature and a.lead_signature == b.lead_signature
    assert a.band_keys == b.band_keys
    assert a.shingles == b.shingles


def test_sketch_shape_and_version() -> None:
    s = sketch_text("a", seed_texts()["002_20f6a4471efa1b4f"], T)
    assert s.version == SKETCH_VERSION
    assert len(s.signature) == 4 * NUM_PERM
    assert len(s.band_keys) == FULL_BANDS[0] + LEAD_BANDS[0]
    assert s.tokens == len(words(seed_texts()["002_20f6a4471efa1b4f"]))
    assert 0 < s.lead_shingles <= LEAD_WORDS < s.shingles <= s.tokens


def test_sketching_is_deterministic_across_calls() -> None:
    text = seed_texts()["004_2806790e558014c1"]
    assert sketch_text("x", text, T).band_keys == sketch_text("x", text, T).band_keys


def test_compare_is_symmetric_and_estimates_containment() -> None:
    text = seed_texts()["000_038f5bece8a68a20"]
    tokens = text.split()
    half = " ".join(tokens[: len(tokens) // 2])
    a, b = decode(sketch_text("a", text, T)), decode(sketch_text("b", half, T))
    ab, ba = compare(a, b), compare(b, a)
    assert ab == ba
    assert 0.35 < ab.jaccard < 0.65  # about a half of the shingles are shared
    assert ab.containment > 0.85 and ab.lead > 0.95


def test_unrelated_texts_share_nothing() -> None:
    t = seed_texts()
    a = sketch_text("a", t["001_099a6c5a35363460"], T)
    b = sketch_text("b", t["003_2d8f9a8c737655f8"], T)
    sim = compare(decode(a), decode(b))
    assert sim.jaccard < 0.05 and sim.lead == 0.0
    assert not set(a.band_keys) & set(b.band_keys)


def test_permutations_equal_datasketch_affine32() -> None:
    """The permutations made with NumPy are datasketch's for scheme affine32 (same seed, same
    draws, same dtype), for both sketches' sizes and seeds and a few others: signatures stored
    before the change stay comparable with new ones."""
    import numpy as np
    from datasketch import MinHash

    from extractors.stories.sketch import LEAD_PERM, SEED, _permutations

    for num_perm, seed in ((NUM_PERM, SEED), (LEAD_PERM, SEED + 1), (1, 0), (7, 42), (256, 2**31 - 1)):
        ours = _permutations(num_perm, seed)
        ref = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        assert ours.dtype == np.uint32 and ours.shape == (2, num_perm)
        assert np.asarray(ref).dtype == np.uint32
        assert ours.tolist() == np.asarray(ref).tolist()
        assert (ours[0] % 2 == 1).all()  # odd multipliers: each permutation is a bijection


def test_minhash_equals_datasketch_update_batch() -> None:
    """The vectorised MinHash gives datasketch's values (affine32, identity hash), bit for bit,
    for empty, small and multi-block inputs, under both sketches' permutations."""
    import numpy as np
    from datasketch import MinHash

    from extractors.stories.sketch import LEAD_PERM, SEED, _permutations, minhash

    rng = np.random.default_rng(5)
    for num_perm, seed in ((NUM_PERM, SEED), (LEAD_PERM, SEED + 1)):
        perms = _permutations(num_perm, seed)
        for n in (0, 1, 9, 5000):
            hashes = rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
            ref = MinHash(num_perm=num_perm, hashfunc=lambda v: v, permutations=perms, scheme="affine32")
            ref.update_batch(hashes.tolist())
            got = minhash(hashes, perms)
            assert got.dtype == np.uint32
            assert got.tolist() == np.asarray(ref.hashvalues, dtype=np.uint32).tolist()
