"""One settings class for the whole project, read from ``NEWSFLOW_*`` environment variables.

Invalid values fail at start-up (pydantic raises); callers turn that into one clear line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DASK_URL = re.compile(r"dask://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})/?")

DEFAULT_USER_AGENT = "newsflow/0.1 (news ingestion bot; polite crawler honouring robots.txt)"


class Settings(BaseSettings):
    """Runtime configuration. Every field maps to ``NEWSFLOW_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="forbid", validate_default=True)

    db: Path = Field(Path("data/newsflow.duckdb"), description="DuckDB file")
    staging_dir: Path | None = Field(None, description="staged batches; default <db dir>/staging")
    feeds_file: Path = Path("feeds.yaml")

    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=3)
    allow_private_networks: bool = False
    respect_robots: bool = True

    connect_timeout: float = Field(10.0, gt=0)
    feed_timeout: float = Field(30.0, gt=0, description="whole-request deadline for a feed")
    page_timeout: float = Field(30.0, gt=0, description="whole-request deadline for a page")
    max_feed_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_page_bytes: int = Field(5 * 1024 * 1024, gt=0)
    max_redirects: int = Field(5, ge=0, le=20)

    global_concurrency: int = Field(32, ge=1, le=512)
    per_host_concurrency: int = Field(2, ge=1, le=64)
    per_host_delay: float = Field(1.0, ge=0, description="seconds between request starts to one host")
    retries: int = Field(2, ge=0, le=10, description="extra attempts for transient network errors")
    retry_backoff: float = Field(0.5, ge=0, description="first retry delay, doubled each attempt")

    backoff_base: float = Field(300.0, ge=0, description="feed backoff after first failure (s)")
    backoff_max: float = Field(24 * 3600.0, ge=0)

    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    batch_size: int = Field(500, ge=1)
    future_tolerance_hours: float = Field(24.0, ge=0)
    run_lock_wait: float = Field(0.0, ge=0, description="seconds an ingest waits for another run")
    executor: str = Field("local", description="where extraction runs: 'local' (this machine's process "
                          "pool), 'dask://HOST:PORT' (an existing Dask scheduler) or 'prefect' (backfill "
                          "shards as runs of the backfill-shard deployment, on the Prefect workers of its pool)")
    shard_size: int = Field(16, ge=1, le=10_000, description="jobs per Dask task (never one task per page)")
    lake_uri: str | None = Field(None, description="where cluster workers write Parquet batches for the "
                                 "committer: file://DIR or s3://BUCKET/PREFIX; default file://<db dir>/lake")
    lake_shard_bytes: int = Field(64 * 1024 * 1024, ge=1, description="a plain JSONL archive larger than "
                                  "this is read by several workers, in byte ranges of about this size")

    @field_validator("user_agent")
    @classmethod
    def _ua_printable(cls, v: str) -> str:
        if not v.isprintable():
            raise ValueError("user_agent must be printable")
        return v

    @field_validator("executor")
    @classmethod
    def _executor_form(cls, v: str) -> str:
        v = v.strip()
        if v.lower() in ("local", "prefect"):
            return v.lower()
        m = _DASK_URL.fullmatch(v)
        if m is None or not 0 < int(m.group(2)) < 65536:
            raise ValueError("executor must be 'local', 'prefect' or 'dask://HOST:PORT'")
        return f"dask://{m.group(1)}:{int(m.group(2))}"

    @property
    def dask_address(self) -> str | None:
        """The Dask scheduler's address (``tcp://HOST:PORT``), or None (the local pool; with
        'prefect' only a backfill fans out, everything else runs in the local pool)."""
        return None if not self.executor.startswith("dask://") else "tcp://" + self.executor.removeprefix("dask://")

    @property
    def lake_location(self) -> str:
        """The lake's URI (``file://`` of an absolute path when not set)."""
        if self.lake_uri:
            return self.lake_uri
        return "file://" + str((self.db.parent / "lake").resolve())

    @field_validator("lake_uri")
    @classmethod
    def _lake_form(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if "://" not in v:
            raise ValueError("lake_uri must be a URI such as file:///data/lake or s3://bucket/prefix")
        return v.rstrip("/")

    @property
    def staging_path(self) -> Path:
        return self.staging_dir if self.staging_dir is not None else self.db.parent / "staging"


class ConfigError(Exception):
    """A configuration problem, reported as one line before any work starts."""


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment plus explicit overrides, or raise ConfigError."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        env = f"NEWSFLOW_{field.upper()}"
        raise ConfigError(f"invalid setting {env}: {err.get('msg')} (got {err.get('input')!r})") from None
