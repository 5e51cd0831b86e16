"""normalize: empty text dropped, tool results first, missing results filled, text untouched."""

from __future__ import annotations

import pytest

from lynkr.model import Message, Request, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.exchange import Context, Exchange, Note
from lynkr.stages.normalize import MISSING_RESULT, NormalizeConfig, normalize

PORTS = Ports({"ollama": ProviderInfo("ollama", "ollama", "qwen", "http://x/api/chat")}, "ollama")


def user(*blocks: object) -> Message:
    return Message("user", tuple(blocks))  # type: ignore[arg-type]


def assistant(*blocks: object) -> Message:
    return Message("assistant", tuple(blocks))  # type: ignore[arg-type]


def request(*messages: Message) -> Request:
    return Request(model="claude-sonnet-4-5", messages=messages, max_tokens=1024)


def run(req: Request, config: NormalizeConfig | None = None) -> Exchange:
    return normalize(Exchange(req, Context("req-1")), config or NormalizeConfig(), PORTS)


def missing(tool_use_id: str) -> ToolResultBlock:
    return ToolResultBlock(tool_use_id, (TextBlock(MISSING_RESULT),), is_error=True)


USE_A = ToolUseBlock("toolu_a", "Read", {"path": "a.py"})
USE_B = ToolUseBlock("toolu_b", "Bash", {"command": "ls"})
RESULT_A = ToolResultBlock("toolu_a", (TextBlock("print('a')"),))
RESULT_B = ToolResultBlock("toolu_b", (TextBlock("a.py"),))

CASES = [
    pytest.param(
        request(user(TextBlock("hi"), TextBlock(""), TextBlock("there"))),
        request(user(TextBlock("hi"), TextBlock("there"))),
        "dropped 1 empty, filled 0 results",
        id="empty-text-dropped",
    ),
    pytest.param(
        request(user(TextBlock("go")), assistant(TextBlock(""), USE_A), user(RESULT_A)),
        request(user(TextBlock("go")), assistant(USE_A), user(RESULT_A)),
        "dropped 1 empty, filled 0 results",
        id="empty-text-dropped-in-assistant",
    ),
    pytest.param(
        request(user(TextBlock("")), assistant(TextBlock("ok"))),
        request(user(TextBlock("")), assistant(TextBlock("ok"))),
        "unchanged",
        id="turn-of-only-empty-text-kept",
    ),
    pytest.param(
        request(
            user(TextBlock("go")),
            assistant(USE_A, USE_B),
            user(TextBlock("and now?"), RESULT_B, RESULT_A),
        ),
        request(
            user(TextBlock("go")),
            assistant(USE_A, USE_B),
            user(RESULT_B, RESULT_A, TextBlock("and now?")),
        ),
        "dropped 0 empty, filled 0 results",
        id="tool-results-moved-first",
    ),
    pytest.param(
        request(user(TextBlock("go")), assistant(USE_A, USE_B), user(RESULT_A, TextBlock("x"))),
        request(
            user(TextBlock("go")),
            assistant(USE_A, USE_B),
            user(missing("toolu_b"), RESULT_A, TextBlock("x")),
        ),
        "dropped 0 empty, filled 1 results",
        id="missing-result-filled-as-error",
    ),
    pytest.param(
        request(
            user(TextBlock("go")),
            assistant(TextBlock("let me look"), USE_A),
            user(TextBlock("stop, do this instead")),
        ),
        request(
            user(TextBlock("go")),
            assistant(TextBlock("let me look"), USE_A),
            user(missing("toolu_a"), TextBlock("stop, do this instead")),
        ),
        "dropped 0 empty, filled 1 results",
        id="interrupted-client-filled-before-text",
    ),
    pytest.param(
        request(user(TextBlock("go")), assistant(USE_A), user(TextBlock(""))),
        request(user(TextBlock("go")), assistant(USE_A), user(missing("toolu_a"))),
        "dropped 1 empty, filled 1 results",
        id="filled-then-empty-text-dropped",
    ),
    pytest.param(
        request(user(TextBlock("go")), assistant(USE_A)),
        request(user(TextBlock("go")), assistant(USE_A)),
        "unchanged",
        id="trailing-tool-use-left-alone",
    ),
    pytest.param(
        request(
            user(TextBlock("go")),
            assistant(ThinkingBlock("hm", "sig"), USE_A),
            user(RESULT_A),
            assistant(TextBlock("done")),
        ),
        request(
            user(TextBlock("go")),
            assistant(ThinkingBlock("hm", "sig"), USE_A),
            user(RESULT_A),
            assistant(TextBlock("done")),
        ),
        "unchanged",
        id="valid-history-unchanged",
    ),
]


@pytest.mark.parametrize(("before", "after", "summary"), CASES)
def test_normalize(before: Request, after: Request, summary: str) -> None:
    out = run(before)
    assert out.request == after
    assert out.notes == (Note("normalize", summary),)
    assert out.route is None and out.response is None


def test_unchanged_request_is_returned_as_is() -> None:
    req = request(user(TextBlock("hello")))
    out = run(req)
    assert out.request is req
    assert out.notes == (Note("normalize", "unchanged"),)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            NormalizeConfig(fill_missing_tool_results=False), user(TextBlock("x")), id="no-fill"
        ),
        pytest.param(
            NormalizeConfig(drop_empty_text=False),
            user(missing("toolu_a"), TextBlock(""), TextBlock("x")),
            id="keep-empty",
        ),
    ],
)
def test_config_switches(config: NormalizeConfig, expected: Message) -> None:
    before = request(user(TextBlock("go")), assistant(USE_A), user(TextBlock(""), TextBlock("x")))
    out = run(before, config)
    assert out.request.messages[-1] == expected
    assert out.request.messages[:2] == before.messages[:2]


def test_last_user_text_never_altered() -> None:
    text = ("  leading and trailing spaces kept  ", "\n", "unicode: é ✓")
    before = request(user(TextBlock("go")), assistant(USE_A), user(*(TextBlock(t) for t in text)))
    out = run(before)
    last = out.request.messages[-1]
    assert tuple(b.text for b in last.content if isinstance(b, TextBlock)) == text
    assert last.content[0] == missing("toolu_a")


def test_normalize_twice_is_unchanged() -> None:
    before = request(user(TextBlock("go")), assistant(USE_A, USE_B), user(TextBlock(""), RESULT_B))
    once = run(before)
    twice = normalize(once, NormalizeConfig(), PORTS)
    assert twice.request == once.request
    assert twice.notes[-1] == Note("normalize", "unchanged")
