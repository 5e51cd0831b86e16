"""The limit settings: defaults, units, and a one-line error for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr.config.errors import SettingsError
from lynkr.config.limits import Limits
from lynkr.config.settings import load_settings


def settings(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return load_settings(env, env_file=str(tmp_path / "none.env"))


def test_defaults_and_units(tmp_path: Path) -> None:
    assert settings(tmp_path).limits == Limits()
    limits = settings(tmp_path, REQUEST_BODY_TIMEOUT_MS="2500", UPSTREAM_POOL_TIMEOUT_MS="300",
                      UPSTREAM_ANSWER_TIMEOUT_MS="5000", UPSTREAM_ANSWER_MS_PER_TOKEN="20",
                      MAX_JSON_DEPTH="64").limits
    assert (limits.body_timeout_s, limits.pool_timeout_s, limits.max_json_depth) == \
        (2.5, 0.3, 64)
    assert limits.answer_deadline_s(1000) == pytest.approx(25.0)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MAX_JSON_DEPTH", "300", "MAX_JSON_DEPTH must be at most 250"),
    ("MAX_JSON_DEPTH", "2", "MAX_JSON_DEPTH must be at least 8"),
    ("UPSTREAM_MAX_LINE_BYTES", "1k", "UPSTREAM_MAX_LINE_BYTES must be a whole number"),
    ("REQUEST_BODY_TIMEOUT_MS", "10", "REQUEST_BODY_TIMEOUT_MS must be at least 100"),
])
def test_a_bad_value_names_its_variable(tmp_path: Path, name: str, value: str,
                                        message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(tmp_path, **{name: value})


def test_the_upstream_pool_follows_the_concurrency_limit(tmp_path: Path) -> None:
    assert settings(tmp_path, LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD="250"
                    ).max_connections == 250
    assert settings(tmp_path, LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD="250",
                    UPSTREAM_MAX_CONNECTIONS="40").max_connections == 40
