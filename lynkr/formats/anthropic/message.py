"""A whole Anthropic Message JSON ⇄ canonical Response, and error bodies."""

from __future__ import annotations

from typing import Any

from lynkr.formats.anthropic.blocks import parse_content, render_block
from lynkr.formats.anthropic.sse import parse_usage, usage_json
from lynkr.model.response import Response


def render_message(response: Response) -> dict[str, Any]:
    return {
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": [render_block(b) for b in response.content],
        "stop_reason": response.stop_reason,
        "stop_sequence": response.stop_sequence,
        "usage": usage_json(response.usage),
    }


def parse_message(obj: dict[str, Any]) -> Response:
    return Response(
        id=obj.get("id", ""),
        model=obj.get("model", ""),
        content=parse_content(obj.get("content") or [], "content"),
        stop_reason=obj.get("stop_reason"),
        usage=parse_usage(obj.get("usage")),
        stop_sequence=obj.get("stop_sequence"),
    )


def render_error(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message},
            "request_id": request_id}
