"""A small, cheap HTTP/1.1 load generator: asyncio protocols, keep-alive, pre-built requests.

Each of ``concurrency`` connections writes the same pre-built request bytes, reads the whole
response (``Content-Length``, chunked, or until close), checks it with a cheap predicate and
records the latency with ``perf_counter_ns`` (write to last byte). No httpx, no per-request
allocation beyond the response bytes, so its own cost stays far below the server's.

As a command (used by ``profile_hot_path`` and ``workers``)::

    python -m benchmarks.loadgen --port 8081 --requests 2000 --concurrency 1 [--stream|--json]

``--sync`` (for a benchmark that reads other processes' CPU around the measured phase): after
connecting and the warm-up it prints ``ready`` on a line of its own and waits for a line on
stdin before the measured phase; the summary follows as one JSON line, as without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections.abc import Callable
from time import perf_counter_ns

import attrs

Check = Callable[[int, bytes], bool]


class ResponseError(Exception):
    pass


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes, int]] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.will_close = False  # the server said "connection: close" (e.g. hypercorn's
        # keep_alive_max_requests): the next request needs a new connection
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.state = 0  # 0 head, 1 content-length body, 2 chunk size, 3 chunk data, 4 to EOF
        self.remaining = 0
        self.body: list[bytes] = []

    # -- asyncio callbacks ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            if self.state == 4:
                self._finish()
            else:
                self.waiter.set_exception(ResponseError(f"connection lost: {exc!r}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        try:
            self._parse()
        except Exception as exc:  # a malformed answer fails the request, not the process
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(exc)

    # -- parsing ----------------------------------------------------------------------------
    def _parse(self) -> None:
        buf = self.buf
        pos = 0
        while True:
            state = self.state
            if state == 0:
                end = buf.find(b"\r\n\r\n", pos)
                if end < 0:
                    break
                head = bytes(buf[pos:end]).lower()
                pos = end + 4
                self.status = int(head[9:12])
                if b"\r\nconnection: close" in head:
                    self.will_close = True
                at = head.find(b"\r\ncontent-length:")
                if at >= 0:
                    stop = head.find(b"\r\n", at + 2)
                    self.remaining = int(head[at + 17:stop if stop >= 0 else len(head)])
                    self.state = 1
                    if self.remaining == 0:
                        self._finish()
                elif b"transfer-encoding: chunked" in head:
                    self.state = 2
                else:
                    self.state = 4
            elif state == 1:
                take = min(self.remaining, len(buf) - pos)
                if take <= 0:
                    break
                self.body.append(bytes(buf[pos:pos + take]))
                pos += take
                self.remaining -= take
                if self.remaining == 0:
                    self._finish()
            elif state == 2:
                end = buf.find(b"\r\n", pos)
                if end < 0:
                    break
                size = int(bytes(buf[pos:end]).split(b";", 1)[0], 16)
                if size == 0:
                    # no trailers from the servers measured here: "0\r\n\r\n" ends the body
                    if len(buf) < end + 4:
                        break
                    pos = end + 4
                    self._finish()
                else:
                    pos = end + 2
                    self.remaining = size
                    self.state = 3
            elif state == 3:
                if len(buf) - pos < self.remaining + 2:  # the data and its CRLF
                    break
                self.body.append(bytes(buf[pos:pos + self.remaining]))
                pos += self.remaining + 2
                self.state = 2
            else:  # read to EOF
                if pos < len(buf):
                    self.body.append(bytes(buf[pos:]))
                    pos = len(buf)
                break
        if pos:
            del buf[:pos]

    def _finish(self) -> None:
        t = perf_counter_ns()
        status, body = self.status, b"".join(self.body)
        self._reset()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, body, t))

    # -- use --------------------------------------------------------------------------------
    async def roundtrip(self, request: bytes) -> tuple[int, bytes, int, int]:
        """(status, body, start_ns, end_ns)."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        start = perf_counter_ns()
        self.transport.write(request)
        status, body, end = await self.waiter
        return status, body, start, end

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(host: str, port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _transport, conn = await loop.create_connection(Connection, host, port)
    return conn


async def fetch(host: str, port: int, request: bytes) -> tuple[int, bytes]:
    """One request on a fresh connection (for set-up and checks)."""
    conn = await connect(host, port)
    try:
        status, body, _s, _e = await asyncio.wait_for(conn.roundtrip(request), 30)
        return status, body
    finally:
        conn.close()


def get(path: str, host: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nhost: {host}:{port}\r\n\r\n".encode()


def post(path: str, host: str, port: int, body: bytes,
         headers: dict[str, str] | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"host: {host}:{port}",
             "content-type: application/json", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()
              if k.lower() not in ("content-type", "content-length", "host")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@attrs.define
class PhaseResult:
    latencies_ns: list[int]
    errors: int
    first_error: str | None
    wall_s: float
    client_cpu_s: float


class LoadGen:
    """``concurrency`` open connections driving one pre-built request."""

    def __init__(self, conns: list[Connection], request: bytes, check: Check,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.reconnects = 0
        self.conns = conns
        self.request = request
        self.check = check

    @classmethod
    async def open(cls, host: str, port: int, concurrency: int, request: bytes,
                   check: Check) -> LoadGen:
        conns = [await connect(host, port) for _ in range(concurrency)]
        return cls(conns, request, check, host, port)

    async def phase(self, total: int, timeout_s: float = 300.0) -> PhaseResult:
        latencies: list[int] = []
        errors = 0
        first_error: str | None = None
        issued = 0
        request, check = self.request, self.check

        async def worker(slot: int) -> None:
            nonlocal issued, errors, first_error
            while issued < total:
                issued += 1
                conn = self.conns[slot]
                if conn.will_close or conn.closed.done():
                    conn.close()
                    conn = self.conns[slot] = await connect(self.host, self.port)
                    self.reconnects += 1
                try:
                    status, body, start, end = await conn.roundtrip(request)
                except ResponseError as exc:
                    errors += 1
                    first_error = first_error or str(exc)
                    return
                if status == 200 and check(status, body):
                    latencies.append(end - start)
                else:
                    errors += 1
                    first_error = first_error or f"status {status}: {body[:300]!r}"

        cpu0 = time.process_time()
        t0 = perf_counter_ns()
        workers = (worker(i) for i in range(len(self.conns)))
        await asyncio.wait_for(asyncio.gather(*workers), timeout_s)
        wall = (perf_counter_ns() - t0) / 1e9
        return PhaseResult(latencies, errors, first_error, wall, time.process_time() - cpu0)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


def percentile(sorted_values: list[int], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = min(max(1, math.ceil(p / 100 * len(sorted_values))), len(sorted_values))
    return float(sorted_values[rank - 1])


def summary(result: PhaseResult) -> dict[str, float | int | str | None]:
    lat = sorted(result.latencies_ns)
    n = len(lat)
    return {
        "requests": n,
        "errors": result.errors,
        "first_error": result.first_error,
        "wall_s": round(result.wall_s, 3),
        "rps": round(n / result.wall_s, 1) if result.wall_s else 0.0,
        "min_ms": round(lat[0] / 1e6, 3) if n else float("nan"),
        "p10_ms": round(percentile(lat, 10) / 1e6, 3),
        "p50_ms": round(percentile(lat, 50) / 1e6, 3),
        "p90_ms": round(percentile(lat, 90) / 1e6, 3),
        "p99_ms": round(percentile(lat, 99) / 1e6, 3),
        "mean_ms": round(sum(lat) / n / 1e6, 3) if n else float("nan"),
        "max_ms": round(lat[-1] / 1e6, 3) if n else float("nan"),
        "client_cpu_ms_per_req": round(result.client_cpu_s * 1000 / max(n, 1), 4),
    }


def anthropic_stream_ok(status: int, body: bytes) -> bool:
    return body.endswith(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")


def anthropic_json_ok(status: int, body: bytes) -> bool:
    return body.startswith(b"{") and b'"content":[{' in body


def openai_stream_ok(status: int, body: bytes) -> bool:
    return body.endswith(b"data: [DONE]\n\n")


def openai_json_ok(status: int, body: bytes) -> bool:
    return body.startswith(b"{") and b'"content":"' in body


async def _main(args: argparse.Namespace) -> dict[str, object]:
    from benchmarks.request_49k import http_request

    request = http_request(args.host, args.port, stream=not args.json, small=args.small)
    check = anthropic_json_ok if args.json else anthropic_stream_ok
    gen = await LoadGen.open(args.host, args.port, args.concurrency, request, check)
    try:
        if args.warmup:
            await gen.phase(args.warmup)
        if args.sync:
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        out: dict[str, object] = {**summary(await gen.phase(args.requests)),
                                  "reconnects": gen.reconnects}
        return out
    finally:
        gen.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="drive Lynkr's /v1/messages with the 49 KB body")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="stream: false")
    parser.add_argument("--small", action="store_true", help="the 1 KB request")
    parser.add_argument("--cpu", type=int, help="pin to this CPU")
    parser.add_argument("--sync", action="store_true",
                        help="print 'ready' after the warm-up; measure after a line on stdin")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    result = asyncio.run(_main(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
