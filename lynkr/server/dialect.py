"""What the request lifecycle needs of a client dialect, as two small protocols.

A ``Dialect`` reads a body into a ``ClientTurn``: the canonical request plus whatever the
client's dialect asked for (stream options, ``store``, the conversation to save), bound to that
one request, so nothing untyped travels beside it. The turn renders the answer's events as the
client's wire and hears of the complete answer when it must keep it (``previous_response_id``).
"""

from __future__ import annotations

from typing import Any, Protocol

import attrs

from lynkr.model.events import Event
from lynkr.model.request import Request
from lynkr.model.response import Response
from lynkr.server.asgi import Scope
from lynkr.stages.exchange import Dialect as DialectName


@attrs.frozen
class Answer:
    """How the answer presents itself to the client."""

    id: str  # msg_… / chatcmpl-… / resp_…
    model: str  # the model name reported to the client
    created: int  # unix seconds


class StreamRenderer(Protocol):
    def render(self, events: list[Event]) -> bytes: ...

    def finish(self) -> bytes: ...


class ClientTurn(Protocol):
    """One request in the client's dialect."""

    @property
    def request(self) -> Request: ...

    @property
    def wants_result(self) -> bool:
        """Whether ``completed`` needs the folded answer (even of a stream)."""

    @property
    def dropped(self) -> tuple[str, ...]:
        """What the request carried that no backend here can use (said, never silent)."""

    def renderer(self, answer: Answer) -> StreamRenderer: ...

    def render_whole(self, response: Response, answer: Answer) -> Any:
        """The whole answer as the dialect's JSON document (a JSON-able value)."""

    async def completed(self, response: Response, answer: Answer) -> None: ...


class Dialect(Protocol):
    name: DialectName
    content_type: bytes

    async def parse(self, body: bytes, scope: Scope) -> ClientTurn: ...

    def answer_id(self, request_id: str) -> str: ...
