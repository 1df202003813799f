"""Offline language identification."""

from __future__ import annotations

import pytest

from extractors.content import language
from extractors.content.language import detect_language

SAMPLES = {
    "en": "The council approved the new budget on Tuesday after a long debate about schools and roads.",
    "de": "Der Stadtrat hat am Dienstag nach langer Debatte den neuen Haushalt für Schulen und Straßen beschlossen.",
    "fr": "Le conseil municipal a adopté mardi le nouveau budget après un long débat sur les écoles et les routes.",
    "es": "El ayuntamiento aprobó el martes el nuevo presupuesto tras un largo debate sobre escuelas y carreteras.",
    "ru": "Городской совет во вторник утвердил новый бюджет после долгих споров о школах и дорогах.",
}


@pytest.mark.parametrize(("code", "text"), sorted(SAMPLES.items()))
def test_detects_common_languages(code: str, text: str) -> None:
    assert detect_language(text) == code


@pytest.mark.parametrize("text", [None, "", "   ", "OK", "12 345 678 / 2024-01-02", "Newsfeed"])
def test_too_short_or_letterless_text_is_unknown(text: str | None) -> None:
    assert detect_language(text) is None


def test_long_text_is_sampled_and_still_detected() -> None:
    text = "Subscribe Share Tweet " * 5 + SAMPLES["de"] * 200
    assert detect_language(text) == "de"


def test_model_is_loaded_once_and_cached() -> None:
    detect_language(SAMPLES["en"])
    first = language._get_identifier()
    assert first is not None
    detect_language(SAMPLES["fr"])
    assert language._get_identifier() is first
