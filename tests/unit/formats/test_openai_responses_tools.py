"""What Codex and other agents send on /v1/responses: namespaces, freeform (custom) tools,
tool_search, additional_tools items, hosted tools, and the call items they get back.

Request bytes in → canonical Request; canonical events in → Responses SSE bytes out, checked
against the official SDK's event models where it has them.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from lynkr.formats.jsonvalue import loads_object
from lynkr.formats.openai_responses.egress import ResponsesEventRenderer, render_response
from lynkr.formats.openai_responses.ingress import parse_responses_request
from lynkr.formats.openai_responses.tools import ClientTool, custom_input
from lynkr.formats.sse import SseDecoder
from lynkr.model import (
    BadRequest,
    BlockStart,
    BlockStop,
    InputJsonDelta,
    Message,
    MessageDelta,
    MessageStart,
    MessageStop,
    Response,
    TextBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)

EVENTS = TypeAdapter(ResponseStreamEvent)
GRAMMAR = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF'
SCHEMA = {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}


def fn(name: str, schema: dict[str, Any] = SCHEMA) -> dict[str, Any]:
    return {"type": "function", "name": name, "strict": False, "parameters": schema}


# the shape Codex 0.171.0 sends (tool kinds and nesting; texts are ours)
CODEX_BODY = {
    "model": "gpt-5.5", "stream": True, "store": False, "parallel_tool_calls": True,
    "tool_choice": "auto", "reasoning": {"effort": "medium", "context": "all_turns"},
    "include": ["reasoning.encrypted_content"], "prompt_cache_key": "k-1",
    "text": {"verbosity": "low"}, "client_metadata": {"thread_id": "t"},
    "input": [
        {"type": "additional_tools", "id": "at_1", "role": "developer", "tools": [
            {"type": "namespace", "name": "functions", "tools": [
                {"type": "custom", "name": "exec", "description": "Run JavaScript.",
                 "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}},
                fn("wait")]},
            {"type": "namespace", "name": "collaboration", "tools": [fn("wait"),
                                                                     fn("spawn_agent")]}]},
        {"type": "message", "id": "msg_1", "role": "developer",
         "content": [{"type": "input_text", "text": "Be careful."}]},
        {"type": "message", "id": "msg_2", "role": "user",
         "content": [{"type": "input_text", "text": "Create hello.txt"}]},
    ],
    "tools": [
        fn("exec_command"),
        {"type": "custom", "name": "apply_patch", "description": "Edit files.",
         "format": {"type": "grammar", "syntax": "lark", "definition": GRAMMAR}},
        {"type": "tool_search", "execution": "client", "parameters": {
            "type": "object", "properties": {"query": {"type": "string"}}}},
        {"type": "web_search", "external_web_access": True},
        {"type": "image_generation"},
    ],
}


def test_codex_request_is_accepted_and_every_tool_flattened() -> None:
    request, options = parse_responses_request(loads_object(orjson.dumps(CODEX_BODY)))
    names = [t.name for t in request.tools]
    assert names == ["exec_command", "apply_patch", "tool_search", "exec",
                     "functions__wait", "collaboration__wait", "spawn_agent"]
    patch = request.tools[1]
    assert patch.input_schema["required"] == ["input"]
    assert patch.description.startswith("Edit files.\n\nPut the raw input (not JSON) in `input`")
    assert patch.description.endswith("lark grammar:\n" + GRAMMAR)
    assert options.tool_map["functions__wait"] == ClientTool("function", "wait", "functions")
    assert options.tool_map["exec"] == ClientTool("custom", "exec", "functions")
    assert options.tool_map["apply_patch"] == ClientTool("custom", "apply_patch")
    assert options.tool_map["tool_search"] == ClientTool("tool_search", "tool_search")
    assert options.dropped == ("hosted tool web_search", "hosted tool image_generation")
    assert request.system == (TextBlock("Be careful."),)
    assert request.messages == (Message("user", (TextBlock("Create hello.txt"),)),)
    assert request.max_tokens == 0  # Codex sends no limit: map_model decides


def test_history_items_of_every_call_kind_map_back_to_flattened_names() -> None:
    body = {**CODEX_BODY, "input": [
        *CODEX_BODY["input"],
        {"type": "function_call", "call_id": "c1", "name": "wait", "namespace": "functions",
         "arguments": '{"cell_id":"1"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "waited"},
        {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch",
         "input": "*** Begin Patch\n*** End Patch\n"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "Success."},
        {"type": "tool_search_call", "call_id": "c3", "execution": "client",
         "arguments": {"query": "calendar"}},
        {"type": "tool_search_output", "call_id": "c3", "execution": "client",
         "tools": [fn("calendar_create")]},
        {"type": "web_search_call", "id": "ws_1", "status": "completed",
         "action": {"type": "search", "query": "x"}},
        {"type": "compaction", "encrypted_content": "opaque"},
    ]}
    request, options = parse_responses_request(body)
    assert request.messages[1:] == (
        Message("assistant", (ToolUseBlock("c1", "functions__wait", {"cell_id": "1"}),)),
        Message("user", (ToolResultBlock("c1", (TextBlock("waited"),)),)),
        Message("assistant", (ToolUseBlock("c2", "apply_patch",
                                           {"input": "*** Begin Patch\n*** End Patch\n"}),)),
        Message("user", (ToolResultBlock("c2", (TextBlock("Success."),)),)),
        Message("assistant", (ToolUseBlock("c3", "tool_search", {"query": "calendar"}),)),
        Message("user", (ToolResultBlock("c3", (TextBlock("Tools found: calendar_create"),)),)),
    )
    assert request.tools[-1] == Tool("calendar_create", "", SCHEMA)  # found tools callable
    assert options.dropped[-2:] == ("input item web_search_call", "input item compaction")


def test_a_forced_hosted_tool_is_a_clear_400_and_named_tools_are_flattened() -> None:
    with pytest.raises(BadRequest, match="hosted tool 'web_search'"):
        parse_responses_request({**CODEX_BODY, "tool_choice": {"type": "web_search"}})
    forced = {**CODEX_BODY, "tool_choice": {"type": "function", "name": "wait",
                                            "namespace": "collaboration"}}
    assert parse_responses_request(forced)[0].tool_choice == {"type": "tool",
                                                              "name": "collaboration__wait"}
    custom = {**CODEX_BODY, "tool_choice": {"type": "custom", "name": "apply_patch"}}
    assert parse_responses_request(custom)[0].tool_choice == {"type": "tool",
                                                              "name": "apply_patch"}
    allowed = {**CODEX_BODY, "tool_choice": {"type": "allowed_tools", "mode": "required",
                                             "tools": [{"type": "function", "name": "x"}]}}
    assert parse_responses_request(allowed)[0].tool_choice == {"type": "any"}


def test_a_newer_message_like_item_is_read_as_a_message() -> None:
    request, options = parse_responses_request({"model": "m", "input": [
        {"type": "user_note", "role": "user", "content": "hi"}]})
    assert request.messages == (Message("user", (TextBlock("hi"),)),)
    assert options.dropped == ()


def frames(data: bytes) -> list[dict[str, Any]]:
    out = [orjson.loads(payload) for _name, payload in SseDecoder().feed(data)]
    for obj in out:
        if not obj["type"].startswith("response.custom_tool_call_input"):
            EVENTS.validate_python(obj)  # the SDK's own models, where it has one
    return out


def answer(name: str, *pieces: str) -> list[Any]:
    return [MessageStart("msg_1", "m", Usage()), BlockStart(0, ToolUseBlock("call_9", name, {})),
            *(InputJsonDelta(0, p) for p in pieces), BlockStop(0),
            MessageDelta("tool_use", Usage(output_tokens=3)), MessageStop()]


def render(events: list[Any]) -> list[dict[str, Any]]:
    options = parse_responses_request(CODEX_BODY)[1]
    renderer = ResponsesEventRenderer("resp_1", "gpt-5.5", 1, options)
    return frames(b"".join(renderer.render([e]) for e in events) + renderer.finish())


def test_a_freeform_call_streams_as_a_custom_tool_call_with_raw_input() -> None:
    out = render(answer("apply_patch", '{"input":"*** Begin', ' Patch\\n*** End Patch\\n"}'))
    kinds = [f["type"] for f in out]
    assert "response.function_call_arguments.delta" not in kinds
    added = next(f for f in out if f["type"] == "response.output_item.added")["item"]
    assert added["type"] == "custom_tool_call" and added["name"] == "apply_patch"
    delta = next(f for f in out if f["type"] == "response.custom_tool_call_input.delta")
    done = next(f for f in out if f["type"] == "response.custom_tool_call_input.done")
    assert delta["delta"] == done["input"] == "*** Begin Patch\n*** End Patch\n"
    item = next(f for f in out if f["type"] == "response.output_item.done")["item"]
    assert item == {"id": item["id"], "type": "custom_tool_call", "status": "completed",
                    "call_id": "call_9", "name": "apply_patch",
                    "input": "*** Begin Patch\n*** End Patch\n"}


def test_a_namespaced_call_answers_with_its_own_name_and_namespace() -> None:
    out = render(answer("collaboration__wait", '{"timeout_ms":5}'))
    item = next(f for f in out if f["type"] == "response.output_item.done")["item"]
    assert (item["type"], item["name"], item["namespace"]) == ("function_call", "wait",
                                                               "collaboration")
    done = next(f for f in out if f["type"] == "response.function_call_arguments.done")
    assert done["name"] == "wait" and done["arguments"] == '{"timeout_ms":5}'


def test_tool_search_and_the_whole_response_use_the_declared_kinds() -> None:
    out = render(answer("tool_search", '{"query":"cal"}'))
    item = next(f for f in out if f["type"] == "response.output_item.done")["item"]
    assert item["type"] == "tool_search_call" and item["execution"] == "client"
    assert item["arguments"] == {"query": "cal"} and item["call_id"] == "call_9"
    options = parse_responses_request(CODEX_BODY)[1]
    whole = render_response(Response("msg_1", "m", (
        ToolUseBlock("c1", "exec", {"input": "text(1)"}),
        ToolUseBlock("c2", "exec_command", {"cmd": "ls"})), "tool_use", Usage()),
        "resp_1", "gpt-5.5", 1, options)
    assert [(o["type"], o["name"]) for o in whole["output"]] == [
        ("custom_tool_call", "exec"), ("function_call", "exec_command")]
    assert whole["output"][0]["input"] == "text(1)"
    assert whole["output"][0]["namespace"] == "functions"


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"input": "raw"}, "raw"), ({"patch": "raw"}, "raw"), ({}, ""),
    ({"a": 1, "b": 2}, '{"a":1,"b":2}'),
])
def test_custom_input_from_what_a_model_sent(arguments: dict[str, Any], expected: str) -> None:
    assert custom_input(arguments) == expected
