"""Anthropic Messages request JSON ⇄ canonical Request."""

import copy
from typing import Any

import orjson
import pytest

from lynkr.formats.anthropic.request import parse_request, render_request
from lynkr.formats.jsonvalue import loads_object
from lynkr.model import (
    BadRequest,
    ImageBlock,
    Message,
    OpaqueBlock,
    RedactedThinkingBlock,
    Request,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
)

EPHEMERAL = {"type": "ephemeral"}
PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
SHELL_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"command": {"type": "string", "description": "what to run"}},
    "required": ["command"],
    "additionalProperties": False,
}
PLACEHOLDER_SCHEMA = {"type": "object", "properties": {}}
SEARCH_RESULT = {"type": "search_result", "source": "s", "title": "T", "content": []}


def claude_code_body() -> dict[str, Any]:
    """The shape Claude Code sends, with our own short texts."""
    return {
        "model": "claude-test-1",
        "max_tokens": 64000,
        "stream": True,
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
        "metadata": {"user_id": '{"device_id":"d1","session_id":"s1"}'},
        "system": [
            {"type": "text", "text": "marker: v=1;"},
            {"type": "text", "text": "You are a test agent.", "cache_control": EPHEMERAL},
        ],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "<reminder>be brief</reminder>\n"},
                {"type": "text", "text": "list files", "cache_control": EPHEMERAL},
            ]},
            {"role": "system", "content": [
                {"type": "text", "text": "# Env\ncwd=/tmp", "cache_control": EPHEMERAL},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "use the shell", "signature": "c2ln"},
                {"type": "redacted_thinking", "data": "cmVk"},
                {"type": "text", "text": "Running ls."},
                {"type": "tool_use", "id": "toolu_1", "name": "Shell",
                 "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_2", "name": "Shot", "input": {}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt\nb.txt"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
                 "content": [{"type": "text", "text": "blurry"},
                             {"type": "image", "source": PNG}]},
                {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
                SEARCH_RESULT,
            ]},
            {"role": "user", "content": "plain string content"},
        ],
        "tools": [
            {"name": "Shell", "description": "Runs a command.", "input_schema": SHELL_SCHEMA},
            {"name": "Placeholder", "description": "Never call this.",
             "input_schema": PLACEHOLDER_SCHEMA, "defer_loading": True},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        ],
    }


EXPECTED = Request(
    model="claude-test-1",
    max_tokens=64000,
    stream=True,
    thinking={"type": "adaptive", "display": "omitted"},
    metadata={"user_id": '{"device_id":"d1","session_id":"s1"}'},
    system=(TextBlock("marker: v=1;"), TextBlock("You are a test agent.", EPHEMERAL)),
    messages=(
        Message("user", (TextBlock("<reminder>be brief</reminder>\n"),
                         TextBlock("list files", EPHEMERAL))),
        Message("system", (TextBlock("# Env\ncwd=/tmp", EPHEMERAL),)),
        Message("assistant", (
            ThinkingBlock("use the shell", "c2ln"),
            RedactedThinkingBlock("cmVk"),
            TextBlock("Running ls."),
            ToolUseBlock("toolu_1", "Shell", {"command": "ls"}),
            ToolUseBlock("toolu_2", "Shot", {}),
        )),
        Message("user", (
            ToolResultBlock("toolu_1", (TextBlock("a.txt\nb.txt"),)),
            ToolResultBlock("toolu_2", (TextBlock("blurry"), ImageBlock(PNG)), is_error=True),
            ImageBlock({"type": "url", "url": "https://x.test/a.png"}),
            OpaqueBlock("search_result", SEARCH_RESULT),
        )),
        Message("user", (TextBlock("plain string content"),)),
    ),
    tools=(
        Tool("Shell", "Runs a command.", SHELL_SCHEMA),
        Tool("Placeholder", "Never call this.", PLACEHOLDER_SCHEMA,
             extra={"defer_loading": True}),
        Tool("web_search", type="web_search_20250305", extra={"max_uses": 3}),
    ),
    extra={
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
    },
    betas=("claude-code-20250219",),
)


def test_parse_claude_code_shape() -> None:
    body = claude_code_body()
    assert parse_request(body, betas=("claude-code-20250219",)) == EXPECTED
    assert body == claude_code_body()  # parsing does not mutate the input


def test_tool_properties() -> None:
    shell, placeholder, search = EXPECTED.tools
    assert (shell.deferred, shell.is_server_tool) == (False, False)
    assert (placeholder.deferred, placeholder.is_server_tool) == (True, False)
    assert (search.deferred, search.is_server_tool) == (False, True)
    assert EXPECTED.system_text() == "marker: v=1;\n\nYou are a test agent."


def test_parse_from_bytes() -> None:
    body = orjson.dumps(claude_code_body())
    assert parse_request(loads_object(body), betas=EXPECTED.betas) == EXPECTED


