"""Canonical Request → OpenAI Chat Completions body."""

from typing import Any

import pytest

from lynkr.formats.openai_chat.request import (
    ChatOptions,
    build_chat_request,
    clean_schema,
    tool_choice,
)
from lynkr.model import (
    ImageBlock,
    Message,
    Request,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
)

PNG = ImageBlock({"type": "base64", "media_type": "image/png", "data": "AAAA"})
SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "properties": {"path": {"type": "string"}}, "additionalProperties": False}
TOOLS = (
    Tool("Read", "Reads a file.", SCHEMA),
    Tool("Later", "Deferred.", {"type": "object"}, extra={"defer_loading": True}),
    Tool("web_search", type="web_search_20250305"),
    Tool("Bare", type="custom"),
)
CONVERSATION = Request(
    model="gpt-test",
    max_tokens=1000,
    system=(TextBlock("Sys one."), TextBlock("Sys two.")),
    messages=(
        Message("user", (TextBlock("read a and b"),)),
        Message("system", (TextBlock("note"),)),
        Message("assistant", (ThinkingBlock("plan", "sig"), TextBlock("Reading."),
                              ToolUseBlock("call_1", "Read", {"path": "/a"}),
                              ToolUseBlock("call_2", "Read", {"path": "/ü"}))),
        Message("user", (
            TextBlock("and look"),
            ToolResultBlock("call_1", (TextBlock("A"),)),
            ToolResultBlock("call_2", (TextBlock("no such file"), PNG), is_error=True),
        )),
    ),
    tools=TOOLS,
)
READ_TOOL = {"type": "function", "function": {
    "name": "Read", "description": "Reads a file.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                   "additionalProperties": False}}}
BARE_TOOL = {"type": "function", "function": {
    "name": "Bare", "parameters": {"type": "object", "properties": {}}}}
HEAD = {"role": "system", "content": "Sys one.\n\nSys two."}
USER = {"role": "user", "content": "read a and b"}
ASSISTANT = {"role": "assistant", "content": "Reading.", "tool_calls": [
    {"id": "call_1", "type": "function",
     "function": {"name": "Read", "arguments": '{"path":"/a"}'}},
    {"id": "call_2", "type": "function",
     "function": {"name": "Read", "arguments": '{"path":"/ü"}'}},
]}
RESULTS = [
    {"role": "tool", "tool_call_id": "call_1", "content": "A"},
    {"role": "tool", "tool_call_id": "call_2", "content": "[tool error] no such file\n[image]"},
]
TAIL = {"role": "user", "content": [
    {"type": "text", "text": "and look"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
]}


@pytest.mark.parametrize(
    ("mode", "messages"),
    [
        ("in_place", [HEAD, USER, {"role": "system", "content": "note"}, ASSISTANT,
                      *RESULTS, TAIL]),
        ("merge", [{"role": "system", "content": "Sys one.\n\nSys two.\n\nnote"}, USER,
                   ASSISTANT, *RESULTS, TAIL]),
        ("as_user", [HEAD, {"role": "user", "content":
                            "read a and b\n<system-reminder>\nnote\n</system-reminder>"},
                     ASSISTANT, *RESULTS, TAIL]),
    ],
)
def test_full_conversation(mode: Any, messages: list[dict[str, Any]]) -> None:
    assert build_chat_request(CONVERSATION, ChatOptions(mid_system=mode)) == {
        "model": "gpt-test",
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 1000,
        "tools": [READ_TOOL, BARE_TOOL],
    }


def test_options() -> None:
    options = ChatOptions(system_role="developer", max_tokens_field="max_completion_tokens",
                          stream_usage=False, max_stop_sequences=2)
    req = Request("m", (Message("user", (TextBlock("q"),)),), 50,
                  system=(TextBlock("S"),), temperature=0.0, top_p=0.5, top_k=3,
                  stop_sequences=("a", "b", "c"))
    assert build_chat_request(req, options) == {
        "model": "m",
        "messages": [{"role": "developer", "content": "S"}, {"role": "user", "content": "q"}],
        "stream": True,
        "max_completion_tokens": 50,
        "temperature": 0.0,
        "top_p": 0.5,
        "stop": ["a", "b"],
    }


def test_stop_limited_to_four_by_default_and_no_max_tokens_when_zero() -> None:
    req = Request("m", (), 0, stop_sequences=tuple("abcdef"))
    body = build_chat_request(req)
    assert body["stop"] == ["a", "b", "c", "d"]
    assert "max_tokens" not in body


@pytest.mark.parametrize(
    ("choice", "expected", "parallel"),
    [
        (None, None, None),
        ({"type": "auto"}, "auto", None),
        ({"type": "any"}, "required", None),
        ({"type": "none"}, "none", None),
        ({"type": "tool", "name": "Read"},
         {"type": "function", "function": {"name": "Read"}}, None),
        ({"type": "auto", "disable_parallel_tool_use": True}, "auto", False),
        ({"type": "any", "disable_parallel_tool_use": False}, "required", None),
        ({"type": "future_kind"}, None, None),
    ],
)
def test_tool_choice(choice: Any, expected: Any, parallel: Any) -> None:
    req = Request("m", (), 10, tools=TOOLS[:1], tool_choice=choice)
    body = build_chat_request(req)
    assert body.get("tool_choice") == expected
    assert ("tool_choice" in body) == (expected is not None)
    assert body.get("parallel_tool_calls") == parallel
    assert tool_choice(choice) == expected


def test_tool_choice_dropped_when_no_tools_survive() -> None:
    req = Request("m", (), 10, tools=TOOLS[1:3], tool_choice={"type": "any"})
    body = build_chat_request(req)
    assert "tools" not in body
    assert "tool_choice" not in body


def test_assistant_without_text_or_calls_has_empty_content() -> None:
    req = Request("m", (Message("assistant", (ThinkingBlock("x"),)),
                        Message("assistant", (ToolUseBlock("c", "n", {}),))), 10)
    assert build_chat_request(req)["messages"] == [
        {"role": "assistant", "content": ""},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "n", "arguments": "{}"}}]},
    ]


@pytest.mark.parametrize(
    ("schema", "cleaned"),
    [
        ({}, {"type": "object", "properties": {}}),
        ({"type": "object"}, {"type": "object"}),
        ({"$schema": "x", "type": "object", "properties": {"a": {"$schema": "inner"}}},
         {"type": "object", "properties": {"a": {"$schema": "inner"}}}),
    ],
)
def test_clean_schema(schema: dict[str, Any], cleaned: dict[str, Any]) -> None:
    assert clean_schema(schema) == cleaned
