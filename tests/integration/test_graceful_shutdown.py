"""SIGTERM on a real ``lynkr start`` with a stream in flight.

What happens, in order: readiness turns 503 at once; for ``SHUTDOWN_DRAIN_DELAY_MS`` the port
still accepts, and new API requests are answered 503 with ``Retry-After`` (the shedder's
``shutdown`` reason) while probes still answer; after the drain hypercorn closes its listener,
so new connections are refused; the stream in flight finishes with ``message_stop``; the
process exits 0 within ``GRACEFUL_SHUTDOWN_TIMEOUT`` of the signal.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from harness.servers import serve_asgi
from harness.slow_upstream import SlowUpstream
from test_cli_process import base_env, free_port, wait_live

BODY = {"model": "claude-x", "max_tokens": 50, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"anthropic-version": "2023-06-01"}
GRACEFUL_S = 12.0
DRAIN_S = 1.5
FRAME_DELAY_S = 0.5  # 11 frames: the answer takes about 5.5 s


def poll(check: object, within: float) -> float:
    """Seconds until ``check()`` is true (polled every 20 ms), or fail after ``within``."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"not true within {within}s")


def ready_status(url: str) -> int:
    try:
        return httpx.get(url + "/health/ready", timeout=1).status_code
    except httpx.ConnectError:
        return -1


def refused(url: str) -> bool:
    """No longer served: the connection is refused, or (a connection accepted in the instant
    hypercorn closes its listener) closed without an answer."""
    try:
        httpx.get(url + "/health/live", timeout=1)
    except (httpx.ConnectError, httpx.RemoteProtocolError):
        return True
    return False


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_flips_readiness_refuses_new_work_and_finishes_the_stream(
        tmp_path: Path, workers: str) -> None:
    """The same with ``--workers 2``: the parent's signal drains both workers alike."""
    slow = SlowUpstream(delay=FRAME_DELAY_S)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve_asgi(slow, graceful=2.0) as upstream:
        env = base_env(tmp_path, PORT=str(port), MODEL_PROVIDER="openai",
                       OPENAI_API_KEY="sk-test", OPENAI_ENDPOINT=upstream + "/v1",
                       OPENAI_MODEL="fake-model", LOG_LEVEL="warning",
                       GRACEFUL_SHUTDOWN_TIMEOUT=str(int(GRACEFUL_S * 1000)),
                       SHUTDOWN_DRAIN_DELAY_MS=str(int(DRAIN_S * 1000)))
        process = subprocess.Popen([sys.executable, "-m", "lynkr", "start", "--workers",
                                    workers], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            wait_live(url, process)
            events: list[str] = []
            streaming = threading.Event()

            def consume() -> None:
                with httpx.stream("POST", url + "/v1/messages", json=BODY, headers=HEADERS,
                                  timeout=30) as response:
                    assert response.status_code == 200
                    for line in response.iter_lines():
                        if line.startswith("event: "):
                            events.append(line.removeprefix("event: "))
                            streaming.set()

            reader = threading.Thread(target=consume)
            reader.start()
            assert streaming.wait(10)
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            flipped = poll(lambda: ready_status(url) == 503, within=1.0)
            # during the drain: new work refused politely, in the client's dialect
            late = httpx.post(url + "/v1/messages", json=BODY, headers=HEADERS, timeout=5)
            live = httpx.get(url + "/health/live", timeout=1).status_code
            in_drain = time.monotonic() - signalled < DRAIN_S
            # after the drain: hypercorn has closed its listener, so connections are refused
            poll(lambda: refused(url), within=DRAIN_S + 2)
            closed_after = time.monotonic() - signalled
            stream_done_early = not reader.is_alive()
            reader.join(GRACEFUL_S)
            code = process.wait(timeout=GRACEFUL_S + 5)
            exited_after = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                process.kill()
            _, stderr = process.communicate(timeout=10)
    assert flipped < 0.5, flipped
    assert in_drain, "the checks above took longer than the drain; raise DRAIN_S"
    assert late.status_code == 503 and late.headers["retry-after"]
    assert late.json()["error"]["type"] == "overloaded_error"
    assert "shutting down" in late.json()["error"]["message"]
    assert live == 200
    assert closed_after >= DRAIN_S - 0.2, closed_after
    assert not stream_done_early  # still streaming when the listener closed
    assert events[0] == "message_start" and events[-1] == "message_stop", events
    assert slow.started == 1 == slow.finished  # the refused request never reached upstream
    assert code == 0, stderr
    assert exited_after < GRACEFUL_S, exited_after
    assert "Traceback" not in stderr
