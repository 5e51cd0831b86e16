"""The original Lynkr's environment variables, laid over the pipeline file's parameters.

A variable that is set (and not empty) overrides the parameter of the stage it names, wherever
that stage sits in the pipeline; a stage the pipeline does not list is not added (the file
decides which phases run and in what order). Bad values are reported together, each naming its
variable, as one ``PipelineError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from lynkr.pipeline.compile import Pipeline, PipelineError

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def _bool(raw: str) -> bool:
    value = raw.lower()
    if value not in TRUE | FALSE:
        raise ValueError(f"expected true or false, got {raw!r}")
    return value in TRUE


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None


# variable -> (stage, parameter, parser)
VARIABLES: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "PROMPT_CACHE_ENABLED": ("prompt_cache", "enabled", _bool),
    "PROMPT_CACHE_TTL_MS": ("prompt_cache", "ttl_ms", _int),
    "PROMPT_CACHE_MAX_ENTRIES": ("prompt_cache", "max_entries", _int),
    "TOOL_TRUNCATION_ENABLED": ("truncate_tool_results", "enabled", _bool),
    "SMART_TOOL_SELECTION_TOKEN_BUDGET": ("tool_selection", "token_budget", _int),
}


def apply_env(pipeline: Pipeline, environ: Mapping[str, str]) -> Pipeline:
    """``pipeline`` with the stage parameters the environment sets."""
    problems: list[str] = []
    changes: dict[str, dict[str, Any]] = {}
    for variable, (stage, parameter, parse) in VARIABLES.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            changes.setdefault(stage, {})[parameter] = parse(raw)
        except ValueError as exc:
            problems.append(f"{variable}: {exc}")
    stages = []
    for bound in pipeline.stages:
        if bound.name in changes and bound.config is not None:
            try:
                bound = attrs.evolve(bound, config=attrs.evolve(bound.config,
                                                                **changes[bound.name]))
            except ValueError as exc:
                names = [v for v, (s, _p, _f) in VARIABLES.items() if s == bound.name]
                problems.append(f"{'/'.join(names)}: {exc}")
        stages.append(bound)
    if problems:
        raise PipelineError("environment", problems)
    return attrs.evolve(pipeline, stages=tuple(stages))
