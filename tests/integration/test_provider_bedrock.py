"""MODEL_PROVIDER=bedrock: boto3's real client against a fake Bedrock on loopback.

The fake speaks the real wire (SigV4 or bearer auth, JSON bodies, the binary AWS event stream);
nothing inside boto3 is stubbed. Both routes are exercised: Converse for every model, and
InvokeModel with the Anthropic-native body for Claude.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from harness.fake_bedrock import FakeBedrock
from harness.fake_model import Fault
from harness.proxy import provider_env
from harness.servers import serve_asgi, serve_lynkr
from harness.wire import Reply, ToolCall
from sse_client import stream_events

from lynkr.formats.fold import fold
from lynkr.model.content import TextBlock, ToolUseBlock
from lynkr.model.events import MessageStop, StreamError

ROUTES = ["bedrock", "bedrock-converse"]
TOOLS = [{"name": "Bash", "description": "run a command", "input_schema": {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "properties": {"command": {"type": "string"}}, "required": ["command"]}}]
BODY: dict[str, Any] = {
    "model": "claude-x", "max_tokens": 1000, "stream": True, "tools": TOOLS,
    "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1;"},
               {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    "metadata": {"user_id": "u"}, "context_management": {"edits": []},
    "messages": [{"role": "user", "content": "list files"}]}
BETAS = {"anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14"}


@contextmanager
def bedrock(route: str, script: Any, api_key: str | None = None, certfile: str | None = None,
            **env: str) -> Iterator[tuple[str, FakeBedrock]]:
    fake = FakeBedrock(script, api_key=api_key)
    with serve_asgi(fake, certfile=certfile) as upstream:
        settings = {**provider_env(route, upstream), "LOG_LEVEL": "warning", **env}
        if api_key:
            settings["AWS_BEDROCK_API_KEY"] = api_key
        with serve_lynkr(settings) as url:
            yield url, fake


@pytest.mark.parametrize("route", ROUTES)
def test_stream_with_tools(route: str) -> None:
    reply = Reply(text="Listing.", tool_calls=(ToolCall("Bash", {"command": "ls"}, id="tu_1"),))
    with bedrock(route, [reply]) as (url, fake), httpx.Client(timeout=30) as client:
        response, _, events = stream_events(client, url, BODY, **BETAS)
    assert response.status_code == 200
    answer = fold(events)
    assert answer.content == (TextBlock("Listing."), ToolUseBlock("tu_1", "Bash",
                                                                  {"command": "ls"}))
    assert answer.stop_reason == "tool_use"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (120, 12)
    [call] = fake.calls
    assert call.model_id == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert call.headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDLYNKRTEST/")
    if route == "bedrock":  # InvokeModel: the Anthropic body, betas in it, cache_control kept
        assert call.operation == "invoke-with-response-stream"
        assert call.raw["anthropic_version"] == "bedrock-2023-05-31"
        assert call.raw["anthropic_beta"] == ["interleaved-thinking-2025-05-14"]
        assert call.raw["system"] == [{"type": "text", "text": "Be brief.",
                                       "cache_control": {"type": "ephemeral"}}]
        assert "metadata" not in call.raw and "context_management" not in call.raw
    else:
        assert call.operation == "converse-stream"
        assert call.raw["system"] == [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}]
        assert call.raw["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"] == {
            "type": "object", "properties": {"command": {"type": "string"}},
            "required": ["command"]}


@pytest.mark.parametrize("route", ROUTES)
def test_multi_turn_with_tool_results_not_streamed(route: str) -> None:
    body = {**BODY, "stream": False, "messages": [
        {"role": "user", "content": "list files"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Listing."},
            {"type": "tool_use", "id": "tu_1", "name": "Bash", "input": {"command": "ls"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "tu_1", "content": "a.txt\nb.txt"}]},
        {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
        {"role": "user", "content": [{"type": "text", "text": "which is newer?"}]}]}
    with bedrock(route, [Reply(text="b.txt")]) as (url, fake):
        response = httpx.post(url + "/v1/messages", json=body, timeout=30,
                              headers={"x-api-key": "dummy"})
    assert response.status_code == 200, response.text
    assert response.json()["content"] == [{"type": "text", "text": "b.txt"}]
    [call] = fake.calls
    assert call.operation == ("invoke" if route == "bedrock" else "converse")
    assert [m["role"] for m in call.body["messages"]] == ["user", "assistant", "tool", "user"]
    assert call.body["messages"][2] == {"role": "tool", "tool_call_id": "tu_1",
                                        "content": "a.txt\nb.txt"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("status", "body", "status_out", "kind", "words"), [
    (429, b"Too many requests, please wait before trying again.", 429, "rate_limit_error",
     "ThrottlingException"),
    (400, b"Input is too long for requested model.", 400, "invalid_request_error",
     "prompt is too long"),
    (503, b"Service unavailable", 529, "overloaded_error", "ServiceUnavailable"),
    (403, b"You don't have access to the model", 403, "permission_error", "AccessDenied"),
    (408, b"Model timed out", 504, "timeout_error", "ModelTimeout"),
])
def test_errors_before_the_answer(route: str, status: int, body: bytes, status_out: int,
                                  kind: str, words: str) -> None:
    with bedrock(route, [Fault("status", status=status, body=body)]) as (url, _):
        response = httpx.post(url + "/v1/messages", json=BODY, timeout=30,
                              headers={"x-api-key": "dummy"})
    assert response.status_code == status_out, response.text
    error = response.json()["error"]
    assert error["type"] == kind
    assert words in error["message"]


@pytest.mark.parametrize("route", ROUTES)
def test_exception_event_mid_stream_ends_with_an_error_event(route: str) -> None:
    with bedrock(route, [Fault("error_frame", after=4)]) as (url, _), \
            httpx.Client(timeout=30) as client:
        response, raw, events = stream_events(client, url, BODY)
    assert response.status_code == 200
    assert b"text_delta" in raw  # some of the answer went out first
    assert isinstance(events[-1], StreamError)
    assert "modelStreamErrorException" in events[-1].message
    assert not any(isinstance(e, MessageStop) for e in events)


def test_bearer_api_key_replaces_sigv4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    """botocore sends a bearer token only over HTTPS: the fake serves TLS from a test CA."""
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    with bedrock("bedrock-converse", [Reply(text="ok")], api_key="bedrock-api-key-123",
                 certfile=str(tmp_path / "server.pem")) as (url, fake):
        response = httpx.post(url + "/v1/messages", json={**BODY, "stream": False},
                              timeout=30, headers={"x-api-key": "dummy"})
    assert response.status_code == 200, response.text
    assert fake.calls[0].headers["authorization"] == "Bearer bedrock-api-key-123"


def test_a_model_without_tool_use_loses_its_tools_with_a_warning() -> None:
    with bedrock("bedrock", [Reply(text="plain")],
                 AWS_BEDROCK_MODEL_ID="amazon.titan-text-express-v1") as (url, fake):
        response = httpx.post(url + "/v1/messages", json={**BODY, "stream": False},
                              timeout=30, headers={"x-api-key": "dummy"})
    assert response.status_code == 200, response.text
    assert "WARNING: amazon.titan-text-express-v1 has no tool use" in \
        response.headers["x-lynkr-stages"]
    [call] = fake.calls
    assert call.operation == "converse" and "toolConfig" not in call.raw
    assert "additionalModelRequestFields" not in call.raw


def test_unreachable_endpoint_names_the_region() -> None:
    env = provider_env("bedrock", "http://127.0.0.1:9")
    with serve_lynkr({**env, "LOG_LEVEL": "warning"}) as url:
        response = httpx.post(url + "/v1/messages", json=BODY, timeout=30,
                              headers={"x-api-key": "dummy"})
    assert response.status_code == 502, response.text
    assert "region us-east-2" in response.json()["error"]["message"]


def test_client_going_away_stops_the_stream_thread() -> None:
    with bedrock("bedrock-converse", [Fault("stall", after=3)],
                 AWS_BEDROCK_TIMEOUT_MS="60000") as (url, _):
        with httpx.Client(timeout=30) as client, client.stream(
                "POST", url + "/v1/messages", json=BODY,
                headers={"x-api-key": "dummy"}) as response:
            assert response.status_code == 200
            next(response.iter_bytes())
        started = time.monotonic()
        # the proxy still answers at once: its worker thread and limiter slot were freed
        for _ in range(9):  # more than AWS_BEDROCK_MAX_CONCURRENCY (8) stalled streams
            with httpx.Client(timeout=30) as client, client.stream(
                    "POST", url + "/v1/messages", json=BODY,
                    headers={"x-api-key": "dummy"}) as response:
                next(response.iter_bytes())
        assert time.monotonic() - started < 20
