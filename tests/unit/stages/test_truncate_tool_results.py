"""truncate_tool_results: long outputs keep head and tail around a marker, per tool limits."""

from __future__ import annotations

from typing import Any

import pytest

from lynkr.model import Message, Request, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.exchange import Context, Exchange, Note
from lynkr.stages.truncate_tool_results import (
    MARKER,
    TruncateToolResultsConfig,
    truncate_tool_results,
)


def words(text: str) -> int:  # one token a word: figures in the tests stay readable
    return len(text.split())


PORTS = Ports({"o": ProviderInfo("o", "ollama", "q", "http://o/api/chat")}, "o", words)
LINES = "".join(f"l{i} a b c d\n" for i in range(100))  # 100 lines of 5 tokens


def user(*blocks: Any) -> Message:
    return Message("user", tuple(blocks))


def conversation(name: str, text: str, *, recent: bool = False) -> Request:
    history = [Message("assistant", (ToolUseBlock("t1", name, {}),)), user(
        ToolResultBlock("t1", (TextBlock(text),)))]
    if not recent:
        history.append(user(TextBlock("thanks, next")))
    return Request("m", (user(TextBlock("go")), *history), 1024)


def run(request: Request, config: TruncateToolResultsConfig) -> Exchange:
    return truncate_tool_results(Exchange(request, Context("r1")), config, PORTS)


def output(exchange: Exchange) -> str:
    return exchange.request.messages[2].content[0].text()  # type: ignore[union-attr]


def kept_lines(first: range, last: range, omitted: int, tokens: int) -> str:
    head = "".join(f"l{i} a b c d\n" for i in first)
    tail = "".join(f"l{i} a b c d\n" for i in last)
    return f"{head}[... {omitted:,} lines / {tokens:,} tokens omitted ...]\n{tail}"


LIMITS = TruncateToolResultsConfig(limits={"Read": 100, "Bash": 50, "default": 200},
                                   head_share={"Read": 0.7, "Bash": 0.2, "default": 0.5})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Read", kept_lines(range(14), range(94, 100), 80, 400), id="read-head-heavy"),
        pytest.param("Bash", kept_lines(range(2), range(92, 100), 90, 450), id="bash-tail-heavy"),
        pytest.param("Grep", kept_lines(range(20), range(80, 100), 60, 300), id="default-limit"),
    ],
)
def test_line_aware_cut_per_tool(name: str, expected: str) -> None:
    assert output(run(conversation(name, LINES), LIMITS)) == expected


def test_under_the_limit_untouched() -> None:
    request = conversation("Read", LINES)
    config = TruncateToolResultsConfig(limits={"default": 500})
    out = run(request, config)
    assert out.request is request
    assert out.notes == (Note("truncate_tool_results", "nothing over its limit"),)


def test_decided_on_arrival_the_same_cut_at_every_age() -> None:
    recent = run(conversation("Read", LINES, recent=True), LIMITS)
    older = run(conversation("Read", LINES), LIMITS)
    assert output(recent) == output(older)
    assert MARKER.search(output(recent))


def test_limits_match_tool_names_case_insensitively() -> None:
    assert output(run(conversation("read", LINES), LIMITS)) == \
        output(run(conversation("Read", LINES), LIMITS))


def test_single_long_line_cut_by_characters() -> None:
    text = " ".join(f"w{i}" for i in range(1000))  # one line, 1000 tokens
    cut = output(run(conversation("Bash", text), LIMITS))
    assert MARKER.search(cut)
    assert cut.startswith("w0 w1 ") and cut.endswith(" w998 w999")
    assert words(cut) < 80


def test_note_and_idempotence() -> None:
    once = run(conversation("Read", LINES), LIMITS)
    assert once.notes == (Note("truncate_tool_results", "cut 1 tool outputs", 500 - 108),)
    twice = truncate_tool_results(once, LIMITS, PORTS)
    assert twice.request == once.request
    assert twice.notes[-1] == Note("truncate_tool_results", "nothing over its limit")


def test_disabled() -> None:
    request = conversation("Read", LINES)
    out = run(request, TruncateToolResultsConfig(enabled=False, limits={"default": 1}))
    assert out.request is request
    assert out.notes == (Note("truncate_tool_results", "disabled"),)


def test_error_flag_and_other_blocks_kept() -> None:
    block = ToolResultBlock("t1", (TextBlock(LINES), TextBlock("short")), is_error=True)
    request = Request("m", (user(TextBlock("go")),
                            Message("assistant", (ToolUseBlock("t1", "Read", {}),)),
                            user(block), user(TextBlock("next"))), 1024)
    [cut] = run(request, LIMITS).request.messages[2].content
    assert isinstance(cut, ToolResultBlock)
    assert cut.is_error and cut.content[1] == TextBlock("short")
    assert MARKER.search(cut.content[0].text)  # type: ignore[union-attr]
