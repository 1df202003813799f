"""The early poll in a forked child: what it sends back, when it may fork, and a child that dies.

The fork itself is exercised in fresh child processes (as the CLI starts it: no thread running,
Prefect not imported); the pytest process has threads of its own, so here only the plain parts
run in-process.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from werkzeug.wrappers import Request, Response

from tests.flows.site import Site, load_stories, rss
from tests.support.cli import child_env
from tests.support.dbrows import rows as _rows

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _feeds_file(tmp_path: Path, urls: list[str]) -> Path:
    p = tmp_path / "feeds.yaml"
    p.write_text(yaml.safe_dump({"feeds": [{"url": u, "name": u.rsplit("/", 1)[-1]} for u in urls]}))
    return p


def _python(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """Run ``code`` in a fresh interpreter; its last stdout line is JSON."""
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env or child_env(), timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_outcomes_cross_the_pipe_as_they_were(site: Site, tmp_path: Path) -> None:
    """Every kind of outcome (answered, failed with a reason, skipped while backing off) comes out
    of encode/decode equal, against the parent's own specs and states."""
    from extractors.sources.feedlist import load_feed_list
    from flows.poll import decode_outcomes, default_state, encode_outcomes, poll_all
    from schemas.records import utcnow
    from schemas.settings import load_settings

    stories = load_stories()
    site.static("/rss.xml", rss([(stories[0], f"{site.base}/news/a")]), "application/rss+xml")
    feeds = _feeds_file(tmp_path, [f"{site.base}/rss.xml", f"{site.base}/gone.xml", f"{site.base}/resting.xml"])
    settings = load_settings(db=tmp_path / "x.duckdb", feeds_file=feeds)
    specs = load_feed_list(feeds)
    resting = default_state(specs[2], {}).model_copy(update={"backoff_until": utcnow() + timedelta(hours=1)})
    states = {specs[2].url: resting}
    polled = poll_all(specs, states, settings)
    assert polled[0].result is not None and polled[0].result.status == 200
    assert polled[1].error is not None and polled[2].skipped

    back = decode_outcomes(pickle.loads(pickle.dumps(encode_outcomes(polled))), specs, states)
    for was, now in zip(polled, back, strict=True):
        assert (now.spec, now.state, now.result, now.skipped) == (was.spec, was.state, was.result, was.skipped)
        assert (None if was.error is None else (was.error.reason, was.error.message, was.error.retry_after, str(was.error))) \
            == (None if now.error is None else (now.error.reason, now.error.message, now.error.retry_after, str(now.error)))
    assert back[0].result is not None and back[0].result.body == polled[0].result.body  # type: ignore[union-attr]
    with pytest.raises(ValueError):  # outcomes for another feed list are refused, not misassigned
        decode_outcomes(encode_outcomes(polled)[:2], specs, states)


def test_a_child_message_is_used_only_whole() -> None:
    from flows.poll import DONE, FAILED, TICK, read_child_message

    rows = [("skipped",)]
    payload = pickle.dumps(rows)
    whole = TICK * 3 + DONE + len(payload).to_bytes(8, "big") + payload
    ticks: list[int] = []
    assert read_child_message(whole, lambda: ticks.append(1)) == rows
    assert len(ticks) == 3
    for bad in (whole[:-1], TICK * 2, b"", FAILED + (4).to_bytes(8, "big") + b"boom"):
        with pytest.raises(ValueError):
            read_child_message(bad, None)


def test_the_poll_forks_only_before_prefect_and_threads() -> None:
    assert not __import__("flows.poll", fromlist=["x"]).fork_is_safe()  # here: Prefect and threads run
    code = """
import json, threading, time
import flows.poll as p
alone = p.fork_is_safe()
t = threading.Thread(target=time.sleep, args=(0.5,)); t.start()
with_thread = p.fork_is_safe()
t.join()
import prefect
print(json.dumps([alone, with_thread, p.fork_is_safe()]))
"""
    assert _python(code) == [sys.platform.startswith("linux"), False, False]


