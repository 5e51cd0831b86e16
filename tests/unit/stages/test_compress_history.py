"""compress_history: elide the middle of long conversations, keep pairs and recent turns."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.formats.token_text import request_text
from lynkr.model import Message, Request, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from lynkr.ports import Ports, ProviderInfo, estimate_tokens
from lynkr.stages.compress_history import (
    CompressHistoryConfig,
    compress_history,
    plan_cut,
    summarize,
)
from lynkr.stages.exchange import Context, Exchange, Route

PROVIDERS = {"local": ProviderInfo("local", "openai", "m", "http://l", context_window=1000),
             "big": ProviderInfo("big", "openai", "m", "http://b")}


def user(*blocks: Any) -> Message:
    return Message("user", tuple(TextBlock(b) if isinstance(b, str) else b for b in blocks))


def assistant(*blocks: Any) -> Message:
    return Message("assistant", tuple(TextBlock(b) if isinstance(b, str) else b
                                      for b in blocks))


def read(i: int, path: str) -> tuple[Message, Message]:
    call = ToolUseBlock(f"t{i}", "Read", {"file_path": path, "limit": 100})
    return (assistant(f"Reading {path}.\nMore thoughts.", call),
            user(ToolResultBlock(f"t{i}", (TextBlock("x" * 2000),))))


def session(turns: int) -> tuple[Message, ...]:
    messages: list[Message] = [user("Fix the bug in the parser.")]
    for i in range(turns):
        messages.extend(read(i, f"/src/f{i}.py"))
    messages.append(assistant("Done."))
    messages.append(user("Now add a test."))
    return tuple(messages)


def run(messages: tuple[Message, ...], config: CompressHistoryConfig | None = None,
        provider: str = "local") -> Exchange:
    request = Request("m", messages, 100, system=(TextBlock("sys"),))
    exchange = Exchange(request, Context("r"), route=Route(provider, "m"))
    return compress_history(exchange, config or CompressHistoryConfig(),
                            Ports(PROVIDERS, provider))


def test_under_budget_is_unchanged() -> None:
    messages = session(1)
    out = run(messages, provider="big")
    assert out.request.messages == messages
    assert out.notes[-1].summary.startswith("within budget")


def test_over_the_window_elides_the_middle() -> None:
    messages = session(8)
    out = run(messages, CompressHistoryConfig(keep_recent_turns=4))
    kept = out.request.messages
    assert kept[0].content[0] == messages[0].content[0]
    assert kept[1:] == messages[-4:]
    summary = kept[0].content[-1].text
    assert summary.startswith("[14 earlier turns were elided")
    assert "- Read(file_path=/src/f0.py, limit=100)" in summary
    assert "- Reading /src/f5.py." in summary and "More thoughts" not in summary
    assert "Files touched: /src/f0.py, /src/f1.py" in summary
    assert out.notes[-1].tokens_removed > 0
    assert "elided 14 turns" in out.notes[-1].summary


def test_budget_tokens_triggers_below_the_window() -> None:
    messages = session(2)
    assert run(messages, provider="big").request.messages == messages
    out = run(messages, CompressHistoryConfig(budget_tokens=100, keep_recent_turns=2),
              provider="big")
    assert len(out.request.messages) < len(messages)


def test_context_window_override() -> None:
    messages = session(3)
    out = run(messages, CompressHistoryConfig(context_window=10**6))
    assert out.request.messages == messages


def test_nothing_to_elide_when_everything_is_recent() -> None:
    messages = session(2)
    out = run(messages, CompressHistoryConfig(budget_tokens=10, keep_recent_turns=50))
    assert out.request.messages == messages
    assert "nothing old enough" in out.notes[-1].summary


@pytest.mark.parametrize(("roles", "keep", "cut"), [
    ("uauau", 1, (1, 3)),  # the tail must open with the assistant turn
    ("uauau", 2, (1, 3)),
    ("uaua", 1, None),  # a tail without a user turn
    ("ua", 1, None),
    ("u", 1, None),
    ("auau", 2, (0, 2)),  # no first user message: the summary becomes one
])
def test_plan_cut(roles: str, keep: int, cut: tuple[int, int] | None) -> None:
    messages = tuple(user("u") if r == "u" else assistant("a") for r in roles)
    assert plan_cut(messages, keep) == cut


def test_cut_never_splits_a_tool_pair() -> None:
    a, r = read(1, "/x")
    messages = (user("go"), assistant("hi"), user("more"), a, r, assistant("ok"), user("end"))
    # keep 3 would start at the tool_result; the cut moves back to its tool_use
    assert plan_cut(messages, 3) == (1, 3)


def test_summary_skips_reminders_and_caps_sections() -> None:
    elided = tuple(m for i in range(30) for m in read(i, f"/f{i}"))
    elided += (user("<system-reminder>\nnoise</system-reminder>", "please also lint"),)
    text = summarize(elided, CompressHistoryConfig(summary_max_lines=8))
    assert "noise" not in text and "- please also lint" in text
    assert "Tool calls made: (the last 2 of 30)" in text
    assert "- Read(file_path=/f29, limit=100)" in text


# --- properties ---------------------------------------------------------------------------

texts = st.text(alphabet="abc xyz\n", min_size=1, max_size=40)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[Message, ...]:
    messages = [user(draw(texts))]
    for i in range(draw(st.integers(0, 12))):
        calls = draw(st.integers(0, 2))
        uses = tuple(ToolUseBlock(f"t{i}_{j}", draw(st.sampled_from(["Read", "Bash"])),
                                  {"file_path": draw(texts)}) for j in range(calls))
        lead = (ThinkingBlock(draw(texts), "s"),) if draw(st.booleans()) else ()
        messages.append(assistant(*lead, draw(texts), *uses))
        results = tuple(ToolResultBlock(u.id, (TextBlock(draw(texts) * 20),)) for u in uses)
        extra = (TextBlock(draw(texts)),) if not results or draw(st.booleans()) else ()
        messages.append(Message("user", results + extra))
    return tuple(messages)


configs = st.builds(CompressHistoryConfig, budget_tokens=st.integers(1, 400),
                    keep_recent_turns=st.integers(1, 8))


def pairs_valid(messages: tuple[Message, ...]) -> bool:
    for i, message in enumerate(messages):
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                previous = messages[i - 1].content if i else ()
                if not any(isinstance(b, ToolUseBlock) and b.id == block.tool_use_id
                           for b in previous):
                    return False
            if isinstance(block, ToolUseBlock) and i + 1 < len(messages):
                following = messages[i + 1].content
                if not any(isinstance(b, ToolResultBlock) and b.tool_use_id == block.id
                           for b in following):
                    return False
    return True


@given(conversations(), configs)
def test_properties(messages: tuple[Message, ...], config: CompressHistoryConfig) -> None:
    assert pairs_valid(messages)
    request = Request("m", messages, 100)
    out = run(messages, config).request.messages
    before = estimate_tokens(request_text(request)) + estimate_tokens("sys")
    after = estimate_tokens(request_text(Request("m", out, 100))) + estimate_tokens("sys")
    assert after <= before + 1  # the system text is counted with a separator
    assert pairs_valid(out)
    assert out[-1] == messages[-1]  # the last user message is never altered
    if out != messages:
        keep = config.keep_recent_turns
        assert out[-keep:] == messages[-keep:]  # recent turns verbatim
        assert out[0].content[:-1] == messages[0].content  # the first user message kept
        roles = [m.role for m in out]
        assert all(a != b for a, b in pairwise(roles))


@given(conversations(), configs)
def test_second_pass_within_budget_changes_nothing_more_than_the_first(
        messages: tuple[Message, ...], config: CompressHistoryConfig) -> None:
    once = run(messages, config)
    twice = run(once.request.messages, config)
    after_once = estimate_tokens(request_text(once.request))
    after_twice = estimate_tokens(request_text(twice.request))
    assert after_twice <= after_once
