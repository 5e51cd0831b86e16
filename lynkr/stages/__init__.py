"""Pipeline stages, registered by short name in ``STAGES``.

A stage is one module with a docstring (assumes / guarantees / never), an attrs config class
and one function ``(exchange, config, ports) -> exchange``. Stages are pure: no globals, no
clock, no I/O; what they need arrives in ``ports``.
"""

from __future__ import annotations

from lynkr.stages.cache_breakpoints import CacheBreakpointsConfig, cache_breakpoints
from lynkr.stages.capability_filter import CapabilityFilterConfig, capability_filter
from lynkr.stages.compress_history import CompressHistoryConfig, compress_history
from lynkr.stages.dedupe import DedupeConfig, dedupe
from lynkr.stages.egress import EgressConfig
from lynkr.stages.exchange import Context, Exchange, Note, Route
from lynkr.stages.map_model import MapModelConfig, map_model
from lynkr.stages.memory_extract import MemoryExtractConfig, extraction_tap
from lynkr.stages.memory_injection import MemoryInjectConfig, memory_inject
from lynkr.stages.normalize import NormalizeConfig, normalize
from lynkr.stages.prompt_cache import PromptCacheConfig, cache_size, prompt_cache, store_tap
from lynkr.stages.registry import StageSpec
from lynkr.stages.route import RouteConfig, route
from lynkr.stages.system_prompt import SystemPromptConfig, system_prompt
from lynkr.stages.tool_selection import ToolSelectionConfig, tool_selection
from lynkr.stages.truncate_tool_results import TruncateToolResultsConfig, truncate_tool_results


def _doc(fn: object) -> str:
    module = __import__(getattr(fn, "__module__", ""), fromlist=["_"])
    return (module.__doc__ or "").strip().splitlines()[0]


STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        StageSpec("normalize", NormalizeConfig, normalize, _doc(normalize)),
        StageSpec("route", RouteConfig, route, _doc(route), sets_route=True),
        StageSpec("map_model", MapModelConfig, map_model, _doc(map_model), needs_route=True),
        StageSpec("capability_filter", CapabilityFilterConfig, capability_filter,
                  _doc(capability_filter), needs_route=True),
        StageSpec("tool_selection", ToolSelectionConfig, tool_selection, _doc(tool_selection),
                  needs_route=True),
        StageSpec("dedupe", DedupeConfig, dedupe, _doc(dedupe)),
        StageSpec("truncate_tool_results", TruncateToolResultsConfig, truncate_tool_results,
                  _doc(truncate_tool_results)),
        StageSpec("system_prompt", SystemPromptConfig, system_prompt, _doc(system_prompt),
                  needs_route=True),
        StageSpec("compress_history", CompressHistoryConfig, compress_history,
                  _doc(compress_history), needs_route=True),
        StageSpec("cache_breakpoints", CacheBreakpointsConfig, cache_breakpoints,
                  _doc(cache_breakpoints), needs_route=True),
        StageSpec("memory_inject", MemoryInjectConfig, memory_inject, _doc(memory_inject),
                  is_async=True),
        StageSpec("memory_extract", MemoryExtractConfig, None, _doc(extraction_tap),
                  kind="tap", tap=extraction_tap),
        StageSpec("prompt_cache", PromptCacheConfig, prompt_cache, _doc(prompt_cache),
                  needs_route=True, tap=store_tap, wants_cache=cache_size),
        StageSpec("egress", EgressConfig, None,
                  "egress: how the answer's events go back to the client", kind="egress"),
    )
}

__all__ = ["STAGES", "Context", "Exchange", "Note", "Route", "StageSpec"]
