"""A scripted fake model provider speaking OpenAI Chat Completions (Azure's and Databricks'
variants too), Ollama's /api/chat and Anthropic Messages, chosen by the request path.

It records every request it receives (path, headers, JSON body) so tests can check what
reached the model, and answers from a script: a list of replies and faults taken in order
(the last one repeats), or a function of the request body.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
import orjson
import trio

from harness.asgi import handled_lifespan, read_request
from harness.fake_anthropic import anthropic_frames
from harness.fake_azure import PROMPT_FILTER_CHUNK
from harness.fake_databricks import databricks_chunks
from harness.wire import Reply, ollama_json, ollama_lines, openai_chunks, openai_json


@attrs.frozen
class Fault:
    """``status``: answer that HTTP error; ``cut``: send ``after`` frames, then drop the
    connection; ``stall``: send ``after`` frames, then go silent; ``malformed``: send a
    frame that is not JSON; ``error_frame``: an in-stream error object after ``after`` frames."""

    kind: Literal["status", "cut", "stall", "malformed", "error_frame"]
    status: int = 500
    body: bytes = b'{"error":{"message":"boom","type":"server_error"}}'
    headers: tuple[tuple[str, str], ...] = ()
    after: int = 2


@attrs.frozen
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


Step = Reply | Fault
Script = Sequence[Step] | Callable[[dict[str, Any]], Step]
# (path, query, headers, body) -> (status, error JSON) to reject the request, or None
Guard = Callable[[str, str, dict[str, str], dict[str, Any]], tuple[int, Any] | None]


class _Cut(Exception):
    pass


class FakeModel:
    def __init__(self, script: Script, guard: Guard | None = None,
                 models: list[dict[str, Any]] | None = None) -> None:
        self.script = script
        self.models = models or [{"id": "fake-model"}]  # GET …/models answers these
        self.guard = guard
        self.rejected: list[tuple[int, Any]] = []
        self.calls: list[Call] = []

    def _next(self, body: dict[str, Any]) -> Step:
        if callable(self.script):
            return self.script(body)
        index = min(len(self.calls) - 1, len(self.script) - 1)
        return self.script[index]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await handled_lifespan(scope, receive, send):
            return
        path, method = scope["path"], scope["method"]
        if method == "GET":
            await _json(send, 200, {"models": [{"name": "fake-model"}]} if path == "/api/tags"
                        else {"object": "list", "data": self.models})
            return
        raw, headers = await read_request(scope, receive)
        body = orjson.loads(raw)
        self.calls.append(Call(path, headers, body))
        if self.guard is not None:
            rejected = self.guard(path, scope.get("query_string", b"").decode(), headers, body)
            if rejected is not None:
                self.rejected.append(rejected)
                await _json(send, *rejected)
                return
        step = self._next(body)
        ollama = path == "/api/chat"
        dialect = "ollama" if ollama else "anthropic" if path.endswith("/v1/messages") else \
            "databricks" if path.endswith("/invocations") else "openai"
        if isinstance(step, Fault) and step.kind == "status":
            await _raw(send, step.status, step.body, list(step.headers))
            return
        if not body.get("stream", ollama):
            assert isinstance(step, Reply)
            await _json(send, 200, ollama_json(step) if ollama else openai_json(step))
            return
        reply = step if isinstance(step, Reply) else Reply(text="partial answer " * 4)
        frames = _frames(dialect, reply, path)
        content_type = b"application/x-ndjson" if ollama else b"text/event-stream"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", content_type)]})
        if isinstance(step, Fault):
            frames = frames[: step.after]
        for frame in frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        if isinstance(step, Fault):
            await _fault(step, send, ollama, dialect == "anthropic")
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _frames(dialect: str, reply: Reply, path: str) -> list[bytes]:
    if dialect == "ollama":
        return ollama_lines(reply)
    if dialect == "anthropic":
        return anthropic_frames(reply)
    if dialect == "databricks":
        return databricks_chunks(reply)
    frames = openai_chunks(reply)
    return [PROMPT_FILTER_CHUNK, *frames] if path.startswith("/openai/") else frames


async def _fault(step: Fault, send: Any, ollama: bool, anthropic: bool = False) -> None:
    if anthropic and step.kind == "error_frame":
        error = b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",' \
            b'"message":"Overloaded"}}\n\n'
        await send({"type": "http.response.body", "body": error, "more_body": True})
        return
    if step.kind == "cut":
        raise _Cut("connection dropped on purpose")
    if step.kind == "stall":
        await trio.sleep_forever()
    if step.kind == "malformed":
        frame = b"{not json\n" if ollama else b"data: {not json\n\n"
        await send({"type": "http.response.body", "body": frame, "more_body": True})
    if step.kind == "error_frame":
        error = b'{"error":"model crashed"}\n' if ollama else \
            b'data: {"error":{"message":"model crashed","type":"server_error"}}\n\n'
        await send({"type": "http.response.body", "body": error, "more_body": True})


async def _json(send: Any, status: int, payload: Any) -> None:
    await _raw(send, status, orjson.dumps(payload), [])


async def _raw(send: Any, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            *((k.encode(), v.encode()) for k, v in headers)]})
    await send({"type": "http.response.body", "body": body})
