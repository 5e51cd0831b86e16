"""parse_chat_request: OpenAI Chat Completions request JSON in, canonical Request out."""

import copy
from typing import Any

import pytest

from lynkr.formats.openai_chat.ingress import (
    FREEFORM_SCHEMA,
    PLACEHOLDER_SCHEMA,
    ChatClientOptions,
    parse_chat_request,
)
from lynkr.formats.reasoning import sign, unpack
from lynkr.model import (
    BadRequest,
    ImageBlock,
    Message,
    OpaqueBlock,
    Request,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
)

PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
PNG_URL = "data:image/png;base64,iVBORw0KGgo="
SHELL = {"type": "object", "properties": {"command": {"type": "string"}},
         "required": ["command"]}
AUDIO = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
FILE = {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,"}}


def cursor_body() -> dict[str, Any]:
    """The shape Cursor and the openai SDK send, with our own short texts."""
    return {
        "model": "gpt-test",
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": 4000,
        "temperature": 1.5,
        "top_p": 0.9,
        "stop": "END",
        "reasoning_effort": "high",
        "parallel_tool_calls": False,
        "tool_choice": "auto",
        "user": "u-1",
        "seed": 7, "presence_penalty": 0.1, "frequency_penalty": 0, "logit_bias": {"1": 2},
        "logprobs": False, "top_logprobs": None, "service_tier": "auto", "store": False,
        "prompt_cache_key": "k", "verbosity": "low", "metadata": {"a": "b"}, "n": 1,
        "messages": [
            {"role": "system", "content": "You are a test agent.", "name": "ignored"},
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "name": "me", "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "high"}},
                {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                AUDIO, FILE,
            ]},
            {"role": "assistant", "content": None, "reasoning_content": "look first",
             "tool_calls": [
                 {"id": "call_1", "type": "function",
                  "function": {"name": "Shell", "arguments": '{"command": "ls"}'}},
                 {"id": "call_2", "type": "function",
                  "function": {"name": "Shell", "arguments": '{"command": "cat a'}},
                 {"id": "call_3", "type": "function",
                  "function": {"name": "Shell", "arguments": {"command": "pwd"}}},
             ]},
            {"role": "tool", "tool_call_id": "call_2", "content": "contents"},
            {"role": "tool", "tool_call_id": "call_1",
             "content": [{"type": "text", "text": "a.txt"}, {"type": "text", "text": "b.txt"}]},
            {"role": "tool", "tool_call_id": "call_3", "content": ""},
            {"role": "user", "content": "thanks"},
            {"role": "system", "content": "Mid-conversation note."},
            {"role": "assistant", "content": [{"type": "text", "text": "Done"},
                                              {"type": "text", "text": "."}]},
        ],
        "tools": [
            {"type": "function", "function": {"name": "Shell", "description": "Runs it.",
                                              "parameters": SHELL, "strict": True}},
            {"type": "function", "function": {"name": "Noop"}},
            {"type": "custom", "custom": {"name": "apply_patch", "description": "Patches.",
                                          "format": {"type": "text"}}},
        ],
        "response_format": {"type": "json_schema",
                            "json_schema": {"name": "out", "schema": SHELL, "strict": True}},
    }


EXPECTED = Request(
    model="gpt-test",
    max_tokens=4000,
    stream=True,
    temperature=1.5,
    top_p=0.9,
    stop_sequences=("END",),
    thinking={"type": "adaptive"},
    metadata={"user_id": "u-1"},
    tool_choice={"type": "auto", "disable_parallel_tool_use": True},
    extra={"output_config": {"effort": "high", "format": {
        "type": "json_schema", "schema": SHELL, "name": "out", "strict": True}}},
    system=(TextBlock("You are a test agent."), TextBlock("Be brief.")),
    messages=(
        Message("user", (
            TextBlock("What is in these?"),
            ImageBlock(PNG),
            ImageBlock({"type": "url", "url": "https://x.test/a.png"}),
            OpaqueBlock("input_audio", AUDIO),
            OpaqueBlock("file", FILE),
        )),
        Message("assistant", (
            ThinkingBlock("look first", sign("*", {"reasoning_content": "look first"})),
            ToolUseBlock("call_1", "Shell", {"command": "ls"}),
            ToolUseBlock("call_2", "Shell", {"command": "cat a"}),  # repaired
            ToolUseBlock("call_3", "Shell", {"command": "pwd"}),
        )),
        Message("user", (
            ToolResultBlock("call_2", (TextBlock("contents"),)),
            ToolResultBlock("call_1", (TextBlock("a.txt"), TextBlock("b.txt"))),
            ToolResultBlock("call_3"),
            TextBlock("thanks"),
        )),
        Message("system", (TextBlock("Mid-conversation note."),)),
        Message("assistant", (TextBlock("Done."),)),
    ),
    tools=(
        Tool("Shell", "Runs it.", SHELL, extra={"strict": True}),
        Tool("Noop", "", PLACEHOLDER_SCHEMA),
        Tool("apply_patch", "Patches.", FREEFORM_SCHEMA, type="custom",
             extra={"format": {"type": "text"}}),
    ),
)


