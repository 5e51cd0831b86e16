"""A minimal, fast fake OpenAI Chat Completions server for overhead measurements (loopback only).

Hand-written HTTP/1.1 on an asyncio ``Protocol``: keep-alive, pipelined requests, the whole body
read (``Content-Length``) before answering. ``POST /v1/chat/completions`` answers

* ``"stream": true``: ``text/event-stream`` with chunked transfer-encoding, one HTTP chunk per SSE
  event: a role chunk, 20 content deltas, a finish chunk, a usage chunk with ``choices: []``
  (sent whatever ``stream_options`` says, as many servers do) and ``data: [DONE]``, in the exact
  OpenAI wire format;
* ``"stream": false``: one ``chat.completion`` JSON with ``Content-Length``.

Every answer is pre-built at start-up, so the server's own cost is parsing the request head and
JSON body and one ``write``. ``GET /health`` answers 200; ``GET /_last`` returns the last
chat-completions body received (so a benchmark can replay exactly what a proxy sent);
``GET /_stats`` the number of requests served.

``--single-chunk`` sends all the SSE events in one HTTP chunk (not what servers do; it shows how
much of a proxy's cost is per upstream chunk). ``--split`` writes each SSE chunk with its own
``write`` call instead of one write for the whole answer (closer to a token-by-token server;
the reader may still receive them coalesced). ``--chunks N`` answers with N content deltas
(``tok0 tok1 ...``) instead of the 20 above; ``--interval-ms T`` then sends the head, the role
chunk and the first delta at once and each later chunk T ms after the one before, on an absolute
schedule (a late tick catches up rather than drifting): a token-paced answer
(``benchmarks.streams``).

Run: ``python -m benchmarks.fast_upstream --port 9000`` (prints ``listening on PORT``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import orjson

MODEL = "bench-model"
CREATED = 1735689600
CHUNK_ID = "chatcmpl-bench0000000000000000000001"

# 20 content deltas of a realistic size (a few tokens each).
DELTAS = [
    "Hi", "!", " How", " can", " I", " help", " you", " with", " your", " code",
    " today", "?", " I", " can", " read", " files", ",", " run", " commands", " and more.",
]


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {"id": CHUNK_ID, "object": "chat.completion.chunk", "created": CREATED,
            "model": MODEL, "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "delta": delta, "logprobs": None,
                         "finish_reason": finish}]}


USAGE = {"prompt_tokens": 12150, "completion_tokens": len(DELTAS),
         "total_tokens": 12150 + len(DELTAS),
         "prompt_tokens_details": {"cached_tokens": 0},
         "completion_tokens_details": {"reasoning_tokens": 0}}


def paced_deltas(n: int) -> list[str]:
    """The content deltas of an ``n``-chunk answer: ``tok0 ``, ``tok1 `` ..."""
    return [f"tok{i} " for i in range(n)]


def sse_events(deltas: list[str] = DELTAS) -> list[bytes]:
    """The SSE events of the streamed answer, each ``data: ...\\n\\n``."""
    chunks = [_chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [_chunk({"content": text}) for text in deltas]
    chunks.append(_chunk({}, "stop"))
    usage = {"id": CHUNK_ID, "object": "chat.completion.chunk", "created": CREATED,
             "model": MODEL, "system_fingerprint": "fp_bench", "choices": [],
             "usage": {**USAGE, "completion_tokens": len(deltas),
                       "total_tokens": USAGE["prompt_tokens"] + len(deltas)}}
    chunks.append(usage)
    events = [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks]
    events.append(b"data: [DONE]\n\n")
    return events


def completion_json() -> bytes:
    return orjson.dumps({
        "id": CHUNK_ID, "object": "chat.completion", "created": CREATED, "model": MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(DELTAS),
                                             "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": USAGE,
    })


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_STREAM_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                b"cache-control: no-cache\r\nconnection: keep-alive\r\n"
                b"transfer-encoding: chunked\r\n\r\n")


def stream_parts(deltas: list[str] = DELTAS) -> list[bytes]:
    """The bytes of a streamed answer, one item per HTTP chunk (the head with the first)."""
    events = sse_events(deltas)
    return [_STREAM_HEAD + _chunked(events[0])] + [_chunked(e) for e in events[1:]] + \
        [b"0\r\n\r\n"]


STREAM_PARTS = stream_parts()
STREAM_RESPONSE = b"".join(STREAM_PARTS)
# --single-chunk: the same SSE bytes in one HTTP chunk (an experiment, not what servers do)
STREAM_SINGLE = _STREAM_HEAD + _chunked(b"".join(sse_events())) + b"0\r\n\r\n"
_JSON = completion_json()
JSON_RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                 b"content-length: %d\r\nconnection: keep-alive\r\n\r\n" % len(_JSON)) + _JSON


def _simple(status: bytes, body: bytes, ctype: bytes = b"application/json") -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: " + ctype +
            b"\r\ncontent-length: %d\r\n\r\n" % len(body)) + body


class Stats:
    requests = 0
    last_body = b""


class UpstreamProtocol(asyncio.Protocol):
    split = False
    single = False
    interval = 0.0  # seconds between paced chunks (0: the whole answer in one write)
    parts = STREAM_PARTS
    response = STREAM_RESPONSE

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.need = -1  # body bytes still expected for the current request, -1: reading a head
        self.head = b""
        self.head_end = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.need < 0:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buffer) > 65536:
                        self._fail(b"431 Request Header Fields Too Large")
                    return
                self.head = bytes(self.buffer[:end])
                del self.buffer[:end + 4]
                self.need = _content_length(self.head)
                if self.need < 0:
                    self._fail(b"400 Bad Request")
                    return
            if len(self.buffer) < self.need:
                return
            body = bytes(self.buffer[:self.need])
            del self.buffer[:self.need]
            self.need = -1
            self._answer(self.head, body)

    def _pace(self, transport: asyncio.Transport) -> None:
        """Head, role chunk and first delta now; each later part one interval after the last."""
        loop = asyncio.get_running_loop()
        parts, interval, t0 = self.parts, self.interval, loop.time()
        transport.write(parts[0] + parts[1])

        def tick(i: int) -> None:
            if transport.is_closing():
                return
            # part i is due at t0 + (i - 1) * interval
            end = min(len(parts), max(int((loop.time() - t0) / interval) + 2, i + 1))
            transport.write(b"".join(parts[i:end]))
            if end < len(parts):
                loop.call_at(t0 + (end - 1) * interval, tick, end)

        loop.call_at(t0 + interval, tick, 2)

    def _fail(self, status: bytes) -> None:
        assert self.transport is not None
        self.transport.write(_simple(status, b"{}"))
        self.transport.close()

    def _answer(self, head: bytes, body: bytes) -> None:
        transport = self.transport
        assert transport is not None
        line = head[:head.find(b"\r\n")] if b"\r\n" in head else head
        parts = line.split(b" ")
        method, target = parts[0], parts[1] if len(parts) > 1 else b"/"
        path = target.split(b"?", 1)[0]
        if method == b"POST" and path.endswith(b"/chat/completions"):
            Stats.requests += 1
            Stats.last_body = body
            try:
                stream = orjson.loads(body).get("stream") is True
            except orjson.JSONDecodeError:
                transport.write(_simple(b"400 Bad Request", b'{"error":{"message":"bad json",'
                                        b'"type":"invalid_request_error"}}'))
                return
            if not stream:
                transport.write(JSON_RESPONSE)
            elif self.single:
                transport.write(STREAM_SINGLE)
            elif self.interval > 0:
                self._pace(transport)
            elif self.split:
                for part in self.parts:
                    transport.write(part)
            else:
                transport.write(self.response)
        elif method == b"GET" and path in (b"/health", b"/health/live"):
            transport.write(_simple(b"200 OK", b'{"status":"ok"}'))
        elif method == b"GET" and path == b"/_last":
            transport.write(_simple(b"200 OK", Stats.last_body))
        elif method == b"GET" and path == b"/_stats":
            transport.write(_simple(b"200 OK", orjson.dumps({"requests": Stats.requests})))
        else:
            transport.write(_simple(b"404 Not Found", b'{"error":{"message":"not found"}}'))


def _content_length(head: bytes) -> int:
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        return -1 if b"\r\ntransfer-encoding:" in lower else 0  # chunked uploads: unsupported
    end = lower.find(b"\r\n", at + 2)
    value = lower[at + 17:end if end >= 0 else len(lower)].strip()
    return int(value) if value.isdigit() else -1


async def serve(host: str, port: int, split: bool = False, single: bool = False,
                ready: bool = True, chunks: int | None = None, interval_ms: float = 0.0
                ) -> None:
    UpstreamProtocol.split = split
    UpstreamProtocol.single = single
    UpstreamProtocol.interval = interval_ms / 1000
    if chunks is not None:
        UpstreamProtocol.parts = stream_parts(paced_deltas(chunks))
        UpstreamProtocol.response = b"".join(UpstreamProtocol.parts)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(UpstreamProtocol, host, port, backlog=1024,
                                      reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    if ready:
        print(f"listening on {bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--split", action="store_true",
                        help="one write per SSE chunk instead of one per answer")
    parser.add_argument("--single-chunk", action="store_true",
                        help="all SSE events in one HTTP chunk (to measure per-chunk costs)")
    parser.add_argument("--chunks", type=int,
                        help="N content deltas 'tok0 ' .. instead of the 20 fixed ones")
    parser.add_argument("--interval-ms", type=float, default=0.0,
                        help="pace the stream: one HTTP chunk every T ms (0: all at once)")
    parser.add_argument("--cpu", type=int, help="pin to this CPU")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("fast_upstream: loopback only")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    asyncio.run(serve(args.host, args.port, args.split, args.single_chunk,
                      chunks=args.chunks, interval_ms=args.interval_ms))


if __name__ == "__main__":
    main()
