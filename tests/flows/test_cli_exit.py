"""The CLI ends a flow command with ``os._exit`` (no interpreter teardown): nothing may be lost.

A real ``newsflow ingest`` in a child process against this session's Prefect API and a real
local news site, then: the run's state and its last log lines are in the API, the warehouse has
the run's rows with nothing left in a WAL, the search index has the new story, and the exit
handlers ran while the teardown did not. ``main([...])`` called in-process returns instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import yaml

from tests.flows.site import Site, article_page, load_stories, rss
from tests.support.cli import child_env
from tests.support.dbrows import rows as _rows

pytestmark = pytest.mark.usefixtures("prefect_harness")

# the program as the console script runs it (``sys.exit(main())``), with two witnesses: an exit
# handler (must run) and an object finalised only by the interpreter's teardown (must not)
_PROGRAM = """
import atexit, sys
from pathlib import Path

marker = Path(sys.argv.pop(1))


class Teardown:
    def __del__(self):
        with marker.open("a") as f:
            f.write("teardown;")


witness = Teardown()
atexit.register(lambda: marker.open("a").write("atexit;"))
from newsflow.cli import main

sys.exit(main())
"""


def _processes_tagged(tag: str) -> list[int]:
    """Live processes whose environment holds NEWSFLOW_TEST_EXIT_TAG=tag."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if f"NEWSFLOW_TEST_EXIT_TAG={tag}".encode() in env.split(b"\0"):
            found.append(int(entry.name))
    return found


def _describe(pids: list[int]) -> list[str]:
    """pid, parent and command line of each process, for the failure message."""
    out = []
    for pid in pids:
        try:
            stat = (Path("/proc") / str(pid) / "stat").read_text()
            cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            out.append(f"{pid} (gone)")
            continue
        out.append(f"{pid} ppid {stat.rsplit(')', 1)[1].split()[1]} state {stat.rsplit(')', 1)[1].split()[0]}: {cmd[:200]}")
    return out


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def test_a_flow_command_exits_fast_and_loses_nothing(site: Site, tmp_path: Path, db_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from flows.ingest import hourly_ingest
    from warehouse import search

    monkeypatch.setenv("NEWSFLOW_RETRIES", "0")
    stories = load_stories()
    for s in stories[:2]:
        site.static(f"/news/{s['slug']}", article_page(s), "text/html; charset=utf-8")
    link = {s["slug"]: f"{site.base}/news/{s['slug']}" for s in stories[:2]}
    site.static("/rss.xml", rss([(stories[0], link[stories[0]["slug"]])]), "application/rss+xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"url": f"{site.base}/rss.xml", "name": "herald"}]}))
    assert hourly_ingest(feeds_file=str(feeds), db=str(db_path))["articles_new"] == 1
    # a second story: the command polls (early, in its own child), fetches, extracts, loads, indexes
    site.static("/rss.xml", rss([(s, link[s["slug"]]) for s in stories[:2]]), "application/rss+xml")
    n_log = len(site.log)
    marker = tmp_path / "exit-marker"
    tag = f"{uuid4().hex}"
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([sys.executable, "-c", _PROGRAM, str(marker), "-v", "ingest", "--feeds", str(feeds),
                                 "--db", str(db_path)], stdout=o, stderr=e, text=True,
                                env=child_env(PREFECT_API_URL=_api_url(), NEWSFLOW_TEST_EXIT_TAG=tag))
        rc = proc.wait(timeout=240)
    # the extraction pool's fork server (it carries the command's environment) ended with the command
    left = _processes_tagged(tag)
    assert not left, f"the fork server outlived the command (and its stdout and stderr): {_describe(left)}"
    stdout, stderr = out.read_text(), err.read_text()
    assert rc == 0, stderr[-3000:]
    assert "pages fetched: 1; new articles: 1 " in stdout, stdout  # the summary, flushed before the exit
    assert marker.read_text() == "atexit;", "the exit handlers must run and the teardown must not"
    assert [p for p, _ in site.log[n_log:]].count("/rss.xml") == 1, "the early poll's outcomes were not used"

    # the warehouse: both stories, the run completed, every commit in the file itself
    assert _rows(db_path, "SELECT count(*) FROM articles") == [(2,)]
    run_id, status = _rows(db_path, "SELECT run_id, status FROM runs ORDER BY started_at DESC LIMIT 1")[0]
    assert status == "completed"
    assert not [p.name for p in db_path.parent.iterdir() if p.name.endswith(".wal")]
    # the search index: the new story was committed before the process ended
    hits = search.search(search.index_dir_for(db_path), "grain corridor exporters", db=db_path)
    assert stories[1]["title"] in [h.title for h in hits.hits]

    # Prefect: the flow run's final state and its last log lines reached the API
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(run_id))
        assert run.state is not None and run.state.is_completed(), run.state
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[UUID(run_id)])))
    messages = [lg.message for lg in logs]
    assert any("Finished in state Completed" in m for m in messages), messages[-5:]


def test_main_called_in_process_returns_after_a_flow(site: Site, tmp_path: Path, db_path: Path) -> None:
    from newsflow import cli

    site.static("/rss.xml", rss([], title="empty"), "application/rss+xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"url": f"{site.base}/rss.xml", "name": "empty"}]}))
    assert cli.main(["ingest", "-q", "--feeds", str(feeds), "--db", str(db_path)]) == 0
    assert cli._ran_flow  # a flow ran, and the process is still here
    assert _rows(db_path, "SELECT status FROM runs") == [("completed",)]
