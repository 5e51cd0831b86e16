"""MEMORY_* settings: the original's defaults, the new ones, and one-line errors."""

from __future__ import annotations

import pytest

from lynkr.config.errors import SettingsError
from lynkr.config.memory import MemorySettings, memory_settings
from lynkr.config.settings import Env


def test_defaults_are_the_originals() -> None:
    got = memory_settings(Env({}))
    assert got == MemorySettings()
    assert (got.enabled, got.retrieval_limit, got.surprise_threshold, got.max_age_days,
            got.max_count) == (True, 5, 0.3, 90, 10_000)
    assert (got.db_path, got.max_inject_tokens, got.embeddings, got.model_extraction) == (
        "data/memory.db", 1500, "auto", False)


def test_every_variable_is_read() -> None:
    got = memory_settings(Env({
        "MEMORY_ENABLED": "false", "MEMORY_RETRIEVAL_LIMIT": "8",
        "MEMORY_SURPRISE_THRESHOLD": "0.5", "MEMORY_MAX_AGE_DAYS": "30",
        "MEMORY_MAX_COUNT": "500", "MEMORY_DB_PATH": "/var/lib/lynkr/m.db",
        "MEMORY_MAX_INJECT_TOKENS": "800", "MEMORY_DEFAULT_USER": "me",
        "MEMORY_EMBEDDINGS": "OFF", "MEMORY_IMPORTANCE_HALF_LIFE_DAYS": "14",
        "MEMORY_MODEL_EXTRACTION": "true"}))
    assert got == MemorySettings(False, 8, 0.5, 30, 500, "/var/lib/lynkr/m.db", 800, "me", "off",
                                 14.0, True)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MEMORY_ENABLED", "maybe", "MEMORY_ENABLED must be true or false, got 'maybe'"),
    ("MEMORY_SURPRISE_THRESHOLD", "1.5", "MEMORY_SURPRISE_THRESHOLD must be between 0 and 1"),
    ("MEMORY_SURPRISE_THRESHOLD", "high", "MEMORY_SURPRISE_THRESHOLD must be a number"),
    ("MEMORY_RETRIEVAL_LIMIT", "-1", "MEMORY_RETRIEVAL_LIMIT must be at least 0"),
    ("MEMORY_MAX_COUNT", "0", "MEMORY_MAX_COUNT must be at least 1"),
    ("MEMORY_EMBEDDINGS", "yes", "MEMORY_EMBEDDINGS must be one of off, auto, on"),
])
def test_bad_values_name_their_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        memory_settings(Env({name: value}))
