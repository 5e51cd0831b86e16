"""The load shedder as an ASGI wrapper, driven in-process with fake memory readings."""

from __future__ import annotations

from typing import Any

import orjson
import trio

from lynkr.server.shedding import LoadShedder


class Slow:
    """An app that holds every request until released."""

    def __init__(self) -> None:
        self.release = trio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Any, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    await app({"type": "http", "path": path, "headers": []}, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


async def test_sheds_over_the_active_limit_but_never_health_probes() -> None:
    inner = Slow()
    shedder = LoadShedder(inner, max_active=2, memory_fraction=0.9, rss=lambda: 0, limit=100)
    results: list[int] = []

    async def hold(path: str) -> None:
        results.append((await call(shedder, path))[0])

    async with trio.open_nursery() as nursery:
        nursery.start_soon(hold, "/v1/messages")
        nursery.start_soon(hold, "/v1/chat/completions")
        await trio.testing.wait_all_tasks_blocked()
        status, headers, body = await call(shedder, "/v1/messages")
        assert status == 503
        assert headers[b"retry-after"] == b"2"
        assert orjson.loads(body)["error"]["type"] == "overloaded_error"
        status, _, body = await call(shedder, "/v1/chat/completions")
        assert status == 503 and orjson.loads(body)["error"]["code"] == "overloaded"
        nursery.start_soon(hold, "/health/live")  # not shed, not counted
        await trio.testing.wait_all_tasks_blocked()
        inner.release.set()
    assert sorted(results) == [200, 200, 200]
    assert shedder.active == 0 and shedder.shed == 2


async def test_sheds_on_memory_and_recovers_when_it_drops() -> None:
    rss = [95]
    now = [0.0]
    inner = Slow()
    inner.release.set()
    shedder = LoadShedder(inner, max_active=10, memory_fraction=0.9, rss=lambda: rss[0],
                          limit=100, memory_every_s=1.0, clock=lambda: now[0])
    assert (await call(shedder, "/v1/messages"))[0] == 503
    rss[0] = 10
    assert (await call(shedder, "/v1/messages"))[0] == 503  # sampled at most once a second
    now[0] = 1.5
    assert (await call(shedder, "/v1/messages"))[0] == 200


async def test_an_idle_server_sheds_nothing() -> None:
    inner = Slow()
    inner.release.set()
    shedder = LoadShedder(inner, max_active=1000, memory_fraction=0.85)  # real readings
    assert (await call(shedder, "/health/live"))[0] == 200
    assert (await call(shedder, "/v1/messages"))[0] == 200


async def test_each_refusal_is_reported_with_its_reason_and_shutdown_refuses_all() -> None:
    inner = Slow()
    inner.release.set()
    reasons: list[str] = []
    closing = [False]
    rss = [0]
    shedder = LoadShedder(inner, max_active=0, memory_fraction=0.5, rss=lambda: rss[0],
                          limit=100, memory_every_s=0.0, on_shed=reasons.append,
                          closing=lambda: closing[0])
    assert (await call(shedder, "/v1/messages"))[0] == 503
    shedder.max_active = 10
    rss[0] = 90
    assert (await call(shedder, "/v1/messages"))[0] == 503
    rss[0] = 0
    assert (await call(shedder, "/v1/messages"))[0] == 200
    closing[0] = True
    status, headers, body = await call(shedder, "/v1/chat/completions")
    assert status == 503 and headers[b"retry-after"] == b"2"
    assert "shutting down" in orjson.loads(body)["error"]["message"]
    assert (await call(shedder, "/health/ready"))[0] == 200
    assert (await call(shedder, "/metrics/prometheus"))[0] == 200
    assert reasons == ["active_requests", "memory", "shutdown"]


async def test_memory_only_the_allocator_still_holds_is_given_back_instead_of_shedding() -> None:
    released: list[bool] = []
    inner = Slow()
    inner.release.set()
    shedder = LoadShedder(inner, max_active=10, memory_fraction=0.9, limit=100,
                          rss=lambda: 10 if released else 95,
                          release=lambda: released.append(True))
    assert (await call(shedder, "/v1/messages"))[0] == 200
    assert released == [True] and shedder.memory_refusal() is None


def test_release_memory_really_lowers_resident_memory_after_a_peak() -> None:
    """What kept the original shedding for ever: freed memory stays resident until trimmed."""
    from lynkr.observability.memory import release_memory, rss_bytes

    before = rss_bytes()
    peak_objects = [bytes(2000) + str(i).encode() for i in range(60_000)]
    peak = rss_bytes()
    del peak_objects
    release_memory()
    after = rss_bytes()
    assert peak - before > 100 << 20
    assert after - before < (peak - before) / 2
