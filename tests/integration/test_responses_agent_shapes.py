"""/v1/responses on the real server with the request shapes Codex 0.171.0 sends (tool kinds,
nesting and fields as recorded in /work/shared/clients; texts are ours), to a fake model."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from harness.proxy import proxy
from harness.wire import Reply, ToolCall

PARAMS = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"],
          "additionalProperties": False}
BODY: dict[str, Any] = {
    "model": "fake-model", "stream": True, "store": False, "tool_choice": "auto",
    "parallel_tool_calls": True, "reasoning": {"effort": "low", "context": "all_turns"},
    "include": ["reasoning.encrypted_content"], "prompt_cache_key": "k",
    "text": {"verbosity": "low"}, "client_metadata": {"thread_id": "t", "turn_id": "u"},
    "input": [
        {"type": "additional_tools", "id": "at_1", "role": "developer", "tools": [
            {"type": "namespace", "name": "multi_agent_v1", "tools": [
                {"type": "function", "name": "close_agent", "strict": False,
                 "parameters": PARAMS}]}]},
        {"type": "message", "id": "msg_1", "role": "developer",
         "content": [{"type": "input_text", "text": "You are a coding agent."}]},
        {"type": "message", "id": "msg_2", "role": "user",
         "content": [{"type": "input_text", "text": "Patch the file"}]},
    ],
    "tools": [
        {"type": "function", "name": "exec_command", "strict": False, "parameters": PARAMS},
        {"type": "custom", "name": "apply_patch", "description": "Patch files.",
         "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}},
        {"type": "web_search", "external_web_access": True},
    ],
}


def stream_events(url: str, body: dict[str, Any]) -> tuple[httpx.Response, list[dict]]:
    with httpx.Client(timeout=30) as client:
        response = client.post(url + "/v1/responses", json=body)
    events = [orjson.loads(line[6:]) for line in response.text.splitlines()
              if line.startswith("data: ")]
    return response, events


def test_codex_shaped_request_is_answered_and_hosted_tools_are_reported() -> None:
    patch = "*** Begin Patch\n*** End Patch\n"
    reply = Reply(thinking="Plan.", tool_calls=(ToolCall("apply_patch", {"input": patch},
                                                         id="call_p"),))
    # the client's tools alone (memory's own tools would be offered beside them)
    with proxy("openai", [reply], pipeline="passthrough", MEMORY_ENABLED="false") as (url, fake):
        response, events = stream_events(url, BODY)
    assert response.status_code == 200, response.text
    assert "ingress=dropped hosted tool web_search" in response.headers["x-lynkr-stages"]
    sent = fake.calls[0].body
    assert [t["function"]["name"] for t in sent["tools"]] == [
        "exec_command", "apply_patch", "close_agent"]
    assert sent["tools"][1]["function"]["parameters"]["required"] == ["input"]
    assert "max_tokens" not in sent  # Codex sets no limit; fake-model is in no table
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert [d["type"] for d in done] == ["reasoning", "custom_tool_call"]
    assert done[0]["encrypted_content"].startswith("lynkr:v1:")
    assert done[1]["input"] == patch and done[1]["call_id"] == "call_p"
    assert events[-1]["type"] == "response.completed"


def test_the_next_turn_carries_the_reasoning_and_the_custom_output_back() -> None:
    first = Reply(thinking="Plan.", tool_calls=(ToolCall("apply_patch", {"input": "p"},
                                                         id="call_p"),))
    with proxy("openai", [first, Reply(text="Done.")], pipeline="passthrough") as (url, fake):
        _, events = stream_events(url, BODY)
        items = [e["item"] for e in events if e["type"] == "response.output_item.done"]
        follow = {**BODY, "input": [*BODY["input"], *items,
                                    {"type": "custom_tool_call_output", "call_id": "call_p",
                                     "output": "Success."}]}
        response, _ = stream_events(url, follow)
    assert response.status_code == 200, response.text
    messages = fake.calls[1].body["messages"]
    assistant = next(m for m in messages if m["role"] == "assistant")
    assert assistant["reasoning_content"] == "Plan."
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"input":"p"}'
    assert messages[-1] == {"role": "tool", "tool_call_id": "call_p", "content": "Success."}


def test_forcing_a_hosted_tool_is_a_400_in_openai_error_json() -> None:
    with proxy("openai", [Reply(text="x")]) as (url, fake):
        response, _ = stream_events(url, {**BODY, "tool_choice": {"type": "web_search"}})
    assert response.status_code == 400
    assert "hosted tool 'web_search'" in response.json()["error"]["message"]
    assert fake.calls == []
