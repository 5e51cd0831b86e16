"""Hot reload of the pipeline file under load, on the real server on loopback: 200 streaming
requests in flight while the file changes twice (once broken). None fails, and each is served
wholly by the one pipeline version its ``x-lynkr-pipeline`` names: the model it was routed to
(``map_model``) and the model its stream reports (``egress.report_model``) both belong to that
version. The broken file changes nothing and each of its mistakes is logged with its place.
``lynkr start`` as a real process reloads on SIGHUP.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import trio
from harness.proxy import provider_env
from harness.servers import lynkr_state, serve_asgi, serve_state
from harness.wire import Reply, openai_chunks
from test_cli_process import base_env, free_port, wait_live

from lynkr.server.state import AppState

ALPHA = """name: alpha
stages:
  - normalize
  - route
  - map_model: {models: {"*": "model-a"}}
  - egress: {report_model: client}
"""
BETA = (
    ALPHA.replace("alpha", "beta")
    .replace("model-a", "model-b")
    .replace("report_model: client", "report_model: upstream")
)
BROKEN = BETA.replace("  - normalize\n", "  - normalise\n").replace(
    "report_model: upstream", "report_model: upstream, coalesce: 3"
)
# what each pipeline does, as the client can see it: (model asked upstream, model reported)
SEEN = {"alpha": ("model-a", "claude-x"), "beta": ("model-b", "model-b")}
FIRST, DURING_BROKEN, AFTER = 100, 50, 50
FRAMES, DELAY = 20, 0.02


class EchoingSlowUpstream:
    """OpenAI SSE, one frame every ``DELAY`` s, whose text names the model it was asked for;
    past half of it, each stream waits until ``release`` is set (so the test decides when
    streams may end)."""

    def __init__(self) -> None:
        self.started = self.finished = 0
        self.release = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        model = orjson.loads(raw)["model"]
        words = " ".join([f"model={model}"] + ["word"] * (FRAMES - 1))
        frames = openai_chunks(Reply(text=words), model=model)
        self.started += 1
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        for n, frame in enumerate(frames):
            await send({"type": "http.response.body", "body": frame, "more_body": True})
            await trio.sleep(DELAY)
            while n == len(frames) // 2 and not self.release.is_set():
                await trio.sleep(0.02)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.finished += 1


def read_stream(raw: bytes) -> tuple[str, str, bool]:
    """(the model message_start reports, the text, whether it ended with message_stop)."""
    model, text, ended = "", [], False
    for line in raw.split(b"\n"):
        if not line.startswith(b"data: "):
            continue
        event = orjson.loads(line[6:])
        if event["type"] == "message_start":
            model = event["message"]["model"]
        elif event["type"] == "content_block_delta":
            text.append(event["delta"].get("text", ""))
        ended |= event["type"] == "message_stop"
    return model, "".join(text), ended


async def until(condition: Any, what: str, seconds: float = 60.0) -> None:
    started = time.monotonic()
    with trio.fail_after(seconds):
        while not condition():
            await trio.sleep(0.01)
    print(f"{what}: {time.monotonic() - started:.2f} s")


def reloads(state: AppState, outcome: str) -> float:
    value = state.metrics.registry.get_sample_value(
        "lynkr_pipeline_reloads_total", {"outcome": outcome}
    )
    return value or 0.0


async def load_while_changing(
    url: str, state: AppState, upstream: EchoingSlowUpstream, path: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    results: list[dict[str, Any]] = []
    moments: dict[str, Any] = {}
    body = orjson.dumps(
        {
            "model": "claude-x",
            "max_tokens": 100,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        }
    )

    async def one(http: httpx.AsyncClient, phase: str) -> None:
        try:
            response = await http.post(
                url + "/v1/messages",
                content=body,
                headers={"anthropic-version": "2023-06-01", "content-type": "application/json"},
            )
            model, text, ended = read_stream(response.content)
            results.append(
                {
                    "phase": phase,
                    "status": response.status_code,
                    "model": model,
                    "text": text,
                    "ended": ended,
                    "version": response.headers.get("x-lynkr-pipeline", ""),
                }
            )
        except httpx.HTTPError as exc:
            results.append({"phase": phase, "status": 0, "error": repr(exc)})

    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http, trio.open_nursery() as nursery:
        for _ in range(FIRST):
            nursery.start_soon(one, http, "first")
        await until(lambda: upstream.started >= FIRST, "the first streams in flight")
        path.write_text(BROKEN)
        await until(lambda: reloads(state, "failed") >= 1, "the broken file refused")
        moments["version_after_broken"] = state.pipeline_version
        for _ in range(DURING_BROKEN):
            nursery.start_soon(one, http, "broken")
        await until(lambda: upstream.started >= FIRST + DURING_BROKEN, "more in flight")
        path.write_text(BETA)
        await until(lambda: state.pipeline_version.startswith("beta@"), "the swap")
        moments["finished_at_swap"] = upstream.finished
        for _ in range(AFTER):
            nursery.start_soon(one, http, "after")
        await until(lambda: upstream.started >= FIRST + DURING_BROKEN + AFTER, "all in flight")
        moments["in_flight"] = upstream.started - upstream.finished
        upstream.release.set()
    return results, moments


def test_200_streams_in_flight_while_the_file_changes_twice_once_broken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(ALPHA)
    upstream = EchoingSlowUpstream()
    caplog.set_level(logging.INFO, logger="lynkr.pipeline")
    with serve_asgi(upstream) as upstream_url:
        env = {
            **provider_env("openai", upstream_url),
            "LOG_LEVEL": "info",
            "LYNKR_PIPELINE_WATCH": "true",
            "LYNKR_PIPELINE_WATCH_INTERVAL_MS": "50",
            "API_RETRY_MAX_RETRIES": "0",
        }
        state = lynkr_state(env, str(path))
        first_version = state.pipeline_version
        with serve_state(state) as url:
            results, moments = trio.run(load_while_changing, url, state, upstream, path)
    assert first_version.startswith("alpha@") and first_version.endswith("#1")
    assert moments["version_after_broken"] == first_version  # the broken file changed nothing
    assert moments["finished_at_swap"] == 0  # every earlier stream was still in flight
    assert moments["in_flight"] == FIRST + DURING_BROKEN + AFTER
    assert len(results) == FIRST + DURING_BROKEN + AFTER
    failed = [r for r in results if r["status"] != 200 or not r["ended"]]
    assert failed == []
    versions = Counter((r["phase"], r["version"].split("@")[0]) for r in results)
    assert versions == {
        ("first", "alpha"): FIRST,
        ("broken", "alpha"): DURING_BROKEN,
        ("after", "beta"): AFTER,
    }
    for r in results:  # each one wholly by the version it names
        upstream_model, reported = SEEN[r["version"].split("@")[0]]
        assert r["text"].startswith(f"model={upstream_model} word")
        assert r["model"] == reported
    assert {r["version"] for r in results if r["phase"] == "after"} == {state.pipeline_version}
    assert state.pipeline_version.endswith("#2")  # the broken file was no generation
    problems = [
        r.problem
        for r in caplog.records  # type: ignore[attr-defined]
        if r.getMessage() == "pipeline problem"
    ]
    assert len(problems) == 2, problems
    assert any(f"{path}:3:5: unknown stage 'normalise'" in p for p in problems), problems
    assert any(f"{path}:6:5:" in p and "coalesce" in p for p in problems), problems


def test_lynkr_start_reloads_on_sighup_and_keeps_running_on_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(ALPHA)
    upstream = EchoingSlowUpstream()
    upstream.release.set()
    port = free_port()
    with serve_asgi(upstream) as upstream_url:
        env = base_env(
            tmp_path,
            PORT=str(port),
            LYNKR_PIPELINE=str(path),
            API_RETRY_MAX_RETRIES="0",
            **provider_env("openai", upstream_url),
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "lynkr", "start"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"

        def served_by() -> str:
            response = httpx.post(
                url + "/v1/messages",
                timeout=30,
                json={
                    "model": "claude-x",
                    "max_tokens": 10,
                    "stream": True,
                    "messages": [{"role": "user", "content": "hi"}],
                },
                headers={"anthropic-version": "2023-06-01"},
            )
            assert response.status_code == 200, response.text
            return response.headers["x-lynkr-pipeline"]

        def after_sighup(outcome: str) -> str:
            """SIGHUP, then the version serving once the reload's ``outcome`` is counted."""
            sample = f'lynkr_pipeline_reloads_total{{outcome="{outcome}"}} '
            before = httpx.get(url + "/metrics/prometheus").text.count(sample + "1.0")
            process.send_signal(signal.SIGHUP)
            for _ in range(400):
                if httpx.get(url + "/metrics/prometheus").text.count(sample + "1.0") > before:
                    return str(httpx.get(url + "/health").json()["pipeline_version"])
                time.sleep(0.05)
            raise AssertionError(f"no {outcome} reload after SIGHUP")

        try:
            wait_live(url, process)
            assert served_by().startswith("alpha@")
            path.write_text(BROKEN)
            kept = after_sighup("failed")
            assert kept.startswith("alpha@") and kept.endswith("#1")  # still serving
            assert served_by() == kept
            path.write_text(BETA)
            version = after_sighup("reloaded")
            assert version.startswith("beta@") and version.endswith("#2")
            assert served_by() == version
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
            _, stderr = process.communicate(timeout=10)
    assert "pipeline reload failed; the running pipeline stays" in stderr
    assert "unknown stage 'normalise'" in stderr
    assert "pipeline reloaded" in stderr
    assert "Traceback" not in stderr
