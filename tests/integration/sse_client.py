"""Reading Anthropic SSE responses back into canonical events, for assertions."""

from __future__ import annotations

import httpx

from lynkr.formats.anthropic.sse import SseParser
from lynkr.model.events import Event


def stream_events(client: httpx.Client, url: str, body: dict, **headers: str
                  ) -> tuple[httpx.Response, bytes, list[Event]]:
    with client.stream("POST", url + "/v1/messages?beta=true", json=body,
                       headers={"x-api-key": "dummy", "anthropic-version": "2023-06-01",
                                **headers}) as response:
        raw = response.read()
    parser = SseParser()
    return response, raw, parser.feed(raw)
