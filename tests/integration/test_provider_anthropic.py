"""MODEL_PROVIDER=anthropic: near pass-through to a fake api.anthropic.com that checks what the
real one checks (x-api-key, anthropic-version, body shape, thinking signatures)."""

from __future__ import annotations

import httpx
from harness.fake_anthropic import REAL_SIGNATURE, AnthropicGuard
from harness.fake_model import Fault
from harness.proxy import UPSTREAM_KEY, proxy
from harness.wire import Reply, ToolCall
from provider_helpers import CLAUDE_CODE_BETAS, claude_body, post_json
from sse_client import stream_events

from lynkr.formats.reasoning import sign
from lynkr.model.events import (
    BlockStart,
    MessageDelta,
    MessageStart,
    MessageStop,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
    Usage,
)


def test_stream_passes_through_with_upstream_key_and_betas() -> None:
    reply = Reply(text="Hello from Claude.", thinking="Let me think.")
    with proxy("anthropic", [reply]) as (url, fake), httpx.Client() as c:
        response, _, events = stream_events(c, url, claude_body(),
                                            **{"anthropic-beta": CLAUDE_CODE_BETAS})
    assert response.status_code == 200
    [call] = fake.calls
    assert call.path == "/v1/messages"
    assert call.headers["x-api-key"] == UPSTREAM_KEY  # never the client's "dummy"
    assert "authorization" not in call.headers
    assert call.headers["anthropic-version"] == "2023-06-01"
    assert call.headers["anthropic-beta"] == CLAUDE_CODE_BETAS
    body = call.body
    assert body["model"] == "claude-opus-5-5" and body["max_tokens"] == 128000
    assert body["context_management"] and body["output_config"] == {"effort": "medium"}
    assert body["thinking"] == {"type": "adaptive", "display": "omitted"}
    assert body["system"][1]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["stream"] is True
    start = events[0]
    assert isinstance(start, MessageStart) and start.id.startswith("msg_")
    assert start.id == "msg_" + response.headers["request-id"].removeprefix("req_")
    assert SignatureDelta(0, REAL_SIGNATURE) in events
    assert ThinkingDelta(0, "Let me think.") in events
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello from Claude."
    [delta] = [e for e in events if isinstance(e, MessageDelta)]
    # message_delta carried only output_tokens: the input counts come from message_start
    assert delta.usage == Usage(input_tokens=120, output_tokens=12, cache_read_input_tokens=7)
    assert events[-1] == MessageStop()


def test_tool_use_json_answer() -> None:
    reply = Reply(tool_calls=(ToolCall("Bash", {"command": "ls -la"}, id="toolu_01A"),))
    with proxy("anthropic", [reply]) as (url, _fake):
        response = post_json(url, claude_body())
    assert response.status_code == 200
    message = response.json()
    assert message["stop_reason"] == "tool_use"
    assert message["content"] == [{"type": "tool_use", "id": "toolu_01A", "name": "Bash",
                                   "input": {"command": "ls -la"}}]


def test_foreign_thinking_is_dropped_real_kept() -> None:
    history = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "ollama thought", "signature": ""},
            {"type": "text", "text": "one"}]},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "deepseek thought",
             "signature": sign("openai", "deepseek thought")},
            {"type": "text", "text": "two"}]},
        {"role": "user", "content": "third"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "real", "signature": REAL_SIGNATURE},
            {"type": "text", "text": "three"}]},
        {"role": "user", "content": "fourth"},
    ]
    with proxy("anthropic", [Reply(text="ok")]) as (url, fake):
        response = post_json(url, claude_body(history))
    assert response.status_code == 200, response.text
    sent = fake.calls[0].body["messages"]
    assert [b["type"] for b in sent[1]["content"]] == ["text"]
    assert [b["type"] for b in sent[3]["content"]] == ["text"]
    assert sent[5]["content"][0] == {"type": "thinking", "thinking": "real",
                                     "signature": REAL_SIGNATURE}


def test_tool_loop_after_foreign_thinking_turns_thinking_off() -> None:
    history = [
        {"role": "user", "content": "run ls"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "from ollama", "signature": ""},
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": "a.txt"}]},
    ]
    with proxy("anthropic", [Reply(text="done")]) as (url, fake):
        response = post_json(url, claude_body(history))
    assert response.status_code == 200
    body = fake.calls[0].body
    assert "thinking" not in body
    assert body["context_management"]["edits"] == []


def test_configured_model_and_upstream_errors() -> None:
    with proxy("anthropic", [Reply(text="ok")], ANTHROPIC_UPSTREAM_MODEL="claude-sonnet-4-5"
               ) as (url, fake):
        assert post_json(url, claude_body()).status_code == 200
    assert fake.calls[0].body["model"] == "claude-sonnet-4-5"
    with proxy("anthropic", [Reply(text="ok")], guard=AnthropicGuard("another-key")
               ) as (url, fake):
        response = post_json(url, claude_body())
    assert response.status_code == 502  # the proxy's key is wrong, not the client's
    assert "anthropic answered 401: invalid x-api-key" in response.json()["error"]["message"]


def test_error_frame_and_cut_stream_end_in_an_error_event() -> None:
    for fault in (Fault("error_frame", after=3), Fault("cut", after=3)):
        with proxy("anthropic", [fault]) as (url, _fake), httpx.Client() as c:
            response, _, events = stream_events(c, url, claude_body())
        assert response.status_code == 200
        assert isinstance(events[-1], StreamError), events
        assert any(isinstance(e, BlockStart) for e in events)
