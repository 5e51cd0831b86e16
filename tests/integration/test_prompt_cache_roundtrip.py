"""The prompt_cache stage through the real server: replayed answers, honest usage, bypasses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.proxy import proxy
from harness.wire import Reply, ToolCall
from sse_client import stream_events

from lynkr.formats.fold import fold
from lynkr.model.events import MessageDelta, MessageStart, MessageStop

PIPELINE = """\
name: cached
stages:
  - normalize
  - route
  - map_model
  - capability_filter
  - prompt_cache
  - egress
"""
HEADERS = {"x-api-key": "dummy", "anthropic-version": "2023-06-01"}


@pytest.fixture
def pipeline(tmp_path: Path) -> str:
    path = tmp_path / "cached.yaml"
    path.write_text(PIPELINE)
    return str(path)


def body(**overrides: Any) -> dict[str, Any]:
    request = {"model": "claude-haiku-4-5", "max_tokens": 512, "temperature": 0,
               "system": [{"type": "text", "text": "Answer in one word.",
                           "cache_control": {"type": "ephemeral"}}],
               "messages": [{"role": "user", "content": "capital of France?"}]}
    request.update(overrides)
    return request


def whole(client: httpx.Client, url: str, request: dict[str, Any]) -> httpx.Response:
    return client.post(url + "/v1/messages", json={**request, "stream": False}, headers=HEADERS)


def test_second_identical_stream_is_replayed_with_honest_usage(pipeline: str) -> None:
    with proxy("openai", [Reply(text="Paris.", prompt_tokens=57)], pipeline) as (url, fake), \
            httpx.Client() as c:
        first, _, events1 = stream_events(c, url, body(stream=True))
        second, raw, events2 = stream_events(c, url, body(stream=True))
    assert len(fake.calls) == 1
    assert first.headers["x-lynkr-cache"] == "miss"
    assert second.headers["x-lynkr-cache"] == "hit"
    assert "prompt_cache=hit" in second.headers["x-lynkr-stages"]
    assert isinstance(events2[0], MessageStart) and events2[-1] == MessageStop()
    assert events2[0].id == second.headers["request-id"].replace("req_", "msg_")
    assert raw.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    answer1, answer2 = fold(events1), fold(events2)
    assert answer2.content == answer1.content and answer2.stop_reason == "end_turn"
    assert answer1.usage.input_tokens == 57 and answer1.usage.cache_read_input_tokens == 0
    usage = next(e for e in events2 if isinstance(e, MessageDelta)).usage
    assert (usage.input_tokens, usage.cache_read_input_tokens) == (0, 57)
    assert usage.cache_creation_input_tokens == 0
    assert usage.output_tokens == answer1.usage.output_tokens == 12


def test_non_streamed_hit_and_stream_share_the_entry(pipeline: str) -> None:
    with proxy("ollama", [Reply(text="Paris.")], pipeline) as (url, fake), httpx.Client() as c:
        stream_events(c, url, body(stream=True))
        response = whole(c, url, body())
    assert len(fake.calls) == 1
    assert response.status_code == 200
    assert response.headers["x-lynkr-cache"] == "hit"
    message = response.json()
    assert message["content"] == [{"type": "text", "text": "Paris."}]
    assert message["usage"]["input_tokens"] == 0
    assert message["usage"]["cache_read_input_tokens"] == 120
    assert message["usage"]["output_tokens"] == 12


def test_non_streamed_answer_is_stored_too(pipeline: str) -> None:
    with proxy("openai", [Reply(text="Paris.")], pipeline) as (url, fake), httpx.Client() as c:
        first = whole(c, url, body())
        second = whole(c, url, body())
    assert len(fake.calls) == 1
    assert first.headers["x-lynkr-cache"] == "miss"
    assert second.headers["x-lynkr-cache"] == "hit"
    assert second.json()["content"] == first.json()["content"]
    assert first.json()["usage"]["cache_read_input_tokens"] == 0


def test_a_different_request_misses(pipeline: str) -> None:
    with proxy("openai", [Reply(text="Paris.")], pipeline) as (url, fake), httpx.Client() as c:
        whole(c, url, body())
        other = whole(c, url, body(messages=[{"role": "user", "content": "capital of Peru?"}]))
    assert len(fake.calls) == 2
    assert other.headers["x-lynkr-cache"] == "miss"


@pytest.mark.parametrize("overrides", [
    {"temperature": 1},
    {"temperature": None},
    {"tools": [{"name": "Bash", "description": "run",
                "input_schema": {"type": "object", "properties": {}}}]},
], ids=["temperature-1", "no-temperature", "tools"])
def test_nondeterministic_or_tool_requests_are_not_cached(pipeline: str,
                                                          overrides: dict[str, Any]) -> None:
    request = {k: v for k, v in body(**overrides).items() if v is not None}
    with proxy("openai", [Reply(text="Paris.")], pipeline) as (url, fake), httpx.Client() as c:
        first = whole(c, url, request)
        second = whole(c, url, request)
    assert len(fake.calls) == 2
    assert first.headers["x-lynkr-cache"] == second.headers["x-lynkr-cache"] == "bypass"


def test_answers_with_tool_use_are_never_stored(pipeline: str) -> None:
    reply = Reply(tool_calls=(ToolCall("Read", {"file_path": "/a"}),))
    with proxy("openai", [reply], pipeline) as (url, fake), httpx.Client() as c:
        whole(c, url, body())
        second = whole(c, url, body())
    assert len(fake.calls) == 2
    assert second.headers["x-lynkr-cache"] == "miss"


def test_prompt_cache_enabled_false_disables_it(pipeline: str) -> None:
    with proxy("openai", [Reply(text="Paris.")], pipeline, PROMPT_CACHE_ENABLED="false") \
            as (url, fake), httpx.Client() as c:
        whole(c, url, body())
        second = whole(c, url, body())
    assert len(fake.calls) == 2
    assert second.headers["x-lynkr-cache"] == "bypass"


def test_openai_chat_client_gets_cached_tokens(pipeline: str) -> None:
    request = {"model": "gpt-4o", "temperature": 0, "max_tokens": 64,
               "messages": [{"role": "user", "content": "capital of France?"}]}
    with proxy("openai", [Reply(text="Paris.")], pipeline) as (url, fake), httpx.Client() as c:
        c.post(url + "/v1/chat/completions", json=request)
        second = c.post(url + "/v1/chat/completions", json=request)
    assert len(fake.calls) == 1
    assert second.headers["x-lynkr-cache"] == "hit"
    data = second.json()
    assert data["choices"][0]["message"]["content"] == "Paris."
    assert data["usage"]["prompt_tokens"] == 120
    assert data["usage"]["prompt_tokens_details"]["cached_tokens"] == 120


def test_pipeline_without_the_stage_sends_no_cache_header() -> None:
    with proxy("openai", [Reply(text="Paris.")], "passthrough") as (url, fake), \
            httpx.Client() as c:
        response = whole(c, url, body())
    assert "x-lynkr-cache" not in response.headers
    assert len(fake.calls) == 1
