"""Canonical Request → Converse kwargs, and the event-stream framing of the fake (checked by
botocore's own decoder)."""

from __future__ import annotations

import base64

import pytest
from botocore.eventstream import EventStreamBuffer
from harness.fake_bedrock import encode_frame

from lynkr.formats.bedrock.converse import build_converse, for_boto3
from lynkr.formats.bedrock.invoke import build_invoke_body
from lynkr.formats.bedrock.models import is_claude, stop_reason, supports_tools
from lynkr.model.content import (
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.request import Message, Request, Tool

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
EPHEMERAL = {"type": "ephemeral"}
PNG = base64.b64encode(b"\x89PNG-bytes").decode()


def request(*messages: Message, **fields: object) -> Request:
    return Request(model=CLAUDE, messages=messages, max_tokens=512, **fields)  # type: ignore[arg-type]


def test_system_text_cache_points_and_inference_config() -> None:
    out = build_converse(request(
        Message("user", (TextBlock("hi", EPHEMERAL), TextBlock("  "))),
        system=(TextBlock("sys", EPHEMERAL), TextBlock("more")),
        temperature=0.5, top_p=0.9, top_k=40, stop_sequences=("END",)), CLAUDE)
    assert out["system"] == [{"text": "sys"}, {"cachePoint": {"type": "default"}},
                             {"text": "more"}]
    assert out["messages"] == [{"role": "user", "content": [
        {"text": "hi"}, {"cachePoint": {"type": "default"}}]}]
    assert out["inferenceConfig"] == {"maxTokens": 512, "temperature": 0.5, "topP": 0.9,
                                      "stopSequences": ["END"]}
    assert out["additionalModelRequestFields"] == {"top_k": 40}


def test_tools_calls_results_and_merged_turns() -> None:
    tools = (Tool("Bash", "run", {"$schema": "x", "type": "object"}),)
    out = build_converse(request(
        Message("user", (TextBlock("list"),)),
        Message("assistant", (ThinkingBlock("hmm", "sig-1"),
                              ToolUseBlock("tu_1", "Bash", {"command": "ls"}))),
        Message("user", (ToolResultBlock("tu_1", (TextBlock("nope"),), is_error=True),)),
        Message("system", (TextBlock("env"),)),
        tools=tools, tool_choice={"type": "any"}), CLAUDE)
    assert out["messages"] == [
        {"role": "user", "content": [{"text": "list"}]},
        {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig-1"}}},
            {"toolUse": {"toolUseId": "tu_1", "name": "Bash", "input": {"command": "ls"}}}]},
        {"role": "user", "content": [
            {"toolResult": {"toolUseId": "tu_1", "content": [{"text": "nope"}],
                            "status": "error"}},
            {"text": "<system-reminder>\nenv\n</system-reminder>"}]}]
    assert out["toolConfig"] == {"tools": [{"toolSpec": {
        "name": "Bash", "inputSchema": {"json": {"type": "object"}}, "description": "run"}}],
        "toolChoice": {"any": {}}}


def test_images_are_base64_in_the_document_and_bytes_for_boto3() -> None:
    image = ImageBlock({"type": "base64", "media_type": "image/jpeg", "data": PNG})
    out = build_converse(request(Message("user", (image, TextBlock("what?")))), CLAUDE)
    block = out["messages"][0]["content"][0]
    assert block == {"image": {"format": "jpeg", "source": {"bytes": PNG}}}
    boto = for_boto3(out)
    assert boto["messages"][0]["content"][0]["image"]["source"]["bytes"] == b"\x89PNG-bytes"
    assert out["messages"][0]["content"][0]["image"]["source"]["bytes"] == PNG  # not mutated


def test_non_claude_models_get_no_reasoning_nor_claude_fields_and_tools_become_text() -> None:
    model = "meta.llama3-8b-instruct-v1:0"
    out = build_converse(request(
        Message("user", (TextBlock("go"),)),
        Message("assistant", (ThinkingBlock("t", "sig"), ToolUseBlock("a", "Read", {"p": 1}))),
        Message("user", (ToolResultBlock("a", (TextBlock("data"),)),)),
        tools=(Tool("Read", "", {"type": "object"}),), top_k=5), model)
    assert "toolConfig" not in out and "additionalModelRequestFields" not in out
    assert out["messages"][1] == {"role": "assistant", "content": [
        {"text": "[called tool Read with {'p': 1}]"}]}
    assert out["messages"][2]["content"] == [{"text": "[result of a] data"}]


