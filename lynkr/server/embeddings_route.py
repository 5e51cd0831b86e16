"""``POST /v1/embeddings`` in OpenAI's dialect, answered by the configured embeddings provider."""

from __future__ import annotations

import logging
from time import perf_counter

from lynkr.config.embeddings import HOW_TO_CONFIGURE
from lynkr.embeddings.formats import parse_request, render_response
from lynkr.formats.jsonvalue import loads_object
from lynkr.model.errors import EmbeddingsUnavailable, LynkrError
from lynkr.server.asgi import Receive, Scope, Send, read_body, request_id, send_json
from lynkr.server.errors import send_error
from lynkr.server.state import AppState

log = logging.getLogger("lynkr.request")


class EmbeddingsEndpoint:
    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = perf_counter()
        rid = request_id(scope)
        ids = [(b"request-id", rid.encode()), (b"x-request-id", rid.encode())]
        embedder = self.state.embeddings
        try:
            body = await read_body(receive, scope, self.state.settings)
            request = parse_request(loads_object(body))
            if embedder is None:
                raise EmbeddingsUnavailable(f"embeddings are not configured: {HOW_TO_CONFIGURE}")
            result = await embedder.embed(request)
            payload = render_response(result, request)
        except LynkrError as exc:
            log.warning("embeddings failed", extra={"request_id": rid, "status": exc.status,
                                                    "error": exc.message})
            await send_error(send, exc, rid, "openai_chat")
            return
        except Exception:  # the top-level guard: never a traceback to the client
            log.exception("embeddings failed", extra={"request_id": rid})
            internal = LynkrError("internal error while computing embeddings; see Lynkr's log")
            await send_error(send, internal, rid, "openai_chat")
            return
        log.info("embeddings", extra={
            "request_id": rid, "provider": embedder.name, "model": result.model,
            "inputs": len(request.inputs), "ms": round((perf_counter() - started) * 1000, 1)})
        await send_json(send, 200, payload, ids)
