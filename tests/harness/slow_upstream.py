"""A fake model that answers every stream slowly: one frame every ``delay`` seconds.

Anthropic SSE on ``.../v1/messages``, OpenAI SSE on anything else; a GET answers a model list
(what ``lynkr check`` and ``/health/ready?deep=true`` probe). ``started`` counts the streams
begun, ``finished`` those sent to the end.
"""

from __future__ import annotations

from typing import Any

import orjson
import trio

from harness.asgi import handled_lifespan
from harness.fake_anthropic import anthropic_frames
from harness.wire import Reply, openai_chunks


class SlowUpstream:
    def __init__(self, delay: float, text: str = "slow and steady answer") -> None:
        self.delay = delay
        self.reply = Reply(text=text)
        self.started = 0
        self.finished = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await handled_lifespan(scope, receive, send):
            return
        if scope["method"] == "GET":
            body = orjson.dumps({"object": "list", "data": [{"id": "fake-model"}],
                                 "models": [{"name": "fake-model"}]})
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        while (await receive()).get("more_body"):
            pass
        frames = anthropic_frames(self.reply) if scope["path"].endswith("/v1/messages") \
            else openai_chunks(self.reply)
        self.started += 1
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        for frame in frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
            await trio.sleep(self.delay)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.finished += 1
