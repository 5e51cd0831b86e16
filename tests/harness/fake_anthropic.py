"""Anthropic Messages as the real API speaks it: the SSE stream byte for byte, and the checks
the API makes on a request (x-api-key, anthropic-version, known betas, body shape)."""

from __future__ import annotations

import itertools
from collections.abc import Collection
from typing import Any

import orjson

from harness.wire import Reply

REAL_SIGNATURE = "EqQBCkYIBRgCKkDrealsignature=="
_IDS = itertools.count(1)  # the real API never repeats a tool_use id


def _event(name: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


def anthropic_frames(reply: Reply, model: str = "claude-fake", mid: str = "msg_01fake"
                     ) -> list[bytes]:
    """One SSE frame per event, as api.anthropic.com sends them (ping included)."""
    usage = {"input_tokens": reply.prompt_tokens, "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": 7, "output_tokens": 1}
    out = [_event("message_start", {"type": "message_start", "message": {
        "id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": usage}})]
    index = 0

    def block(start: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        nonlocal index
        out.append(_event("content_block_start", {"type": "content_block_start",
                                                  "index": index, "content_block": start}))
        out.extend(_event("content_block_delta", {"type": "content_block_delta",
                                                  "index": index, "delta": d}) for d in deltas)
        out.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1

    if reply.thinking:
        block({"type": "thinking", "thinking": "", "signature": ""},
              [{"type": "thinking_delta", "thinking": reply.thinking},
               {"type": "signature_delta", "signature": REAL_SIGNATURE}])
    out.append(_event("ping", {"type": "ping"}))
    if reply.text:
        block({"type": "text", "text": ""},
              [{"type": "text_delta", "text": reply.text[i:i + 5]}
               for i in range(0, len(reply.text), 5)])
    for call in reply.tool_calls:
        args = orjson.dumps(call.arguments).decode()
        block({"type": "tool_use", "id": call.id or f"toolu_01fake{next(_IDS)}", "name": call.name,
               "input": {}},
              [{"type": "input_json_delta", "partial_json": ""},
               *({"type": "input_json_delta", "partial_json": args[i:i + 7]}
                 for i in range(0, len(args), 7))])
    stop = "tool_use" if reply.tool_calls else {"length": "max_tokens"}.get(
        reply.finish or "", "end_turn")
    out.append(_event("message_delta", {"type": "message_delta",
                                        "delta": {"stop_reason": stop, "stop_sequence": None},
                                        "usage": {"output_tokens": reply.completion_tokens}}))
    out.append(_event("message_stop", {"type": "message_stop"}))
    return out


def anthropic_error(status: int, kind: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"type": "error", "error": {"type": kind, "message": message},
                    "request_id": "req_fake"}


class AnthropicGuard:
    """Rejects what api.anthropic.com (or Foundry, with ``betas`` given) would reject."""

    def __init__(self, key: str, betas: Collection[str] | None = None,
                 bearer: bool = False) -> None:
        self.key, self.betas, self.bearer = key, betas, bearer

    def __call__(self, path: str, query: str, headers: dict[str, str], body: dict[str, Any]
                 ) -> tuple[int, dict[str, Any]] | None:
        if not path.endswith("/v1/messages"):
            return anthropic_error(404, "not_found_error", f"no route {path}")
        given = headers.get("authorization", "").removeprefix("Bearer ") if self.bearer \
            else headers.get("x-api-key")
        if given != self.key:
            return anthropic_error(401, "authentication_error", "invalid x-api-key")
        if headers.get("anthropic-version") != "2023-06-01":
            return anthropic_error(400, "invalid_request_error",
                                   "anthropic-version: header is required")
        for beta in filter(None, headers.get("anthropic-beta", "").split(",")):
            if self.betas is not None and beta not in self.betas:
                return anthropic_error(400, "invalid_request_error",
                                       f"Unexpected value(s) `{beta}` for the anthropic-beta")
        for key in ("model", "messages", "max_tokens"):
            if key not in body:
                return anthropic_error(400, "invalid_request_error", f"{key}: Field required")
        for message in body["messages"]:
            for block in message["content"] if isinstance(message["content"], list) else ():
                if block.get("type") == "thinking" and (
                        not block.get("signature") or block["signature"].startswith("lynkr:")):
                    return anthropic_error(400, "invalid_request_error",
                                           "Invalid `signature` in `thinking` block")
        return None
