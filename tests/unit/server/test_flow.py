"""One request through the real app in-process, with a scripted ``Upstream`` behind the port:
no sockets, virtual time. Checks what the client receives and what the request's record says
(the log line and the metrics are its projections)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing
from harness.events import end, text_block

from lynkr.config.settings import load_settings
from lynkr.model.content import TextBlock
from lynkr.model.errors import LynkrError, UpstreamUnreachable
from lynkr.model.events import BlockStop, Event, MessageStart, StreamError, Usage
from lynkr.model.request import Message, Request
from lynkr.pipeline.runner import StageTiming
from lynkr.ports import Answering, ParseContext, ProviderInfo, UpstreamCall
from lynkr.server.app import build_app, build_state
from lynkr.server.report import stage_reports
from lynkr.server.state import AppState
from lynkr.stages.exchange import Context, Exchange, Note

USAGE = Usage(input_tokens=11, output_tokens=3)


def answer(context: ParseContext, *pieces: str) -> list[list[Event]]:
    return [[MessageStart(context.message_id, context.model, Usage(input_tokens=11))],
            [*text_block(0, *pieces), BlockStop(0)], end("end_turn", USAGE)]


class ScriptedUpstream:
    """The Upstream port with a script: batches (after a virtual delay) or an error to raise."""

    def __init__(self, name: str, script: Any) -> None:
        self._info = ProviderInfo(name, "openai", f"{name}-model", f"http://{name}.test")
        self.script = script
        self.calls: list[UpstreamCall] = []
        self.closed = 0

    @property
    def info(self) -> ProviderInfo:
        return self._info

    def prepare(self, request: Request, answering: Answering) -> UpstreamCall:
        body = orjson.dumps({"model": request.model})
        return UpstreamCall(self._info.endpoint, body, {},
                            ParseContext.of(request, answering.message_id, answering.model,
                                            len(body)))

    @asynccontextmanager
    async def open(self, call: UpstreamCall) -> AsyncIterator[AsyncIterator[list[Event]]]:
        self.calls.append(call)
        if isinstance(self.script, LynkrError):
            raise self.script

        async def batches() -> AsyncIterator[list[Event]]:
            for delay, batch in self.script(call.context):
                await trio.sleep(delay)
                yield batch

        try:
            yield batches()
        finally:
            self.closed += 1

    async def aclose(self) -> None:
        return None


def state(tmp_path: Path, upstreams: dict[str, ScriptedUpstream], **env: str) -> AppState:
    settings = load_settings(environ={"MODEL_PROVIDER": "ollama", "LYNKR_DB_PATH":
                                      str(tmp_path / "db"), "API_RETRY_MAX_RETRIES": "0",
                                      "MEMORY_DB_PATH": str(tmp_path / "memory.db"), **env},
                             env_file="/nonexistent/.env")
    return build_state(settings, dict(upstreams))  # type: ignore[arg-type]


class Client:
    """The ASGI conversation of one request: what it sent, and when it hangs up."""

    def __init__(self, body: dict[str, Any], hang_up_after: int | None = None) -> None:
        self.body = orjson.dumps(body)
        self.sent: list[dict[str, Any]] = []
        self.hang_up = trio.Event()
        self.hang_up_after = hang_up_after
        self._read = False

    async def receive(self) -> dict[str, Any]:
        if not self._read:
            self._read = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        frames = [m for m in self.sent if m["type"] == "http.response.body"]
        if self.hang_up_after is not None and len(frames) >= self.hang_up_after:
            self.hang_up.set()

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body_bytes(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


async def call(app_state: AppState, client: Client, path: str = "/v1/messages") -> None:
    app = build_app(app_state)
    scope = {"type": "http", "method": "POST", "path": path, "headers": [
        (b"content-type", b"application/json"), (b"anthropic-version", b"2023-06-01")],
        "query_string": b""}
    await app(scope, client.receive, client.send)


def messages(stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {"model": "claude-x", "max_tokens": 50, "stream": stream,
            "messages": [{"role": "user", "content": "hi"}], **extra}


def logged(caplog: pytest.LogCaptureFixture) -> Any:
    [line] = [r for r in caplog.records if r.getMessage() == "request"]
    return line


@pytest.fixture(autouse=True)
def _log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lynkr.request")


async def test_a_stream_reaches_the_client_and_the_record_is_done(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        autojump_clock: trio.testing.MockClock) -> None:
    upstream = ScriptedUpstream("ollama", lambda c: [(0.5, b) for b in answer(c, "Hel", "lo")])
    client = Client(messages())
    await call(state(tmp_path, {"ollama": upstream}), client)
    assert client.status == 200
    assert b'"text":"Hel"' in client.body_bytes and b"message_stop" in client.body_bytes
    assert client.sent[-1]["more_body"] is False
    line = logged(caplog)
    assert (line.phase, line.status, line.provider, line.output_tokens) == (
        "done", 200, "ollama", 3)
    assert line.ttfb_ms is not None and line.ms >= 1000  # two 0.5 s upstream reads
    assert upstream.closed == 1


async def test_a_whole_answer_is_folded(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                        ) -> None:
    upstream = ScriptedUpstream("ollama", lambda c: [(0, b) for b in answer(c, "Hi", "!")])
    client = Client(messages(stream=False))
    await call(state(tmp_path, {"ollama": upstream}), client)
    body = orjson.loads(client.body_bytes)
    assert (client.status, body["content"], body["usage"]["output_tokens"]) == (
        200, [{"type": "text", "text": "Hi!"}], 3)
    assert logged(caplog).phase == "done"


async def test_a_client_going_away_stops_the_upstream_and_is_499(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        autojump_clock: trio.testing.MockClock) -> None:
    upstream = ScriptedUpstream("ollama", lambda c: [(1.0, b) for b in answer(
        c, *["word "] * 50)] + [(3600.0, [])])
    client = Client(messages(), hang_up_after=2)
    await call(state(tmp_path, {"ollama": upstream}), client)
    line = logged(caplog)
    assert (line.phase, line.status, line.client_disconnected) == ("client_gone", 499, True)
    assert trio.current_time() < 60  # nobody waited for the hour-long read
    assert upstream.closed == 1


async def test_an_upstream_refusing_falls_back_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    down = ScriptedUpstream("ollama", UpstreamUnreachable("ollama at http://o is not answering"))
    backup = ScriptedUpstream("openai", lambda c: [(0, b) for b in answer(c, "ok")])
    client = Client(messages())
    app_state = state(tmp_path, {"ollama": down, "openai": backup},
                      FALLBACK_PROVIDER="openai", OPENAI_API_KEY="sk-x")
    await call(app_state, client)
    assert client.status == 200
    assert client.headers[b"x-lynkr-fallback"].startswith(b"openai/")
    line = logged(caplog)
    assert (line.provider, line.fallbacks[0]["from_provider"]) == ("openai", "ollama")
    assert len(down.calls) == 1 and len(backup.calls) == 1


async def test_an_error_before_the_first_byte_is_error_json(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    down = ScriptedUpstream("ollama", UpstreamUnreachable("ollama at http://o is not answering"))
    client = Client(messages())
    await call(state(tmp_path, {"ollama": down}), client)
    body = orjson.loads(client.body_bytes)
    assert (client.status, body["error"]["type"]) == (502, "api_error")
    line = logged(caplog)
    assert (line.phase, line.status, line.error_type) == ("failed", 502, "api_error")


async def test_an_error_in_the_middle_ends_the_stream(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def cut(c: ParseContext) -> list[tuple[float, list[Event]]]:
        first, second, _ = answer(c, "par")
        return [(0, first), (0, second), (0, [StreamError("api_error", "peer reset")])]

    client = Client(messages())
    await call(state(tmp_path, {"ollama": ScriptedUpstream("ollama", cut)}), client)
    assert client.status == 200
    assert b"event: error" in client.body_bytes and b"peer reset" in client.body_bytes
    line = logged(caplog)
    assert (line.phase, line.stream_error) == ("done", "peer reset")


async def test_the_prompt_cache_tap_stores_and_the_next_request_is_a_hit(
        tmp_path: Path) -> None:
    upstream = ScriptedUpstream("ollama", lambda c: [(0, b) for b in answer(c, "Paris")])
    app_state = state(tmp_path, {"ollama": upstream})
    first, second = Client(messages(temperature=0)), Client(messages(temperature=0))
    await call(app_state, first)
    await call(app_state, second)
    assert (first.headers[b"x-lynkr-cache"], second.headers[b"x-lynkr-cache"]) == (
        b"miss", b"hit")
    assert len(upstream.calls) == 1
    assert b'"text":"Paris"' in second.body_bytes


def test_stage_reports_keep_every_note_and_time() -> None:

    exchange = Exchange(Request("m", (Message("user", (TextBlock("hi"),)),), 10),
                        Context("r"), notes=(Note("ingress", "dropped x"),
                                             Note("dedupe", "2 removed", 40)))
    reports = stage_reports(exchange, (StageTiming("normalize", 3.0),
                                       StageTiming("dedupe", 9.0)))
    assert [(r.stage, r.summary, r.tokens_removed, r.micros) for r in reports] == [
        ("ingress", "dropped x", 0, 0.0), ("normalize", "", 0, 3.0),
        ("dedupe", "2 removed", 40, 9.0)]