def test_render_then_parse_preserves_semantics() -> None:
    rendered = render_request(EXPECTED)
    assert parse_request(rendered, betas=EXPECTED.betas) == EXPECTED
    # String content becomes one text block; everything else is the client's JSON.
    expected = claude_code_body()
    expected["messages"][3]["content"][0]["content"] = [{"type": "text", "text": "a.txt\nb.txt"}]
    expected["messages"][4]["content"] = [{"type": "text", "text": "plain string content"}]
    assert rendered == expected


def test_optional_sampling_fields() -> None:
    body = {
        "model": "m", "max_tokens": 10, "messages": [],
        "temperature": 0.5, "top_p": 1, "top_k": 40, "stop_sequences": ["END", "STOP"],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    }
    request = parse_request(body)
    assert request == Request(
        "m", (), 10, temperature=0.5, top_p=1, top_k=40, stop_sequences=("END", "STOP"),
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
    )
    assert render_request(request) == body


def test_max_tokens_optional_for_count_tokens() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert parse_request(body, need_max_tokens=False).max_tokens == 0
    with pytest.raises(BadRequest, match="max_tokens: field required"):
        parse_request(body)


def with_(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A valid minimal body with the value at ``path`` replaced (or deleted if ``...``)."""
    body = copy.deepcopy({
        "model": "m", "max_tokens": 5,
        "messages": [{"role": "assistant", "content": [
            {"type": "tool_use", "id": "t1", "name": "Shell", "input": {}},
            {"type": "text", "text": "x"},
        ]}],
        "tools": [{"name": "Shell", "input_schema": {"type": "object"}}],
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
    (with_(("messages",), {"role": "user"}), "messages: expected an array, got object"),
    (with_(("messages",), ...), "messages: field required"),
    (with_(("messages", 0), "hi"), "messages.0: expected a message object, got string"),
    (with_(("messages", 0, "role"), "tool"), "messages.0.role: expected 'user'"),
    (with_(("messages", 0, "role"), ["user"]), "messages.0.role: expected 'user'"),
    (with_(("messages", 0, "content"), ...), "messages.0.content: field required"),
    (with_(("messages", 0, "content"), 7), "messages.0.content: expected a string or an array"),
    (with_(("messages", 0, "content", 1, "text"), ["x"]),
     "messages.0.content.1.text: expected a string, got array"),
    (with_(("messages", 0, "content", 1, "type"), ...), "messages.0.content.1.type: field"),
    (with_(("messages", 0, "content", 0, "id"), ...), "messages.0.content.0.id: field required"),
    (with_(("messages", 0, "content", 0, "input"), "{}"),
     "messages.0.content.0.input: expected an object, got string"),
    (with_(("max_tokens",), -1), "max_tokens: must be at least 0"),
    (with_(("max_tokens",), True), "max_tokens: expected an integer, got boolean"),
    (with_(("max_tokens",), 1.5), "max_tokens: expected an integer, got number"),
    (with_(("temperature",), "hot"), "temperature: expected a number, got string"),
    (with_(("stop_sequences",), "END"), "stop_sequences: expected an array of strings"),
    (with_(("stop_sequences",), ["END", 1]), "stop_sequences: expected a string, got number"),
    (with_(("system",), [{"type": "image", "source": PNG}]), "system.0: expected a text block"),
    (with_(("tools",), {"name": "x"}), "tools: expected an array, got object"),
    (with_(("tools", 0, "input_schema"), ...), "tools.0.input_schema: field required"),
    (with_(("tools", 0, "input_schema"), []), "tools.0.input_schema: expected an object"),
    (with_(("tools", 0, "name"), ...), "tools.0.name: field required"),
    (with_(("tool_choice",), "auto"), "tool_choice: expected an object, got string"),
    (with_(("stream",), "false"), "stream: expected a boolean, got string"),
    (with_(("messages", 0, "content", 1), {"type": "image", "source": {
        "type": "url", "url": "file:///etc/passwd"}}),
     "messages.0.content.1.source.url: expected an http(s) URL"),
    (with_(("messages", 0, "content", 1), {"type": "image", "source": {
        "type": "base64", "media_type": "image/png", "data": 5}}),
     "messages.0.content.1.source.data: expected a string"),
    (with_(("stream",), 1), "stream: expected a boolean, got number"),
]


@pytest.mark.parametrize(("body", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_input_names_the_path(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_request(body)
    assert info.value.message.startswith(message)
    assert info.value.status == 400


def test_minimal_body_is_valid() -> None:
    assert parse_request(with_(("model",), "m")).messages[0].content[1] == TextBlock("x")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "request body is empty"),
        (b"{not json", "request body is not valid JSON"),
        (b"[1, 2]", "request body must be a JSON object, got array"),
        (b"null", "request body must be a JSON object, got null"),
    ],
)
def test_loads_object_rejects(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        loads_object(body)
