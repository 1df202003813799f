"""schemas/failures.py: one classified failure type and the HTTP status mapping."""

from __future__ import annotations

import pytest

from schemas.failures import PipelineError, Reason, is_transient, reason_class, reason_for_status


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (200, None), (204, None), (304, None),
        (404, Reason.NOT_FOUND), (410, Reason.GONE), (429, Reason.RATE_LIMITED), (408, Reason.TIMEOUT),
        (500, Reason.SERVER_ERROR), (503, Reason.SERVER_ERROR), (403, Reason.CLIENT_ERROR),
        (301, Reason.UNEXPECTED_STATUS), (100, Reason.UNEXPECTED_STATUS),
    ],
)
def test_reason_for_status(status: int, reason: Reason | None) -> None:
    assert reason_for_status(status) == reason


def test_transient_reasons_are_the_ones_worth_retrying() -> None:
    transient = {r for r in Reason if is_transient(r)}
    assert transient == {Reason.TIMEOUT, Reason.CONNECT_ERROR, Reason.CONNECTION_RESET, Reason.SERVER_ERROR,
                         Reason.RATE_LIMITED, Reason.DNS_ERROR, Reason.DB_LOCKED}
    assert reason_class(Reason.NOT_FOUND) == "permanent"


def test_pipeline_error_carries_reason_message_and_retry_after() -> None:
    err = PipelineError(Reason.RATE_LIMITED, "slow down", retry_after=12.0)
    assert (str(err), err.message, err.retry_after, err.transient, err.reason_class) == (
        "http_429: slow down", "slow down", 12.0, True, "transient")
    bare = PipelineError(Reason.NO_TEXT)
    assert (str(bare), bare.message, bare.retry_after, bare.transient) == ("no_text", "no_text", None, False)
