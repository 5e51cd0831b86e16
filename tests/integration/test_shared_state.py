"""Several Lynkr processes on loopback sharing one real redis-server: one rate limit, one
budget and one circuit breaker across processes, and Redis killed and restarted mid-run without
a failed request. Without Redis, ``--workers N`` shares limits through SQLite, reports the sum
of its workers' metrics and drains on SIGTERM like one process.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import anthropic
import httpx
import pytest
import trio
from harness.fake_model import FakeModel, Fault
from harness.redis_server import RedisServer, redis_server
from harness.servers import serve_asgi
from harness.wire import Reply
from integration.test_cli_process import base_env, free_port

from lynkr.auth.store import KeyStore

ANTHROPIC = {"anthropic-version": "2023-06-01"}
BODY = {
    "model": "claude-x",
    "max_tokens": 10,
    "stream": False,
    "messages": [{"role": "user", "content": "hi"}],
}


@contextmanager
def lynkr(
    tmp_path: Path, name: str, env: dict[str, str], *args: str
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``lynkr start`` as a process; its stderr goes to ``tmp_path/name.log``."""
    port = free_port()
    log = (tmp_path / f"{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "lynkr", "start", *args],
        cwd=tmp_path,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # several processes importing at once on a small box
        while not _live(url):
            assert process.poll() is None and time.monotonic() < deadline, "lynkr did not start"
            time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _live(url: str) -> bool:
    try:
        return httpx.get(url + "/health/live", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def make_keys(path: Path, **keys: dict[str, int]) -> dict[str, str]:
    store = KeyStore(path)
    made = {name: store.create(name, 1.0, **limits)[0] for name, limits in keys.items()}
    store.close()
    return made


def environment(tmp_path: Path, upstream: str, **extra: str) -> dict[str, str]:
    return base_env(
        tmp_path,
        MODEL_PROVIDER="ollama",
        OLLAMA_ENDPOINT=upstream,
        LYNKR_KEYS_DB_PATH=str(tmp_path / "keys.db"),
        LYNKR_DB_PATH=str(tmp_path / "lynkr.db"),
        API_RETRY_MAX_RETRIES="0",
        LOG_LEVEL="warning",
        **extra,
    )


async def fire(urls: list[str], key: str, count: int) -> tuple[Counter[int], float]:
    """``count`` requests at once, spread over ``urls``: statuses, and seconds it took."""
    statuses: Counter[int] = Counter()
    odd: list[str] = []  # the answers that are neither (for the failure message)
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = trio.current_time()

        async def one(url: str) -> None:
            response = await client.post(
                url + "/v1/messages", json=BODY, headers={**ANTHROPIC, "x-api-key": key}
            )
            statuses[response.status_code] += 1
            if response.status_code not in (200, 429):
                odd.append(response.text[:300])

        async with trio.open_nursery() as nursery:
            for i in range(count):
                nursery.start_soon(one, urls[i % len(urls)])
        assert not odd, (statuses, odd[:3])
        return statuses, trio.current_time() - started


async def steady_with_chaos(urls: list[str], key: str, redis: RedisServer) -> Counter[int]:
    """Three clients per process sending one request after another (360 in all) while Redis
    is killed after 1 s and started again 1.5 s later."""
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(timeout=30) as client:

        async def steady(url: str, count: int) -> None:
            for _ in range(count):
                response = await client.post(
                    url + "/v1/messages", json=BODY, headers={**ANTHROPIC, "x-api-key": key}
                )
                statuses[response.status_code] += 1
                await trio.sleep(0.02)

        async def chaos() -> None:
            await trio.sleep(1.0)
            await trio.to_thread.run_sync(redis.kill)
            await trio.sleep(1.5)
            await trio.to_thread.run_sync(redis.start)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(chaos)
            for url in urls:
                for _ in range(3):
                    nursery.start_soon(steady, url, 60)
    return statuses


def own_count(url: str) -> float:
    """``lynkr_key_requests_total`` of the one worker that answers (``/metrics/observability``
    is per process)."""
    body = httpx.get(
        url + "/metrics/observability", headers={"connection": "close"}, timeout=10
    ).json()
    family = body["metrics"].get("lynkr_key_requests", {"samples": []})
    return sum(s["value"] for s in family["samples"] if s["name"] == "lynkr_key_requests_total")


def metric(url: str, name: str) -> float:
    text = httpx.get(url + "/metrics/prometheus", timeout=10).text
    found = [
        float(v)
        for v in re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    ]
    return sum(found)


def test_four_processes_share_one_limit_one_budget_and_one_breaker(tmp_path: Path) -> None:
    keys = make_keys(
        tmp_path / "keys.db", limited={"rpm": 100}, budgeted={"budget_tokens": 500}, plain={}
    )
    healthy = [True]
    model = FakeModel(lambda body: Reply(text="ok") if healthy[0] else Fault("status", 500))
    with ExitStack() as stack:
        redis: RedisServer = stack.enter_context(redis_server(tmp_path))
        upstream = stack.enter_context(serve_asgi(model))
        env = environment(
            tmp_path, upstream, REDIS_URL=redis.url, CIRCUIT_BREAKER_FAILURE_THRESHOLD="2"
        )
        # a copy of the key database each, as four hosts: what they share goes through Redis
        for i in range(4):
            shutil.copy(tmp_path / "keys.db", tmp_path / f"keys{i}.db")
        urls = [
            stack.enter_context(
                lynkr(
                    tmp_path, f"p{i}", {**env, "LYNKR_KEYS_DB_PATH": str(tmp_path / f"keys{i}.db")}
                )
            )[0]
            for i in range(4)
        ]

        # 1. one 100 requests/min limit: at most 100 of 400 concurrent requests get through
        # (plus what the bucket refills while they arrive: 100/60 a second)
        statuses, took = trio.run(fire, urls, keys["limited"], 400)
        assert set(statuses) <= {200, 429}, statuses
        assert 100 <= statuses[200] <= 100 + math.ceil(took * 100 / 60), (statuses, took)
        assert len(model.calls) == statuses[200]
        # a real client through another process: the shared bucket is empty there too, but
        # for what refilled (100/60 a second) since the burst's last admission
        client = anthropic.Anthropic(base_url=urls[3], api_key=keys["limited"], max_retries=0)
        passed, started = 0, time.monotonic()
        with pytest.raises(anthropic.RateLimitError) as refused:
            while passed <= 100:
                client.messages.create(
                    model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )
                passed += 1
        assert passed <= math.ceil((time.monotonic() - started + took) * 100 / 60), passed
        headers = refused.value.response.headers
        assert headers["anthropic-ratelimit-requests-limit"] == "100"
        assert headers["anthropic-ratelimit-requests-remaining"] == "0"
        assert int(headers["retry-after"]) >= 1

        # 2. one budget: spent through one process, refused by every other (each has its own
        # ledger file: the sums come from Redis)
        calls = len(model.calls)
        spent = 0
        while spent < 500:  # each answer reports 120 + 12 tokens
            response = httpx.post(
                urls[0] + "/v1/messages",
                json=BODY,
                headers={**ANTHROPIC, "x-api-key": keys["budgeted"]},
            )
            assert response.status_code == 200, response.text
            spent += 132
        for url in urls[1:]:
            response = httpx.post(
                url + "/v1/messages",
                json=BODY,
                headers={**ANTHROPIC, "x-api-key": keys["budgeted"]},
            )
            assert response.status_code == 429
            assert "budget" in response.json()["error"]["message"]
        assert len(model.calls) == calls + 4

        # 3. one breaker: opened by two failures through process 0, seen by the others
        healthy[0] = False
        for _ in range(2):
            response = httpx.post(
                urls[0] + "/v1/messages",
                json=BODY,
                headers={**ANTHROPIC, "x-api-key": keys["plain"]},
            )
            assert response.status_code in (500, 502), response.text
        calls = len(model.calls)
        for url in urls[1:]:  # seen before this process sends anything
            breakers = httpx.get(url + "/metrics/circuit-breakers").json()
            assert breakers["circuit_breakers"]["ollama"]["state"] == "open"
            response = httpx.post(
                url + "/v1/messages", json=BODY, headers={**ANTHROPIC, "x-api-key": keys["plain"]}
            )
            assert response.status_code == 503, response.text
            assert "circuit breaker open" in response.json()["error"]["message"]
        assert len(model.calls) == calls  # no other process called the failing provider
        assert redis.command("EXISTS", "lynkr:breaker:ollama").startswith(b":1")


def test_redis_killed_and_restarted_mid_run_fails_no_request(tmp_path: Path) -> None:
    keys = make_keys(tmp_path / "keys.db", alice={"rpm": 100_000, "tpm": 10_000_000})
    with ExitStack() as stack:
        redis: RedisServer = stack.enter_context(redis_server(tmp_path))
        upstream = stack.enter_context(serve_asgi(FakeModel([Reply(text="ok")])))
        env = environment(tmp_path, upstream, REDIS_URL=redis.url)
        urls = [stack.enter_context(lynkr(tmp_path, f"p{i}", env))[0] for i in range(2)]
        statuses = trio.run(steady_with_chaos, urls, keys["alice"], redis)
        assert statuses == Counter({200: 360}), statuses
        for url in urls:  # back on Redis by itself: the backoff is at most 5 s
            deadline = time.monotonic() + 10
            while metric(url, "lynkr_shared_state_up") != 1 and time.monotonic() < deadline:
                httpx.post(
                    url + "/v1/messages",
                    json=BODY,
                    headers={**ANTHROPIC, "x-api-key": keys["alice"]},
                )
                time.sleep(0.2)
            assert metric(url, "lynkr_shared_state_up") == 1
            assert metric(url, "lynkr_shared_state_fallbacks_total") > 0
            httpx.post(
                url + "/v1/messages", json=BODY, headers={**ANTHROPIC, "x-api-key": keys["alice"]}
            )
            # admitted through Redis again (a nearly full bucket lives about a second)
            assert redis.command("EXISTS", "lynkr:limit:alice:requests").startswith(b":1")
    logs = "".join((tmp_path / f"p{i}.log").read_text() for i in range(2))
    assert "Redis unreachable" in logs and "Traceback" not in logs


def test_workers_share_limits_through_sqlite_sum_metrics_and_drain(tmp_path: Path) -> None:
    keys = make_keys(tmp_path / "keys.db", limited={"rpm": 10})
    with ExitStack() as stack:
        upstream = stack.enter_context(serve_asgi(FakeModel([Reply(text="ok")])))
        folder = tmp_path / "metrics"  # given, so the test can see both workers are up
        env = environment(tmp_path, upstream, PROMETHEUS_MULTIPROC_DIR=str(folder))
        url, process = stack.enter_context(lynkr(tmp_path, "workers", env, "--workers", "2"))
        deadline = time.monotonic() + 90
        while len({p.stem.rsplit("_", 1)[-1] for p in folder.glob("*.db")}) < 2:
            assert time.monotonic() < deadline, "the second worker did not start"
            time.sleep(0.2)
        statuses: Counter[int] = Counter()
        for _ in range(30):  # a new connection each: spread over the workers
            response = httpx.post(
                url + "/v1/messages",
                json=BODY,
                headers={**ANTHROPIC, "x-api-key": keys["limited"], "connection": "close"},
            )
            statuses[response.status_code] += 1
        assert statuses[200] <= 11 and statuses[200] + statuses[429] == 30, statuses
        assert metric(url, "lynkr_key_requests_total") == 30  # whichever worker answers
        seen = {own_count(url) for _ in range(12)}  # each worker's own count (JSON view)
        assert min(seen) < 30, seen  # so the 30 above was a sum over more than one worker
        assert (tmp_path / "limits.db").is_file()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert "Traceback" not in (tmp_path / "workers.log").read_text()


pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
