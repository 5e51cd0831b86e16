"""map_model: name the upstream model and keep ``max_tokens`` within what it can produce.

Assumes: a route is set.
Guarantees: the request's ``model`` is the routed provider's model (the client's own when the
provider has none configured, as Anthropic-dialect backends may), or the first ``models``
pattern (shell-style, matched against the client's model id) that matches; ``max_tokens`` is at
most the provider's limit (Claude Code asks for 128000; most models 400 on that).
Never: raises ``max_tokens`` or touches the conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

import attrs

from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

# Anthropic-dialect backends take Claude Code's max_tokens as sent: no entry, no clamp.
DEFAULT_LIMITS = {"openai": 16384, "openrouter": 16384, "ollama": 8192, "llamacpp": 8192,
                  "lmstudio": 8192, "azure-openai": 16384, "databricks": 32000}


@attrs.frozen
class MapModelConfig:
    # client model pattern -> upstream model, e.g. {"claude-*haiku*": "qwen2.5-coder:1.5b"}
    models: Mapping[str, str] = attrs.field(factory=dict)
    # provider name -> max output tokens; "default" applies to providers not listed
    max_output_tokens: Mapping[str, int] = attrs.field(factory=lambda: dict(DEFAULT_LIMITS))


def map_model(exchange: Exchange, config: MapModelConfig, ports: Ports) -> Exchange:
    assert exchange.route is not None
    request, route = exchange.request, exchange.route
    model = route.model or request.model  # no configured model: the client's passes through
    for pattern, target in config.models.items():
        if fnmatchcase(request.model, pattern):
            model = target
            break
    limit = config.max_output_tokens.get(route.provider,
                                         config.max_output_tokens.get("default", 0))
    max_tokens = min(request.max_tokens, limit) if limit else request.max_tokens
    if model == request.model and max_tokens == request.max_tokens:
        return exchange.noted("map_model", "unchanged")
    summary = f"{request.model}>{model}"
    if max_tokens != request.max_tokens:
        summary += f" max_tokens {request.max_tokens}>{max_tokens}"
    return exchange.noted(
        "map_model", summary,
        request=attrs.evolve(request, model=model, max_tokens=max_tokens),
        route=attrs.evolve(route, model=model),
    )
