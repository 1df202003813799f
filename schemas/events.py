"""Strict records of the event coder (issue 10): entities, mentions, coded PLOVER events, quotes.

Offsets are character offsets into the article text (``start`` inclusive, ``end`` exclusive).
Datetimes are timezone-aware UTC; ``None`` means unknown. ``event_date`` is a calendar date (UTC
day of the event) with its precision; it is ``None`` only when the article has no publication date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


UTCDateTime = Annotated[datetime, AfterValidator(_require_utc)]

EntityKind = Literal["country", "igo", "group", "org", "person"]
EventType = Literal["AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
                    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT"]
QuadClass = Literal["verbal_cooperation", "material_cooperation", "verbal_conflict", "material_conflict"]
Modality = Literal["asserted", "future", "hypothetical", "negated", "reported"]
DatePrecision = Literal["day", "week", "month", "year", "pubdate"]
QuoteKind = Literal["direct", "indirect"]
ISO3 = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Span(_Strict):
    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class Entity(_Strict):
    """One entity per article: how often it is mentioned and where first."""

    article_id: str
    entity_id: str  # article-local key: ISO3 for a country, a body code, "person:<name>"
    kind: EntityKind
    name: str
    code: str  # canonical code: ISO3, CAMEO-style body code, or person key
    country: ISO3 | None = None
    sector: str | None = None
    mention_count: int = Field(ge=1)
    first_offset: int = Field(ge=0)


class Mention(_Span):
    article_id: str
    entity_id: str
    text: str
    sentence_index: int = Field(ge=0)


class Actor(_Strict):
    """An actor or recipient of an event: the words, their country and sector."""

    text: str
    country: ISO3 | None = None
    sector: str | None = None
    entity_id: str | None = None

    @property
    def code(self) -> str | None:
        """GDELT-style code: country + sector ("RUSGOV"), or the body code for an IGO."""
        if self.country:
            return self.country + (self.sector or "")
        return self.sector


class Event(_Strict):
    event_id: str
    article_id: str
    sentence_index: int = Field(ge=0)
    sentence: str
    trigger: str
    trigger_start: int = Field(ge=0)
    trigger_end: int = Field(ge=0)
    event_type: EventType
    quad_class: QuadClass
    intensity: float = Field(ge=-10, le=10)
    actors: list[Actor] = Field(min_length=1)
    recipients: list[Actor] = Field(default_factory=list)
    event_date: date | None = None
    date_precision: DatePrecision | None = None
    date_text: str | None = None
    location_text: str | None = None
    location_country: ISO3 | None = None
    modality: Modality
    confidence: float = Field(ge=0, le=1)
    rule_id: str
    coder_version: str
    # the re-ranker's strongest features ("has_recipient +0.84, subordinate -0.61"); not a table column
    explanation: str | None = None

    @model_validator(mode="after")
    def _date_and_precision(self):
        if (self.event_date is None) != (self.date_precision is None):
            raise ValueError("event_date and date_precision are both set or both None")
        return self


class Quote(_Span):
    quote_id: str
    article_id: str
    kind: QuoteKind
    text: str
    speaker_text: str | None = None
    speaker_entity_id: str | None = None
    speaker_country: ISO3 | None = None
    cue: str | None = None
    sentence_index: int = Field(ge=0)


class Enrichment(_Strict):
    article_id: str
    coder_version: str
    published_at: UTCDateTime | None = None
    entities: list[Entity] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)

    def table_rows(self) -> dict[str, list[dict]]:
        """Plain rows for the warehouse tables of migration 005 (``warehouse.events``)."""
        version = self.coder_version
        return {
            "entities": [e.model_dump() | {"coder_version": version} for e in self.entities],
            "mentions": [{"article_id": m.article_id, "start_offset": m.start, "end_offset": m.end,
                          "entity_id": m.entity_id, "text": m.text, "sentence_index": m.sentence_index}
                         for m in self.mentions],
            "events": [e.model_dump(exclude={"explanation"}) for e in self.events],
            "quotes": [{**q.model_dump(exclude={"start", "end"}), "start_offset": q.start, "end_offset": q.end,
                        "coder_version": version} for q in self.quotes],
        }
