"""Load under upstream faults: 50 concurrent clients, 2,000 requests across the three client
dialects (streamed and not), 20 % of upstream answers faulted in every way ``FaultyUpstream``
knows; then a real outage and the recovery.

Every request is classified from what the client received: ``complete`` (the whole text and
the dialect's end marker), ``error`` (an error status with a JSON body and a request id, or a
stream ending in the dialect's error event), or ``lost`` (no answer, a hang, no request id, a
stream ending with neither marker). A ``false_complete`` is an answer shown as complete whose
text is not the whole text: a cut stream presented as a success. Bounded: a fixed count of
requests, every request with a 30 s timeout. ``pytest -s`` prints the figures;
``python -m benchmarks.fault_load`` writes them to ``benchmarks/results/fault_load.json``.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import orjson
import trio
from harness.faulty_upstream import TEXT, FaultyUpstream
from harness.proxy import provider_env
from harness.servers import lynkr_state, serve_asgi, serve_state

CLIENTS, REQUESTS, FAULT_RATE = 50, 2000, 0.2
KEY = "sk-load-test-secret-key"
ANTHROPIC = {"anthropic-version": "2023-06-01", "x-api-key": "dummy"}
KINDS = [
    ("/v1/messages", True), ("/v1/messages", False),
    ("/v1/chat/completions", True), ("/v1/chat/completions", False),
    ("/v1/responses", True), ("/v1/responses", False),
]


def body(path: str, stream: bool) -> bytes:
    if path == "/v1/responses":
        return orjson.dumps({"model": "m", "input": "hi", "stream": stream, "store": False,
                             "max_output_tokens": 100})
    return orjson.dumps({"model": "m", "max_tokens": 100, "stream": stream,
                         "messages": [{"role": "user", "content": "hi"}]})


def classify(path: str, stream: bool, status: int, headers: httpx.Headers, raw: bytes) -> str:
    if not (headers.get("request-id") or headers.get("x-request-id")):
        return "lost"
    if status != 200:
        try:
            return "error" if orjson.loads(raw) else "lost"
        except orjson.JSONDecodeError:
            return "lost"
    text, ended, failed = _read(path, stream, raw)
    if ended and not failed:
        return "complete" if text == TEXT else "false_complete"
    return "error" if failed and not ended else "lost"


def _read(path: str, stream: bool, raw: bytes) -> tuple[str, bool, bool]:
    """(the answer's text, whether it ended as complete, whether it ended in an error)."""
    if not stream:
        data = orjson.loads(raw)
        if path == "/v1/messages":
            return "".join(b.get("text", "") for b in data["content"]), True, False
        if path == "/v1/chat/completions":
            return data["choices"][0]["message"]["content"] or "", True, False
        text = "".join(p.get("text", "") for item in data["output"]
                       for p in item.get("content") or ())
        return text, data["status"] == "completed", data["status"] == "failed"
    frames = [f[6:] for f in raw.split(b"\n") if f.startswith(b"data: ")]
    text, ended, failed = [], False, False
    for frame in frames:
        if frame == b"[DONE]":
            ended = True
            continue
        event = orjson.loads(frame)
        kind = event.get("type")
        if path == "/v1/messages":
            if kind == "content_block_delta":
                text.append(event["delta"].get("text", ""))
            ended |= kind == "message_stop"
            failed |= kind == "error"
        elif path == "/v1/chat/completions":
            if "error" in event:
                failed = True
            for choice in event.get("choices") or ():
                text.append((choice.get("delta") or {}).get("content") or "")
        else:
            if kind == "response.output_text.delta":
                text.append(event["delta"])
            ended |= kind == "response.completed"
            failed |= kind in ("response.failed", "error")
    if path == "/v1/chat/completions" and failed:
        ended = False  # an error chunk before [DONE] is not a completion
    return "".join(text), ended, failed


async def drive(url: str, requests: int, clients: int) -> tuple[Counter[str], list[float]]:
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    queue = list(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        while queue:
            n = queue.pop()
            path, stream = KINDS[n % len(KINDS)]
            started = time.monotonic()
            try:
                response = await http.post(url + path, content=body(path, stream),
                                           headers={**ANTHROPIC,
                                                    "content-type": "application/json"})
                outcome = classify(path, stream, response.status_code, response.headers,
                                   response.content)
            except (httpx.HTTPError, orjson.JSONDecodeError, KeyError):
                outcome = "lost"
            latencies.append(time.monotonic() - started)
            outcomes[outcome] += 1
            outcomes[f"{path} {'stream' if stream else 'json'} {outcome}"] += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http, \
            trio.open_nursery() as nursery:
        for _ in range(clients):
            nursery.start_soon(client, http)
    return outcomes, latencies


def run_load(requests: int = REQUESTS, clients: int = CLIENTS, rate: float = FAULT_RATE
             ) -> dict[str, Any]:
    upstream = FaultyUpstream(rate, key=KEY, stall_s=3.0)
    with serve_asgi(upstream) as upstream_url:
        env = {**provider_env("openai", upstream_url), "OPENAI_API_KEY": KEY,
               "LOG_LEVEL": "error", "OPENAI_TIMEOUT_MS": "1000",
               "API_RETRY_MAX_RETRIES": "3", "API_RETRY_INITIAL_DELAY": "10",
               "CIRCUIT_BREAKER_TIMEOUT": "1000", "UPSTREAM_MAX_LINE_BYTES": "65536",
               "LOAD_SHEDDING_MEMORY_THRESHOLD": "1"}
        state = lynkr_state(env)
        breaker = state.breakers["openai"]
        with serve_state(state) as url:
            started = time.monotonic()
            outcomes, latencies = trio.run(drive, url, requests, clients)
            elapsed = time.monotonic() - started
            trips_while_faulty = breaker.trips
            upstream.down = True  # a real outage: every answer 503
            down, _ = trio.run(drive, url, 60, 10)
            trips_when_down = breaker.trips
            open_when_down = breaker.state.value
            upstream.down, upstream.rate = False, 0.0
            time.sleep(1.1)  # the breaker's timeout: half-open, one probe at a time
            recovered, _ = trio.run(drive, url, 60, 10)
    latencies.sort()
    return {
        "requests": requests, "clients": clients, "fault_rate": rate,
        "upstream_answers": dict(upstream.counts),
        "outcomes": {k: v for k, v in sorted(outcomes.items()) if " " not in k},
        "by_kind": {k: v for k, v in sorted(outcomes.items()) if " " in k},
        "seconds": round(elapsed, 1), "requests_per_s": round(requests / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
        "breaker_trips_while_faulty": trips_while_faulty,
        "breaker_when_down": {"trips": trips_when_down, "state": open_when_down,
                              "outcomes": dict(down)},
        "after_recovery": {"state": breaker.state.value, "outcomes": dict(recovered)},
    }


def test_faults_under_load_lose_nothing_and_trip_the_breaker_only_when_down() -> None:
    figures = run_load()
    print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    outcomes = figures["outcomes"]
    assert outcomes.get("lost", 0) == 0, figures
    assert outcomes.get("false_complete", 0) == 0, figures
    assert outcomes["complete"] + outcomes.get("error", 0) == REQUESTS
    assert set(figures["upstream_answers"]) > {"ok", "cut", "stall", "bad_gzip", "long_line"}
    assert figures["breaker_trips_while_faulty"] == 0, figures
    assert figures["breaker_when_down"]["trips"] >= 1
    assert figures["breaker_when_down"]["state"] == "open"
    assert figures["after_recovery"]["state"] == "closed"
    # while the probes settle, the other requests are refused fast (503), then all complete
    assert figures["after_recovery"]["outcomes"].get("complete", 0) >= 30
    assert figures["after_recovery"]["outcomes"].get("lost", 0) == 0