_FORKED_POLL = """
import json, os, signal, sys
from pathlib import Path
from extractors.sources.feedlist import load_feed_list
from flows.poll import start_early_poll
from schemas.settings import load_settings

db, feeds, kill = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "kill"
settings = load_settings(db=db, feeds_file=feeds)
specs = load_feed_list(feeds)
early = start_early_poll(settings, specs)
assert early is not None and early.mode == "fork" and early.pid not in (None, os.getpid()), early.mode
if kill:
    os.kill(early.pid, signal.SIGKILL)
got = early.outcomes()
out = {"outcomes": None if got is None else [[o.spec.url, o.result.status if o.result else None,
                                              bool(o.result and o.result.not_modified)] for o in got]}
import flows.ingest as fi  # Prefect comes in only now, as in the CLI
fi.early_poll = early
summary = fi.hourly_ingest(feeds_file=str(feeds), db=str(db))
out.update(feeds_ok=summary["feeds_ok"], feeds_unchanged=summary["feeds_unchanged"],
           articles_new=summary["articles_new"], taken=fi.early_poll is None)
print(json.dumps(out))
"""


def _empty_feeds(site: Site, tmp_path: Path, n: int) -> Path:
    for i in range(n):
        site.static(f"/f{i}.xml", rss([], title=f"Feed {i}"), "application/rss+xml")
    return _feeds_file(tmp_path, [f"{site.base}/f{i}.xml" for i in range(n)])


def _api_env() -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return child_env(PREFECT_API_URL=str(PREFECT_API_URL.value()))


def test_a_forked_early_poll_is_what_the_flow_uses(site: Site, tmp_path: Path, db_path: Path) -> None:
    from flows.ingest import hourly_ingest

    feeds = _empty_feeds(site, tmp_path, 3)
    hourly_ingest(feeds_file=str(feeds), db=str(db_path))  # the stored states the next poll starts from
    n_log = len(site.log)
    got = _python(_FORKED_POLL, str(db_path), str(feeds), "keep", env=_api_env())
    # the child's conditional GETs came back whole (the stored ETags matched: 304)
    assert got["outcomes"] == [[f"{site.base}/f{i}.xml", 304, True] for i in range(3)]
    assert got["feeds_unchanged"] == 3 and got["taken"]
    assert sorted(p for p, _ in site.log[n_log:]) == ["/f0.xml", "/f1.xml", "/f2.xml"], \
        "the flow polled again although the child's poll was current"


def test_a_killed_child_leaves_the_poll_to_the_flow(site: Site, tmp_path: Path, db_path: Path) -> None:
    from flows.ingest import hourly_ingest

    feeds = _empty_feeds(site, tmp_path, 2)
    hourly_ingest(feeds_file=str(feeds), db=str(db_path))
    # the child's request for /f1.xml is held until the flow's own request for it comes: the
    # child cannot have finished before it is killed
    served = site.routes["/f1.xml"]
    flow_came = threading.Event()
    calls: list[int] = []

    def held(req: Request) -> Response:
        calls.append(1)
        if len(calls) == 1:
            flow_came.wait(60)
        else:
            flow_came.set()
        return served(req)

    site.routes["/f1.xml"] = held
    got = _python(_FORKED_POLL, str(db_path), str(feeds), "kill", env=_api_env())
    assert got["outcomes"] is None
    assert len(calls) == 2, "the flow did not poll the feed itself"
    assert (got["feeds_ok"] + got["feeds_unchanged"], got["articles_new"]) == (2, 0)
    assert _rows(db_path, "SELECT count(*) FROM runs WHERE status = 'completed'") == [(2,)]
    assert _rows(db_path, "SELECT count(*) FROM feeds WHERE last_http_status = 304") == [(2,)]
    assert not [p for p in os.listdir(db_path.parent) if p.endswith(".wal")]
