"""The server-side tool loop through the real server (hypercorn on loopback) to a scripted fake
model, with a small test ToolBox: one answer across several model calls, the client's tools
left to the client, and the next turn's upstream request repeating the earlier one."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from harness.tool_boxes import EchoBox, serve_with_box
from harness.wire import Reply, ToolCall
from sse_client import stream_events

from lynkr.formats.anthropic.blocks import render_block
from lynkr.formats.fold import fold
from lynkr.model.content import OpaqueBlock
from lynkr.model.events import BlockStart, MessageDelta, MessageStart, MessageStop

BASH = {
    "name": "Bash",
    "description": "Run a command.",
    "input_schema": {
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
    },
}


def body(messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "stream": True,
        "tools": [BASH],
        "messages": messages,
        **extra,
    }


def by_step(*replies: Reply) -> Any:
    """The reply for the number of tool messages already in the request (OpenAI dialect)."""

    def script(payload: dict[str, Any]) -> Reply:
        done = sum(1 for m in payload["messages"] if m["role"] == "tool")
        return replies[min(done, len(replies) - 1)]

    return script


def _content(events: list[Any]) -> list[Any]:
    return [e.block for e in events if isinstance(e, BlockStart)]


def test_a_lynkr_call_then_a_client_call_is_one_answer_and_the_prefix_holds() -> None:
    script = by_step(
        Reply(text="Looking.", tool_calls=(ToolCall("lynkr_echo", {"text": "hi"}, id="call_e1"),)),
        Reply(tool_calls=(ToolCall("Bash", {"command": "ls"}, id="call_b1"),)),
        Reply(text="All done."),
    )
    first = [{"role": "user", "content": "list the files"}]
    with serve_with_box(script) as (url, fake, box, _state), httpx.Client(timeout=30) as client:
        headers = {"x-claude-code-session-id": "s-1"}
        response, raw, events = stream_events(client, url, body(first), **headers)
        assert response.status_code == 200, raw
        assert "offered=lynkr_echo" in response.headers["x-lynkr-tools"]
        assert sum(isinstance(e, MessageStart) for e in events) == 1
        assert sum(isinstance(e, MessageStop) for e in events) == 1
        [delta] = [e for e in events if isinstance(e, MessageDelta)]
        assert delta.stop_reason == "tool_use"
        assert delta.usage.input_tokens == 240  # two model calls of 120
        blocks = _content(events)
        kinds = [b.type if isinstance(b, OpaqueBlock) else type(b).__name__ for b in blocks]
        assert kinds == ["TextBlock", "server_tool_use", "lynkr_tool_result", "ToolUseBlock"]
        assert [i.index for i in events if isinstance(i, BlockStart)] == [0, 1, 2, 3]
        assert blocks[2].raw["content"] == [{"type": "text", "text": "echo: hi"}]
        assert [c[0] for c in box.calls] == ["lynkr_echo"]
        assert len(fake.calls) == 2
        step2 = fake.calls[1].body
        # the model saw its own call and Lynkr's result
        assert step2["messages"][-2]["tool_calls"][0]["function"]["name"] == "lynkr_echo"
        assert step2["messages"][-1] == {
            "role": "tool",
            "tool_call_id": "call_e1",
            "content": "echo: hi",
        }
        # next turn: the client sends back what it saw, and the result of its own tool
        seen = [render_block(b) for b in fold(events).content]  # what the client kept
        assert seen[1]["input"] == {"text": "hi"}
        second = [
            *first,
            {"role": "assistant", "content": seen},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": blocks[3].id, "content": "a.txt"}
                ],
            },
        ]
        response, raw, events = stream_events(client, url, body(second), **headers)
        assert response.status_code == 200, raw
    step3 = fake.calls[2].body
    before = orjson.dumps(step2["messages"])
    assert orjson.dumps(step3["messages"][: len(step2["messages"])]) == before
    assert orjson.dumps(step3["tools"]) == orjson.dumps(step2["tools"])
    assert step3["messages"][len(step2["messages"])]["tool_calls"][0]["id"] == "call_b1"


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("lynkr_broken", "lynkr_broken failed inside Lynkr: RuntimeError: the box broke"),
        ("lynkr_refuse", "refused: not allowed here"),
        ("lynkr_stall", "lynkr_stall did not finish within 0.2s (TOOL_TIMEOUT_MS); it was stopped"),
    ],
)
def test_a_failing_tool_is_an_error_result_never_a_failed_request(tool: str, expected: str) -> None:
    script = by_step(Reply(tool_calls=(ToolCall(tool, {}, id="call_x"),)), Reply(text="Sorry."))
    with (
        serve_with_box(script, TOOL_TIMEOUT_MS="200") as (url, fake, _, state),
        httpx.Client(timeout=30) as client,
    ):
        response, _raw, events = stream_events(
            client, url, body([{"role": "user", "content": "try it"}])
        )
    assert response.status_code == 200
    [result] = [
        b for b in _content(events) if isinstance(b, OpaqueBlock) and b.type == "lynkr_tool_result"
    ]
    assert result.raw["is_error"] is True
    assert result.raw["content"][0]["text"] == expected
    assert fake.calls[1].body["messages"][-1]["content"] == "[tool error] " + expected
    metrics = state.metrics.exposition().decode()  # the request has ended: it is counted
    assert f'lynkr_tool_errors_total{{box="test",tool="{tool}"}} 1.0' in metrics


def test_client_mode_offers_nothing_and_runs_nothing() -> None:
    script = by_step(Reply(text="plain"))
    with (
        serve_with_box(script, TOOL_EXECUTION_MODE="client") as (url, fake, _box, _),
        httpx.Client(timeout=30) as client,
    ):
        response, _raw, _ = stream_events(client, url, body([{"role": "user", "content": "hi"}]))
    assert response.status_code == 200
    assert [t["function"]["name"] for t in fake.calls[0].body["tools"]] == ["Bash"]
    assert "x-lynkr-tools" not in response.headers


def test_a_lynkr_tool_the_client_has_is_not_offered() -> None:
    script = by_step(Reply(text="plain"))
    client_echo = {**BASH, "name": "LynkrEcho"}
    with serve_with_box(script) as (url, fake, _, _state), httpx.Client(timeout=30) as client:
        response, _, _ = stream_events(
            client, url, {**body([{"role": "user", "content": "hi"}]), "tools": [BASH, client_echo]}
        )
    names = [t["function"]["name"] for t in fake.calls[0].body["tools"]]
    assert names == ["Bash", "LynkrEcho", "lynkr_broken", "lynkr_refuse", "lynkr_stall"]
    assert "skipped=lynkr_echo" in response.headers["x-lynkr-tools"]


def test_the_offered_set_stays_the_sessions_when_a_box_changes() -> None:
    box = EchoBox()
    script = by_step(Reply(text="plain"))
    with (
        serve_with_box(script, box=box) as (url, fake, _, _state),
        httpx.Client(timeout=30) as client,
    ):
        stream_events(
            client, url, body([{"role": "user", "content": "hi"}]), **{"x-session-id": "s-2"}
        )
        box.names = ("echo",)  # the box's set shrinks: the session keeps what it was offered
        stream_events(
            client, url, body([{"role": "user", "content": "hi again"}]), **{"x-session-id": "s-2"}
        )
        stream_events(
            client, url, body([{"role": "user", "content": "new"}]), **{"x-session-id": "s-3"}
        )
    first, again, other = (orjson.dumps(c.body["tools"]) for c in fake.calls)
    assert first == again
    assert [t["function"]["name"] for t in orjson.loads(other)] == ["Bash", "lynkr_echo"]


def test_non_streamed_answers_list_the_calls_in_a_header() -> None:
    script = by_step(
        Reply(tool_calls=(ToolCall("lynkr_echo", {"text": "x"}, id="c1"),)), Reply(text="done")
    )
    with serve_with_box(script) as (url, _fake, _, _state), httpx.Client(timeout=30) as client:
        response = client.post(
            url + "/v1/messages",
            json=body([{"role": "user", "content": "hi"}], stream=False),
            headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        )
    assert response.status_code == 200, response.text
    assert response.headers["x-lynkr-tools-calls"] == "lynkr_echo:ok"
    content = response.json()["content"]
    assert [b["type"] for b in content] == ["server_tool_use", "lynkr_tool_result", "text"]
    assert response.json()["stop_reason"] == "end_turn"


def test_a_lynkr_call_beside_a_client_call_ends_the_answer_and_its_result_waits() -> None:
    both = Reply(
        tool_calls=(
            ToolCall("lynkr_echo", {"text": "a"}, id="call_e"),
            ToolCall("Bash", {"command": "ls"}, id="call_b"),
        )
    )
    script = by_step(both, Reply(text="done"))
    first = [{"role": "user", "content": "both"}]
    with serve_with_box(script) as (url, fake, box, _), httpx.Client(timeout=30) as client:
        response, raw, events = stream_events(client, url, body(first), **{"x-session-id": "mixed"})
        assert response.status_code == 200, raw
        [delta] = [e for e in events if isinstance(e, MessageDelta)]
        assert delta.stop_reason == "tool_use"
        blocks = _content(events)
        assert [getattr(b, "type", type(b).__name__) for b in blocks] == [
            "server_tool_use",
            "ToolUseBlock",
            "lynkr_tool_result",
        ]
        assert len(fake.calls) == 1  # the client's call ends the answer
        assert [c[0] for c in box.calls] == ["lynkr_echo"]
        seen = [render_block(b) for b in fold(events).content]
        second = [
            *first,
            {"role": "assistant", "content": seen},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "call_b", "content": "a.txt"}],
            },
        ]
        response, raw, _ = stream_events(client, url, body(second), **{"x-session-id": "mixed"})
        assert response.status_code == 200, raw
    messages = fake.calls[1].body["messages"]
    assert [c["id"] for c in messages[-3]["tool_calls"]] == ["call_e", "call_b"]
    assert messages[-2:] == [
        {"role": "tool", "tool_call_id": "call_e", "content": "echo: a"},
        {"role": "tool", "tool_call_id": "call_b", "content": "a.txt"},
    ]


def chat(client: httpx.Client, url: str, messages: list[dict[str, Any]]) -> httpx.Response:
    return client.post(
        url + "/v1/chat/completions",
        headers={"x-session-id": "chat-1"},
        json={
            "model": "gpt-x",
            "messages": messages,
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "Bash", "parameters": BASH["input_schema"]},
                }
            ],
        },
    )


def test_a_chat_client_drops_the_legs_and_lynkr_restores_them_from_the_session() -> None:
    script = by_step(
        Reply(text="Looking. ", tool_calls=(ToolCall("lynkr_echo", {"text": "hi"}, id="call_e1"),)),
        Reply(text="Now ls.", tool_calls=(ToolCall("Bash", {"command": "ls"}, id="call_b1"),)),
        Reply(text="Two files."),
    )
    first = [{"role": "user", "content": "list"}]
    with serve_with_box(script) as (url, fake, _, _state), httpx.Client(timeout=30) as client:
        answer = chat(client, url, first)
        assert answer.status_code == 200, answer.text
        message = answer.json()["choices"][0]["message"]
        assert message["content"] == "Looking. Now ls."  # the client sees no Lynkr call
        assert [c["function"]["name"] for c in message["tool_calls"]] == ["Bash"]
        second = [
            *first,
            {
                "role": "assistant",
                "content": message["content"],
                "tool_calls": message["tool_calls"],
            },
            {"role": "tool", "tool_call_id": "call_b1", "content": "a b"},
        ]
        again = chat(client, url, second)
        assert again.status_code == 200, again.text
        assert "restored=1" in again.headers["x-lynkr-tools"]
    loop_call, next_call = fake.calls[1].body, fake.calls[2].body
    n = len(loop_call["messages"])
    assert orjson.dumps(next_call["messages"][:n]) == orjson.dumps(loop_call["messages"])
    assert next_call["messages"][n]["tool_calls"][0]["id"] == "call_b1"


def test_a_responses_client_continues_with_previous_response_id_and_the_prefix_holds() -> None:
    script = by_step(
        Reply(text="Looking. ", tool_calls=(ToolCall("lynkr_echo", {"text": "r"}, id="call_e1"),)),
        Reply(tool_calls=(ToolCall("Bash", {"command": "ls"}, id="call_b1"),)),
        Reply(text="Two files."),
    )
    tools = [{"type": "function", "name": "Bash", "parameters": BASH["input_schema"]}]
    with serve_with_box(script) as (url, fake, _, _state), httpx.Client(timeout=30) as client:
        first = client.post(
            url + "/v1/responses", json={"model": "gpt-x", "input": "list", "tools": tools}
        )
        assert first.status_code == 200, first.text
        output = first.json()["output"]
        assert [item["type"] for item in output] == ["message", "function_call"]
        again = client.post(
            url + "/v1/responses",
            json={
                "model": "gpt-x",
                "tools": tools,
                "previous_response_id": first.json()["id"],
                "input": [{"type": "function_call_output", "call_id": "call_b1", "output": "a b"}],
            },
        )
        assert again.status_code == 200, again.text
        assert again.json()["output"][0]["content"][0]["text"] == "Two files."
    loop_call, next_call = fake.calls[1].body, fake.calls[2].body
    n = len(loop_call["messages"])
    assert orjson.dumps(next_call["messages"][:n]) == orjson.dumps(loop_call["messages"])


def test_memory_on_offers_the_memory_box_and_its_tools_run_in_the_callers_scope(
    tmp_path: Any,
) -> None:
    script = by_step(
        Reply(
            tool_calls=(
                ToolCall(
                    "memory_add", {"text": "The user prefers tabs.", "type": "preference"}, id="m1"
                ),
            )
        ),
        Reply(text="Noted."),
    )
    env = {"MEMORY_ENABLED": "true", "MEMORY_DB_PATH": str(tmp_path / "memory.db")}
    with serve_with_box(script, **env) as (url, fake, _, state), httpx.Client(timeout=30) as client:
        response, raw, events = stream_events(
            client,
            url,
            body([{"role": "user", "content": "remember: tabs"}]),
            **{"x-session-id": "mem-1"},
        )
        assert response.status_code == 200, raw
        assert [b.name for b in state.toolboxes] == ["test", "memory"]
    offered = [t["function"]["name"] for t in fake.calls[0].body["tools"]]
    assert offered[-4:] == ["memory_search", "memory_add", "memory_forget", "memory_stats"]
    [result] = [
        b for b in _content(events) if isinstance(b, OpaqueBlock) and b.type == "lynkr_tool_result"
    ]
    assert result.raw["is_error"] is False, result.raw
    assert fake.calls[1].body["messages"][-1]["tool_call_id"] == "m1"
