"""Databricks Model Serving: ``/serving-endpoints/<name>/invocations`` with a Bearer token and an
OpenAI-chat body without the need for ``model``; a Claude endpoint streams ``delta.content`` as
a list of reasoning and text items. Errors are ``{"error_code", "message"}``."""

from __future__ import annotations

from typing import Any

import orjson

from harness.wire import Reply, openai_chunks

SIGNATURE = "EqQBdatabrickssignature=="


def databricks_chunks(reply: Reply, model: str = "databricks-claude-sonnet-4-5") -> list[bytes]:
    """Content as lists: a reasoning item (summary text + signature), then text items."""
    plain = openai_chunks(attrs_replace(reply), model)

    def frame(content: list[dict[str, Any]]) -> bytes:
        chunk = {"id": "db-1", "object": "chat.completion.chunk", "created": 1, "model": model,
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                              "finish_reason": None}]}
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    out = []
    if reply.thinking:
        out.append(frame([{"type": "reasoning", "summary": [
            {"type": "summary_text", "text": reply.thinking, "signature": ""}]}]))
        out.append(frame([{"type": "reasoning", "summary": [
            {"type": "summary_text", "text": "", "signature": SIGNATURE}]}]))
    out += [frame([{"type": "text", "text": reply.text[i:i + 6]}])
            for i in range(0, len(reply.text), 6)]
    return out + plain[1:]  # tool calls, finish, usage and [DONE] as the chat route sends them


def attrs_replace(reply: Reply) -> Reply:
    return Reply(tool_calls=reply.tool_calls, finish=reply.finish,
                 prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)


class DatabricksGuard:
    def __init__(self, token: str, endpoint: str = "databricks-claude-sonnet-4-5") -> None:
        self.token, self.endpoint = token, endpoint

    def __call__(self, path: str, query: str, headers: dict[str, str], body: dict[str, Any]
                 ) -> tuple[int, dict[str, Any]] | None:
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error_code": "UNAUTHENTICATED",
                         "message": "Invalid Token"}
        if path != f"/serving-endpoints/{self.endpoint}/invocations":
            return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST",
                         "message": f"Endpoint not found: {path}"}
        if "messages" not in body:
            return 400, {"error_code": "BAD_REQUEST",
                         "message": "Invalid request: unexpected or missing fields"}
        return None
