from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.flows.site import Site


@pytest.fixture
def site() -> Iterator[Site]:
    """A threaded real HTTP server on 127.0.0.1 routing every path through a Site."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    s = Site(base=f"http://127.0.0.1:{server.port}")
    server.expect_request(re.compile(".*")).respond_with_handler(s.handler)
    try:
        yield s
    finally:
        server.clear()
        server.stop()
