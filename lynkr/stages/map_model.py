"""map_model: name the upstream model and give it an output limit it can honour.

Assumes: a route is set; ``max_tokens`` 0 means the client set no limit (OpenAI clients may
omit it; Anthropic's always sends one).
Guarantees: the request's ``model`` is the routed provider's model (the client's own when the
provider has none configured, as Anthropic-dialect backends may), or the first ``models``
pattern (shell-style, matched against the client's model id) that matches. ``max_tokens``:
without a client limit, the routed model's own output limit (``ports.output_limit``), else 0
(the backend's default: OpenAI-compatible servers and Ollama then write until the context is
full) except for Anthropic-dialect and Bedrock backends, which require one and get
``anthropic_default``; with a client limit, at most the model's own limit, or when that is
unknown, at most the provider's cap (Claude Code asks for 128000; most models 400 on that);
Anthropic-dialect and Bedrock backends keep a client's limit (betas raise Claude's).
Never: raises a client's limit, or touches the conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

import attrs

from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

# Caps for models the output-limit table does not know. Anthropic-dialect backends take Claude
# Code's max_tokens as sent: no entry, no clamp.
DEFAULT_LIMITS = {"openai": 16384, "openrouter": 16384, "ollama": 8192, "llamacpp": 8192,
                  "lmstudio": 8192, "azure-openai": 16384, "databricks": 32000}
NEEDS_LIMIT = ("anthropic", "bedrock")  # families whose API requires max_tokens


@attrs.frozen
class MapModelConfig:
    # client model pattern -> upstream model, e.g. {"claude-*haiku*": "qwen2.5-coder:1.5b"}
    models: Mapping[str, str] = attrs.field(factory=dict)
    # provider name -> max output tokens; "default" applies to providers not listed
    max_output_tokens: Mapping[str, int] = attrs.field(factory=lambda: dict(DEFAULT_LIMITS))
    # without a client limit, for an unknown model on an Anthropic-dialect or Bedrock backend
    anthropic_default: int = 32000


def map_model(exchange: Exchange, config: MapModelConfig, ports: Ports) -> Exchange:
    assert exchange.route is not None
    request, route = exchange.request, exchange.route
    model = route.model or request.model  # no configured model: the client's passes through
    for pattern, target in config.models.items():
        if fnmatchcase(request.model, pattern):
            model = target
            break
    max_tokens = _max_tokens(request.max_tokens, ports.output_limit(model), config,
                             route.provider, ports)
    if model == request.model and max_tokens == request.max_tokens:
        return exchange.noted("map_model", "unchanged")
    summary = f"{request.model}>{model}"
    if max_tokens != request.max_tokens:
        summary += f" max_tokens {request.max_tokens or 'unset'}>{max_tokens or 'unset'}"
    return exchange.noted(
        "map_model", summary,
        request=attrs.evolve(request, model=model, max_tokens=max_tokens),
        route=attrs.evolve(route, model=model),
    )


def _max_tokens(asked: int, model_limit: int | None, config: MapModelConfig, provider: str,
                ports: Ports) -> int:
    info = ports.providers.get(provider)
    strict = info is not None and info.family in NEEDS_LIMIT
    if not asked:
        return model_limit or (config.anthropic_default if strict else 0)
    if strict and provider not in config.max_output_tokens:
        return asked  # Claude's limits depend on betas the client sent: as asked
    cap = model_limit or config.max_output_tokens.get(
        provider, config.max_output_tokens.get("default", 0))
    return min(asked, cap) if cap else asked