def test_thinking_becomes_a_budget_and_foreign_signatures_are_dropped() -> None:
    out = build_converse(request(
        Message("user", (TextBlock("q"),)),
        Message("assistant", (ThinkingBlock("other", "lynkr:v1:abc"), TextBlock("a"))),
        Message("user", (TextBlock("q2"),)),
        thinking={"type": "adaptive"}, betas=("claude-code-20250219",
                                             "interleaved-thinking-2025-05-14")), CLAUDE)
    assert out["messages"][1]["content"] == [{"text": "a"}]
    # 512 max_tokens leave no room for the 1024-token minimum budget: no thinking
    assert out["additionalModelRequestFields"] == {
        "anthropic_beta": ["interleaved-thinking-2025-05-14"]}
    roomy = Request(model=CLAUDE, messages=(Message("user", (TextBlock("q"),)),),
                    max_tokens=32000, thinking={"type": "adaptive"})
    assert build_converse(roomy, CLAUDE)["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 16384}}


def test_invoke_body_keeps_cache_control_moves_betas_and_strips_the_rest() -> None:
    body = build_invoke_body(request(
        Message("user", (TextBlock("hi", EPHEMERAL),)),
        Message("system", (TextBlock("env"),)),
        system=(TextBlock("sys", EPHEMERAL),), metadata={"user_id": "u"},
        extra={"service_tier": "auto", "container": "c"},
        betas=("interleaved-thinking-2025-05-14", "claude-code-20250219"),
        thinking={"type": "enabled", "budget_tokens": 2048}, stream=True))
    assert body == {
        "anthropic_version": "bedrock-2023-05-31",
        "anthropic_beta": ["interleaved-thinking-2025-05-14"],
        "max_tokens": 512,
        "system": [{"type": "text", "text": "sys", "cache_control": EPHEMERAL}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi", "cache_control": EPHEMERAL},
            {"type": "text", "text": "<system-reminder>\nenv\n</system-reminder>"}]}],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }


@pytest.mark.parametrize(("model", "claude", "tools"), [
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", True, True),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", True, True),
    ("arn:aws:bedrock:us-east-1:1:inference-profile/global.anthropic.claude-opus-4-1", True,
     True),
    ("amazon.nova-pro-v1:0", False, True),
    ("amazon.titan-text-express-v1", False, False),
    ("meta.llama3-8b-instruct-v1:0", False, False),
    ("us.meta.llama3-1-70b-instruct-v1:0", False, True),
])
def test_capability_table(model: str, claude: bool, tools: bool) -> None:
    assert (is_claude(model), supports_tools(model)) == (claude, tools)


@pytest.mark.parametrize(("bedrock", "anthropic"), [
    ("end_turn", "end_turn"), ("tool_use", "tool_use"), ("max_tokens", "max_tokens"),
    ("guardrail_intervened", "refusal"), ("content_filtered", "refusal"),
    ("malformed_tool_use", "end_turn"), (None, "end_turn"),
])
def test_stop_reasons(bedrock: str | None, anthropic: str) -> None:
    assert stop_reason(bedrock) == anthropic


def test_fake_event_stream_frames_decode_with_botocore() -> None:
    frames = encode_frame({":event-type": "messageStart", ":message-type": "event",
                           ":content-type": "application/json"}, b'{"role":"assistant"}')
    frames += encode_frame({":exception-type": "throttlingException",
                            ":message-type": "exception"}, b'{"message":"slow down"}')
    buffer = EventStreamBuffer()
    buffer.add_data(frames[:7])  # split mid-prelude: the decoder must wait
    assert list(buffer) == []
    buffer.add_data(frames[7:])
    first, second = list(buffer)
    assert first.headers == {":event-type": "messageStart", ":message-type": "event",
                             ":content-type": "application/json"}
    assert first.payload == b'{"role":"assistant"}'
    assert second.headers[":exception-type"] == "throttlingException"
    assert second.payload == b'{"message":"slow down"}'
