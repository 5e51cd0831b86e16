"""The link to Redis while Redis is away: local state at once, a probe after each backoff
(0.2 s doubling to 5 s, one caller at a time), on trio's virtual clock against a loopback
port nothing listens on (connections refused)."""

from __future__ import annotations

import socket

import pytest
import trio
import trio.testing

from lynkr.shared.link import BACKOFF_MAX_S, BACKOFF_MIN_S, Link, Unavailable
from lynkr.shared.resp import Address


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def test_down_means_local_at_once_and_a_probe_after_each_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    states: list[bool] = []
    fallbacks: list[str] = []
    link = Link(
        Address("127.0.0.1", closed_port()), on_state=states.append, on_fallback=fallbacks.append
    )
    probes = 0
    real_call = link.pool.call

    async def counted(*args: object) -> object:
        nonlocal probes
        probes += 1
        return await real_call(*args)  # type: ignore[arg-type]

    link.pool.call = counted  # type: ignore[method-assign]
    with pytest.raises(Unavailable):
        await link.call("limits", "PING")
    assert states == [True, False] and probes == 1
    for _ in range(5):  # within the backoff: no connection attempted
        with pytest.raises(Unavailable):
            await link.call("limits", "PING")
    assert probes == 1 and fallbacks == ["limits"] * 6
    waits = []
    for _ in range(8):
        waits.append(link.retry_at - trio.current_time())
        await trio.sleep(waits[-1])
        with pytest.raises(Unavailable):
            await link.call("cache", "GET", "k")
    assert probes == 9
    assert waits[0] == pytest.approx(BACKOFF_MIN_S)
    assert waits[1] == pytest.approx(2 * BACKOFF_MIN_S)
    assert waits[-1] == pytest.approx(BACKOFF_MAX_S)
    assert states == [True, False]  # one warning's worth: still down, not flapping
    link.post("sessions", "HSET", "k", "f", "v")  # within the backoff: dropped and counted
    assert fallbacks[-1] == "sessions"
    await link.aclose()
