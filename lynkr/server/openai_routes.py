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
from lynkr.server.flow import Answer, handle
from lynkr.server.identity import caller_identity
from lynkr.server.state import AppState
from lynkr.stages.exchange import Dialect
from lynkr.storage.responses import ResponseStore, new_response_id

log = logging.getLogger("lynkr.responses")


class ChatBinding:
    name: Dialect = "openai_chat"
    content_type = b"text/event-stream"
    wants_result = False

    async def parse(self, body: bytes, scope: Scope) -> tuple[Request, ChatClientOptions]:
        return parse_chat_request(loads_object(body))

    def answer_id(self, request_id: str) -> str:
        return "chatcmpl-" + request_id.removeprefix("req_")

    def renderer(self, client: ChatClientOptions, answer: Answer) -> ChatChunkRenderer:
        return ChatChunkRenderer(answer.id, answer.model, answer.created, client)

    def render_whole(self, response: Response, client: ChatClientOptions, answer: Answer
                     ) -> Any:
        return render_completion(response, answer.id, answer.model, answer.created)

    async def completed(self, request: Request, client: ChatClientOptions, answer: Answer,
                        response: Response) -> None:
        return None


@attrs.frozen
class OwnedOptions:
    """The Responses client options and the caller they belong to (``caller_identity``)."""

    options: ResponsesClientOptions
    owner: str

    @property
    def dropped(self) -> tuple[str, ...]:
        """What the ingress could not carry (reported by the flow)."""
        return tuple(self.options.dropped)


class ResponsesBinding:
    """The Responses API; ``previous_response_id`` resolves through the conversation store,
    among the conversations the same caller stored. Response ids are random."""

    name: Dialect = "openai_responses"
    content_type = b"text/event-stream"
    wants_result = True

    def __init__(self, store: ResponseStore) -> None:
        self.store = store

    async def parse(self, body: bytes, scope: Scope) -> tuple[Request, OwnedOptions]:
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
        request, options = parse_responses_request(obj, history)
        return request, OwnedOptions(options, owner)

    def answer_id(self, request_id: str) -> str:
        return new_response_id()  # never derived from the client's X-Request-ID

    def renderer(self, client: OwnedOptions, answer: Answer) -> ResponsesEventRenderer:
        return ResponsesEventRenderer(answer.id, answer.model, answer.created, client.options)

    def render_whole(self, response: Response, client: OwnedOptions, answer: Answer) -> Any:
        return render_response(response, answer.id, answer.model, answer.created,
                               client.options)

    async def completed(self, request: Request, client: OwnedOptions, answer: Answer,
                        response: Response) -> None:
        if client.options.store:
            conversation = stored_conversation(request, client.options, response)
            if not await self.store.save(answer.id, client.owner, answer.model, conversation,
                                         time.time()):
                log.warning("response not stored: larger than RESPONSES_MAX_BYTES_PER_CALLER",
                            extra={"response_id": answer.id})


class DialectEndpoint:
    def __init__(self, state: AppState, binding: Any) -> None:
        self.state = state
        self.binding = binding

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await handle(self.state, self.binding, scope, receive, send)
