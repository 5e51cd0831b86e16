"""prompt_cache: answer a repeated deterministic request from the response cache.

Assumes: a route is set and the model is final (put it after ``route`` and ``map_model``, after
every stage that changes the request, so the key is what the upstream would have seen);
``ports.cache`` is the store and ``ports.now`` the clock.
Guarantees: the key is the SHA-256 of the normalized request (provider, model, system,
messages, tools, tool_choice, thinking, sampling parameters, max_tokens, unmodelled fields;
canonical JSON with sorted keys; ``cache_control`` marks, metadata and ``stream`` ignored).
Only requests with ``temperature == 0`` (unless ``require_deterministic: false``) and without
tools (unless ``allow_tools: true``) are looked up. On a hit the stored answer becomes the
exchange's response, so later stages and the provider are skipped, with honest usage: every
input token is reported as ``cache_read_input_tokens`` (it was served from the cache) and
``input_tokens`` is 0; output tokens are as stored. On a miss the key is left in
``annotations["prompt_cache.key"]`` and the stage's stream tap (``store_tap``) stores the
answer once it has gone out whole, only when ``cacheable_response`` says so (complete, no
tool_use, no error).
Never: changes the request, reports cache tokens that did not exist, or stores an answer that
did not reach the client whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import orjson

from lynkr.formats.token_text import request_text
from lynkr.model.content import RedactedThinkingBlock, TextBlock, ThinkingBlock
from lynkr.model.events import Event, Usage
from lynkr.model.response import Response
from lynkr.ports import Ports, ResponseCache
from lynkr.stages.exchange import CACHE_VERDICT, Exchange

STATE = CACHE_VERDICT  # annotation: "hit", "miss" or "bypass" (the x-lynkr-cache header)
KEY = "prompt_cache.key"  # annotation: the digest to store the answer under, on a miss
COMPLETE = frozenset({"end_turn", "stop_sequence", "max_tokens"})


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, got {value}")


@attrs.frozen
class PromptCacheConfig:
    enabled: bool = True  # PROMPT_CACHE_ENABLED
    ttl_ms: int = attrs.field(default=300_000, validator=_positive)  # PROMPT_CACHE_TTL_MS
    max_entries: int = attrs.field(default=64, validator=_positive)  # PROMPT_CACHE_MAX_ENTRIES
    require_deterministic: bool = True  # only temperature == 0
    allow_tools: bool = False  # also requests that offer tools (answers with tool_use never)


async def prompt_cache(exchange: Exchange, config: PromptCacheConfig, ports: Ports
                       ) -> Exchange:
    assert exchange.route is not None
    reason = bypass_reason(exchange, config, ports)
    if reason is not None:
        return exchange.noted("prompt_cache", f"bypass ({reason})",
                              annotations={**exchange.annotations, STATE: "bypass"})
    assert ports.cache is not None
    key = request_key(exchange)
    stored = await ports.cache.get(key, ports.now())
    if stored is None:
        return exchange.noted("prompt_cache", "miss",
                              annotations={**exchange.annotations, STATE: "miss", KEY: key})
    replay = attrs.evolve(stored, usage=replayed_usage(stored.usage))
    saved = ports.count_tokens(request_text(exchange.request))
    return exchange.noted(
        "prompt_cache", f"hit ({replay.usage.cache_read_input_tokens} input tokens cached)",
        saved, response=replay, annotations={**exchange.annotations, STATE: "hit"})


class CacheStore:
    """The stream tap of a lookup that missed: stores the whole answer under its key."""

    wants_result = True

    def __init__(self, cache: ResponseCache, key: str, now: Callable[[], float]) -> None:
        self._cache, self._key, self._now = cache, key, now

    def observe(self, events: list[Event]) -> None:
        return None

    def completed(self, response: Response) -> None:
        if cacheable_response(response):
            self._cache.put(self._key, response, self._now())


def cache_size(config: PromptCacheConfig) -> tuple[int, float] | None:
    """The answer cache this stage needs: (entries, ttl seconds), none when disabled."""
    return (config.max_entries, config.ttl_ms / 1000) if config.enabled else None


def store_tap(exchange: Exchange, config: PromptCacheConfig, ports: Ports) -> CacheStore | None:
    """A tap that stores the answer to a request this stage looked up and missed."""
    key = exchange.annotations.get(KEY)
    if key is None or ports.cache is None or exchange.response is not None:
        return None
    return CacheStore(ports.cache, key, ports.now)


def bypass_reason(exchange: Exchange, config: PromptCacheConfig, ports: Ports) -> str | None:
    """Why this request is not looked up, or None when it is cacheable."""
    request = exchange.request
    if not config.enabled:
        return "disabled"
    if ports.cache is None:
        return "no cache configured"
    if config.require_deterministic and request.temperature != 0:
        return "temperature is not 0"
    if request.tools and not config.allow_tools:
        return "request has tools"
    return None


def cacheable_response(response: Response) -> bool:
    """Whether an answer may be stored: complete, not empty, only text (and thinking)."""
    kinds = (TextBlock, ThinkingBlock, RedactedThinkingBlock)
    return (response.stop_reason in COMPLETE and bool(response.content)
            and all(isinstance(b, kinds) for b in response.content))


def replayed_usage(usage: Usage) -> Usage:
    """The usage of an answer served from the cache: all its input was read from the cache."""
    served = usage.input_tokens + usage.cache_read_input_tokens \
        + usage.cache_creation_input_tokens
    return Usage(input_tokens=0, output_tokens=usage.output_tokens,
                 cache_creation_input_tokens=0, cache_read_input_tokens=served)


def request_key(exchange: Exchange) -> str:
    """SHA-256 (hex) of the normalized request and its route."""
    assert exchange.route is not None
    request = exchange.request
    document = {
        "provider": exchange.route.provider,
        "model": request.model,
        "system": [t.text for t in request.system],
        "messages": [{"role": m.role, "content": _plain(m.content)} for m in request.messages],
        "tools": _plain(request.tools),
        "tool_choice": _plain(request.tool_choice),
        "thinking": _plain(request.thinking),
        "sampling": [_number(request.temperature), _number(request.top_p), request.top_k,
                     list(request.stop_sequences)],
        "max_tokens": request.max_tokens,
        "extra": _plain(request.extra),
        "betas": list(request.betas),
    }
    canonical = orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)  # 0 and 0.0 are one key


def _plain(value: Any) -> Any:
    """A JSON-able form of canonical values, without ``cache_control`` marks."""
    if attrs.has(type(value)):
        out: dict[str, Any] = {"_": type(value).__name__}
        for field in attrs.fields(type(value)):
            if field.name == "cache_control":
                continue
            item = getattr(value, field.name)
            if field.name == "extra" and isinstance(item, Mapping):
                item = {k: v for k, v in item.items() if k != "cache_control"}
            out[field.name] = _plain(item)
        return out
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value
