"""Canonical Request → Ollama /api/chat body."""

from typing import Any

import pytest

from lynkr.formats.ollama.request import OllamaOptions, build_ollama_request
from lynkr.model import (
    ImageBlock,
    Message,
    Request,
    TextBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
)

PNG = ImageBlock({"type": "base64", "media_type": "image/png", "data": "AAAA"})
JPG = ImageBlock({"type": "base64", "media_type": "image/jpeg", "data": "/9j/"})
URL = ImageBlock({"type": "url", "url": "https://x.test/i.jpg"})
WEATHER = Tool("get_weather", "Weather now.",
               {"$schema": "s", "type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]})
CONVERSATION = Request(
    model="qwen3:8b",
    max_tokens=4096,
    system=(TextBlock("Be brief."),),
    messages=(
        Message("user", (TextBlock("weather in Tokyo and Oslo?"), PNG)),
        Message("system", (TextBlock("units: C"),)),
        Message("assistant", (ToolUseBlock("c1", "get_weather", {"city": "Tokyo"}),
                              ToolUseBlock("c2", "get_weather", {"city": "Oslo"}))),
        Message("user", (
            ToolResultBlock("c1", (TextBlock("11C"), JPG)),
            ToolResultBlock("c2", (TextBlock("timeout"),), is_error=True),
            TextBlock("thanks"),
            URL,
        )),
    ),
    tools=(WEATHER, Tool("Later", input_schema={"type": "object"},
                         extra={"defer_loading": True}),
           Tool("web_fetch", type="web_fetch_20250910")),
    temperature=0.7,
    top_p=0.9,
    top_k=40,
    stop_sequences=("</s>", "a", "b", "c", "d"),
)
TOOL_JSON = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather now.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
CALLS = {"role": "assistant", "content": "", "tool_calls": [
    {"id": "c1", "function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
    {"id": "c2", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}},
]}
RESULTS = [
    {"role": "tool", "content": "11C\n[image]", "tool_call_id": "c1", "tool_name": "get_weather"},
    {"role": "tool", "content": "[tool error] timeout", "tool_call_id": "c2",
     "tool_name": "get_weather"},
    # The result's image follows in the user turn; URL images cannot be sent bare.
    {"role": "user", "content": "thanks", "images": ["/9j/"]},
]


def test_full_conversation_with_defaults() -> None:
    assert build_ollama_request(CONVERSATION) == {
        "model": "qwen3:8b",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content":
             "weather in Tokyo and Oslo?\n<system-reminder>\nunits: C\n</system-reminder>",
             "images": ["AAAA"]},
            CALLS, *RESULTS,
        ],
        "stream": True,
        "options": {"num_ctx": 32768, "num_predict": 4096, "temperature": 0.7, "top_p": 0.9,
                    "top_k": 40, "stop": ["</s>", "a", "b", "c", "d"]},
        "tools": [TOOL_JSON],
    }


@pytest.mark.parametrize(
    ("mode", "head"),
    [
        ("in_place", [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "weather in Tokyo and Oslo?",
                       "images": ["AAAA"]},
                      {"role": "system", "content": "units: C"}]),
        ("merge", [{"role": "system", "content": "Be brief.\n\nunits: C"},
                   {"role": "user", "content": "weather in Tokyo and Oslo?",
                    "images": ["AAAA"]}]),
    ],
)
def test_mid_system_options(mode: Any, head: list[dict[str, Any]]) -> None:
    options = OllamaOptions(num_ctx=8192, mid_system=mode, keep_alive="5m")
    body = build_ollama_request(CONVERSATION, options)
    assert body["messages"] == [*head, CALLS, *RESULTS]
    assert body["options"]["num_ctx"] == 8192
    assert body["keep_alive"] == "5m"


def test_minimal_request() -> None:
    req = Request("llama3", (Message("user", (TextBlock("hi"),)),), 0)
    assert build_ollama_request(req) == {
        "model": "llama3",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "options": {"num_ctx": 32768},
    }


def test_result_for_unknown_call_has_no_tool_name() -> None:
    req = Request("m", (Message("user", (ToolResultBlock("gone", (TextBlock("x"),)),)),), 5)
    assert build_ollama_request(req)["messages"] == [
        {"role": "tool", "content": "x", "tool_call_id": "gone"}]
