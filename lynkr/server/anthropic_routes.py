"""The Anthropic-dialect endpoints: /v1/messages, /v1/messages/count_tokens, /v1/models."""

from __future__ import annotations

from typing import Any

import attrs

from lynkr.formats.anthropic.message import render_message
from lynkr.formats.anthropic.request import parse_request
from lynkr.formats.anthropic.sse import render_event
from lynkr.formats.jsonvalue import loads_object
from lynkr.formats.token_text import request_text
from lynkr.model.errors import LynkrError, NotFound
from lynkr.model.events import Event
from lynkr.model.request import Request
from lynkr.model.response import Response
from lynkr.server.asgi import Receive, Scope, Send, header, read_body, request_id, send_json
from lynkr.server.dialect import Answer
from lynkr.server.errors import client_dialect, send_error
from lynkr.server.flow import handle
from lynkr.server.state import AppState
from lynkr.stages.exchange import Dialect as DialectName


def _betas(scope: Scope) -> tuple[str, ...]:
    raw = header(scope, b"anthropic-beta")
    return tuple(b.strip() for b in raw.split(",") if b.strip()) if raw else ()


class AnthropicSse:
    def render(self, events: list[Event]) -> bytes:
        return b"".join(map(render_event, events))

    def finish(self) -> bytes:
        return b""


@attrs.frozen
class AnthropicTurn:
    request: Request
    wants_result = False
    dropped: tuple[str, ...] = ()

    def renderer(self, answer: Answer) -> AnthropicSse:
        return AnthropicSse()

    def render_whole(self, response: Response, answer: Answer) -> Any:
        return render_message(attrs.evolve(response, id=answer.id, model=answer.model))

    async def completed(self, response: Response, answer: Answer) -> None:
        return None


class AnthropicDialect:
    """Claude Code and Anthropic SDKs: the canonical dialect, so conversion is naming only."""

    name: DialectName = "anthropic"
    content_type = b"text/event-stream"

    async def parse(self, body: bytes, scope: Scope) -> AnthropicTurn:
        return AnthropicTurn(parse_request(loads_object(body), betas=_betas(scope)))

    def answer_id(self, request_id: str) -> str:
        return "msg_" + request_id.removeprefix("req_")


ANTHROPIC = AnthropicDialect()


class MessagesEndpoint:
    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await handle(self.state, ANTHROPIC, scope, receive, send)


class CountTokensEndpoint:
    """Claude Code calls this; no translated upstream has it, so it is always answered here."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id(scope)
        try:
            body = await read_body(receive, scope, self.state.settings)
            request = parse_request(loads_object(body), need_max_tokens=False)
        except LynkrError as exc:
            await send_error(send, exc, rid, "anthropic")
            return
        tokens = self.state.ports.count_tokens(request_text(request))
        await send_json(send, 200, {"input_tokens": tokens}, [(b"request-id", rid.encode())])


def model_ids(state: AppState) -> list[str]:
    return sorted({u.info.model for u in state.upstreams.values() if u.info.model})


def anthropic_model(model_id: str) -> dict[str, Any]:
    return {"type": "model", "id": model_id, "display_name": model_id,
            "created_at": "2025-01-01T00:00:00Z"}


class ModelsEndpoint:
    """GET /v1/models in the Anthropic shape (clients sending anthropic-version) or OpenAI's."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ids = model_ids(self.state)
        if header(scope, b"anthropic-version") is not None:
            payload: Any = {"data": [anthropic_model(i) for i in ids], "has_more": False,
                            "first_id": ids[0] if ids else None,
                            "last_id": ids[-1] if ids else None}
        else:
            payload = {"object": "list", "data": [
                {"id": i, "object": "model", "created": 1735689600, "owned_by": "lynkr"}
                for i in ids]}
        await send_json(send, 200, payload)


class ModelEndpoint:
    """GET /v1/models/{id}: the configured models, and any Claude id (they are all mapped)."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        model_id = scope["path_params"]["model_id"]
        if model_id in model_ids(self.state) or model_id.startswith("claude-"):
            if header(scope, b"anthropic-version") is not None:
                await send_json(send, 200, anthropic_model(model_id))
            else:
                await send_json(send, 200, {"id": model_id, "object": "model",
                                            "created": 1735689600, "owned_by": "lynkr"})
            return
        exc = NotFound(f"model {model_id!r} is not served here; GET /v1/models lists them")
        await send_error(send, exc, request_id(scope), client_dialect(scope))


