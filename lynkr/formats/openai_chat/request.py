"""Canonical Request → OpenAI Chat Completions request body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import orjson

from lynkr.formats.chat_turns import (
    AssistantTurn,
    MidSystem,
    SystemTurn,
    ToolTurn,
    UserTurn,
    image_data_url,
    to_turns,
)
from lynkr.formats.output_format import chat_response_format, output_format
from lynkr.formats.reasoning import chat_fields, intent, restore
from lynkr.model.request import Request, Tool

CHAT_REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_details")


@attrs.frozen
class ChatOptions:
    """What differs between OpenAI-compatible servers, as far as the body is concerned."""

    mid_system: MidSystem = "in_place"
    system_role: Literal["system", "developer"] = "system"
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    stream_usage: bool = True  # ask for the usage chunk (stream_options.include_usage)
    max_stop_sequences: int = 4
    include_model: bool = True  # Databricks: the endpoint in the path names the model
    thinking_control: str = ""  # see reasoning.chat_fields
    # provider name whose reasoning, carried in thinking signatures, goes back in its fields
    echo_reasoning: str | None = None
    cache_hint: str = ""  # "prompt_cache_key", "cache_prompt" (llama.cpp) or "" (none)
    cache_slots: int = 0  # llama.cpp: with cache_prompt, a stable id_slot below this


def build_chat_request(request: Request, options: ChatOptions = ChatOptions()) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_render(turn, options) for turn in to_turns(request, options.mid_system)],
        "stream": True,
    }
    if not options.include_model:
        del body["model"]
    if options.stream_usage:
        body["stream_options"] = {"include_usage": True}
    if request.max_tokens:
        body[options.max_tokens_field] = request.max_tokens
    tools = [render_tool(t) for t in request.tools if not (t.is_server_tool or t.deferred)]
    if tools:
        body["tools"] = tools
        choice = tool_choice(request.tool_choice)
        if choice is not None:
            body["tool_choice"] = choice
        if request.tool_choice and request.tool_choice.get("disable_parallel_tool_use"):
            body["parallel_tool_calls"] = False
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop_sequences:
        body["stop"] = list(request.stop_sequences[: options.max_stop_sequences])
    if options.thinking_control:
        body.update(chat_fields(options.thinking_control, intent(request.thinking),
                                request.max_tokens))
    body.update(cache_fields(request.cache_key, options))
    response_format = chat_response_format(output_format(request))
    if response_format is not None:
        body["response_format"] = response_format
    return body


def cache_fields(key: str | None, options: ChatOptions) -> dict[str, Any]:
    """The prompt-cache hints of one request: OpenAI's ``prompt_cache_key`` (a per-session key
    routes a session's requests to the same cache), llama.cpp's ``cache_prompt`` and a stable
    ``id_slot`` per session (the slot that holds its KV cache)."""
    if options.cache_hint == "prompt_cache_key" and key:
        return {"prompt_cache_key": key}
    if options.cache_hint == "cache_prompt":
        fields: dict[str, Any] = {"cache_prompt": True}
        if key and options.cache_slots > 0:
            fields["id_slot"] = int(key[:8], 16) % options.cache_slots
        return fields
    return {}


def _render(turn: Any, options: ChatOptions) -> dict[str, Any]:
    if isinstance(turn, ToolTurn):
        return {"role": "tool", "tool_call_id": turn.tool_use_id, "content": turn.text}
    if isinstance(turn, AssistantTurn):
        out: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if turn.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": orjson.dumps(c.input).decode()}}
                for c in turn.tool_calls
            ]
        elif out["content"] is None:
            out["content"] = ""
        if options.echo_reasoning and turn.thinking:
            fields = restore(turn.thinking, options.echo_reasoning)
            out.update((k, v) for k, v in fields.items() if k in CHAT_REASONING_FIELDS)
        return out
    if isinstance(turn, UserTurn):
        if not turn.images:
            return {"role": "user", "content": turn.text()}
        parts = [
            {"type": "image_url", "image_url": {"url": image_data_url(p)}}
            if not hasattr(p, "text") else {"type": "text", "text": p.text}
            for p in turn.parts
        ]
        return {"role": "user", "content": parts}
    assert isinstance(turn, SystemTurn)
    return {"role": options.system_role, "content": turn.text}


def render_tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": clean_schema(tool.input_schema)}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def clean_schema(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Drop ``$schema``; the rest is the capability filter's business."""
    if "$schema" not in schema:
        return schema if schema else {"type": "object", "properties": {}}
    return {k: v for k, v in schema.items() if k != "$schema"}


def tool_choice(choice: Mapping[str, Any] | None) -> Any:
    if not choice:
        return None
    kind = choice.get("type")
    if kind == "any":
        return "required"
    if kind == "tool":
        return {"type": "function", "function": {"name": choice.get("name", "")}}
    if kind in ("auto", "none"):
        return kind
    return None
