"""Smoke tests of the benchmark suite: every benchmark runs end to end at a tiny size.

They prove the plumbing (generated archives, the local news web, flow runs in child
processes, result files, the RESULTS.md table); they assert counts that a broken pipeline
or benchmark would get wrong, never timings.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench import report
from bench.corpus import make_page, write_archive
from bench.newsserver import Layout


def _api_url() -> str:
    import prefect.settings

    url = prefect.settings.PREFECT_API_URL.value()
    assert url, "the Prefect harness should have set an API URL"
    return str(url)


def test_generated_pages_differ_and_archive_reads_back(tmp_path: Path) -> None:
    from extractors.sources.archives import ArchiveRecord, iter_records

    pages = [make_page(i) for i in range(5)]
    assert len({p.url for p in pages}) == 5 and len({p.title for p in pages}) > 1
    assert make_page(3).html == pages[3].html  # deterministic in the index
    path = write_archive(tmp_path, 12, "warc", start=40, workers=2)
    recs = [r for r in iter_records(path) if isinstance(r, ArchiveRecord)]
    assert len(recs) == 12
    assert [r.url for r in recs] == [make_page(i).url for i in range(40, 52)]
    assert len({r.record_id for r in recs}) == 12


def test_extraction_benchmark_runs_and_skips_without_corpus(tmp_path: Path) -> None:
    from bench import extraction

    corpus = tmp_path / "corpus"
    (corpus / "pages").mkdir(parents=True)
    for i in range(3):
        (corpus / "pages" / f"p{i}.html.gz").write_bytes(gzip.compress(make_page(i).html.encode()))
    out = tmp_path / "results"
    data = extraction.run(corpus=corpus, results_dir=out)
    assert data["pages"] == 3 and data["articles"] == 3
    assert data["ratio_ours_raw"] > 0 and data["cpu_s"]["ours"] > 0
    stages = data["stages_ms_per_page"]
    assert "trafilatura.bare_extraction" in stages
    # the stages added since issue 5 are in the stage pass, for HTML and for the text-dump path
    for label in ("dedup sketch (sketch_for)", "events (enrich_article)", "text dump: line model (refine)",
                  "text dump: events (enrich_article)", "text dump: dedup sketch (sketch_for)"):
        assert stages[label] > 0, label
    saved = json.loads((out / "extraction.json").read_text())
    assert saved["benchmark"] == "extraction" and saved["machine"]["cores"] >= 1

    skipped = extraction.run(corpus=tmp_path / "missing", results_dir=out)
    assert skipped["skipped"] is True


def test_warehouse_benchmark_small(tmp_path: Path) -> None:
    from bench import warehouse

    data = warehouse.run(workdir=tmp_path / "w", upsert_rows=300, query_rows=3000, results_dir=tmp_path / "r")
    up = data["upsert"]
    assert up["upsert_new"] == 300 and up["reupsert_new"] == 0
    q = data["queries"]
    assert q["one article by id (articles)"]["rows"] == 1
    assert q["top sources last 7 days"]["rows"] > 0
    assert q["daily counts per outlet (v_daily_counts, all)"]["rows"] > 0


def test_politeness_bound_counts_the_busiest_host() -> None:
    from bench.busy_hour import politeness_bound

    layout = Layout(feeds=4, items=10, hosts=2, latency=0.05, slow_hosts=1, slow_latency=1.0)
    b = politeness_bound(layout, delay=0.5, per_host=2, global_cap=32)
    # each host: 2 feeds + 20 pages + robots = 23 requests; the slow one is latency-bound
    assert b["busiest_host_s"] == pytest.approx(max(22 * 0.5, 23 * 1.0 / 2) + 1.0)
    assert b["fetch_bound_s"] >= b["busiest_host_s"]


@pytest.mark.integration
def test_flow_benchmarks_small(tmp_path: Path, prefect_harness: None) -> None:
    from bench import backfill, busy_hour, memory, quiet_hour

    api = _api_url()
    out = tmp_path / "results"
    bf = backfill.run(workdir=tmp_path / "bf", api_url=api, pages=12, raw_sample=4, results_dir=out)
    assert bf["pages"] == 12 and bf["articles"] == 12 and bf["rejected"] == 0
    assert bf["limit_pages_per_s"] > 0 and bf["ratio"] is not None and bf["peak_rss_mib"] > 0
    # the three archive kinds, each its own backfill of the same pages
    assert list(bf["formats"]) == ["warc", "dir", "text"] and bf["archive_format"] == "warc"
    for kind in ("dir", "text"):
        f = bf["formats"][kind]
        assert (f["pages"], f["articles"], f["rejected"]) == (12, 12, 0), (kind, f)
        # at 12 pages start-up dominates the CPU per article, so taking the stages' few ms off can
        # vanish in the ratios' rounding to 3 decimals (0.044 both ways): never lower, though
        assert f["new_stages_ms_per_article"]["events_ms"] > 0 and f["cpu_ratio_without_new_stages"] >= f["cpu_ratio"]

    archive = next((tmp_path / "bf" / "archive").glob("pages-0-12*"))
    mem = memory.run(workdir=tmp_path / "mem", api_url=api, small=12, large=20, small_archive=archive,
                     small_result=bf, results_dir=out)
    assert mem["large_pages"] == 20 and mem["runs"]["large"]["articles"] == 20
    assert mem["large_peak_rss_mib"] > 0

    busy = busy_hour.run(workdir=tmp_path / "busy", api_url=api, feeds=4, items=2, hosts=2, slow_hosts=1,
                         slow_latency=0.1, per_host_delay=0.0, results_dir=out)
    assert busy["articles"] == 8 and busy["requests"].get("page") == 8
    assert busy["phases_s"]["extract_pages"] > 0 and busy["bound_s"] > 0
    # the news server's CPU is read from its process: counted into the run's whole CPU
    assert busy["news_server_cpu_s"] is not None and busy["news_server_cpu_s"] >= 0
    assert busy["all_cpu_s"] >= busy["extract_workers_cpu_s"] + busy["main_cpu_s"] + busy["news_server_cpu_s"] - 0.01

    quiet = quiet_hour.run(workdir=tmp_path / "quiet", api_url=api, feeds=6, items=1, hosts=3,
                           per_host_delay=0.0, cli=False, results_dir=out)
    assert quiet["page_requests"] == 0
    assert quiet["requests"].get("feed_304", 0) == 3 and quiet["requests"].get("feed", 0) == 3
    assert quiet["new_rows"]["runs"] == 1 and quiet["rows_written_besides_run"] == 0

    md = report.write_results_md(out, tmp_path / "RESULTS.md")
    text = md.read_text()
    for label in ("2 backfill throughput", "3 busy hour", "4 quiet hour", "6 memory", "HTML files, end to end",
                  "text dumps, end to end", "WARC, end to end"):
        assert label in text


def test_report_keeps_the_analysis_around_the_table(tmp_path: Path) -> None:
    md = tmp_path / "RESULTS.md"
    md.write_text(f"# Results\n\nintro\n\n{report.START}\nold\n{report.END}\n\n## Analysis\nkept\n")
    (tmp_path / "r").mkdir()
    report.write_results_md(tmp_path / "r", md)
    text = md.read_text()
    assert "old" not in text and "## Analysis\nkept" in text and "| benchmark |" in text


def test_sizes_come_from_flags_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.__main__ import parse

    monkeypatch.setenv("BENCH_PAGES", "77")
    args = parse(["--only", "backfill", "--memory-pages", "99"])
    assert args.pages == 77 and args.memory_pages == 99 and args.only == "backfill"


def test_search_benchmark_counts_agree_with_the_scan(tmp_path: Path) -> None:
    from bench import search

    out = tmp_path / "results"
    data = search.run(workdir=tmp_path / "search", rows=3000, results_dir=out)
    assert data["indexed"] == 3000
    for name, q in data["queries"].items():
        assert q["index_count"] == q["regexp_count"] > 0, (name, q)
        assert q["hits_with_snippet"] == 10, (name, q)
    assert data["upkeep"]["loaded"] == data["upkeep"]["batches"] * data["upkeep"]["batch"]
    small = data["small_run"]
    assert small["sync"]["index_wait_s"] > 0 and small["overlapped"]["report_s"] > 0
    assert json.loads((out / "search.json").read_text())["benchmark"] == "search"
    assert "7 search" in report.table(out)


def test_report_has_an_event_coding_row(tmp_path: Path) -> None:
    import json

    doc = {"benchmark": "events", "measured_at": "2026-12-01T00:00:00+00:00", "pages": 3,
           "ms_per_page": {"extract": 30.0, "enrich": 4.5}, "ratio_enrich_extract": 0.15, "budget": 0.3, "met": True}
    (tmp_path / "events.json").write_text(json.dumps(doc))
    row = next(line for line in report.table(tmp_path).splitlines() if "event coding" in line)
    assert "0.15 (4.5 vs 30.0 ms/page)" in row and "≤ 0.3" in row and row.rstrip().endswith("yes |")


def test_quiet_hour_row_gives_each_cli_run_its_cpu_and_the_load(tmp_path: Path) -> None:
    q = {"benchmark": "quiet_hour", "feeds": 500, "flow_wall_s": 2.3, "page_requests": 0,
         "rows_written_besides_run": 0, "new_rows": {"runs": 1}, "feeds_rows_changed": 500, "met": True,
         "cli_with_server_api_s": 2.9, "cli_with_server_api_runs_s": [3.1, 2.9, 2.8],
         "cli_with_server_api_cpu_s": 2.7, "cli_with_server_api_load_average": [1.2, 3.4],
         "cli_ephemeral_cold_s": 16.0, "cli_ephemeral_warm_s": 10.0, "cli_met": True}
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "quiet_hour.json").write_text(json.dumps(q))
    text = report.write_results_md(tmp_path / "r", tmp_path / "RESULTS.md").read_text()
    assert ("server API 2.9 s (median of 3: 3.1, 2.9, 2.8; CPU of its processes 2.7 s; load average 1.2–3.4); "
            "ephemeral API 16.0 s cold / 10.0 s warm") in text


def test_machine_line_names_each_host_when_results_come_from_two(tmp_path: Path) -> None:
    events = {"benchmark": "events", "measured_at": "2026-12-01T00:00:00+00:00", "pages": 3,
              "ms_per_page": {"extract": 30.0, "enrich": 4.5}, "ratio_enrich_extract": 0.15, "budget": 0.3, "met": True}
    base = {"cores": 2, "memory_gib": 23.5, "python": "3.11.7"}
    (tmp_path / "events.json").write_text(json.dumps({**events, "machine": {**base, "cpu": "CPU A"}}))
    assert report.table(tmp_path).splitlines()[0].startswith("Machine: 2 cores (CPU A),")
    (tmp_path / "dedup.json").write_text(json.dumps({"benchmark": "dedup", "machine": {**base, "cpu": "CPU B"}}))
    first = report.table(tmp_path).splitlines()[0]
    assert "(CPU A: events; CPU B: dedup)" in first, first
