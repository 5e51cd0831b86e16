"""Anthropic /v1/messages through the real server to fake OpenAI and Ollama upstreams."""

from __future__ import annotations

import httpx
import pytest
from harness.proxy import proxy
from harness.wire import Reply, ToolCall
from sse_client import stream_events

from lynkr.model.events import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    TextDelta,
)

DIALECTS = ["openai", "ollama"]


def claude_like(**overrides: object) -> dict:
    body = {
        "model": "claude-opus-5-5",
        "max_tokens": 128000,
        "stream": True,
        "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1;"},
                   {"type": "text", "text": "You are a careful agent.",
                    "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "say hi"}]},
            {"role": "system", "content": [{"type": "text", "text": "# Environment\ncwd: /w"}]},
        ],
        "tools": [
            {"name": "Bash", "description": "Run a command.",
             "input_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                              "type": "object", "additionalProperties": False,
                              "properties": {"command": {"type": "string"}},
                              "required": ["command"]}},
            {"name": "Placeholder", "description": "never call this tool.",
             "input_schema": {"type": "object", "properties": {}}, "defer_loading": True},
        ],
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
        "metadata": {"user_id": "{\"device_id\":\"abc\"}"},
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("dialect", DIALECTS)
def test_plain_stream_events_in_anthropic_order(dialect: str) -> None:
    with proxy(dialect, [Reply(text="Hello there, friend!")]) as (url, fake), httpx.Client() as c:
        response, raw, events = stream_events(c, url, claude_like())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["request-id"].startswith("req_")
    assert "fake-model" in response.headers["x-lynkr-route"]
    assert isinstance(events[0], MessageStart) and events[0].model == "claude-opus-5-5"
    assert events[1] == BlockStart(0, events[1].block)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello there, friend!"
    assert isinstance(events[-3], BlockStop)
    assert events[-2] == MessageDelta("end_turn", events[-2].usage)
    assert events[-2].usage.output_tokens == 12 and events[-2].usage.input_tokens == 120
    assert events[-1] == MessageStop()
    assert raw.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    sent = fake.calls[0].body
    assert sent["model"] == "fake-model"
    assert sent["stream"] is True
    assert "Placeholder" not in str(sent["tools"])
    assert "$schema" not in str(sent["tools"])
    assert "context_management" not in sent and "output_config" not in sent
    assert sent["messages"][0]["role"] == "system"
    assert "careful agent" in sent["messages"][0]["content"]
    assert "billing-header" not in str(sent["messages"])
    assert "cwd: /w" in str(sent["messages"])  # the mid-conversation system message survives


def test_openai_upstream_gets_usage_request_and_clamped_max_tokens() -> None:
    with proxy("openai", [Reply(text="ok")]) as (url, fake), httpx.Client() as c:
        stream_events(c, url, claude_like())
    sent = fake.calls[0].body
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 16384
    assert fake.calls[0].headers["authorization"] == "Bearer sk-upstream-secret"
    assert "x-api-key" not in fake.calls[0].headers


