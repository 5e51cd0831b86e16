"""Which session a request belongs to, for the decisions stages keep in ``Ports.sessions``.

The key is, first match wins: the client's session id (Claude Code's
``x-claude-code-session-id``), the request's ``metadata.user_id`` (Claude Code puts its session
in it; other clients their user), or a digest of the conversation's start (the system text and
the first message), which an append-only client repeats on every turn of a conversation.
"""

from __future__ import annotations

import hashlib

import orjson

from lynkr.formats.token_text import block_text
from lynkr.model.request import Message
from lynkr.ports import Ports, SessionStore
from lynkr.stages.exchange import Exchange


def session_key(exchange: Exchange) -> str:
    if exchange.context.session_id:
        return f"sid:{exchange.context.session_id}"
    request = exchange.request
    user = (request.metadata or {}).get("user_id")
    if isinstance(user, str) and user:
        return f"user:{user}"
    first = request.messages[:1]
    return "start:" + digest((request.system_text(),), first)


def digest(texts: tuple[str, ...], messages: tuple[Message, ...]) -> str:
    """A short stable digest of some text and messages (roles, text, calls and results)."""
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode())
        h.update(b"\0")
    for message in messages:
        h.update(message.role.encode())
        for block in message.content:
            h.update(b"\1")
            h.update(type(block).__name__.encode())
            for attr in ("id", "tool_use_id"):
                value = getattr(block, attr, None)
                if isinstance(value, str):
                    h.update(value.encode())
            h.update(block_text(block).encode())
    return h.hexdigest()[:24]


def recall(ports: Ports, exchange: Exchange, key: str) -> object | None:
    """The JSON value a stage stored for this request's session under ``key`` (None: nothing,
    no store, or a value that does not parse)."""
    store: SessionStore | None = ports.sessions
    if store is None:
        return None
    raw = store.get(session_key(exchange), key)
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def remember(ports: Ports, exchange: Exchange, key: str, value: object) -> None:
    if ports.sessions is not None:
        ports.sessions.put(session_key(exchange), key, orjson.dumps(value).decode())
