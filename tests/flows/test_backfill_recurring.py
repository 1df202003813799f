"""Backfill's first pass: each source's recurring lines, learnt from its text dumps (issue 12).

Plain functions, no flow run: ``learn_recurring`` reads the archives, ``_job_for`` hands the
record's source lines to the extraction job, and the text path drops them.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from extractors.content.textdump import extract_text_dump
from extractors.sources.archives import ArchiveRecord, discover, iter_records
from flows.backfill import _job_for, learn_recurring
from schemas.settings import Settings

APPEAL = "Every contribution, however small, keeps our reporters on the beat in your town."


def _story(i: int) -> list[str]:
    return [
        f"The council in town number {i} voted on Tuesday night to restore its pier after a long campaign.",
        f"Members approved plan {i} by a wide margin, and work is expected to begin early next spring.",
        APPEAL,
        f"Engineers said structure {i} could be made safe, although some of its timber must be replaced.",
        f"Campaigners in town {i}, who had collected thousands of signatures, welcomed the decision.",
    ]


def _write_site(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        lines = [f"Pier number {i} will be restored", *_story(i), "Coast News © 2026"]
        (folder / f"{i:03}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_first_pass_learns_each_folders_recurring_lines(tmp_path: Path) -> None:
    _write_site(tmp_path / "coast", 5)
    _write_site(tmp_path / "pair", 2)  # two documents prove nothing
    learnt = learn_recurring([str(tmp_path)], None)
    coast = learnt.lines(f"folder:{tmp_path / 'coast'}")
    assert APPEAL in coast and "Coast News © 2026" in coast
    assert not any("town number" in line for line in coast)
    assert learnt.lines(f"folder:{tmp_path / 'pair'}") == frozenset()


def test_jsonl_sources_are_outlets_or_hosts_and_html_records_get_nothing(tmp_path: Path) -> None:
    records = [{"url": f"https://www.coast.example/{i}", "title": f"Pier number {i} will be restored",
                "text": "\n".join(_story(i))} for i in range(4)]
    records.append({"url": "https://www.coast.example/page", "html": "<p>" + APPEAL + "</p>"})
    path = tmp_path / "records.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in records))
    learnt = learn_recurring([str(path)], None)
    assert APPEAL in learnt.lines("host:coast.example")
    assert APPEAL in learn_recurring([str(path)], "Coast News").lines("outlet:Coast News")

    settings = Settings()
    jobs = [
        _job_for(rec, "run", None, settings, learnt)
        for file in discover([path])
        for rec in iter_records(file)
        if isinstance(rec, ArchiveRecord)
    ]
    text_jobs = [job for job in jobs if job.text is not None]
    assert len(text_jobs) == 4 and all(job.recurring_lines and APPEAL in job.recurring_lines for job in text_jobs)
    assert [job.recurring_lines for job in jobs if job.html is not None] == [None]
    doc = extract_text_dump(text_jobs[0].text or "", tolerance_hours=24.0, recurring=text_jobs[0].recurring_lines)
    assert APPEAL not in doc.text and "voted on Tuesday night" in doc.text
