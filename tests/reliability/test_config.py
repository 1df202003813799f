"""Scenario 8 — bad configuration: one line naming the problem, before any work starts.

"Before any work" is checked from the outside: no database, lock or staging file appears, and the
local site that the (otherwise valid) feed list points at receives no request. The cases run as
concurrent subprocesses, since none of them should ever get as far as starting Prefect.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.support.cli import ROOT, child_env, kill_group
from tests.support.http_server import RawServer

#: generous for a loaded 2-core machine; a config error needs no Prefect start-up (which takes longer)
FAST = 20.0


@dataclass
class Case:
    name: str
    args: list[str]
    expect: list[str]  # fragments the one error line must contain
    env: dict[str, str] = field(default_factory=dict)
    code: int = 2


@dataclass
class Outcome:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float


def run_all(cases: list[Case], timeout: float = 60) -> dict[str, Outcome]:
    """Start every case at once; kill (with its process group) any that outlives ``timeout``."""
    started = time.monotonic()
    procs = {c.name: subprocess.Popen([sys.executable, "-m", "newsflow", *c.args], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, cwd=ROOT, env=child_env(**c.env),
                                      start_new_session=True)
             for c in cases}
    out: dict[str, Outcome] = {}
    for name, p in procs.items():
        try:
            stdout, stderr = p.communicate(timeout=max(timeout - (time.monotonic() - started), 1))
        except subprocess.TimeoutExpired:
            kill_group(p)
            stdout, stderr = p.communicate()
        out[name] = Outcome(p.returncode, stdout, stderr, time.monotonic() - started)
    return out


def check(case: Case, got: Outcome) -> list[str]:
    """Everything wrong with one outcome (empty when it held)."""
    problems = []
    lines = [ln for ln in got.stderr.splitlines() if ln.strip()]
    if got.returncode != case.code:
        problems.append(f"exit {got.returncode}, expected {case.code}")
    if "Traceback" in got.stderr:
        problems.append("traceback on stderr")
    if len(lines) != 1:
        problems.append(f"{len(lines)} stderr lines")
    elif not all(f in lines[0] for f in case.expect):
        problems.append(f"line {lines[0]!r} does not name {case.expect}")
    if got.seconds > FAST:
        problems.append(f"took {got.seconds:.1f}s")
    return [f"{case.name}: {p}  [stderr: {got.stderr.strip()[:300]!r}]" for p in problems]


@pytest.fixture
def site() -> Iterator[RawServer]:
    with RawServer() as server:
        server.static("/feed.xml", '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
                      "application/rss+xml")
        yield server


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_bad_configuration_fails_fast_with_one_line_and_does_no_work(site: RawServer, tmp_path: Path) -> None:
    good = tmp_path / "feeds.yaml"
    good.write_text(yaml.safe_dump({"feeds": [{"url": site.url("/feed.xml"), "name": "Local"}]}))
    db = str(tmp_path / "data" / "news.duckdb")

    def feeds_file(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    opml = feeds_file("subs.opml", f'<?xml version="1.0"?><opml version="2.0"><body>'
                                   f'<outline text="x" xmlUrl="{site.url("/feed.xml")}"/></body></opml>')
    blocker = tmp_path / "plainfile"
    blocker.write_text("not a directory")
    a_dir = tmp_path / "a-directory.duckdb"
    a_dir.mkdir()
    ingest = ["ingest", "--feeds", str(good), "--db", db]
    cases = [
        Case("yaml syntax", ["ingest", "--feeds", feeds_file("f1.yaml", "feeds:\n  - url: [unclosed\n"), "--db", db],
             ["f1.yaml", "malformed YAML at line"]),
        Case("feeds not a list", ["ingest", "--feeds", feeds_file("f2.yaml", "feeds: {url: http://x.org/}\n"),
                                  "--db", db], ["f2.yaml", "'feeds' must be a list"]),
        Case("not an http url", ["ingest", "--feeds", feeds_file("f3.yaml", "feeds:\n  - url: ftp://x.org/f\n"),
                                 "--db", db], ["f3.yaml", "feeds[0]", "not an http(s) URL"]),
        Case("misspelt key", ["ingest", "--feeds", feeds_file(
            "f4.yaml", f"feeds:\n  - url: {site.url('/feed.xml')}\n    tgas: [world]\n"), "--db", db],
             ["f4.yaml", "unknown key", "tgas"]),
        Case("empty feed list", ["ingest", "--feeds", feeds_file("f5.yaml", "feeds: []\n"), "--db", db],
             ["f5.yaml", "no feeds"]),
        Case("missing feed list", ["ingest", "--feeds", str(tmp_path / "nope.yaml"), "--db", db],
             ["nope.yaml", "not found"]),
        Case("OPML given as the feed list", ["ingest", "--feeds", opml, "--db", db], ["subs.opml"]),
        Case("workers not a number", ingest, ["NEWSFLOW_WORKERS", "abc"], env={"NEWSFLOW_WORKERS": "abc"}),
        Case("boolean not a boolean", ingest, ["NEWSFLOW_ALLOW_PRIVATE_NETWORKS", "maybe"],
             env={"NEWSFLOW_ALLOW_PRIVATE_NETWORKS": "maybe"}),
        Case("negative timeout", ingest, ["NEWSFLOW_FEED_TIMEOUT"], env={"NEWSFLOW_FEED_TIMEOUT": "-5"}),
        Case("out-of-range redirects", ingest, ["NEWSFLOW_MAX_REDIRECTS"], env={"NEWSFLOW_MAX_REDIRECTS": "1000"}),
        Case("db under a file", ["ingest", "--feeds", str(good), "--db", str(blocker / "sub" / "news.duckdb")],
             ["database path", str(blocker)]),
        Case("db is a directory", ["ingest", "--feeds", str(good), "--db", str(a_dir)], ["database path", str(a_dir)]),
        Case("db setting is a directory", ["ingest", "--feeds", str(good)], ["database path", str(a_dir)],
             env={"NEWSFLOW_DB": str(a_dir)}),
        Case("backfill batch size 0", ["backfill", str(tmp_path), "--db", db], ["NEWSFLOW_BATCH_SIZE"],
             env={"NEWSFLOW_BATCH_SIZE": "0"}),
        Case("backfill missing archive", ["backfill", str(tmp_path / "no-archive"), "--db", db],
             ["archive path not found", "no-archive"]),
    ]
    before = _tree(tmp_path)
    results = run_all(cases)
    problems = [p for c in cases for p in check(c, results[c.name])]
    assert not problems, "\n".join(problems)
    assert site.hits == [], f"work started: the site was asked for {[h.path for h in site.hits]}"
    assert _tree(tmp_path) == before, f"files appeared: {_tree(tmp_path) - before}"


def test_malformed_opml_import_is_one_line_and_leaves_the_feed_list_alone(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: https://news.example.org/world.xml\n    name: World\n")
    digest = hashlib.sha256(feeds.read_bytes()).hexdigest()
    docs = {
        "broken.opml": b'<?xml version="1.0"?><opml version="2.0"><body><outline text="a" xmlUrl="http://a.org/f">',
        "entities.opml": b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
                         b'<opml version="2.0"><body><outline text="&b;" xmlUrl="http://a.org/f"/></body></opml>',
        "not-opml.opml": b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
        "empty.opml": b"",
        "bad-url.opml": b'<?xml version="1.0"?><opml version="2.0"><body>'
                        b'<outline text="x" xmlUrl="javascript:alert(1)"/></body></opml>',
    }
    cases = []
    for name, data in docs.items():
        (tmp_path / name).write_bytes(data)
        cases.append(Case(name, ["feeds", "import", str(tmp_path / name), "--feeds", str(feeds)], [name]))
    cases.append(Case("missing.opml", ["feeds", "import", str(tmp_path / "missing.opml"), "--feeds", str(feeds)],
                      ["missing.opml"]))
    results = run_all(cases)
    problems = [p for c in cases for p in check(c, results[c.name])]
    assert not problems, "\n".join(problems)
    assert hashlib.sha256(feeds.read_bytes()).hexdigest() == digest


def test_existing_file_that_is_not_a_database_is_refused_before_work(site: RawServer, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [site.url("/feed.xml")]}))
    db = tmp_path / "notes.duckdb"
    db.write_text("my notes, not a database\n")
    case = Case("db is not a DuckDB file", ["ingest", "--feeds", str(feeds), "--db", str(db)],
                ["database", str(db)])
    got = run_all([case], timeout=8)[case.name]  # a fixed check answers in ~1 s; do not wait for a run
    assert site.hits == [], "the feeds were polled before the database was checked"
    assert not check(case, got), check(case, got)
    assert db.read_text() == "my notes, not a database\n"
