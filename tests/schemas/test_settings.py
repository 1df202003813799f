"""schemas/settings.py: NEWSFLOW_* environment variables, validation, one-line config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.settings import ConfigError, Settings, load_settings


def test_environment_variables_map_to_fields(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSFLOW_FUTURE_TOLERANCE_HOURS", "48")
    monkeypatch.setenv("NEWSFLOW_DB", str(tmp_path / "x.duckdb"))
    s = load_settings()
    assert (s.future_tolerance_hours, s.db) == (48.0, tmp_path / "x.duckdb")
    assert s.staging_path == tmp_path / "staging"  # default: beside the database


def test_explicit_overrides_win_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "7")
    assert load_settings(batch_size=9).batch_size == 9
    assert load_settings(batch_size=None).batch_size == 7
    assert load_settings(staging_dir=tmp_path / "s").staging_path == tmp_path / "s"


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("NEWSFLOW_FUTURE_TOLERANCE_HOURS", "-1", "invalid setting NEWSFLOW_FUTURE_TOLERANCE_HOURS"),
        ("NEWSFLOW_MAX_REDIRECTS", "99", "invalid setting NEWSFLOW_MAX_REDIRECTS"),
        ("NEWSFLOW_WORKERS", "lots", "invalid setting NEWSFLOW_WORKERS"),
        ("NEWSFLOW_USER_AGENT", "bot\x07", "user_agent must be printable"),
    ],
)
def test_invalid_values_fail_as_one_line(monkeypatch: pytest.MonkeyPatch, env: str, value: str, fragment: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_unknown_keyword_is_refused() -> None:
    with pytest.raises(ConfigError, match="invalid setting NEWSFLOW_COLOUR"):
        load_settings(colour="red")
    assert Settings().retries == 2


@pytest.mark.parametrize(
    ("value", "executor", "address"),
    [
        ("local", "local", None),
        (" LOCAL ", "local", None),
        ("Prefect", "prefect", None),
        ("dask://127.0.0.1:8786", "dask://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
        ("dask://scheduler.internal:08786/", "dask://scheduler.internal:8786", "tcp://scheduler.internal:8786"),
        ("dask://[::1]:8786", "dask://[::1]:8786", "tcp://[::1]:8786"),
    ],
)
def test_executor_is_local_prefect_or_a_dask_scheduler(monkeypatch: pytest.MonkeyPatch, value: str, executor: str,
                                               address: str | None) -> None:
    monkeypatch.setenv("NEWSFLOW_EXECUTOR", value)
    s = load_settings()
    assert (s.executor, s.dask_address) == (executor, address)


@pytest.mark.parametrize("value", ["dask", "dask://host", "dask://host:0", "dask://host:70000", "tcp://host:8786",
                                   "dask://ho st:8786", "ray://host:10001", "prefect://pool", ""])
def test_a_bad_executor_fails_as_one_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NEWSFLOW_EXECUTOR", value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("invalid setting NEWSFLOW_EXECUTOR: ") and "\n" not in str(info.value)


def test_the_default_executor_is_the_local_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSFLOW_EXECUTOR", raising=False)
    s = load_settings()
    assert (s.executor, s.dask_address) == ("local", None)
