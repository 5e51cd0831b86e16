"""Load shedding under sustained concurrency: above the threshold, then below it.

    python -m benchmarks.load_shedding [--quick] [--json PATH]

Starts a slow fake upstream (in this process, asyncio, 127.0.0.1: every answer is an OpenAI SSE
stream of 10 deltas 0.2 s apart, about 2 s) and ``lynkr start`` as a subprocess with
``LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD=20``. Phase "above": 40 clients, each sending streaming
``/v1/messages`` requests back to back for 20 s; a client that gets 503 waits 0.25 s before the
next try (a polite client honours ``Retry-After``; this one retries sooner, to keep the pressure
on). Phase "below": 10 clients for 15 s. Every response is read to the end and classified:
a complete stream (``message_stop``), a 503 with ``Retry-After`` and an ``overloaded_error`` body,
or a failure (anything else). Lynkr's RSS (``/proc/PID/status`` VmRSS) is sampled every 0.5 s.
Bounded: the phases end on their clock, every request has a 30 s timeout, and the processes
are killed in ``finally``. See benchmarks/README.md for the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

if __package__ in (None, ""):  # run as a script: python benchmarks/load_shedding.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.overhead import HOST, ROOT, free_port, rss_kib, start, stop, wait_http

THRESHOLD = 20
DELTAS, DELTA_GAP_S = 10, 0.2
SHED_PAUSE_S = 0.25
BODY = orjson.dumps({"model": "claude-x", "max_tokens": 100, "stream": True,
                     "messages": [{"role": "user", "content": "hello"}]})
HEADERS = {"anthropic-version": "2023-06-01", "content-type": "application/json"}


# -- the slow upstream ----------------------------------------------------------------------

def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _sse(delta: dict[str, Any], finish: str | None = None) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "slow",
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


async def _answer(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                 b"transfer-encoding: chunked\r\n\r\n" + _chunk(_sse({"role": "assistant"})))
    for i in range(DELTAS):
        await asyncio.sleep(DELTA_GAP_S)
        writer.write(_chunk(_sse({"content": f"word{i} "})))
        await writer.drain()
    usage = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "slow",
             "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": DELTAS,
                                      "total_tokens": 10 + DELTAS}}
    writer.write(_chunk(_sse({}, "stop")) + _chunk(b"data: " + orjson.dumps(usage) + b"\n\n")
                 + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
    await writer.drain()


_OPEN: set[asyncio.StreamWriter] = set()  # closed at the end, so no handler is left waiting


async def _serve_upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    _OPEN.add(writer)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if head.startswith(b"GET"):
                body = b'{"object":"list","data":[{"id":"slow"}]}'
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             + f"content-length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
                continue
            await _answer(writer)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    except asyncio.CancelledError:  # asyncio.run's teardown; 3.11 would log it as an error
        return
    finally:
        _OPEN.discard(writer)
        writer.close()


# -- the clients ----------------------------------------------------------------------------

class Tally:
    def __init__(self) -> None:
        self.ok_ms: list[float] = []
        self.shed_ms: list[float] = []
        self.shed_without_retry_after = 0
        self.failures: list[str] = []


async def _one(client: httpx.AsyncClient, url: str, tally: Tally) -> bool:
    """One request read to its end; True when it was shed."""
    started = time.perf_counter()
    try:
        async with client.stream("POST", url + "/v1/messages", content=BODY,
                                 headers=HEADERS) as response:
            body = await response.aread()
    except httpx.HTTPError as exc:
        tally.failures.append(f"{type(exc).__name__}: {exc}")
        return False
    ms = (time.perf_counter() - started) * 1000
    if response.status_code == 200 and body.rstrip().endswith(
            b'event: message_stop\ndata: {"type":"message_stop"}'):
        tally.ok_ms.append(ms)
        return False
    if response.status_code == 503 and b"overloaded_error" in body:
        tally.shed_ms.append(ms)
        if not response.headers.get("retry-after"):
            tally.shed_without_retry_after += 1
        return True
    tally.failures.append(f"{response.status_code}: {body[-200:]!r}")
    return False


async def phase(url: str, clients: int, seconds: float) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        async def worker() -> None:
            while time.monotonic() < deadline:
                if await _one(client, url, tally):
                    await asyncio.sleep(SHED_PAUSE_S)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return tally


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(int(p / 100 * len(ordered)), len(ordered) - 1)], 1)


def summary(name: str, clients: int, seconds: float, tally: Tally,
            rss: list[int]) -> dict[str, Any]:
    return {"phase": name, "clients": clients, "seconds": seconds,
            "completed": len(tally.ok_ms), "shed_503": len(tally.shed_ms),
            "shed_without_retry_after": tally.shed_without_retry_after,
            "failures": len(tally.failures), "failure_samples": tally.failures[:5],
            "ok_p50_ms": pct(tally.ok_ms, 50), "ok_p99_ms": pct(tally.ok_ms, 99),
            "shed_p50_ms": pct(tally.shed_ms, 50), "shed_p99_ms": pct(tally.shed_ms, 99),
            "rss_mib_max": round(max(rss, default=0) / 1024, 1)}


async def sample_rss(pid: int, into: list[int], stop_at: asyncio.Event) -> None:
    while not stop_at.is_set():
        into.append(rss_kib(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_at.wait(), 0.5)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    above_s, below_s = (6.0, 5.0) if args.quick else (20.0, 15.0)
    upstream = await asyncio.start_server(_serve_upstream, HOST, 0)
    up_port = upstream.sockets[0].getsockname()[1]
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="lynkr-shed-"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "OLLAMA_", "LYNKR_", "MODEL_", "LOAD_SHEDDING_"))}
    env.update({"PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
                "PORT": str(port), "MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "sk-bench",
                "OPENAI_ENDPOINT": f"http://{HOST}:{up_port}/v1", "OPENAI_MODEL": "slow",
                "LOG_LEVEL": "warning", "LYNKR_DB_PATH": str(logs / "lynkr.db"),
                "LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD": str(THRESHOLD)})
    log = logs / "lynkr.log"
    proc = start([sys.executable, "-m", "lynkr", "start"], env, None, log)
    url = f"http://{HOST}:{port}"
    rss: list[int] = []
    done = asyncio.Event()
    try:
        await wait_http(port, "/health/live", proc, log)
        await phase(url, 2, 2.5)  # warm-up: imports, pools, first requests
        sampler = asyncio.create_task(sample_rss(proc.pid, rss, done))
        marks = [len(rss)]
        above = await phase(url, args.above, above_s)
        marks.append(len(rss))
        await asyncio.sleep(DELTAS * DELTA_GAP_S + 0.5)  # what is in flight ends
        below = await phase(url, args.below, below_s)
        marks.append(len(rss))
        async with httpx.AsyncClient() as client:
            scrape = (await client.get(url + "/metrics/prometheus")).text
        done.set()
        await sampler
    finally:
        stop(proc)
        upstream.close()
        for writer in list(_OPEN):
            writer.close()
        await upstream.wait_closed()
    shed_total = sum(float(line.rsplit(" ", 1)[1]) for line in scrape.splitlines()
                     if line.startswith("lynkr_shed_total{"))
    return {
        "threshold": THRESHOLD, "upstream_answer_s": DELTAS * DELTA_GAP_S,
        "phases": [summary("above", args.above, above_s, above, rss[marks[0]:marks[1]]),
                   summary("below", args.below, below_s, below, rss[marks[1]:marks[2]])],
        "lynkr_shed_total": shed_total,
        "rss_mib": {"start": round(rss[0] / 1024, 1), "max": round(max(rss) / 1024, 1),
                    "end": round(rss[-1] / 1024, 1), "samples": len(rss)},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 s + 5 s phases")
    parser.add_argument("--above", type=int, default=40, help="clients above the threshold")
    parser.add_argument("--below", type=int, default=10, help="clients below the threshold")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    above, below = result["phases"]
    ok = (above["shed_503"] > 0 and above["shed_without_retry_after"] == 0
          and below["shed_503"] == 0 and below["failures"] == 0 and above["failures"] == 0)
    print("PASS" if ok else "FAIL: see the figures above", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
