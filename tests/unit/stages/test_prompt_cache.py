"""prompt_cache: keys, bypass rules, hits with honest usage, what may be stored."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from lynkr.cache.memory import MemoryCache
from lynkr.model import (
    Message,
    OpaqueBlock,
    Request,
    Response,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolUseBlock,
    Usage,
)
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.exchange import Context, Exchange, Route
from lynkr.stages.prompt_cache import (
    KEY,
    STATE,
    PromptCacheConfig,
    cacheable_response,
    prompt_cache,
    replayed_usage,
    request_key,
)

PROVIDERS = {"openai": ProviderInfo("openai", "openai", "gpt-4o", "https://o"),
             "ollama": ProviderInfo("ollama", "ollama", "qwen", "http://o")}
ANSWER = Response("msg_up", "gpt-4o", (TextBlock("Paris."),), "end_turn", Usage(100, 7, 0, 20))


def ports(cache: MemoryCache | None = None, now: float = 0.0) -> Ports:
    return Ports(PROVIDERS, "openai", cache=cache, now=lambda: now)


def exchange(provider: str = "openai", **fields: Any) -> Exchange:
    request = Request("gpt-4o", (Message("user", (TextBlock("capital of France?"),)),), 256,
                      system=(TextBlock("Be brief."),), temperature=0)
    return Exchange(attrs.evolve(request, **fields), Context("req_1"),
                    route=Route(provider, "gpt-4o"))


def key(**fields: Any) -> str:
    return request_key(exchange(**fields))


def test_key_is_a_sha256_hex_digest() -> None:
    assert len(key()) == 64 and int(key(), 16) >= 0


@pytest.mark.parametrize("fields", [
    {"system": (TextBlock("Be brief.", {"type": "ephemeral"}),)},
    {"messages": (Message("user", (TextBlock("capital of France?", {"type": "ephemeral"}),)),)},
    {"metadata": {"user_id": "someone"}},
    {"stream": True},
    {"temperature": 0.0},
], ids=["system-mark", "message-mark", "metadata", "stream", "float-zero"])
def test_key_ignores_marks_metadata_and_stream(fields: dict[str, Any]) -> None:
    assert key(**fields) == key()


@pytest.mark.parametrize("fields", [
    {"model": "gpt-4o-mini"},
    {"system": (TextBlock("Be long."),)},
    {"messages": (Message("user", (TextBlock("capital of Peru?"),)),)},
    {"max_tokens": 255},
    {"top_p": 0.5},
    {"stop_sequences": ("\n",)},
    {"tools": (Tool("Bash"),)},
    {"tool_choice": {"type": "any"}},
    {"extra": {"output_config": {"effort": "low"}}},
], ids=["model", "system", "messages", "max_tokens", "top_p", "stop", "tools", "tool_choice",
        "extra"])
def test_key_changes_with_what_changes_the_answer(fields: dict[str, Any]) -> None:
    assert key(**fields) != key()


def test_key_includes_the_provider() -> None:
    assert request_key(exchange("ollama")) != request_key(exchange("openai"))


def test_tool_cache_control_in_extra_is_ignored() -> None:
    tool = Tool("Bash", "run", {"type": "object"})
    marked = attrs.evolve(tool, extra={"cache_control": {"type": "ephemeral"}})
    assert key(tools=(tool,)) == key(tools=(marked,))


async def test_miss_leaves_the_key_for_the_server() -> None:
    out = await prompt_cache(exchange(), PromptCacheConfig(), ports(MemoryCache()))
    assert out.response is None
    assert out.annotations == {STATE: "miss", KEY: key()}
    assert out.notes[-1].summary == "miss"
    assert out.request == exchange().request


async def test_hit_sets_the_response_with_honest_usage() -> None:
    cache = MemoryCache(4, 60)
    cache.put(key(), ANSWER, 0)
    out = await prompt_cache(exchange(), PromptCacheConfig(), ports(cache, now=30))
    assert out.response == attrs.evolve(ANSWER, usage=Usage(0, 7, 0, 120))
    assert out.annotations == {STATE: "hit"}
    assert out.notes[-1].summary.startswith("hit")
    assert out.notes[-1].tokens_removed > 0


async def test_expired_entry_is_a_miss() -> None:
    cache = MemoryCache(4, 60)
    cache.put(key(), ANSWER, 0)
    out = await prompt_cache(exchange(), PromptCacheConfig(), ports(cache, now=61))
    assert out.response is None and out.annotations[STATE] == "miss"


@pytest.mark.parametrize(("config", "fields", "cache", "reason"), [
    (PromptCacheConfig(enabled=False), {}, True, "disabled"),
    (PromptCacheConfig(), {}, False, "no cache configured"),
    (PromptCacheConfig(), {"temperature": 1.0}, True, "temperature is not 0"),
    (PromptCacheConfig(), {"temperature": None}, True, "temperature is not 0"),
    (PromptCacheConfig(), {"tools": (Tool("Bash"),)}, True, "request has tools"),
])
async def test_bypass(config: PromptCacheConfig, fields: dict[str, Any], cache: bool,
                reason: str) -> None:
    out = await prompt_cache(exchange(**fields), config, ports(MemoryCache() if cache else None))
    assert out.response is None
    assert out.annotations == {STATE: "bypass"}
    assert out.notes[-1].summary == f"bypass ({reason})"


@pytest.mark.parametrize(("config", "fields"), [
    (PromptCacheConfig(require_deterministic=False), {"temperature": 1.0}),
    (PromptCacheConfig(allow_tools=True), {"tools": (Tool("Bash"),)}),
])
async def test_bypass_rules_are_configurable(config: PromptCacheConfig, fields: dict[str, Any]
                                       ) -> None:
    out = await prompt_cache(exchange(**fields), config, ports(MemoryCache()))
    assert out.annotations[STATE] == "miss"


@pytest.mark.parametrize(("response", "ok"), [
    (ANSWER, True),
    (attrs.evolve(ANSWER, stop_reason="max_tokens"), True),
    (attrs.evolve(ANSWER, content=(ThinkingBlock("t", "s"), TextBlock("x"))), True),
    (attrs.evolve(ANSWER, stop_reason=None), False),
    (attrs.evolve(ANSWER, stop_reason="tool_use"), False),
    (attrs.evolve(ANSWER, content=(TextBlock("x"), ToolUseBlock("t", "Read", {}))), False),
    (attrs.evolve(ANSWER, content=(OpaqueBlock("server_tool_use", {}),)), False),
    (attrs.evolve(ANSWER, content=()), False),
])
def test_cacheable_response(response: Response, ok: bool) -> None:
    assert cacheable_response(response) is ok


@pytest.mark.parametrize(("stored", "replayed"), [
    (Usage(100, 7), Usage(0, 7, 0, 100)),
    (Usage(100, 7, 30, 20), Usage(0, 7, 0, 150)),
    (Usage(0, 7), Usage(0, 7, 0, 0)),  # nothing reported: no cache tokens invented
])
def test_replayed_usage(stored: Usage, replayed: Usage) -> None:
    assert replayed_usage(stored) == replayed


@pytest.mark.parametrize("fields", [{"ttl_ms": 0}, {"max_entries": 0}])
def test_config_refuses_non_positive_limits(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be at least 1"):
        PromptCacheConfig(**fields)
