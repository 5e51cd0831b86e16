"""The official openai SDK (as Cursor and most agents use it) against /v1/chat/completions."""

from __future__ import annotations

import json

import openai
import pytest
from harness.fake_model import Fault
from harness.proxy import proxy
from harness.sdk_clients import track
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e
DIALECTS = ["openai", "ollama"]
TOOLS = [{"type": "function", "function": {
    "name": "read_file", "description": "Read a file.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                   "required": ["path"]}}}]


def client(url: str) -> openai.OpenAI:
    return track(openai.OpenAI(base_url=url + "/v1", api_key="anything", max_retries=0))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_stream_with_tool_calls_then_the_tool_result_turn(dialect: str) -> None:
    script = [Reply(text="Reading.", tool_calls=(
                  ToolCall("read_file", {"path": "a.py"}, id="call_r1"),
                  ToolCall("read_file", {"path": "b.py"}, id="call_r2"))),
              Reply(text="Both files are short.")]
    messages: list = [{"role": "system", "content": "You are terse."},
                      {"role": "user", "content": "read a.py and b.py"}]
    with proxy(dialect, script) as (url, fake):
        sdk = client(url)
        stream = sdk.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS,
                                             stream=True,
                                             stream_options={"include_usage": True})
        text, calls, finish, usage = "", {}, None, None
        for chunk in stream:
            if chunk.usage:
                usage = chunk.usage
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or ():
                    entry = calls.setdefault(call.index, {"id": None, "name": "", "args": ""})
                    entry["id"] = call.id or entry["id"]
                    entry["name"] += (call.function.name or "") if call.function else ""
                    entry["args"] += (call.function.arguments or "") if call.function else ""
                finish = choice.finish_reason or finish
        assert text == "Reading."
        assert finish == "tool_calls"
        assert [json.loads(c["args"]) for c in calls.values()] == [{"path": "a.py"},
                                                                   {"path": "b.py"}]
        assert usage is not None and usage.completion_tokens == 12
        messages.append({"role": "assistant", "content": "Reading.", "tool_calls": [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": c["args"]}} for c in calls.values()]})
        for c, content in zip(calls.values(), ["print(1)", "print(2)"], strict=True):
            messages.append({"role": "tool", "tool_call_id": c["id"], "content": content})
        second = sdk.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert second.choices[0].message.content == "Both files are short."
    assert second.choices[0].finish_reason == "stop"
    sent = fake.calls[1].body["messages"]
    assert sent[0]["role"] == "system" and "terse" in sent[0]["content"]
    tool_messages = [m for m in sent if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["print(1)", "print(2)"]
    assert [m["tool_call_id"] for m in tool_messages] == [c["id"] for c in calls.values()]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_non_streaming_answer_and_system_prompt(dialect: str) -> None:
    with proxy(dialect, [Reply(text="Hello!")]) as (url, fake):
        completion = client(url).chat.completions.create(
            model="gpt-4o", messages=[{"role": "developer", "content": "Be kind."},
                                      {"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content == "Hello!"
    assert completion.object == "chat.completion"
    assert completion.usage.total_tokens == 132
    first = fake.calls[0].body["messages"][0]
    assert first["role"] == "system" and first["content"] == "Be kind."


def test_upstream_failure_is_an_openai_error() -> None:
    with proxy("openai", [Fault("status", status=429, headers=(("retry-after", "2"),))]) as (
            url, _), pytest.raises(openai.RateLimitError) as info:
        client(url).chat.completions.create(model="gpt-4o",
                                            messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 429
    assert info.value.body["type"] == "rate_limit_error"


def test_malformed_request_is_a_400_in_openai_json() -> None:
    with proxy("openai", [Reply(text="never")]) as (url, fake), \
            pytest.raises(openai.BadRequestError) as info:
        client(url).chat.completions.create(model="gpt-4o",
                                            messages=[{"role": "robot", "content": "hi"}])
    assert "role" in info.value.body["message"]
    assert fake.calls == []


def test_models_list_in_openai_shape() -> None:
    with proxy("openai", [Reply(text="never")]) as (url, _):
        models = client(url).models.list()
    assert [m.id for m in models.data] == ["fake-model"]


@pytest.mark.parametrize(("dialect", "field"), [
    ("openai", "response_format"), ("ollama", "format"), ("bedrock", "output_config"),
    ("bedrock-converse", "outputConfig")])
def test_response_format_reaches_the_model(dialect: str, field: str) -> None:
    """``response_format`` json_schema, through the SDK's own ``parse`` helper, arrives as the
    backend's structured-output field, and the whole answer parses back."""
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}},
              "required": ["answer"], "additionalProperties": False}
    with proxy(dialect, [Reply(text='{"answer": 42}')]) as (url, fake):
        completion = client(url).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "6 times 7?"}],
            response_format={"type": "json_schema",
                             "json_schema": {"name": "result", "schema": schema,
                                             "strict": True}})
    call = fake.calls[0]
    sent = (call.raw if dialect.startswith("bedrock") else call.body)[field]
    received = {"openai": lambda: sent["json_schema"]["schema"], "ollama": lambda: sent,
                "bedrock": lambda: sent["format"]["schema"],
                "bedrock-converse": lambda: json.loads(
                    sent["textFormat"]["structure"]["jsonSchema"]["schema"])}[dialect]()
    assert received == schema
    assert json.loads(completion.choices[0].message.content or "") == {"answer": 42}
