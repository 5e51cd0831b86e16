"""Canonical Request → Ollama ``/api/chat`` body.

Tool results become ``role: "tool"`` messages carrying ``tool_name`` and ``tool_call_id`` (the
original dropped them); tool-call arguments are objects; images are bare base64; ``num_ctx`` is
always set, because Ollama's small default silently truncates a Claude Code prompt.
"""

from __future__ import annotations

from typing import Any

import attrs

from lynkr.formats.chat_turns import (
    AssistantTurn,
    MidSystem,
    SystemTurn,
    ToolTurn,
    UserTurn,
    to_turns,
)
from lynkr.formats.openai_chat.request import render_tool
from lynkr.formats.output_format import ollama_format, output_format
from lynkr.formats.reasoning import intent, ollama_think, restore
from lynkr.model.request import Request


@attrs.frozen
class OllamaOptions:
    num_ctx: int = 32768
    mid_system: MidSystem = "as_user"
    keep_alive: str | None = None
    thinking_control: str = ""  # "think" (true/false) or "think_level"; "" sends nothing
    # provider name whose reasoning, carried in thinking signatures, goes back as ``thinking``
    echo_reasoning: str | None = None


def build_ollama_request(request: Request, options: OllamaOptions = OllamaOptions()
                         ) -> dict[str, Any]:
    params: dict[str, Any] = {"num_ctx": options.num_ctx}
    if request.max_tokens:
        params["num_predict"] = request.max_tokens
    for key in ("temperature", "top_p", "top_k"):
        value = getattr(request, key)
        if value is not None:
            params[key] = value
    if request.stop_sequences:
        params["stop"] = list(request.stop_sequences)
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_render(t, options) for t in to_turns(request, options.mid_system)],
        "stream": True,
        "options": params,
    }
    tools = [render_tool(t) for t in request.tools if not (t.is_server_tool or t.deferred)]
    if tools:
        body["tools"] = tools
    if options.keep_alive:
        body["keep_alive"] = options.keep_alive
    think = ollama_think(options.thinking_control, intent(request.thinking))
    if think is not None:
        body["think"] = think
    fmt = ollama_format(output_format(request))
    if fmt is not None:
        body["format"] = fmt
    return body


def _render(turn: Any, options: OllamaOptions) -> dict[str, Any]:
    if isinstance(turn, ToolTurn):
        out = {"role": "tool", "content": turn.text, "tool_call_id": turn.tool_use_id}
        if turn.name:
            out["tool_name"] = turn.name
        return out
    if isinstance(turn, AssistantTurn):
        msg: dict[str, Any] = {"role": "assistant", "content": turn.text}
        if turn.tool_calls:
            msg["tool_calls"] = [
                {"id": c.id, "function": {"name": c.name, "arguments": c.input}}
                for c in turn.tool_calls
            ]
        if options.echo_reasoning and turn.thinking:
            thinking = restore(turn.thinking, options.echo_reasoning).get("thinking")
            if thinking:
                msg["thinking"] = thinking
        return msg
    if isinstance(turn, UserTurn):
        msg = {"role": "user", "content": turn.text()}
        images = [
            str(i.source.get("data", "")) for i in turn.images
            if i.source.get("type") == "base64"
        ]
        if images:
            msg["images"] = images
        return msg
    assert isinstance(turn, SystemTurn)
    return {"role": "system", "content": turn.text}