def test_parse_cursor_shape() -> None:
    body = cursor_body()
    assert parse_chat_request(body) == (EXPECTED, ChatClientOptions(include_usage=True, n=1))
    assert body == cursor_body()  # parsing does not mutate the input


def minimal(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}


def parsed(**fields: Any) -> Request:
    return parse_chat_request(minimal(**fields))[0]


def test_minimal_defaults() -> None:
    request, options = parse_chat_request(minimal())
    assert request == Request("m", (Message("user", (TextBlock("hi"),)),), 0)
    assert options == ChatClientOptions(include_usage=False, n=1)


def test_nulls_are_absent() -> None:
    nulls = dict.fromkeys(["max_tokens", "max_completion_tokens", "temperature", "top_p", "stop",
                           "stream", "stream_options", "tools", "tool_choice", "user", "n",
                           "reasoning_effort", "response_format", "parallel_tool_calls"])
    assert parse_chat_request(minimal(**nulls)) == parse_chat_request(minimal())


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"max_tokens": 100}, {"max_tokens": 100}),
        ({"max_tokens": 100, "max_completion_tokens": 200}, {"max_tokens": 200}),
        ({"stop": ["a", "b"]}, {"stop_sequences": ("a", "b")}),
        ({"temperature": 2}, {"temperature": 2}),
        ({"stream": False}, {"stream": False}),
        ({"reasoning_effort": "none"}, {"thinking": {"type": "disabled"}}),
        ({"reasoning_effort": "low", "response_format": {"type": "json_object"}},
         {"thinking": {"type": "adaptive"},
          "extra": {"output_config": {"effort": "low", "format": {"type": "json_object"}}}}),
        ({"reasoning_effort": "none", "response_format": {"type": "json_object"}},
         {"thinking": {"type": "disabled"},
          "extra": {"output_config": {"format": {"type": "json_object"}}}}),
        ({"response_format": {"type": "text"}}, {}),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": SHELL}}},
         {"extra": {"output_config": {"format": {"type": "json_schema", "schema": SHELL}}}}),
        ({"metadata": {"k": "v"}}, {}),
        ({"safety_identifier": "s", "modalities": ["text"], "x_future": 1}, {}),
        # tool_choice only means something with tools
        ({"tool_choice": "required", "parallel_tool_calls": False}, {}),
    ],
)
def test_settings(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    base = Request("m", (Message("user", (TextBlock("hi"),)),), 0)
    assert parsed(**fields) == Request(**{**{f: getattr(base, f) for f in (
        "model", "messages", "max_tokens")}, **expected})


NOOP = [{"type": "function", "function": {"name": "F"}}]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, None),
        ({"tool_choice": "auto"}, {"type": "auto"}),
        ({"tool_choice": "required"}, {"type": "any"}),
        ({"tool_choice": "none"}, {"type": "none"}),
        ({"tool_choice": {"type": "function", "function": {"name": "F"}}},
         {"type": "tool", "name": "F"}),
        ({"tool_choice": {"type": "custom", "custom": {"name": "F"}}},
         {"type": "tool", "name": "F"}),
        ({"tool_choice": {"type": "allowed_tools",
                          "allowed_tools": {"mode": "required", "tools": []}}}, {"type": "any"}),
        ({"parallel_tool_calls": True}, None),
        ({"parallel_tool_calls": False}, {"type": "auto", "disable_parallel_tool_use": True}),
        ({"parallel_tool_calls": False, "tool_choice": "required"},
         {"type": "any", "disable_parallel_tool_use": True}),
        ({"parallel_tool_calls": False, "tool_choice": {"type": "function",
                                                        "function": {"name": "F"}}},
         {"type": "tool", "name": "F", "disable_parallel_tool_use": True}),
        # Anthropic's {type: none} takes no other field
        ({"parallel_tool_calls": False, "tool_choice": "none"}, {"type": "none"}),
    ],
)
def test_tool_choice(fields: dict[str, Any], expected: dict[str, Any] | None) -> None:
    assert parsed(tools=NOOP, **fields).tool_choice == expected


