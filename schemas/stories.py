"""Records of the story (near-duplicate) index, shared by extractors/stories and warehouse/stories.

The flow carries these between the two: ``extractors.stories`` computes them from article text,
``warehouse.stories`` stores and finds them. Signatures are plain bytes (little-endian uint32
MinHash values), so neither side needs the other's code.
"""

from __future__ import annotations

from pydantic import Field

from schemas.records import Strict, UTCDateTime

# Bumped whenever tokenising, shingling, hashing or the permutations change: sketches of
# different versions are never compared (the index must be rebuilt with ``reprocess``).
SKETCH_VERSION = 1


class StorySketch(Strict):
    """What the story index knows about one article's text."""

    article_id: str = Field(min_length=1)
    # Ordering key of the group: the earliest member (by ``first_seen``, then ``article_id``)
    # names the group. ``first_seen`` = published_at when known, else when it was first ingested.
    first_seen: UTCDateTime
    version: int = SKETCH_VERSION
    tokens: int = Field(ge=0)  # words in the text
    shingles: int = Field(ge=0)  # distinct word shingles of the whole text
    lead_shingles: int = Field(ge=0)  # distinct word shingles of the lead (first words)
    signature: bytes  # MinHash of all shingles; empty when the text is too short to compare
    lead_signature: bytes  # MinHash of the lead's shingles; empty likewise
    band_keys: list[int] = Field(default_factory=list)  # LSH bucket keys (signed 64-bit), full + lead


class StoryMember(Strict):
    """An article already in the index, with its current group."""

    sketch: StorySketch
    dup_group_id: str
    dup_similarity: float | None = None


class GroupAssignment(Strict):
    """The group an article belongs to after a batch; emitted for new articles and for existing
    ones whose group or similarity changed."""

    article_id: str
    dup_group_id: str
    # Similarity to the group's first member (1.0 for that member and for stories alone).
    dup_similarity: float = Field(ge=0.0, le=1.0)
    new: bool  # True for the batch's own articles, False for re-assigned existing ones
