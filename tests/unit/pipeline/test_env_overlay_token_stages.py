"""The original's variables for the token stages, laid over the pipeline file."""

from __future__ import annotations

import pytest

from lynkr.pipeline import PipelineError, compile_text
from lynkr.pipeline.env_overlay import apply_env
from lynkr.stages.tool_selection import ToolSelectionConfig
from lynkr.stages.truncate_tool_results import TruncateToolResultsConfig

PIPELINE = compile_text("""
stages:
  - normalize
  - route
  - tool_selection: {max_tools: 8}
  - truncate_tool_results: {limits: {default: 100}}
  - egress
""")


def configs(environ: dict[str, str]) -> dict[str, object]:
    return {s.name: s.config for s in apply_env(PIPELINE, environ).stages}


@pytest.mark.parametrize(
    ("environ", "truncate", "selection"),
    [
        pytest.param({}, TruncateToolResultsConfig(limits={"default": 100}),
                     ToolSelectionConfig(max_tools=8), id="nothing-set"),
        pytest.param({"TOOL_TRUNCATION_ENABLED": "false"},
                     TruncateToolResultsConfig(enabled=False, limits={"default": 100}),
                     ToolSelectionConfig(max_tools=8), id="truncation-off"),
        pytest.param({"TOOL_TRUNCATION_ENABLED": "true"},
                     TruncateToolResultsConfig(limits={"default": 100}),
                     ToolSelectionConfig(max_tools=8), id="truncation-on"),
        pytest.param({"SMART_TOOL_SELECTION_TOKEN_BUDGET": "2500"},
                     TruncateToolResultsConfig(limits={"default": 100}),
                     ToolSelectionConfig(max_tools=8, token_budget=2500), id="budget"),
    ],
)
def test_variables_set_parameters(environ: dict[str, str], truncate: object,
                                  selection: object) -> None:
    out = configs(environ)
    assert out["truncate_tool_results"] == truncate
    assert out["tool_selection"] == selection


def test_bad_values_name_their_variable() -> None:
    with pytest.raises(PipelineError) as info:
        apply_env(PIPELINE, {"TOOL_TRUNCATION_ENABLED": "maybe",
                             "SMART_TOOL_SELECTION_TOKEN_BUDGET": "lots"})
    assert [p.split(":")[0] for p in info.value.problems] == [
        "TOOL_TRUNCATION_ENABLED", "SMART_TOOL_SELECTION_TOKEN_BUDGET"]