def conversation(*messages: dict[str, Any]) -> tuple[Message, ...]:
    return parse_chat_request({"model": "m", "messages": list(messages)})[0].messages


def test_tool_results_merge_with_the_next_user_message_only() -> None:
    calls = {"role": "assistant", "content": "x", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "F", "arguments": ""}}]}
    result = {"role": "tool", "tool_call_id": "a", "content": "r"}
    assert conversation(calls, result, {"role": "system", "content": "s"},
                        {"role": "user", "content": "u"}) == (
        Message("assistant", (TextBlock("x"), ToolUseBlock("a", "F", {}))),
        Message("user", (ToolResultBlock("a", (TextBlock("r"),)),)),
        Message("system", (TextBlock("s"),)),
        Message("user", (TextBlock("u"),)),
    )
    assert conversation(calls, result, calls) == (
        Message("assistant", (TextBlock("x"), ToolUseBlock("a", "F", {}))),
        Message("user", (ToolResultBlock("a", (TextBlock("r"),)),)),
        Message("assistant", (TextBlock("x"), ToolUseBlock("a", "F", {}))),
    )


def test_system_after_a_tool_result_is_not_leading() -> None:
    request = parse_chat_request({"model": "m", "messages": [
        {"role": "tool", "tool_call_id": "a", "content": "r"},
        {"role": "system", "content": "s"}]})[0]
    assert request.system == ()
    assert request.messages[1] == Message("system", (TextBlock("s"),))


def test_legacy_function_call() -> None:
    assert conversation(
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None,
         "function_call": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
        {"role": "function", "name": "get_weather", "content": "rain"},
        {"role": "function", "name": "unknown", "content": "?"},
    ) == (
        Message("user", (TextBlock("weather?"),)),
        Message("assistant", (ToolUseBlock("call_1", "get_weather", {"city": "Oslo"}),)),
        Message("user", (ToolResultBlock("call_1", (TextBlock("rain"),)),
                         ToolResultBlock("call_unknown", (TextBlock("?"),)))),
    )


def test_echoed_reasoning_keeps_every_field_the_client_sent() -> None:
    details = [{"type": "reasoning.text", "text": "why", "index": 0}]
    [message] = conversation({"role": "assistant", "content": "ok", "reasoning": "why",
                              "reasoning_details": details})
    thinking = message.content[0]
    assert thinking.thinking == "why"
    assert unpack(thinking.signature) == ("*", {"reasoning": "why",
                                                "reasoning_details": details})


def test_assistant_variants() -> None:
    assert conversation(
        {"role": "assistant", "content": "", "reasoning": "r"},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}],
         "reasoning_content": ""},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c", "type": "custom", "custom": {"name": "apply_patch", "input": "*** P"}},
            {"id": "d", "type": "function", "function": {"name": "F"}},
            {"id": "e", "type": "function", "function": {"name": "F", "arguments": "[1]"}}]},
    ) == (
        Message("assistant", (ThinkingBlock("r", sign("*", {"reasoning": "r"})),)),
        Message("assistant", (TextBlock("No."),)),
        Message("assistant", (ToolUseBlock("c", "apply_patch", {"input": "*** P"}),
                              ToolUseBlock("d", "F", {}), ToolUseBlock("e", "F", {}))),
    )


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ({"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/"}},
         ImageBlock({"type": "base64", "media_type": "image/jpeg", "data": "/9j/"})),
        ({"type": "image_url", "image_url": "http://x.test/b.gif"},
         ImageBlock({"type": "url", "url": "http://x.test/b.gif"})),
        ({"type": "image_url", "image_url": {"url": "data:;base64,AA=="}},
         ImageBlock({"type": "base64", "media_type": "image/png", "data": "AA=="})),
        ({"type": "text", "text": ""}, TextBlock("")),
    ],
)
def test_user_parts(part: dict[str, Any], expected: Any) -> None:
    assert conversation({"role": "user", "content": [part]}) == (Message("user", (expected,)),)


