"""A whole Anthropic Message JSON ⇄ canonical Response, and error bodies."""

import pytest

from lynkr.formats.anthropic.message import parse_message, render_error, render_message
from lynkr.model import (
    BadRequest,
    OpaqueBlock,
    Response,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
)

RESPONSE = Response(
    id="msg_01",
    model="claude-x",
    content=(
        ThinkingBlock("hmm", "c2ln"),
        TextBlock("See", extra={"citations": [{"type": "char_location", "cited_text": "a"}]}),
        ToolUseBlock("toolu_1", "Read", {"path": "/a"}),
        OpaqueBlock("server_tool_use", {"type": "server_tool_use", "id": "s1", "name": "ws",
                                        "input": {"q": "x"}}),
    ),
    stop_reason="tool_use",
    usage=Usage(input_tokens=3, output_tokens=20, cache_creation_input_tokens=1,
                cache_read_input_tokens=50),
)
MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-x",
    "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
        {"type": "text", "text": "See",
         "citations": [{"type": "char_location", "cited_text": "a"}]},
        {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"path": "/a"}},
        {"type": "server_tool_use", "id": "s1", "name": "ws", "input": {"q": "x"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "cache_creation_input_tokens": 1,
              "cache_read_input_tokens": 50, "output_tokens": 20},
}


def test_render_message() -> None:
    assert render_message(RESPONSE) == MESSAGE


def test_parse_message() -> None:
    assert parse_message(MESSAGE) == RESPONSE


def test_parse_message_with_stop_sequence_and_sparse_usage() -> None:
    obj = {"id": "m", "model": "x", "content": [{"type": "text", "text": "ok"}],
           "stop_reason": "stop_sequence", "stop_sequence": "END",
           "usage": {"input_tokens": 4, "output_tokens": 1, "server_tool_use": {"n": 1}}}
    assert parse_message(obj) == Response("m", "x", (TextBlock("ok"),), "stop_sequence",
                                          Usage(input_tokens=4, output_tokens=1), "END")


def test_parse_message_missing_fields_default() -> None:
    assert parse_message({}) == Response("", "", (), None, Usage())


def test_parse_message_bad_block_names_path() -> None:
    with pytest.raises(BadRequest, match=r"^content\.1\.text: expected a string"):
        parse_message({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": 1}]})


def test_render_error() -> None:
    assert render_error("overloaded_error", "Overloaded", "req_1") == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": "req_1",
    }
