"""Entities, coded PLOVER events and quotes from article text (issue 10).

Public API: ``enrich(text, *, article_id, published_at) -> schemas.events.Enrichment`` and
``code_document(text, published_at=None) -> list[dict]``. Pure, offline, deterministic.
"""

from extractors.events.enrich import CODER_VERSION, code_document, enrich

__all__ = ["CODER_VERSION", "code_document", "enrich"]