def test_ollama_upstream_gets_num_ctx_and_num_predict() -> None:
    with proxy("ollama", [Reply(text="ok")], OLLAMA_NUM_CTX="65536") as (url, fake), \
            httpx.Client() as c:
        stream_events(c, url, claude_like())
    options = fake.calls[0].body["options"]
    assert options == {"num_ctx": 65536, "num_predict": 8192}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_tool_turn_then_result_reaches_the_model(dialect: str) -> None:
    script = [Reply(text="Listing.", tool_calls=(ToolCall("Bash", {"command": "ls -la"}),)),
              Reply(text="There are two files.")]
    with proxy(dialect, script) as (url, fake), httpx.Client() as c:
        _, _, events = stream_events(c, url, claude_like())
        starts = [e for e in events if isinstance(e, BlockStart)]
        assert [type(s.block).__name__ for s in starts] == ["TextBlock", "ToolUseBlock"]
        assert [s.index for s in starts] == [0, 1]
        tool = starts[1].block
        assert tool.name == "Bash"
        args = "".join(e.partial_json for e in events if isinstance(e, InputJsonDelta))
        assert args == '{"command":"ls -la"}'
        assert next(e for e in events if isinstance(e, MessageDelta)).stop_reason == "tool_use"
        second = claude_like(messages=[
            {"role": "user", "content": "list files"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Listing."},
                {"type": "tool_use", "id": tool.id, "name": "Bash",
                 "input": {"command": "ls -la"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": tool.id,
                 "content": "a.txt\nb.txt"},
                {"type": "text", "text": "what do you see?"}]},
        ])
        _, _, events2 = stream_events(c, url, second)
    text = "".join(e.text for e in events2 if isinstance(e, TextDelta))
    assert text == "There are two files."
    messages = fake.calls[1].body["messages"]
    roles = [m["role"] for m in messages]
    assert roles[-3:] == ["assistant", "tool", "user"]
    assert messages[-2]["content"] == "a.txt\nb.txt"
    assert messages[-2]["tool_call_id"] == tool.id
    calls = messages[-3]["tool_calls"]
    assert calls[0]["function"]["name"] == "Bash"
    if dialect == "ollama":
        assert calls[0]["function"]["arguments"] == {"command": "ls -la"}
        assert messages[-2]["tool_name"] == "Bash"
    else:
        assert calls[0]["function"]["arguments"] == '{"command": "ls -la"}' \
            or calls[0]["function"]["arguments"] == '{"command":"ls -la"}'


@pytest.mark.parametrize("dialect", DIALECTS)
def test_failing_tool_result_reaches_the_model_marked_as_error(dialect: str) -> None:
    body = claude_like(messages=[
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "false"}},
            {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {"command": "pwd"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
             "content": [{"type": "text", "text": "Exit code 1"}]},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "/w"}]},
    ])
    with proxy(dialect, [Reply(text="ok")]) as (url, fake), httpx.Client() as c:
        stream_events(c, url, body)
    tools = [m for m in fake.calls[0].body["messages"] if m["role"] == "tool"]
    assert [t["content"] for t in tools] == ["[tool error] Exit code 1", "/w"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_parallel_tool_calls_come_back_as_two_blocks(dialect: str) -> None:
    calls = (ToolCall("Read", {"file_path": "/a"}), ToolCall("Read", {"file_path": "/b"}))
    with proxy(dialect, [Reply(tool_calls=calls)]) as (url, _), httpx.Client() as c:
        _, _, events = stream_events(c, url, claude_like())
    starts = [e.block for e in events if isinstance(e, BlockStart)]
    assert [b.name for b in starts] == ["Read", "Read"]
    assert len({b.id for b in starts}) == 2


@pytest.mark.parametrize("dialect", DIALECTS)
def test_non_streaming_is_the_fold_of_the_stream(dialect: str) -> None:
    call = ToolCall("Write", {"file_path": "/x", "content": "y"})
    reply = Reply(text="Done.", tool_calls=(call,))
    with proxy(dialect, [reply]) as (url, _), httpx.Client() as c:
        response = c.post(url + "/v1/messages", json=claude_like(stream=False),
                          headers={"anthropic-version": "2023-06-01"})
    assert response.status_code == 200
    message = response.json()
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["stop_reason"] == "tool_use"
    assert message["content"][0] == {"type": "text", "text": "Done."}
    assert message["content"][1]["type"] == "tool_use"
    assert message["content"][1]["input"] == {"file_path": "/x", "content": "y"}
    assert message["usage"]["output_tokens"] == 12
    assert message["id"].startswith("msg_")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_upstream_reusing_a_tool_id_gets_a_fresh_one(dialect: str) -> None:
    """Servers that number calls per answer ("call_0" every turn) must not give Claude Code
    duplicate tool_use ids: it would drop the second call as interrupted."""
    reply = Reply(tool_calls=(ToolCall("Read", {"file_path": "/b"}, id="call_0"),))
    body = claude_like(messages=[
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "call_0", "name": "Read", "input": {"file_path": "/a"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "call_0", "content": "A"}]},
    ])
    with proxy(dialect, [reply]) as (url, _), httpx.Client() as c:
        _, _, events = stream_events(c, url, body)
    [start] = [e for e in events if isinstance(e, BlockStart)]
    assert start.block.id != "call_0"
    assert start.block.id.startswith("toolu_")
