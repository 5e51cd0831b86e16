"""The OpenAI-dialect endpoints: /v1/chat/completions and /v1/responses.

Both are only format modules in front of the one pipeline: Cursor, the openai SDK and
Codex-style agents get the same stages, providers and metrics as Claude Code.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import attrs

from lynkr.formats.jsonvalue import loads_object
from lynkr.formats.openai_chat.egress import ChatChunkRenderer, render_completion
from lynkr.formats.openai_chat.ingress import ChatClientOptions, parse_chat_request
from lynkr.formats.openai_responses.egress import (
    ResponsesEventRenderer,
    render_response,
    stored_conversation,
)
from lynkr.formats.openai_responses.ingress import (
    ResponsesClientOptions,
    parse_responses_request,
)
from lynkr.model.errors import BadRequest
from lynkr.model.request import Request
from lynkr.model.response import Response
from lynkr.server.asgi import Receive, Scope, Send
from lynkr.server.dialect import Answer, Dialect
from lynkr.server.flow import handle
from lynkr.server.identity import caller_identity
from lynkr.server.state import AppState
from lynkr.stages.exchange import Dialect as DialectName
from lynkr.storage.responses import ResponseStore, new_response_id

log = logging.getLogger("lynkr.responses")


@attrs.frozen
class ChatTurn:
    request: Request
    options: ChatClientOptions
    wants_result = False
    dropped: tuple[str, ...] = ()

    def renderer(self, answer: Answer) -> ChatChunkRenderer:
        return ChatChunkRenderer(answer.id, answer.model, answer.created, self.options)

    def render_whole(self, response: Response, answer: Answer) -> Any:
        return render_completion(response, answer.id, answer.model, answer.created)

    async def completed(self, response: Response, answer: Answer) -> None:
        return None


class ChatDialect:
    name: DialectName = "openai_chat"
    content_type = b"text/event-stream"

    async def parse(self, body: bytes, scope: Scope) -> ChatTurn:
        return ChatTurn(*parse_chat_request(loads_object(body)))

    def answer_id(self, request_id: str) -> str:
        return "chatcmpl-" + request_id.removeprefix("req_")


@attrs.frozen
class ResponsesTurn:
    request: Request
    options: ResponsesClientOptions
    store: ResponseStore
    owner: str  # the caller the stored conversation belongs to (``caller_identity``)
    wants_result = True

    @property
    def dropped(self) -> tuple[str, ...]:
        return self.options.dropped

    def renderer(self, answer: Answer) -> ResponsesEventRenderer:
        return ResponsesEventRenderer(answer.id, answer.model, answer.created, self.options)

    def render_whole(self, response: Response, answer: Answer) -> Any:
        return render_response(response, answer.id, answer.model, answer.created, self.options)

    async def completed(self, response: Response, answer: Answer) -> None:
        if self.options.store:
            conversation = stored_conversation(self.request, self.options, response)
            if not await self.store.save(answer.id, self.owner, answer.model, conversation,
                                         time.time()):
                log.warning("response not stored: larger than RESPONSES_MAX_BYTES_PER_CALLER",
                            extra={"response_id": answer.id})


class ResponsesDialect:
    """The Responses API; ``previous_response_id`` resolves through the conversation store,
    among the conversations the same caller stored. Response ids are random."""

    name: DialectName = "openai_responses"
    content_type = b"text/event-stream"

    def __init__(self, store: ResponseStore) -> None:
        self.store = store

    async def parse(self, body: bytes, scope: Scope) -> ResponsesTurn:
        obj = loads_object(body)
        owner = caller_identity(scope)
        previous = obj.get("previous_response_id")
        history: tuple[Any, ...] = ()
        if previous is not None:
            if not isinstance(previous, str):
                raise BadRequest("previous_response_id: expected a string")
            found = await self.store.load(previous, owner, time.time())
            if found is None:
                raise BadRequest(
                    f"previous_response_id {previous!r} is unknown or has expired (responses "
                    f"are kept for RESPONSES_RETENTION_MS, only when store is not false, and "
                    f"only for the caller that created them)")
            history = found
        return ResponsesTurn(*parse_responses_request(obj, history), self.store, owner)

    def answer_id(self, request_id: str) -> str:
        return new_response_id()  # never derived from the client's X-Request-ID


class DialectEndpoint:
    def __init__(self, state: AppState, dialect: Dialect) -> None:
        self.state = state
        self.dialect = dialect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await handle(self.state, self.dialect, scope, receive, send)
