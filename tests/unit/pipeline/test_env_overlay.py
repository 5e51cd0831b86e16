"""The original's environment variables set stage parameters on top of the pipeline file."""

from __future__ import annotations

import pytest

from lynkr.pipeline.compile import PipelineError, compile_text
from lynkr.pipeline.env_overlay import apply_env
from lynkr.stages.prompt_cache import PromptCacheConfig

TEXT = """\
stages:
  - normalize
  - route
  - prompt_cache:
      ttl_ms: 1000
  - egress
"""


def cache_config(environ: dict[str, str], text: str = TEXT) -> PromptCacheConfig | None:
    pipeline = apply_env(compile_text(text), environ)
    return next((s.config for s in pipeline.stages if s.name == "prompt_cache"), None)


def test_nothing_set_keeps_the_file() -> None:
    assert cache_config({}) == PromptCacheConfig(ttl_ms=1000)
    assert cache_config({"PROMPT_CACHE_TTL_MS": "  "}) == PromptCacheConfig(ttl_ms=1000)


@pytest.mark.parametrize(("environ", "expected"), [
    ({"PROMPT_CACHE_ENABLED": "false"}, PromptCacheConfig(enabled=False, ttl_ms=1000)),
    ({"PROMPT_CACHE_ENABLED": "0"}, PromptCacheConfig(enabled=False, ttl_ms=1000)),
    ({"PROMPT_CACHE_ENABLED": "TRUE"}, PromptCacheConfig(ttl_ms=1000)),
    ({"PROMPT_CACHE_TTL_MS": "60000"}, PromptCacheConfig(ttl_ms=60000)),
    ({"PROMPT_CACHE_MAX_ENTRIES": "8"}, PromptCacheConfig(ttl_ms=1000, max_entries=8)),
])
def test_variables_override_the_file(environ: dict[str, str], expected: PromptCacheConfig
                                     ) -> None:
    assert cache_config(environ) == expected


def test_a_stage_not_in_the_file_is_not_added() -> None:
    text = "stages:\n  - route\n  - egress\n"
    assert cache_config({"PROMPT_CACHE_ENABLED": "true"}, text) is None


def test_bad_values_are_reported_together_by_variable() -> None:
    with pytest.raises(PipelineError) as info:
        apply_env(compile_text(TEXT), {"PROMPT_CACHE_ENABLED": "maybe",
                                       "PROMPT_CACHE_TTL_MS": "soon"})
    assert info.value.problems == [
        "PROMPT_CACHE_ENABLED: expected true or false, got 'maybe'",
        "PROMPT_CACHE_TTL_MS: expected a whole number, got 'soon'"]


def test_out_of_range_value_names_the_variables() -> None:
    with pytest.raises(PipelineError, match=r"PROMPT_CACHE_MAX_ENTRIES.*at least 1"):
        apply_env(compile_text(TEXT), {"PROMPT_CACHE_MAX_ENTRIES": "0"})
