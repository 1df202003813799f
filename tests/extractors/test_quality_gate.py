"""Extraction quality gate on trafilatura's evaluation corpus (990 real pages).

The corpus lives outside the project (``../shared/corpora/trafilatura-eval``) and is never
committed; without it the gate is skipped with a message. With it, plain
``trafilatura.extract`` and our full path are scored in the same run on the same decoded
input, and ours must stay above the pinned floors, keep trafilatura's recall (the cleaner may
only remove boilerplate) and beat its precision.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.support.evalscore import PageScore, Totals, normalize_ws, score, score_page

FLOORS = Path(__file__).with_name("quality_floors.json")


def test_score_counts_snippets_with_normalised_whitespace() -> None:
    assert score("Hello   big\nworld. Footer", ["big world", "missing"], ["Footer", "absent"]) == (1, 1, 1, 1)
    assert score(None, ["a", "b"], ["c"]) == (0, 2, 0, 1)
    assert score("", ["a"], []) == (0, 1, 0, 0)
    assert normalize_ws(" a \t b\n") == "a b"
    totals = Totals()
    totals.add((3, 1, 1, 5))
    assert totals.precision == 0.75 and totals.recall == 0.75 and totals.f1 == 0.75


@pytest.mark.quality
def test_quality_gate(shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = shared_dir / "corpora" / "trafilatura-eval"
    index = corpus / "evaldata.json"
    if not index.is_file():
        pytest.skip(f"quality gate skipped: evaluation corpus not found at {corpus}")
    data = json.loads(index.read_text(encoding="utf-8"))
    items = [
        (url, str(corpus / entry["file"]), entry["with"], entry["without"]) for url, entry in data.items()
    ]

    # spawn: workers start clean instead of forking a test process that may hold threads
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pages: list[PageScore] = list(pool.map(score_page, items, chunksize=10))

    plain, ours = Totals(), Totals()
    for page in pages:
        plain.add(page.plain)
        ours.add(page.ours)
    report = {
        "pages": len(pages),
        "trafilatura": plain.as_dict(),
        "ours": ours.as_dict(),
        "blocked_pages": [page.url for page in pages if page.blocked],
    }
    report_path = tmp_path / "quality_report.json"
    report_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    with capsys.disabled():
        print(f"\nextraction quality on {len(pages)} pages (report: {report_path})")
        for name, totals in (("trafilatura.extract", plain), ("newsflow extract_html", ours)):
            print(f"  {name:<22} P {totals.precision:.4f}  R {totals.recall:.4f}  F1 {totals.f1:.4f}")

    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    assert len(pages) == len(data)
    assert ours.precision >= floors["precision"], report
    assert ours.recall >= floors["recall"], report
    assert ours.f1 >= floors["f1"], report
    assert ours.recall >= plain.recall - floors["max_recall_drop_vs_trafilatura"], report
    assert ours.precision >= plain.precision, report
