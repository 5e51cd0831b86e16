"""The official anthropic Python SDK as the client, through Lynkr to both upstream dialects."""

from __future__ import annotations

import anthropic
import pytest
from harness.fake_model import Fault
from harness.proxy import proxy
from harness.sdk_clients import track
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e
DIALECTS = ["openai", "ollama"]
TOOLS = [{"name": "Bash", "description": "Run a shell command.",
          "input_schema": {"type": "object", "properties": {"command": {"type": "string"}},
                           "required": ["command"]}}]


def client(url: str) -> anthropic.Anthropic:
    return track(anthropic.Anthropic(base_url=url, api_key="dummy", max_retries=0))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_stream_with_a_tool_call(dialect: str) -> None:
    reply = Reply(text="Checking.", tool_calls=(ToolCall("Bash", {"command": "uname -a"}),))
    with proxy(dialect, [reply]) as (url, _), client(url).messages.stream(
            model="claude-opus-5-5", max_tokens=1024, tools=TOOLS,
            messages=[{"role": "user", "content": "what system is this?"}]) as stream:
        texts = list(stream.text_stream)
        message = stream.get_final_message()
    assert "".join(texts) == "Checking."
    assert message.stop_reason == "tool_use"
    [tool] = [b for b in message.content if b.type == "tool_use"]
    assert tool.name == "Bash" and tool.input == {"command": "uname -a"}
    assert message.usage.output_tokens == 12


@pytest.mark.parametrize("dialect", DIALECTS)
def test_non_streaming_create_and_tool_result_turn(dialect: str) -> None:
    script = [Reply(tool_calls=(ToolCall("Bash", {"command": "ls"}),)),
              Reply(text="Two files.")]
    with proxy(dialect, script) as (url, fake):
        sdk = client(url)
        first = sdk.messages.create(model="claude-opus-5-5", max_tokens=512, tools=TOOLS,
                                    messages=[{"role": "user", "content": "list"}])
        tool = next(b for b in first.content if b.type == "tool_use")
        second = sdk.messages.create(
            model="claude-opus-5-5", max_tokens=512, tools=TOOLS,
            messages=[{"role": "user", "content": "list"},
                      {"role": "assistant", "content": first.content},
                      {"role": "user", "content": [{"type": "tool_result",
                                                    "tool_use_id": tool.id,
                                                    "content": "a.py\nb.py"}]}])
    assert second.content[0].text == "Two files."
    tool_message = fake.calls[1].body["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["content"] == "a.py\nb.py"


def test_upstream_rate_limit_is_a_rate_limit_error_in_the_sdk() -> None:
    fault = Fault("status", status=429, headers=(("retry-after", "3"),))
    with proxy("openai", [fault]) as (url, _), pytest.raises(anthropic.RateLimitError) as info:
        client(url).messages.create(model="claude-x", max_tokens=10,
                                    messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "3"
    assert info.value.body["error"]["type"] == "rate_limit_error"


def test_bad_request_is_a_bad_request_error_in_the_sdk() -> None:
    with proxy("openai", [Reply(text="never")]) as (url, _), \
            pytest.raises(anthropic.BadRequestError) as info:
        client(url).messages.create(model="claude-x", max_tokens=10,
                                    messages=[{"role": "robot", "content": "hi"}])
    assert "role" in info.value.body["error"]["message"]


def test_count_tokens_and_models() -> None:
    with proxy("ollama", [Reply(text="never")]) as (url, fake):
        sdk = client(url)
        counted = sdk.messages.count_tokens(
            model="claude-x", messages=[{"role": "user", "content": "hello " * 400}])
        models = sdk.models.list()
        one = sdk.models.retrieve("claude-opus-5-5")
    assert 300 <= counted.input_tokens <= 900
    assert [m.id for m in models.data] == ["fake-model"]
    assert one.id == "claude-opus-5-5"
    assert fake.calls == []
