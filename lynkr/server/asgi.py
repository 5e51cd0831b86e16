"""Small raw-ASGI helpers for the hot path: header lookup, bounded body reads, JSON replies."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import orjson
import trio

from lynkr.config.settings import Settings
from lynkr.formats.json_depth import check_depth
from lynkr.formats.jsonvalue import ParsedBody
from lynkr.model.errors import BadRequest, BodyTimeout, PayloadTooLarge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_UNSAFE = re.compile(r"[^\x20-\x7e]")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def request_id(scope: Scope) -> str:
    """The client's X-Request-ID if it is sane, else a new ``req_`` id."""
    given = header(scope, b"x-request-id")
    if given and _REQUEST_ID.match(given):
        return given
    return "req_" + secrets.token_hex(12)


def header_value(text: str, limit: int = 2000) -> bytes:
    """Any text made safe for an HTTP header value."""
    return _UNSAFE.sub("?", text)[:limit].encode("ascii")


async def read_body(receive: Receive, scope: Scope, settings: Settings) -> bytes:
    """A JSON request body, bounded in size (``MAX_REQUEST_BODY_BYTES``), in time
    (``REQUEST_BODY_TIMEOUT_MS``: a body trickled in byte by byte must not hold a slot) and in
    nesting depth (``MAX_JSON_DEPTH``); a ``ParsedBody`` when the depth check parsed it."""
    deadline = settings.limits.body_timeout_s
    with trio.move_on_after(deadline):
        body = await _read_body(receive, settings.max_body_bytes,
                                header(scope, b"content-length"))
        parsed = check_depth(body, settings.limits.max_json_depth)
        return body if parsed is None else ParsedBody.of(body, parsed)
    raise BodyTimeout(f"the request body did not arrive within {deadline:g}s "
                      f"(REQUEST_BODY_TIMEOUT_MS)")


async def _read_body(receive: Receive, limit: int, declared: str | None) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is {int(declared)} bytes; the limit is {limit} "
                              f"(MAX_REQUEST_BODY_BYTES)")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes "
                                      f"(MAX_REQUEST_BODY_BYTES)")
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_json(send: Send, status: int, payload: Any,
                    headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = orjson.dumps(payload)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})
