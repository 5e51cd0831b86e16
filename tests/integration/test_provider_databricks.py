"""MODEL_PROVIDER=databricks: the serving endpoint's invocations URL with a Bearer token, an
OpenAI-chat body without ``model``, Claude answers with list content (reasoning + text)."""

from __future__ import annotations

import httpx
from harness.fake_anthropic import AnthropicGuard
from harness.fake_databricks import SIGNATURE, DatabricksGuard
from harness.fake_model import FakeModel
from harness.servers import serve_asgi, serve_lynkr
from harness.wire import Reply, ToolCall
from provider_helpers import claude_body, post_json
from sse_client import stream_events

from lynkr.model.events import SignatureDelta, TextDelta, ThinkingDelta

TOKEN = "dapi-secret"



def test_claude_endpoint_list_content_becomes_thinking_and_text() -> None:
    reply = Reply(text="Hello from Databricks.", thinking="Weighing it.")
    fake = FakeModel([reply], DatabricksGuard(TOKEN))
    with serve_asgi(fake) as upstream:
        env = {"MODEL_PROVIDER": "databricks", "DATABRICKS_API_BASE": upstream,
               "DATABRICKS_API_KEY": TOKEN, "LOG_LEVEL": "warning"}
        with serve_lynkr(env) as url, httpx.Client() as c:
            response, _, events = stream_events(c, url, claude_body())
    assert response.status_code == 200
    assert fake.rejected == []
    [call] = fake.calls
    assert call.path == "/serving-endpoints/databricks-claude-sonnet-4-5/invocations"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert "model" not in call.body and call.body["max_tokens"] == 32000
    # Claude on the chat route asks for thinking with Anthropic's own field
    assert call.body["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert ThinkingDelta(0, "Weighing it.") in events
    assert SignatureDelta(0, SIGNATURE) in events
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "Hello from Databricks."


def test_tool_calls_and_custom_endpoint_path() -> None:
    reply = Reply(tool_calls=(ToolCall("Bash", {"command": "ls"}, id="call_1"),))
    fake = FakeModel([reply], DatabricksGuard(TOKEN, "my-llama"))
    with serve_asgi(fake) as upstream:
        env = {"MODEL_PROVIDER": "databricks", "DATABRICKS_API_BASE": upstream + "/",
               "DATABRICKS_API_KEY": TOKEN, "LOG_LEVEL": "warning",
               "DATABRICKS_ENDPOINT_PATH": "/serving-endpoints/my-llama/invocations"}
        with serve_lynkr(env) as url:
            response = post_json(url, claude_body())
    assert response.status_code == 200, response.text
    assert "thinking" not in fake.calls[0].body  # not a Claude endpoint
    assert response.json()["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "Bash", "input": {"command": "ls"}}]


def test_wrong_token_is_reported_with_databricks_message() -> None:
    fake = FakeModel([Reply(text="x")], DatabricksGuard("other-token"))
    with serve_asgi(fake) as upstream:
        env = {"MODEL_PROVIDER": "databricks", "DATABRICKS_API_BASE": upstream,
               "DATABRICKS_API_KEY": TOKEN, "LOG_LEVEL": "warning"}
        with serve_lynkr(env) as url:
            response = post_json(url, claude_body())
    assert response.status_code == 502
    assert "databricks answered 401: Invalid Token" in response.json()["error"]["message"]


def test_anthropic_route_of_databricks() -> None:
    fake = FakeModel([Reply(text="via messages")], AnthropicGuard(TOKEN, betas=(
        "interleaved-thinking-2025-05-14",), bearer=True))
    with serve_asgi(fake) as upstream:
        env = {"MODEL_PROVIDER": "databricks", "DATABRICKS_API_BASE": upstream,
               "DATABRICKS_API_KEY": TOKEN, "LOG_LEVEL": "warning",
               "DATABRICKS_ENDPOINT_PATH": "/serving-endpoints/anthropic/v1/messages"}
        with serve_lynkr(env) as url:
            response = post_json(url, claude_body())
    assert response.status_code == 200, response.text
    call = fake.calls[0]
    assert call.body["model"] == "databricks-claude-sonnet-4-5"
    assert call.headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert response.json()["content"] == [{"type": "text", "text": "via messages"}]
