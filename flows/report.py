"""Run summaries: the per-feed health table, Prefect artifacts and the CLI's printout."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from schemas.records import Article, Reject

if TYPE_CHECKING:
    from flows.decisions import FeedOutcome
    from warehouse.load import LoadResult


@dataclass
class FeedRow:
    feed: str
    url: str
    status: str
    http_status: int | None
    entries: int
    new_items: int
    reason: str | None
    message: str | None


@dataclass
class IngestSummary:
    run_id: str
    feeds: list[FeedRow] = field(default_factory=list)
    feeds_ok: int = 0
    feeds_unchanged: int = 0
    feeds_failed: int = 0
    feeds_backoff: int = 0
    pages_fetched: int = 0
    articles_new: int = 0
    articles_from_feed_text: int = 0
    links_new: int = 0
    rejects: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    load_status: str = "pending"
    staged_path: str | None = None
    staged_batches_loaded: int = 0
    articles_from_staging: int = 0  # articles an earlier staged batch brought in during this run

    @classmethod
    def build(cls, *, run_id: str, outcomes: list[FeedOutcome], articles: list[Article],
              rejects: list[Reject], pages_fetched: int) -> IngestSummary:
        s = cls(run_id=run_id, pages_fetched=pages_fetched)
        for o in outcomes:
            s.feeds.append(FeedRow(o.spec.name or o.spec.url, o.spec.url, o.status, o.http_status, o.entries,
                                   o.new_items, o.reason, o.message))
            if o.status in ("ok", "warning"):
                s.feeds_ok += 1
            elif o.status in ("not_modified", "unchanged"):
                s.feeds_unchanged += 1
            elif o.status == "backoff":
                s.feeds_backoff += 1
            else:
                s.feeds_failed += 1
        s.articles_new = len(articles)
        s.articles_from_feed_text = sum(a.text_source == "feed" for a in articles)
        s.rejects = len(rejects)
        s.rejects_by_reason = dict(Counter(r.reason.value for r in rejects).most_common())
        return s

    def apply_load(self, result: LoadResult, staged_loaded: list[LoadResult]) -> None:
        self.apply_loads([result], staged_loaded)

    def apply_loads(self, results: list[LoadResult], staged_loaded: list[LoadResult]) -> None:
        """What the run's loads did (a busy run loads in several batches): staged if any was staged
        (its path is the last one staged); new rows counted by the warehouse over the batches."""
        staged = [r for r in results if r.status != "loaded"]
        self.load_status = staged[-1].status if staged else "loaded"
        self.staged_path = str(staged[-1].path) if staged and staged[-1].path else None
        if not staged:  # the warehouse's counts; a staged run keeps the counts of what it built
            self.articles_new = sum(r.articles_new for r in results)
            self.links_new = sum(r.links_new for r in results)
        self.staged_batches_loaded = sum(1 for r in staged_loaded if r.status == "loaded")
        self.articles_from_staging = sum(r.articles_new for r in staged_loaded if r.status == "loaded")

    def quiet(self) -> bool:
        """A run that changed nothing the report shows: no feed sent a new body or failed, no
        article was stored (here or from a staged batch). Its report would differ only by one
        more run in the runs panel, so it is not drawn again (charts cost ~1 s)."""
        return (self.feeds_ok == 0 and self.feeds_failed == 0 and self.articles_new == 0
                and self.articles_from_staging == 0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def feed_table(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "feed": f["feed"],
            "status": f["status"],
            "http": f["http_status"] if f["http_status"] is not None else "",
            "entries": f["entries"],
            "new": f["new_items"],
            "reason": f["reason"] or "",
            "detail": (f["message"] or "")[:120],
        }
        for f in summary["feeds"]
    ]


def render_markdown(summary: dict[str, Any], *, failed_table: bool = True) -> str:
    lines = [
        f"# newsflow ingest run `{summary['run_id']}`",
        "",
        f"- load: **{summary['load_status']}**" + (f" (staged at `{summary['staged_path']}`)" if summary.get("staged_path") else ""),
        f"- feeds: {summary['feeds_ok']} ok, {summary['feeds_unchanged']} unchanged, "
        f"{summary['feeds_failed']} failed, {summary['feeds_backoff']} backing off",
        f"- pages fetched: {summary['pages_fetched']}; new articles: "
        f"{summary['articles_new'] + summary.get('articles_from_staging', 0)} "
        f"({summary['articles_from_feed_text']} from feed text"
        + (f", {summary['articles_from_staging']} from {summary['staged_batches_loaded']} staged batch(es) of earlier runs"
           if summary.get("articles_from_staging") else "")
        + f"); rejects: {summary['rejects']}",
    ]
    if summary["load_status"] == "staged":
        lines.insert(2, f"- **NOT LOADED YET**: the database was busy; this run's {summary['articles_new']} article(s) "
                        "wait in staging and the next run loads them")
    if summary["rejects_by_reason"]:
        lines.append("- rejects by reason: " + ", ".join(f"{k} {v}" for k, v in summary["rejects_by_reason"].items()))
    failed = [f for f in summary["feeds"] if f["status"] == "failed"]
    if failed and failed_table:
        lines += ["", "## Failed feeds", "", "| feed | reason | detail |", "| --- | --- | --- |"]
        lines += [f"| {f['feed']} | {f['reason']} | {(f['message'] or '').replace('|', '/')[:120]} |" for f in failed]
    return "\n".join(lines)


def render_text(summary: dict[str, Any]) -> str:
    """Plain-text per-feed summary for the terminal."""
    rows = feed_table(summary)
    head = ["feed", "status", "http", "entries", "new", "reason", "detail"]
    widths = {h: min(max([len(h)] + [len(str(r[h])) for r in rows]), 90 if h == "detail" else 40) for h in head}
    out = ["  ".join(h.ljust(widths[h]) for h in head)]
    out += ["  ".join(str(r[h])[: widths[h]].ljust(widths[h]) for h in head) for r in rows]
    out.append("")
    out.append(render_markdown(summary, failed_table=False).split("\n", 2)[2].replace("**", "").replace("`", ""))
    return "\n".join(out)


def publish_artifacts(summary: IngestSummary) -> None:
    """A table artifact (per-feed health) and a markdown summary on the Prefect run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    data = summary.as_dict()
    try:
        create_table_artifact(key="feed-health", table=feed_table(data), description="Per-feed health of this run")
        create_markdown_artifact(key="ingest-summary", markdown=render_markdown(data), description="Ingest summary")
    except Exception:  # artifacts are a report, not the job: never fail a run on them
        pass


def render_run_markdown(kind: str, run_id: str, counts: dict[str, Any]) -> str:
    """A backfill or reprocess summary as markdown (counts, then rejects by reason)."""
    lines = [f"# newsflow {kind} run `{run_id}`", ""]
    for k, v in counts.items():
        if isinstance(v, dict):
            continue
        lines.append(f"- {k.replace('_', ' ')}: **{v}**")
    reasons = counts.get("rejects_by_reason") or {}
    if reasons:
        lines += ["", "## Rejects by reason", "", "| reason | records |", "| --- | ---: |"]
        lines += [f"| {k} | {v} |" for k, v in reasons.items()]
    return "\n".join(lines)


def publish_run_artifact(kind: str, run_id: str, counts: dict[str, Any]) -> None:
    """A markdown artifact on a backfill or reprocess run (never fails the run)."""
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(key=f"{kind}-summary", markdown=render_run_markdown(kind, run_id, counts),
                                 description=f"{kind} summary")
    except Exception:
        pass
