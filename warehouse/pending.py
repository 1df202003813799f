"""What waits in staging: batches that could not be loaded because the database was busy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warehouse.staging import FAILED_SUFFIX, StagingCorrupt, iter_staged, read_manifest


@dataclass
class Pending:
    """Staged batches not yet in the database (``failed`` ones were set aside as unreadable)."""

    batches: int = 0
    articles: int = 0
    rows: int = 0
    oldest: datetime | None = None
    failed: int = 0
    paths: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.batches and not self.failed:
            return "none"
        parts = []
        if self.batches:
            since = f" since {self.oldest:%Y-%m-%d %H:%M} UTC" if self.oldest else ""
            parts.append(f"{self.batches} batch(es) waiting{since} ({self.articles} articles, {self.rows} rows)")
        if self.failed:
            parts.append(f"{self.failed} unreadable batch(es) set aside")
        return "; ".join(parts)


def _stamp(path: Path) -> datetime | None:
    try:
        return datetime.strptime(path.name.split("_", 1)[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def pending_batches(staging_dir: str | Path) -> Pending:
    """Count staged batches, their rows and the oldest one's time (from the manifest, else the name)."""
    staging_dir = Path(staging_dir)
    out = Pending()
    for path in iter_staged(staging_dir):
        out.batches += 1
        out.paths.append(str(path))
        when = _stamp(path)
        try:
            manifest = read_manifest(path)
            rows = {k: int(v) for k, v in manifest["rows"].items()}
            out.articles += rows.get("articles", 0)
            out.rows += sum(rows.values())
            if manifest.get("staged_at"):
                when = datetime.fromisoformat(manifest["staged_at"])
        except (StagingCorrupt, ValueError, TypeError):
            pass
        if when is not None and (out.oldest is None or when < out.oldest):
            out.oldest = when
    if staging_dir.is_dir():
        out.failed = sum(1 for p in staging_dir.iterdir() if p.name.endswith(FAILED_SUFFIX))
    return out
