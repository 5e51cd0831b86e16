"""Reasoning on the wire, both ways: bytes in → signed thinking events out, and the next turn's
request body with the reasoning back in the very field it came in; structured output fields."""

from __future__ import annotations

from typing import Any

import attrs
import orjson
import pytest

from lynkr.formats.bedrock.converse import build_converse
from lynkr.formats.bedrock.invoke import build_invoke_body
from lynkr.formats.ollama.request import OllamaOptions, build_ollama_request
from lynkr.formats.ollama.stream import OllamaStreamParser
from lynkr.formats.openai_chat.request import ChatOptions, build_chat_request
from lynkr.formats.openai_chat.stream import ChatStreamParser
from lynkr.formats.reasoning import unpack
from lynkr.model import (
    Message,
    Request,
    SignatureDelta,
    TextBlock,
    ThinkingBlock,
    ThinkingDelta,
    ToolResultBlock,
    ToolUseBlock,
)


def sse(*deltas: dict[str, Any], finish: str = "tool_calls") -> bytes:
    frames = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    frames.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return b"".join(b"data: " + orjson.dumps(f) + b"\n\n" for f in frames) + b"data: [DONE]\n\n"


CALL = {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                        "function": {"name": "Bash", "arguments": "{}"}}]}
DETAIL = {"type": "reasoning.text", "index": 0, "format": "unknown"}
ENCRYPTED = {"type": "reasoning.encrypted", "data": "e", "index": 0}


@pytest.mark.parametrize(("deltas", "shown", "fields"), [
    pytest.param([{"reasoning_content": "Plan"}, {"reasoning_content": " it."}], "Plan it.",
                 {"reasoning_content": "Plan it."}, id="vllm-deepseek"),
    pytest.param([{"reasoning": "Plan"}, {"reasoning": " it."}], "Plan it.",
                 {"reasoning": "Plan it."}, id="reasoning-string"),
    pytest.param([{"reasoning": "Plan", "reasoning_details": [{**DETAIL, "text": "Plan"}]},
                  {"reasoning": " it.", "reasoning_details": [{**DETAIL, "text": " it."}]}],
                 "Plan it.", {"reasoning": "Plan it.",
                              "reasoning_details": [{**DETAIL, "text": "Plan it."}]},
                 id="openrouter"),
    pytest.param([{"reasoning_details": [ENCRYPTED]}], "", {"reasoning_details": [ENCRYPTED]},
                 id="openrouter-encrypted-only"),
])
def test_chat_stream_signs_the_fields_it_read(deltas: list[dict[str, Any]], shown: str,
                                              fields: dict[str, Any]) -> None:
    events = ChatStreamParser("msg_1", "m", sign_for="vllm").feed(sse(*deltas, CALL))
    text = "".join(e.thinking for e in events if isinstance(e, ThinkingDelta))
    [signature] = [e.signature for e in events if isinstance(e, SignatureDelta)]
    assert text == shown
    assert unpack(signature) == ("vllm", fields)


def test_ollama_stream_signs_its_thinking() -> None:
    lines = [{"message": {"role": "assistant", "content": "", "thinking": "Hmm."}, "done": False},
             {"message": {"role": "assistant", "content": "ok"}, "done": True,
              "done_reason": "stop"}]
    data = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    parser = OllamaStreamParser("msg_1", "m", sign_for="ollama")
    events = parser.feed(data) + parser.close()
    [signature] = [e.signature for e in events if isinstance(e, SignatureDelta)]
    assert unpack(signature) == ("ollama", {"thinking": "Hmm."})


def history(signature: str) -> Request:
    return Request("m", (
        Message("user", (TextBlock("go"),)),
        Message("assistant", (ThinkingBlock("Plan it.", signature),
                              ToolUseBlock("call_1", "Bash", {}))),
        Message("user", (ToolResultBlock("call_1", (TextBlock("done"),)),)),
    ), 100)


def test_chat_echo_restores_each_field_for_its_own_provider_only() -> None:
    details = [{**DETAIL, "text": "Plan it."}]
    signature = ChatStreamParser("msg_1", "m", sign_for="openrouter").feed(sse(
        {"reasoning": "Plan it.", "reasoning_details": details}, CALL))
    sig = next(e.signature for e in signature if isinstance(e, SignatureDelta))
    body = build_chat_request(history(sig), ChatOptions(echo_reasoning="openrouter"))
    turn = body["messages"][1]
    assert turn["reasoning"] == "Plan it." and turn["reasoning_details"] == details
    assert "reasoning_content" not in turn
    other = build_chat_request(history(sig), ChatOptions(echo_reasoning="someone-else"))
    off = build_chat_request(history(sig), ChatOptions())
    assert not {"reasoning", "reasoning_details"} & (other["messages"][1].keys()
                                                     | off["messages"][1].keys())


def test_ollama_echo_restores_thinking() -> None:
    sig = next(e.signature for e in OllamaStreamParser("m1", "m", sign_for="ollama").feed(
        b'{"message":{"role":"assistant","content":"","thinking":"Plan it."},"done":false}\n'
        b'{"message":{"role":"assistant","content":"x"},"done":true}\n')
        if isinstance(e, SignatureDelta))
    body = build_ollama_request(history(sig), OllamaOptions(echo_reasoning="ollama"))
    assert body["messages"][1]["thinking"] == "Plan it."
    assert "thinking" not in build_ollama_request(history(sig))["messages"][1]


FORMATS = [
    ({"type": "json_schema", "schema": {"type": "object"}, "name": "answer"},
     {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}},
     {"type": "object"}),
    ({"type": "json_schema", "schema": {"type": "object"}},
     {"type": "json_schema", "json_schema": {"name": "response", "schema": {"type": "object"}}},
     {"type": "object"}),
    ({"type": "json_object"}, {"type": "json_object"}, "json"),
    ({"type": "json_schema", "schema": {"type": "object"}, "strict": True},
     {"type": "json_schema", "json_schema": {"name": "response", "schema": {"type": "object"},
                                             "strict": True}},
     {"type": "object"}),
]


@pytest.mark.parametrize(("fmt", "chat", "ollama"), FORMATS)
def test_structured_output_in_each_backend_field(fmt: dict[str, Any], chat: dict[str, Any],
                                                 ollama: Any) -> None:
    request = Request("m", (Message("user", (TextBlock("hi"),)),), 10,
                      extra={"output_config": {"format": fmt}})
    assert build_chat_request(request)["response_format"] == chat
    assert build_ollama_request(request)["format"] == ollama
    plain = Request("m", (Message("user", (TextBlock("hi"),)),), 10)
    assert "response_format" not in build_chat_request(plain)
    assert "format" not in build_ollama_request(plain)


def test_structured_output_on_bedrock() -> None:
    fmt = {"type": "json_schema", "schema": {"type": "object"}, "name": "answer"}
    request = Request("m", (Message("user", (TextBlock("hi"),)),), 10,
                      extra={"output_config": {"format": fmt, "effort": "low"}})
    converse = build_converse(request, "amazon.nova-pro-v1:0")
    assert converse["outputConfig"] == {"textFormat": {"type": "json_schema", "structure": {
        "jsonSchema": {"name": "answer", "schema": '{"type":"object"}'}}}}
    invoke = build_invoke_body(request)
    assert invoke["output_config"] == {"format": {"type": "json_schema",
                                                  "schema": {"type": "object"}}}
    loose = attrs.evolve(request, extra={"output_config": {"format": {"type": "json_object"}}})
    assert "outputConfig" not in build_converse(loose, "amazon.nova-pro-v1:0")
    assert "output_config" not in build_invoke_body(loose)
