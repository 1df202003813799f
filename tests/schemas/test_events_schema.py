from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas.events import Actor, Enrichment, Event


def event(**over) -> dict:
    base = dict(event_id="e1", article_id="a1", sentence_index=0, sentence="Iran rejected it.", trigger="rejected",
                trigger_start=5, trigger_end=13, event_type="REJECT", quad_class="verbal_conflict", intensity=-4.0,
                actors=[{"text": "Iran", "country": "IRN"}], modality="asserted", confidence=0.9,
                rule_id="reject.reject", coder_version="v", event_date=date(2021, 9, 22), date_precision="day")
    return base | over


def test_event_validates_vocabularies_and_codes() -> None:
    assert Event(**event()).actors[0].code == "IRN"
    for bad in ({"event_type": "HUG"}, {"modality": "maybe"}, {"actors": []},
                {"actors": [{"text": "Iran", "country": "iran"}]}, {"confidence": 1.5}, {"extra": 1}):
        with pytest.raises(ValidationError):
            Event(**event(**bad))


def test_date_and_precision_are_both_known_or_both_none() -> None:
    assert Event(**event(event_date=None, date_precision=None)).event_date is None
    with pytest.raises(ValidationError):
        Event(**event(event_date=None))


def test_gdelt_style_codes() -> None:
    assert Actor(text="Russian officials", country="RUS", sector="GOV").code == "RUSGOV"
    assert Actor(text="the UN", sector="IGO").code == "IGO"
    assert Actor(text="someone").code is None


def test_published_at_must_be_aware_and_becomes_utc() -> None:
    local = datetime(2021, 9, 22, 1, 0, tzinfo=timezone(timedelta(hours=3)))
    assert Enrichment(article_id="a", coder_version="v", published_at=local).published_at.hour == 22
    with pytest.raises(ValidationError):
        Enrichment(article_id="a", coder_version="v", published_at=datetime(2021, 9, 22))
