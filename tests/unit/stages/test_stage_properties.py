"""Properties of the stages over generated conversations (Hypothesis).

Every request gets a route; no stage adds tools or text; normalize is idempotent and leaves
every tool_use answered; the last user message's text survives the whole default pipeline.
"""

from __future__ import annotations

import inspect
from itertools import pairwise
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr.model import (
    Block,
    Message,
    RedactedThinkingBlock,
    Request,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.pipeline import compile_file, run_stages
from lynkr.pipeline.compile import REPO
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.capability_filter import BILLING_PREFIX, EMPTIED
from lynkr.stages.exchange import Context, Exchange
from lynkr.stages.normalize import MISSING_RESULT, NormalizeConfig, normalize

DEFAULT = compile_file(REPO / "default.yaml")
PROVIDERS = {
    "ollama": ProviderInfo("ollama", "ollama", "qwen2.5-coder:7b", "http://o/api/chat",
                             local=True),
    "openai": ProviderInfo("openai", "openai", "gpt-4o", "https://o/v1/chat/completions"),
    "llamacpp": ProviderInfo("llamacpp", "openai", "default", "http://l/v1/chat/completions",
                               local=True),
    "anthropic": ProviderInfo("anthropic", "anthropic", "claude-x", "https://a/v1/messages"),
}
ports_st = st.sampled_from(sorted(PROVIDERS)).map(lambda name: Ports(PROVIDERS, name))

texts = st.text(max_size=12)
text_blocks = texts.map(TextBlock)
thinking_blocks = st.one_of(
    st.builds(ThinkingBlock, texts, st.text(max_size=4)),
    st.builds(RedactedThinkingBlock, st.text(max_size=4)),
)
tools_st = st.lists(
    st.sampled_from(
        [
            Tool(
                "Read", "Read a file", {"type": "object", "properties": {"format": {"type": "x"}}}
            ),
            Tool("Bash", "Run a command", {"type": "object"}),
            Tool("mcp__x__y", "deferred", {"type": "object"}, extra={"defer_loading": True}),
            Tool("web_search", type="web_search_20250305"),
            Tool("Custom", "custom", {"type": "object"}, type="custom"),
        ]
    ),
    max_size=5,
)
system_st = st.lists(
    st.one_of(text_blocks, texts.map(lambda t: TextBlock(f"{BILLING_PREFIX} {t}"))), max_size=3
)


@st.composite
def user_turn(draw: st.DrawFn, open_ids: list[str]) -> Message:
    blocks: list[Block] = draw(st.lists(text_blocks, max_size=3))
    answered = draw(st.lists(st.sampled_from(open_ids), unique=True)) if open_ids else []
    blocks += [ToolResultBlock(i, (draw(text_blocks),)) for i in answered]
    if draw(st.booleans()):
        blocks.append(ToolResultBlock("toolu_orphan", (TextBlock("stray"),)))
    blocks = draw(st.permutations(blocks)) if blocks else [draw(text_blocks)]
    return Message("user", tuple(blocks))


@st.composite
def assistant_turn(draw: st.DrawFn, turn: int) -> tuple[Message, list[str]]:
    blocks: list[Block] = draw(st.lists(st.one_of(text_blocks, thinking_blocks), max_size=3))
    ids = [f"toolu_{turn}_{k}" for k in range(draw(st.integers(0, 3)))]
    blocks += [ToolUseBlock(i, "Read", {"path": draw(texts)}) for i in ids]
    return Message("assistant", tuple(blocks or [TextBlock("ok")])), ids


@st.composite
def requests(draw: st.DrawFn) -> Request:
    messages: list[Message] = []
    open_ids: list[str] = []
    for turn in range(draw(st.integers(1, 7))):
        if turn % 2 == 0:
            messages.append(draw(user_turn(open_ids)))
        else:
            message, open_ids = draw(assistant_turn(turn))
            messages.append(message)
    return Request(
        model=draw(st.sampled_from(["claude-sonnet-4-5", "claude-3-5-haiku", "gpt-4o"])),
        messages=tuple(messages),
        max_tokens=draw(st.integers(1, 200_000)),
        system=tuple(draw(system_st)),
        tools=tuple(draw(tools_st)),
        extra=draw(st.sampled_from([{}, {"context_management": {"edits": []}}])),
        betas=tuple(draw(st.lists(st.sampled_from(["b1", "b2"]), max_size=2))),
    )


def exchange(request: Request) -> Exchange:
    return Exchange(request, Context("req-prop", client_model=request.model))


def is_filled(block: Any) -> bool:
    """normalize's error result for a gap (a cache breakpoint may mark it later)."""
    plain = attrs.evolve(block, cache_control=None, content=tuple(
        attrs.evolve(b, cache_control=None) if isinstance(b, TextBlock) else b
        for b in block.content))
    return plain == ToolResultBlock(block.tool_use_id, (TextBlock(MISSING_RESULT),), True)


def text_length(request: Request) -> int:
    """All text a model reads, leaving out the error results normalize adds for gaps and the
    placeholder capability_filter leaves in a turn that held only dropped thinking."""
    total = sum(len(b.text) for b in request.system)
    total += sum(len(t.name) + len(t.description) for t in request.tools)
    for message in request.messages:
        for block in message.content:
            if isinstance(block, TextBlock) and (block,) != EMPTIED:
                total += len(block.text)
            elif isinstance(block, ThinkingBlock):
                total += len(block.thinking)
            elif isinstance(block, ToolResultBlock) and not is_filled(block):
                total += len(block.text())
    return total


def last_user_texts(request: Request) -> tuple[str, ...]:
    """The last user turn's texts (a cache breakpoint mark on them is not an alteration)."""
    last = [m for m in request.messages if m.role == "user"][-1]
    return tuple(b.text for b in last.content if isinstance(b, TextBlock) and b.text)


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(request=requests(), ports=ports_st)
async def test_every_request_gets_a_route(request: Request, ports: Ports) -> None:
    out, timings = await run_stages(DEFAULT, exchange(request), ports)
    assert out.route is not None
    assert out.route.provider == ports.default_provider
    assert out.route.model == out.request.model
    assert [t.stage for t in timings] == [s.name for s in DEFAULT.stages
                                          if s.spec.run is not None]


@PROPERTY
@given(request=requests(), ports=ports_st)
async def test_no_stage_adds_tools_or_text(request: Request, ports: Ports) -> None:
    """(Memory is off in these ports: with memory on, ``memory_inject`` adds what it recalls.)"""
    current = exchange(request)
    for stage in DEFAULT.stages:
        if stage.spec.run is None:  # a tap: it only watches the answer
            continue
        after = stage.spec.run(current, stage.config, ports)
        if inspect.isawaitable(after):
            after = await after
        assert isinstance(after, Exchange)
        assert len(after.request.tools) <= len(current.request.tools), stage.name
        assert text_length(after.request) <= text_length(current.request), stage.name
        assert after.request.max_tokens <= current.request.max_tokens, stage.name
        current = after


@PROPERTY
@given(request=requests(), ports=ports_st)
def test_normalize_is_idempotent(request: Request, ports: Ports) -> None:
    once = normalize(exchange(request), NormalizeConfig(), ports)
    twice = normalize(once, NormalizeConfig(), ports)
    assert twice.request == once.request
    assert twice.notes[-1].summary == "unchanged"


@PROPERTY
@given(request=requests(), ports=ports_st)
def test_every_tool_use_answered_after_normalize(request: Request, ports: Ports) -> None:
    messages = normalize(exchange(request), NormalizeConfig(), ports).request.messages
    assert len(messages) == len(request.messages)
    for message, following in pairwise(messages):
        if message.role != "assistant" or following.role != "user":
            continue
        used = [b.id for b in message.content if isinstance(b, ToolUseBlock)]
        results = [b for b in following.content if isinstance(b, ToolResultBlock)]
        assert set(used) <= {b.tool_use_id for b in results}
        assert following.content[: len(results)] == tuple(results)  # results come first


@PROPERTY
@given(request=requests(), ports=ports_st)
async def test_last_user_text_survives_the_pipeline(request: Request, ports: Ports) -> None:
    out, _ = await run_stages(DEFAULT, exchange(request), ports)
    assert last_user_texts(out.request) == last_user_texts(request)
    assert [m.role for m in out.request.messages] == [m.role for m in request.messages]


def test_generated_requests_cover_the_interesting_cases() -> None:
    """The strategy can produce what the properties are about (guards against a weak one)."""
    gap = Request(
        "m",
        (
            Message("user", (TextBlock("a"),)),
            Message("assistant", (ToolUseBlock("toolu_1_0", "Read", {}),)),
            Message("user", (TextBlock(""),)),
        ),
        10,
    )
    out = normalize(exchange(gap), NormalizeConfig(), Ports(PROVIDERS, "ollama"))
    assert is_filled(out.request.messages[-1].content[0])
    assert text_length(out.request) == text_length(gap) == 1
    assert attrs.evolve(out.request, messages=gap.messages) == gap
