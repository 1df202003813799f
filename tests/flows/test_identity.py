"""Exact-duplicate and update decisions (plain functions, no Prefect, no database)."""

from datetime import UTC, datetime, timedelta
from itertools import permutations

from flows.identity import (
    KnownTitle,
    entry_changed,
    entry_fingerprint,
    follow,
    resolve_exact_duplicates,
)
from schemas.records import FeedEntry
from tests.support.factories import article

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def _entry(**kw):
    base = {"feed_url": "https://planet.test/rss", "guid": "g1", "link": "https://planet.test/a",
            "title": "Talks resume in Doha", "summary": "Delegations met.", "published_at": T0}
    base.update(kw)
    return FeedEntry(**base)


def test_fingerprint_changes_with_what_the_item_says():
    e = _entry()
    assert entry_fingerprint(e) == entry_fingerprint(_entry(tags=["x"], guid="other"))
    assert entry_fingerprint(e) == entry_fingerprint(_entry(summary="  Delegations   met. "))
    for change in ({"published_at": T0 + timedelta(hours=3)}, {"summary": "Delegations met again."},
                   {"title": "Talks resume in Doha (updated)"}, {"content": "Full text"}):
        assert entry_fingerprint(_entry(**change)) != entry_fingerprint(e), change


def test_entry_changed_needs_a_previous_fingerprint():
    e = _entry()
    assert not entry_changed(None, e)
    assert not entry_changed(entry_fingerprint(e), e)
    assert entry_changed(entry_fingerprint(e), _entry(summary="Now with a correction."))


def _copy(i, *, outlet="Planet", title="Talks resume in Doha", when=T0):
    return article(i, outlet=outlet, title=title, title_key=" ".join(title.lower().split()), published=when)


def test_same_outlet_same_title_within_a_week_is_one_article():
    first, second = _copy(1), _copy(2, when=T0 + timedelta(days=2))
    keep, redirect = resolve_exact_duplicates([first, second], [])
    assert [a.article_id for a in keep] == [first.article_id]
    assert redirect == {second.article_id: first.article_id}


def test_batch_result_does_not_depend_on_arrival_order():
    copies = [_copy(1, when=T0 + timedelta(hours=5)), _copy(2), _copy(3, when=T0 + timedelta(days=1))]
    outcomes = set()
    for order in permutations(copies):
        keep, redirect = resolve_exact_duplicates(list(order), [])
        outcomes.add((tuple(a.article_id for a in keep), tuple(sorted(redirect.items()))))
    assert len(outcomes) == 1
    (kept, redirected), = outcomes
    assert kept == (copies[1].article_id,)  # the earliest copy
    assert {v for _, v in redirected} == {copies[1].article_id}


def test_not_duplicates_other_outlet_other_week_other_title():
    base = _copy(1)
    others = [_copy(2, outlet="Other Outlet"), _copy(3, when=T0 + timedelta(days=8)),
              _copy(4, title="Talks collapse in Doha")]
    keep, redirect = resolve_exact_duplicates([base, *others], [])
    assert len(keep) == 4 and redirect == {}


def test_new_article_redirected_to_a_stored_one():
    stored = KnownTitle(article_id="stored-1", outlet="Planet", title_key="talks resume in doha",
                        when=T0 - timedelta(days=1))
    new = _copy(5)
    keep, redirect = resolve_exact_duplicates([new], [stored])
    assert keep == [] and redirect == {new.article_id: "stored-1"}
    assert follow(redirect, new.article_id) == "stored-1"


def test_a_stored_article_is_never_redirected_and_untitled_are_kept():
    a = _copy(6)
    stored = KnownTitle(article_id=a.article_id, outlet="Planet", title_key="talks resume in doha", when=T0)
    keep, redirect = resolve_exact_duplicates([a, article(7, title_key=None)], [stored])
    assert len(keep) == 2 and redirect == {}
