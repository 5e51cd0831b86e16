"""Retry, breaker and shedding variables: defaults, values, and one-line errors."""

import pytest

from lynkr.config.errors import SettingsError
from lynkr.config.resilience import ResilienceSettings, resilience_settings
from lynkr.config.settings import Env


def test_defaults_are_the_originals() -> None:
    assert resilience_settings(Env({})) == ResilienceSettings()


def test_values_in_milliseconds_become_seconds() -> None:
    got = resilience_settings(Env({"API_RETRY_INITIAL_DELAY": "250", "CIRCUIT_BREAKER_TIMEOUT":
                                   "5000", "LOAD_SHEDDING_MEMORY_THRESHOLD": "0.5"}))
    assert (got.retry_initial_delay_s, got.breaker_timeout_s, got.shed_memory_fraction) == \
        (0.25, 5.0, 0.5)


@pytest.mark.parametrize(("name", "value"), [
    ("API_RETRY_MAX_RETRIES", "many"),
    ("CIRCUIT_BREAKER_FAILURE_THRESHOLD", "0"),
    ("LOAD_SHEDDING_MEMORY_THRESHOLD", "1.5"),
    ("LOAD_SHEDDING_MEMORY_THRESHOLD", "lots"),
    ("LOAD_SHEDDING_MEMORY_THRESHOLD", "0"),  # a fraction above 0: 0 would shed everything
])
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        resilience_settings(Env({name: value}))


@pytest.mark.parametrize(("value", "expected"), [("0.5", 0.5), ("1", 1.0), ("0.01", 0.01)])
def test_memory_fraction_accepted(value: str, expected: float) -> None:
    got = resilience_settings(Env({"LOAD_SHEDDING_MEMORY_THRESHOLD": value}))
    assert got.shed_memory_fraction == expected
