"""The one place where failures are classified.

Every failure carries a fixed reason string. Its class decides what happens next:
``transient`` failures are retried (and the feed is backed off), ``permanent`` ones are
rejected to the ``rejects`` table with that reason.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

ReasonClass = Literal["transient", "permanent"]


class Reason(StrEnum):
    # network / HTTP
    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect_error"
    CONNECTION_RESET = "connection_reset"
    SERVER_ERROR = "http_5xx"
    RATE_LIMITED = "http_429"
    NOT_FOUND = "http_404"
    GONE = "http_410"
    CLIENT_ERROR = "http_4xx"
    UNEXPECTED_STATUS = "http_unexpected_status"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"
    BLOCKED_ADDRESS = "blocked_address"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    INVALID_URL = "invalid_url"
    DNS_ERROR = "dns_error"
    ROBOTS_DISALLOWED = "robots_disallowed"
    BAD_CONTENT_TYPE = "bad_content_type"
    DECODING_ERROR = "decoding_error"
    # feed documents
    NOT_A_FEED = "not_a_feed"
    EMPTY_BODY = "empty_body"
    FEED_PARSE_ERROR = "feed_parse_error"
    BACKOFF = "backoff"
    # entries and pages
    NO_LINK = "no_link"
    NO_TEXT = "no_text"
    BLOCK_PAGE = "block_page"
    INVALID_RECORD = "invalid_record"
    EXTRACTION_ERROR = "extraction_error"
    # archives
    CORRUPT_ARCHIVE = "corrupt_archive"
    BINARY_FILE = "binary_file"
    UNSUPPORTED_FORMAT = "unsupported_format"
    # warehouse / internal
    DB_LOCKED = "db_locked"
    INTERNAL = "internal_error"


TRANSIENT: frozenset[Reason] = frozenset(
    {
        Reason.TIMEOUT,
        Reason.CONNECT_ERROR,
        Reason.CONNECTION_RESET,
        Reason.SERVER_ERROR,
        Reason.RATE_LIMITED,
        Reason.DNS_ERROR,
        Reason.DB_LOCKED,
    }
)


def reason_class(reason: Reason) -> ReasonClass:
    return "transient" if reason in TRANSIENT else "permanent"


def is_transient(reason: Reason) -> bool:
    return reason in TRANSIENT


def reason_for_status(status: int) -> Reason | None:
    """Map an HTTP status to a failure reason; ``None`` means the status is a success."""
    if 200 <= status < 300 or status == 304:
        return None
    if status == 404:
        return Reason.NOT_FOUND
    if status == 410:
        return Reason.GONE
    if status == 429:
        return Reason.RATE_LIMITED
    if status in (408,):
        return Reason.TIMEOUT
    if 500 <= status < 600:
        return Reason.SERVER_ERROR
    if 400 <= status < 500:
        return Reason.CLIENT_ERROR
    return Reason.UNEXPECTED_STATUS


class PipelineError(Exception):
    """A classified failure. ``retry_after`` (seconds) comes from a server's Retry-After."""

    def __init__(self, reason: Reason, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(f"{reason.value}: {message}" if message else reason.value)
        self.reason = reason
        self.message = message or reason.value
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return is_transient(self.reason)

    @property
    def reason_class(self) -> ReasonClass:
        return reason_class(self.reason)
