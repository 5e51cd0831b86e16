"""cache_breakpoints: marks for Anthropic-family prefixes, nothing for the others."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.model import Message, Request, TextBlock, Tool, ToolResultBlock, ToolUseBlock
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.cache_breakpoints import (
    EPHEMERAL,
    CacheBreakpointsConfig,
    cache_breakpoints,
    count_marks,
)
from lynkr.stages.exchange import Context, Exchange, Route

PROVIDERS = {
    "anthropic": ProviderInfo("anthropic", "anthropic", "claude", "https://a"),
    "bedrock": ProviderInfo("bedrock", "bedrock", "claude", "https://b"),
    "openai": ProviderInfo("openai", "openai", "gpt-4o", "https://o"),
}
TOOLS = (Tool("Read", "read", {"type": "object"}), Tool("Bash", "run", {"type": "object"}))
MESSAGES = (
    Message("user", (TextBlock("first"),)),
    Message("assistant", (ToolUseBlock("t1", "Read", {"file_path": "/a"}),)),
    Message("user", (ToolResultBlock("t1", (TextBlock("A"),)),)),
    Message("assistant", (TextBlock("ok"),)),
    Message("user", (TextBlock("next"), TextBlock("more"))),
)
REQUEST = Request("claude", MESSAGES, 100, system=(TextBlock("s1"), TextBlock("s2")),
                  tools=TOOLS)


def run(request: Request = REQUEST, provider: str = "anthropic",
        config: CacheBreakpointsConfig | None = None) -> Exchange:
    """The stage's output, with the session's cache key checked and then left out."""
    exchange = Exchange(request, Context("r"), route=Route(provider, "m"))
    out = cache_breakpoints(exchange, config or CacheBreakpointsConfig(),
                            Ports(PROVIDERS, provider))
    assert out.request.cache_key is not None and len(out.request.cache_key) == 32
    return attrs.evolve(out, request=attrs.evolve(out.request, cache_key=None))


def test_cache_key_is_per_session_stable_across_turns_and_hides_the_session_id() -> None:
    ports = Ports(PROVIDERS, "openai")

    def key(request: Request, session: str | None) -> str | None:
        exchange = Exchange(request, Context("r", session_id=session), route=Route("openai", "m"))
        return cache_breakpoints(exchange, CacheBreakpointsConfig(), ports).request.cache_key

    longer = attrs.evolve(REQUEST, messages=(*REQUEST.messages, Message("assistant", (
        TextBlock("ok"),)), Message("user", (TextBlock("again"),))))
    assert key(REQUEST, "s1") == key(longer, "s1") != key(REQUEST, "s2")
    assert key(REQUEST, None) == key(longer, None)  # the conversation's start
    assert "s1" not in str(key(REQUEST, "s1"))


@pytest.mark.parametrize("provider", ["anthropic", "bedrock"])
def test_places_four_marks_at_the_prefix_ends(provider: str) -> None:
    out = run(provider=provider).request
    assert out.tools[0] == TOOLS[0]
    assert out.tools[1].extra == {"cache_control": EPHEMERAL}
    assert out.system == (TextBlock("s1"), TextBlock("s2", EPHEMERAL))
    assert out.messages[:2] == MESSAGES[:2] and out.messages[3] == MESSAGES[3]
    assert out.messages[2].content[0].cache_control == EPHEMERAL
    assert out.messages[4].content == (TextBlock("next"), TextBlock("more", EPHEMERAL))
    assert count_marks(out) == 4


def test_openai_family_gets_nothing() -> None:
    out = run(provider="openai")
    assert out.request == REQUEST
    assert out.notes[-1].summary == "openai: no marks (the backend caches prefixes itself)"


def test_client_marks_are_kept_as_they_are() -> None:
    marked = attrs.evolve(REQUEST, system=(TextBlock("s1"), TextBlock("s2", EPHEMERAL)))
    out = run(marked)
    assert out.request == marked
    assert out.notes[-1].summary == "kept 1 client marks"


def test_too_many_client_marks_lose_the_earliest() -> None:
    messages = tuple(Message(m.role, tuple(attrs.evolve(b, cache_control=EPHEMERAL)
                                           for b in m.content)) for m in MESSAGES)
    request = attrs.evolve(REQUEST, messages=messages)
    assert count_marks(request) == 6
    out = run(request).request
    assert count_marks(out) == 4
    assert out.messages[-1] == messages[-1] and out.messages[-2] == messages[-2]
    assert out.messages[0].content[0].cache_control is None


@pytest.mark.parametrize(("limit", "expected"), [(1, 1), (2, 2), (3, 3)])
def test_the_limit_is_respected(limit: int, expected: int) -> None:
    out = run(config=CacheBreakpointsConfig(max_breakpoints=limit)).request
    assert count_marks(out) == expected


def test_ttl_goes_into_the_mark() -> None:
    out = run(config=CacheBreakpointsConfig(ttl="1h")).request
    assert out.system[-1].cache_control == {"type": "ephemeral", "ttl": "1h"}


def test_a_request_with_nothing_markable_is_unchanged() -> None:
    request = Request("claude", (Message("user", ()),), 10)
    out = run(request)
    assert out.request == request and out.notes[-1].summary == "nothing to mark"


@pytest.mark.parametrize("value", [0, 5])
def test_more_than_four_is_refused(value: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 4"):
        CacheBreakpointsConfig(max_breakpoints=value)


def _strip(request: Request) -> Any:
    def plain(block: Any) -> Any:
        return attrs.evolve(block, cache_control=None) if hasattr(block, "cache_control") \
            else block
    return (tuple(t.name for t in request.tools), tuple(b.text for b in request.system),
            tuple((m.role, tuple(plain(b) for b in m.content)) for m in request.messages))


@given(st.integers(0, len(MESSAGES) - 1), st.integers(0, 2), st.integers(1, 4),
       st.sampled_from(sorted(PROVIDERS)))
def test_never_reorders_or_changes_content(cut: int, tools: int, limit: int, provider: str
                                           ) -> None:
    request = attrs.evolve(REQUEST, messages=MESSAGES[cut:], tools=TOOLS[:tools])
    out = run(request, provider, CacheBreakpointsConfig(max_breakpoints=limit)).request
    assert _strip(out) == _strip(request)
    assert count_marks(out) <= limit
