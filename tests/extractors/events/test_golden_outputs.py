"""The coder's and the sketch's outputs on the seed archive and generated texts equal the golden
file written by ``python -m tests.extractors.events.golden write`` (regenerate it deliberately,
and review the diff, when a rule or data file changes the outputs on purpose)."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.extractors.events.golden import GOLDEN, compact, golden_inputs, snapshot

GOLDEN_ENTRIES = json.loads(GOLDEN.read_text(encoding="utf-8"))
INPUTS = dict(golden_inputs())


@pytest.mark.parametrize("entry", GOLDEN_ENTRIES, ids=lambda e: e["name"])
def test_outputs_equal_the_golden_file(entry: dict) -> None:
    text = INPUTS[entry["name"]]
    assert hashlib.sha1(text.encode("utf-8")).hexdigest() == entry["input_sha1"], "input text changed: regenerate"
    got = {"input_sha1": entry["input_sha1"], **compact(snapshot(entry["name"], text))}
    for part in sorted(set(got) | set(entry)):
        assert got.get(part) == entry.get(part), f"{entry['name']}: {part} differs from the golden file"


def test_golden_file_covers_every_input() -> None:
    assert [e["name"] for e in GOLDEN_ENTRIES] == list(INPUTS)
