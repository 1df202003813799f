"""The results table of ``bench/RESULTS.md``, rebuilt from ``bench/results/*.json``.

Only the block between the two markers is rewritten; the analysis around it (profiles,
where the time goes, what changed) is kept as written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, machine

START = "<!-- bench:table:start -->"
END = "<!-- bench:table:end -->"
RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"


def _load(results_dir: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in sorted(results_dir.glob("*.json")):
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(doc, dict) and "benchmark" in doc:
            out[doc["benchmark"]] = doc
    return out


def _yes(flag: Any) -> str:
    return "yes" if flag is True else ("**no**" if flag is False else "–")


def rows(res: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """(benchmark, figure, measured, target, met) rows."""
    out: list[tuple[str, str, str, str, str]] = []
    e = res.get("extraction")
    if e and not e.get("skipped"):
        ms = e["ms_per_page"]
        out.append(("1 extraction overhead", f"CPU ours/raw on {e['pages']} real pages (bytes in, decode included)",
                    f"{e['ratio_ours_raw']} ({ms['ours']} vs {ms['raw']} ms/page)", "≤ 1.15", _yes(e["met"])))
        out.append(("", "same, ours handed the decoded string", f"{e['ratio_ours_str_raw']}", "", ""))
        st = e.get("stages_ms_per_page") or {}
        if "events (enrich_article)" in st:
            out.append(("", "stage pass, CPU ms/page of the stages added since (inside `ours`): dedup sketch, "
                        "event coding; text-dump path on the same pages dumped: line model, sketch, events",
                        f"HTML: sketch {st.get('dedup sketch (sketch_for)')}, events {st['events (enrich_article)']} "
                        f"of {st.get('run_job total')}; text: line model {st.get('text dump: line model (refine)')}, "
                        f"sketch {st.get('text dump: dedup sketch (sketch_for)')}, events "
                        f"{st.get('text dump: events (enrich_article)')} of {st.get('text dump: run_job total')}",
                        "reported", ""))
    elif e:
        out.append(("1 extraction overhead", "skipped", e.get("reason", ""), "≤ 1.15", "–"))
    v = res.get("events")
    if v and not v.get("skipped"):
        ms = v["ms_per_page"]
        out.append(("10 event coding", f"CPU `enrich` of the extracted text ÷ `trafilatura.extract`, {v['pages']} real pages",
                    f"{v['ratio_enrich_extract']} ({ms['enrich']} vs {ms['extract']} ms/page)", f"≤ {v['budget']}",
                    _yes(v["met"])))
    t = res.get("textdump")
    if t:
        out.append(("12 text-dump line model", f"CPU added per dump on {t['dumps']} naive dumps ({t['source']})",
                    f"{t['model_ms_per_dump']} ms ({t['ms_per_dump']['full']} vs {t['ms_per_dump']['rules']} ms/dump)",
                    f"≤ {t['budget_ms']} ms", _yes(t["met"])))
    b = res.get("backfill")
    if b:
        for n, f in enumerate((b.get("formats") or {b["archive_format"]: b}).values()):
            out.extend(_backfill_rows(f, first=n == 0))
    h = res.get("busy_hour")
    if h:
        ph = h["phases_s"]
        out.append(("3 busy hour", f"{h['feeds']} feeds × {h['items_per_feed']} new, {h['hosts']} hosts, "
                    f"delay {h['per_host_delay_s']} s", f"{h['flow_wall_s']:.1f} s (poll {ph['poll_feeds']:.1f}, "
                    f"fetch {ph['fetch_pages']:.1f}, extract {ph['extract_pages']:.1f}, load {ph['load']:.1f}); "
                    f"bound {h['bound_s']:.1f} s → **{h['ratio_to_bound']}**"
                    + (f"; all CPU of the run (workers, flow, news and Prefect servers) ÷ cores = "
                       f"{h['all_cpu_bound_to_bound']} × bound, cores {100 * h['cores_busy']:.0f}% busy with this run, "
                       f"load average {h['load_average_before']}–{h['load_average_after']}"
                       if h.get("cores_busy") else ""), "≤ 1.25 × bound", _yes(h["met"])))
    q = res.get("quiet_hour")
    if q:
        out.append(("4 quiet hour", f"{q['feeds']} unchanged feeds, flow run (fresh process, server API)",
                    f"{q['flow_wall_s']:.2f} s; {q['page_requests']} page requests; "
                    f"{q['rows_written_besides_run']} new rows besides {q['new_rows']['runs']} run record "
                    f"({q['feeds_rows_changed']} feed states updated)", "< 10 s, 0, 0", _yes(q["met"])))
        if "cli_ephemeral_warm_s" in q:
            met = q.get("cli_met")
            runs = q.get("cli_with_server_api_runs_s")
            out.append(("", "CLI `newsflow ingest`, whole command",
                        f"server API {q.get('cli_with_server_api_s', '–')} s"
                        + (f" (median of {len(runs)}: {', '.join(map(str, runs))}; CPU of its processes "
                           f"{q['cli_with_server_api_cpu_s']} s; load average "
                           f"{'–'.join(map(str, q['cli_with_server_api_load_average']))})" if runs else "") + "; "
                        f"ephemeral API {q['cli_ephemeral_cold_s']} s cold / {q['cli_ephemeral_warm_s']} s warm",
                        "< 3 s with a server", _yes(met) if met is not None else ""))
        if "cli_backfill_seed_ephemeral_s" in q:
            out.append(("", "CLI `newsflow backfill data/seed_archive` into a new database, whole command",
                        f"server API {q.get('cli_backfill_seed_server_s', '–')} s; "
                        f"ephemeral API {q['cli_backfill_seed_ephemeral_s']} s (warm)", "< 3 s with a server", ""))
    w = res.get("warehouse")
    if w:
        u = w["upsert"]
        out.append(("5 warehouse", f"upsert {u['rows']:,} articles via load_batch",
                    f"{u['upsert_rows_per_s']:,} rows/s"
                    + (f" ({u['upsert_rows_per_cpu_s']:,} per CPU-second)" if u.get("upsert_rows_per_cpu_s") else "")
                    + f"; re-upsert {u['reupsert_rows_per_s']:,} rows/s ({u['reupsert_new']} new)", "≥ 50,000 rows/s",
                    _yes(u["upsert_rows_per_s"] >= 50_000 and u["reupsert_rows_per_s"] >= 50_000)))
        for name, fig in w["queries"].items():
            out.append(("", f"{name} on {w['query_rows']:,} articles", f"{fig['cold_s']} s cold, {fig['warm_s']} s warm",
                        "< 1 s", _yes(fig["met"])))
    s = res.get("search")
    if s:
        out.append(("7 search", f"tantivy index of {s['rows']:,} articles", f"built in {s['index_build_s']} s, "
                    f"{s['index_mib']} MiB", "reported", ""))
        for name, q in s["queries"].items():
            out.append(("", f"{name} `{q['query']}`: count (index vs regexp_matches), top-10 with snippets",
                        f"index {q['index_count']:,} in {q['index_cold_s']} s vs regexp {q['regexp_count']:,} in "
                        f"{q['regexp_cold_s']} s (text-only `{q.get('simple_regexp', '')}` "
                        f"{q.get('simple_regexp_s', '–')} s); top-10 {q['top10_snippets_cold_s']} s", "< 0.2 s",
                        _yes(q["met"])))
        u = s["upkeep"]
        out.append(("", f"index upkeep for {u['batches']} loads of {u['batch']} articles", f"{u['index_s']} s vs load "
                    f"{u['load_s']} s ({u['share']:.1%}"
                    + (f"; synchronous commits {u['sync_index_s']} s, {u['sync_share']:.1%}" if "sync_share" in u else "")
                    + f"); one {u['batch']}-article upsert alone "
                    f"{u['single_batch_commit_s']} s", "< 10 % of load", _yes(u["met"])))
        r = s.get("small_run")
        if r:
            a, b = r["sync"], r["overlapped"]
            out.append(("", f"index wait of a run of {r['loads']} loads of {r['batch']} articles (one commit)",
                        f"{b['index_wait_s']} s vs load {b['load_s']} s ({b['share']:.1%}) with the commit overlapping "
                        f"the report ({b['report_s']} s); waited right after the loads {a['index_wait_s']} s vs "
                        f"{a['load_s']} s ({a['share']:.1%})", "< 10 % of load", _yes(r["met"])))
    m = res.get("memory")
    if m:
        out.append(("6 memory", f"peak RSS, backfill of {m['small_pages']:,} vs {m['large_pages']:,} pages",
                    f"{m['small_peak_rss_mib']} MiB vs {m['large_peak_rss_mib']} MiB (×{m['growth']})",
                    f"< 1024 MiB, within {m.get('growth_target', 1.1) - 1:.0%}", _yes(m["met"])))
    return out


_KINDS = {"warc": "WARC", "dir": "HTML files", "text": "text dumps", "jsonl": "JSONL"}


def _backfill_rows(b: dict[str, Any], *, first: bool) -> list[tuple[str, str, str, str, str]]:
    kind = _KINDS.get(b["archive_format"], b["archive_format"])
    out = [("2 backfill throughput" if first else "",
            f"{b['articles']} articles, {kind}, end to end", f"{b['articles_per_s']}/s vs limit "
            f"{b['limit_pages_per_s']}/s ({b['cores']} × {b['raw_pages_per_s']} raw) = **{b['ratio']}**",
            "≥ 0.80", _yes(b["met"]))]
    if b.get("cpu_ratio") is not None:
        out.append(("", f"{kind}: CPU, raw CPU per page ÷ whole run's CPU per article (if the cores were all ours)",
                    f"{b['cpu_ratio']} (main {b['main_cpu_ms_per_page']} + workers {b['workers_cpu_ms_per_page']}"
                    f" ms/page vs raw {b['raw_cpu_ms_per_page']}; cores {100 * b['cpu_utilization']:.0f}% busy"
                    f" with our work, load average {b['load_average_after']})", "", ""))
    st = b.get("new_stages_ms_per_article")
    if st and b.get("cpu_ratio_without_new_stages") is not None:
        out.append(("", f"{kind}: same CPU ratio without the workers' dedup sketch and event coding",
                    f"{b['cpu_ratio_without_new_stages']} (sketch {st['dedup_sketch_ms']} + events {st['events_ms']}"
                    f" ms/article, of {st['ours_one_process_ms']} ms for the whole path in one process)", "", ""))
    if b.get("ratio_steady") is not None:
        out.append(("", f"{kind}: steady state (10–90 % of the records)",
                    f"{b['steady_rate_per_s']}/s = {b['ratio_steady']}", "", ""))
    return out


def table(results_dir: Path = RESULTS_DIR) -> str:
    res = _load(results_dir)
    mach = next((r.get("machine") for r in res.values() if r.get("machine")), None) or machine()
    when = max((r.get("measured_at", "") for r in res.values()), default="")
    cpus: dict[str, list[str]] = {}
    for name, r in sorted(res.items()):
        if r.get("machine"):
            cpus.setdefault(r["machine"].get("cpu", "?"), []).append(name)
    cpu = (mach.get("cpu", "?") if len(cpus) < 2 else  # the host changed between runs: say which ran where
           "; ".join(f"{c}: {', '.join(names)}" for c, names in sorted(cpus.items())))
    lines = [
        f"Machine: {mach['cores']} cores ({cpu}), {mach['memory_gib']} GiB RAM, "
        f"Python {mach.get('python', '?')}; latest result {when}.",
        "",
        "| benchmark | figure | measured | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows(res)]
    return "\n".join(lines)


def write_results_md(results_dir: Path = RESULTS_DIR, path: Path = RESULTS_MD) -> Path:
    block = f"{START}\n{table(results_dir)}\n{END}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(head + block + tail, encoding="utf-8")
            return path
        path.write_text(text.rstrip() + "\n\n" + block + "\n", encoding="utf-8")
        return path
    path.write_text("# newsflow benchmark results\n\n`make bench` regenerates the table below.\n\n" + block + "\n",
                    encoding="utf-8")
    return path
