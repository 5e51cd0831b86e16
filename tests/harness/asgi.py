"""What every fake upstream does before it answers: lifespan, and reading the request."""

from __future__ import annotations

from typing import Any

import orjson


async def handled_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> bool:
    """Answer a lifespan scope (start-up and shut-down); False for any other scope."""
    if scope["type"] != "lifespan":
        return False
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})
    return True


async def read_request(scope: dict[str, Any], receive: Any) -> tuple[bytes, dict[str, str]]:
    """The whole body and the headers (names lower-cased) of an HTTP request."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    return b"".join(chunks), headers


async def answered_show(path: str, body: dict[str, Any], send: Any,
                        capabilities: list[str] | None = None) -> bool:
    """Ollama's ``POST /api/show`` (which Lynkr asks at start-up): a model that can call tools
    unless ``capabilities`` says otherwise. False for any other path."""
    if path != "/api/show":
        return False
    data = orjson.dumps({"details": {}, "capabilities": capabilities
                         if capabilities is not None else ["completion", "tools"]})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})
    return True
