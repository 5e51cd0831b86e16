"""An OpenAI Chat Completions upstream that faults a share of its answers, in every way the
proxy must survive, and can be taken down and brought back.

Each answer is the same 20-word text, streamed four characters a frame, so a client can tell
a complete answer from a cut one. With probability ``rate`` an answer is instead one fault,
chosen uniformly from ``FAULTS``: an error status (500, 502, 503 and 429 with ``Retry-After:
0``, 401 echoing the key), a connection dropped mid-stream, a stall past the proxy's read
timeout, a frame that is not JSON, a frame of the wrong shape (an object where the content
string belongs, an array for the chunk), an in-stream error object, a gzip body that does not
decode, and a line longer than the proxy's line limit. ``down``: every request is answered 503
(a real outage). ``counts`` records what was sent.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import orjson
import trio

from harness.asgi import handled_lifespan, read_request
from harness.wire import Reply, openai_chunks

WORDS = [f"w{i:02d}" for i in range(20)]
TEXT = " ".join(WORDS)
FAULTS = ("status_500", "status_502", "status_503", "status_429", "status_401", "cut",
          "stall", "malformed", "wrong_shape", "wrong_type", "error_frame", "bad_gzip",
          "long_line")


class _Cut(Exception):
    pass


class FaultyUpstream:
    def __init__(self, rate: float, seed: int = 7, key: str = "", stall_s: float = 5.0,
                 long_line: int = 200_000) -> None:
        self.rate, self.key, self.stall_s, self.long_line = rate, key, stall_s, long_line
        self.rng = random.Random(seed)
        self.down = False
        self.counts: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await handled_lifespan(scope, receive, send):
            return
        await read_request(scope, receive)
        if self.down:
            self.counts["down"] += 1
            await _status(send, 503, b'{"error":{"message":"down for maintenance"}}')
            return
        fault = self.rng.choice(FAULTS) if self.rng.random() < self.rate else "ok"
        self.counts[fault] += 1
        frames = openai_chunks(Reply(text=TEXT, prompt_tokens=5, completion_tokens=20))
        if fault.startswith("status_"):
            code = int(fault[7:])
            body = orjson.dumps({"error": {"message": f"fault {code}; key {self.key}"}})
            await _status(send, code, body, [(b"retry-after", b"0")])
            return
        headers = [(b"content-type", b"text/event-stream")]
        if fault == "bad_gzip":
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if fault == "bad_gzip":
            await send({"type": "http.response.body", "body": b"\x1f\x8b\x08garbage" * 50,
                        "more_body": False})
            return
        cut_at = 6
        for index, frame in enumerate(frames):
            if fault != "ok" and index == cut_at:
                await self._fault(fault, send)
                break
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _fault(self, fault: str, send: Any) -> None:
        frame = {
            "malformed": b"data: {not json\n\n",
            "wrong_shape": b'data: {"choices":[{"index":0,"delta":{"content":{"a":1}}}]}\n\n',
            "wrong_type": b"data: [1, 2, 3]\n\n",
            "error_frame": b'data: {"error":{"message":"model crashed"}}\n\n',
            "long_line": b"data: " + b"z" * self.long_line + b"\n\n",
        }.get(fault)
        if frame is not None:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        elif fault == "stall":
            await trio.sleep(self.stall_s)
        elif fault == "cut":
            raise _Cut("connection dropped on purpose")


async def _status(send: Any, code: int, body: bytes,
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