def with_(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A valid body with the value at ``path`` replaced (or deleted if ``...``)."""
    body = copy.deepcopy({
        "model": "m",
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": [{"type": "text", "text": "hi"},
                                         {"type": "image_url", "image_url": {"url": PNG_URL}}]},
            {"role": "assistant", "content": "x", "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "F", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "r"},
        ],
        "tools": [{"type": "function", "function": {"name": "F", "parameters": {}}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "o", "schema": {}}},
    })
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


BAD = [
    (with_(("model",), ...), "model: field required"),
    (with_(("model",), ""), "model: must not be empty"),
    (with_(("model",), 3), "model: expected a string, got number"),
    (with_(("messages",), ...), "messages: field required"),
    (with_(("messages",), {}), "messages: expected an array, got object"),
    (with_(("messages", 1), "hi"), "messages.1: expected a message object, got string"),
    (with_(("messages", 1, "role"), ...), "messages.1.role: field required"),
    (with_(("messages", 1, "role"), "bot"), "messages.1.role: expected 'system', 'developer'"),
    (with_(("messages", 1, "role"), ["user"]), "messages.1.role: expected 'system'"),
    (with_(("messages", 0, "content"), None),
     "messages.0.content: expected a string or an array of text parts, got null"),
    (with_(("messages", 0, "content"), [{"type": "image_url"}]),
     "messages.0.content.0.type: expected 'text'"),
    (with_(("messages", 1, "content"), ...), "messages.1.content: field required"),
    (with_(("messages", 1, "content"), 5), "messages.1.content: expected a string or an array"),
    (with_(("messages", 1, "content", 0), "hi"), "messages.1.content.0: expected a content part"),
    (with_(("messages", 1, "content", 0, "type"), ...), "messages.1.content.0.type: field"),
    (with_(("messages", 1, "content", 0, "type"), "video"),
     "messages.1.content.0.type: expected 'text', 'image_url'"),
    (with_(("messages", 1, "content", 0, "text"), 1),
     "messages.1.content.0.text: expected a string, got number"),
    (with_(("messages", 1, "content", 1, "image_url"), ...),
     "messages.1.content.1.image_url: field required"),
    (with_(("messages", 1, "content", 1, "image_url"), 4),
     "messages.1.content.1.image_url: expected an object, got number"),
    (with_(("messages", 1, "content", 1, "image_url", "url"), None),
     "messages.1.content.1.image_url.url: expected a string, got null"),
    (with_(("messages", 1, "content", 1, "image_url", "url"), "file:///etc/passwd"),
     "messages.1.content.1.image_url.url: expected a data: or http(s) URL"),
    (with_(("messages", 1, "content", 1, "image_url", "url"), "data:image/svg+xml,%3Csvg"),
     "messages.1.content.1.image_url.url: expected a base64 data URL"),
    (with_(("messages", 1, "content", 1), {"type": "file", "file": "x"}),
     "messages.1.content.1.file: expected an object, got string"),
    (with_(("messages", 2, "content"), 1),
     "messages.2.content: expected a string or an array of text parts"),
    (with_(("messages", 2, "tool_calls"), {}), "messages.2.tool_calls: expected an array"),
    (with_(("messages", 2, "tool_calls", 0), []),
     "messages.2.tool_calls.0: expected a tool call object, got array"),
    (with_(("messages", 2, "tool_calls", 0, "id"), ...), "messages.2.tool_calls.0.id: field"),
    (with_(("messages", 2, "tool_calls", 0, "id"), 1),
     "messages.2.tool_calls.0.id: expected a string"),
    (with_(("messages", 2, "tool_calls", 0, "function"), ...),
     "messages.2.tool_calls.0.function: field required"),
    (with_(("messages", 2, "tool_calls", 0, "function", "name"), 7),
     "messages.2.tool_calls.0.function.name: expected a string, got number"),
    (with_(("messages", 2, "tool_calls", 0, "function", "arguments"), [1]),
     "messages.2.tool_calls.0.function.arguments: expected a JSON string or an object"),
    (with_(("messages", 2, "function_call"), "F"),
     "messages.2.function_call: expected an object, got string"),
    (with_(("messages", 3, "tool_call_id"), ...), "messages.3.tool_call_id: field required"),
    (with_(("messages", 3, "tool_call_id"), 1), "messages.3.tool_call_id: expected a string"),
    (with_(("messages", 3, "content"), ...), "messages.3.content: field required"),
    (with_(("messages", 3, "content"), {}), "messages.3.content: expected a string or an array"),
    (with_(("messages", 3, "role"), "function"), "messages.3.name: field required"),
    (with_(("tools",), {}), "tools: expected an array, got object"),
    (with_(("tools", 0), "F"), "tools.0: expected a tool object, got string"),
    (with_(("tools", 0, "type"), "web_search"), "tools.0.type: expected 'function' or 'custom'"),
    (with_(("tools", 0, "function"), ...), "tools.0.function: field required"),
    (with_(("tools", 0, "function", "name"), ...), "tools.0.function.name: field required"),
    (with_(("tools", 0, "function", "parameters"), []),
     "tools.0.function.parameters: expected an object, got array"),
    (with_(("tools", 0, "function", "description"), 1),
     "tools.0.function.description: expected a string"),
    (with_(("tools", 0, "function", "strict"), "yes"),
     "tools.0.function.strict: expected a boolean"),
    (with_(("tool_choice",), "any"), "tool_choice: expected 'auto', 'required' or 'none'"),
    (with_(("tool_choice",), 1), "tool_choice: expected a string or an object, got number"),
    (with_(("tool_choice",), {"type": "tool"}), "tool_choice.type: expected 'function'"),
    (with_(("tool_choice",), {"type": "function"}), "tool_choice.function: field required"),
    (with_(("tool_choice",), {"type": "function", "function": {}}),
     "tool_choice.function.name: field required"),
    (with_(("tool_choice",), {"type": "allowed_tools", "allowed_tools": {"mode": "x"}}),
     "tool_choice.allowed_tools.mode: expected 'auto' or 'required'"),
    (with_(("parallel_tool_calls",), "no"), "parallel_tool_calls: expected a boolean"),
    # wrong types are errors even when no tools are sent (the choice is then unused)
    (with_(("tools",), ...) | {"tool_choice": 5}, "tool_choice: expected a string or an obj"),
    (with_(("tools",), ...) | {"tool_choice": "maybe"}, "tool_choice: expected 'auto'"),
    (with_(("tools",), ...) | {"parallel_tool_calls": "no"},
     "parallel_tool_calls: expected a boolean"),
    (with_(("max_tokens",), "10"), "max_tokens: expected an integer, got string"),
    (with_(("max_tokens",), 0), "max_tokens: must be at least 1"),
    (with_(("max_completion_tokens",), 1.5), "max_completion_tokens: expected an integer"),
    (with_(("max_completion_tokens",), True), "max_completion_tokens: expected an integer"),
    (with_(("temperature",), "hot"), "temperature: expected a number, got string"),
    (with_(("top_p",), [1]), "top_p: expected a number, got array"),
    (with_(("stop",), 1), "stop: expected a string or an array of strings"),
    (with_(("stop",), ["a", 2]), "stop.1: expected a string, got number"),
    (with_(("stream",), "yes"), "stream: expected a boolean, got string"),
    (with_(("stream_options",), True), "stream_options: expected an object, got boolean"),
    (with_(("stream_options",), {"include_usage": 1}),
     "stream_options.include_usage: expected a boolean, got number"),
    (with_(("n",), 2), "n > 1 is not supported"),
    (with_(("n",), "1"), "n: expected an integer, got string"),
    (with_(("reasoning_effort",), 3), "reasoning_effort: expected a string, got number"),
    (with_(("user",), {"id": 1}), "user: expected a string, got object"),
    (with_(("response_format",), "json"), "response_format: expected an object, got string"),
    (with_(("response_format", "type"), "xml"), "response_format.type: expected 'text'"),
    (with_(("response_format", "type"), ...), "response_format.type: field required"),
    (with_(("response_format", "json_schema"), ...),
     "response_format.json_schema: field required"),
    (with_(("response_format", "json_schema", "schema"), "{}"),
     "response_format.json_schema.schema: expected an object, got string"),
    (with_(("response_format", "json_schema", "name"), 1),
     "response_format.json_schema.name: expected a string"),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_input_names_the_path(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_chat_request(body)
    assert info.value.message.startswith(message)
    assert info.value.status == 400


def test_valid_base_of_the_bad_table() -> None:
    request, _ = parse_chat_request(with_(("model",), "m"))
    assert request.system == (TextBlock("s"),)
    assert [m.role for m in request.messages] == ["user", "assistant", "user"]
