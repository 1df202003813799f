"""Near-duplicate detection of news stories (issue 9): pure functions, no I/O.

Flow: ``sketch_text`` per article (CPU, in the extraction workers) → the warehouse finds
candidates by band key → ``assign_groups`` decides → the warehouse applies the assignments.
"""

from extractors.stories.groups import assign_groups, components
from extractors.stories.similarity import THRESHOLDS, Similarity, Thresholds, compare, is_duplicate
from extractors.stories.sketch import decode, sketch_text

__all__ = [
    "THRESHOLDS",
    "Similarity",
    "Thresholds",
    "assign_groups",
    "compare",
    "components",
    "decode",
    "is_duplicate",
    "sketch_text",
]
