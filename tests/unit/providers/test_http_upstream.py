"""Every HTTP vendor through the Upstream port, with httpx.MockTransport as the network.

Each vendor is configured from its real environment variables; the test checks the URL and
headers the transport sends, reads an answer written in the vendor's wire format back as
canonical events, and maps each error status (and a refused connection, a timeout and a cut
stream) to the error class the client is told about.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import httpx
import orjson
import pytest
from harness.fake_anthropic import anthropic_frames
from harness.wire import Reply, ollama_lines, openai_chunks

from lynkr.config.settings import load_settings
from lynkr.formats.fold import fold
from lynkr.model.content import TextBlock, ToolUseBlock
from lynkr.model.errors import (
    BadRequest,
    LynkrError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    RateLimited,
    UpstreamAuthRejected,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from lynkr.model.events import StreamError
from lynkr.model.request import Message, Request
from lynkr.ports import Answering, UpstreamCall
from lynkr.providers.http import HttpUpstream


@attrs.frozen
class Case:
    env: dict[str, str]
    url: str
    headers: dict[str, str]  # must be sent (values exact)
    absent: tuple[str, ...]  # must not be sent
    wire: str  # "openai", "ollama" or "anthropic"


CASES = {
    "ollama": Case({"OLLAMA_ENDPOINT": "http://ollama.test:11434"},
                   "http://ollama.test:11434/api/chat", {"content-type": "application/json"},
                   ("authorization", "x-api-key"), "ollama"),
    "openai": Case({"OPENAI_API_KEY": "sk-open", "OPENAI_ORGANIZATION": "org-1"},
                   "https://api.openai.com/v1/chat/completions",
                   {"authorization": "Bearer sk-open", "openai-organization": "org-1"},
                   ("x-api-key", "api-key"), "openai"),
    "openrouter": Case({"OPENROUTER_API_KEY": "sk-or"},
                       "https://openrouter.ai/api/v1/chat/completions",
                       {"authorization": "Bearer sk-or", "x-title": "Lynkr",
                        "http-referer": "https://github.com/lynkr"}, ("x-api-key",), "openai"),
    "llamacpp": Case({"LLAMACPP_ENDPOINT": "http://llama.test:8080", "LLAMACPP_API_KEY": "k"},
                     "http://llama.test:8080/v1/chat/completions",
                     {"authorization": "Bearer k"}, ("x-title",), "openai"),
    "lmstudio": Case({}, "http://localhost:1234/v1/chat/completions", {},
                     ("authorization",), "openai"),
    "anthropic": Case({"ANTHROPIC_UPSTREAM_API_KEY": "sk-ant"},
                      "https://api.anthropic.com/v1/messages",
                      {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01",
                       "anthropic-beta": "interleaved-thinking-2025-05-14,made-up-2099-01-01"},
                      ("authorization",), "anthropic"),
    "azure-anthropic": Case(
        {"AZURE_ANTHROPIC_ENDPOINT": "https://res.services.ai.azure.com/anthropic/v1/messages",
         "AZURE_ANTHROPIC_API_KEY": "az-ant"},
        "https://res.services.ai.azure.com/anthropic/v1/messages",
        # Foundry refuses betas it does not know: only the documented one is passed on
        {"x-api-key": "az-ant", "anthropic-beta": "interleaved-thinking-2025-05-14"},
        ("authorization",), "anthropic"),
    "azure-openai": Case(
        {"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
         "AZURE_OPENAI_API_KEY": "az-key", "AZURE_OPENAI_DEPLOYMENT": "gpt-4o"},
        "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
        "?api-version=2024-10-21",
        {"api-key": "az-key"}, ("authorization",), "openai"),
    "databricks": Case(
        {"DATABRICKS_API_BASE": "https://dbc.cloud.databricks.com",
         "DATABRICKS_API_KEY": "dapi"},
        "https://dbc.cloud.databricks.com/serving-endpoints/databricks-claude-sonnet-4-5/"
        "invocations", {"authorization": "Bearer dapi"}, ("x-api-key",), "openai"),
}
DATABRICKS_MESSAGES = Case(
    {"DATABRICKS_API_BASE": "https://dbc.cloud.databricks.com", "DATABRICKS_API_KEY": "dapi",
     "DATABRICKS_ENDPOINT_PATH": "/serving-endpoints/anthropic/v1/messages"},
    "https://dbc.cloud.databricks.com/serving-endpoints/anthropic/v1/messages",
    {"authorization": "Bearer dapi", "anthropic-beta": "interleaved-thinking-2025-05-14"},
    ("x-api-key",), "anthropic")
ALL = [*CASES.items(), ("databricks", DATABRICKS_MESSAGES)]
IDS = [*CASES, "databricks-messages"]
REQUEST = Request("claude-sonnet-4-5", (Message("user", (TextBlock("hi"),)),), 1024,
                  stream=True, betas=("interleaved-thinking-2025-05-14", "made-up-2099-01-01"))
ANSWERING = Answering("msg_test", "client-model")


def upstream(name: str, case: Case, handler: Callable[[httpx.Request], httpx.Response]
             ) -> HttpUpstream:
    settings = load_settings(environ={"MODEL_PROVIDER": name, **case.env},
                             env_file="/nonexistent/.env")
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HttpUpstream(settings.providers[name], client)


def answer(wire: str, reply: Reply) -> tuple[bytes, str]:
    if wire == "ollama":
        return b"".join(ollama_lines(reply)), "application/x-ndjson"
    if wire == "anthropic":
        return b"".join(anthropic_frames(reply)), "text/event-stream"
    return b"".join(openai_chunks(reply)), "text/event-stream"


async def events_of(target: HttpUpstream, call: UpstreamCall) -> list[Any]:
    events: list[Any] = []
    async with target.open(call) as batches:
        async for batch in batches:
            events.extend(batch)
    return events


@pytest.mark.parametrize(("name", "case"), ALL, ids=IDS)
async def test_url_headers_and_answer(name: str, case: Case) -> None:
    seen: list[httpx.Request] = []
    body, content_type = answer(case.wire, Reply(text="hello there"))

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    target = upstream(name, case, handler)
    call = target.prepare(REQUEST, ANSWERING)
    assert call.target == case.url
    assert call.context.message_id == "msg_test"
    response = fold(await events_of(target, call))
    [sent] = seen
    assert (sent.method, str(sent.url)) == ("POST", case.url)
    assert {k: sent.headers.get(k) for k in case.headers} == case.headers
    assert [h for h in case.absent if h in sent.headers] == []
    assert sent.headers["accept-encoding"] == "identity"
    assert orjson.loads(sent.content) == orjson.loads(call.body)
    assert response.content == (TextBlock("hello there"),)
    assert response.stop_reason == "end_turn"
    assert target.info.family == ("openai" if case.wire == "openai" else case.wire)


STATUSES = [
    (400, BadRequest, 400), (401, UpstreamAuthRejected, 502),
    (403, UpstreamAuthRejected, 502),
    (404, NotFound, 404), (408, UpstreamTimeout, 504), (413, PayloadTooLarge, 413),
    (422, BadRequest, 400), (429, RateLimited, 429), (500, UpstreamError, 502),
    (503, Overloaded, 529), (504, UpstreamTimeout, 504), (529, Overloaded, 529),
]


@pytest.mark.parametrize(("name", "case"), ALL, ids=IDS)
@pytest.mark.parametrize(("status", "kind", "client_status"), STATUSES,
                         ids=[str(s[0]) for s in STATUSES])
async def test_error_status_maps_to_the_clients_error(name: str, case: Case, status: int,
                                                      kind: type[LynkrError],
                                                      client_status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"message": "the model said no"}},
                              headers={"retry-after": "7"})

    target = upstream(name, case, handler)
    with pytest.raises(LynkrError) as raised:
        await events_of(target, target.prepare(REQUEST, ANSWERING))
    error = raised.value
    assert type(error) is kind
    assert error.status == client_status
    assert error.message.startswith(f"{name} answered {status}: the model said no")
    assert error.retry_after == (7.0 if kind in (RateLimited, Overloaded) else None)


@pytest.mark.parametrize(("exc", "kind", "fragment"), [
    (httpx.ConnectError("[Errno 111] Connection refused"), UpstreamUnreachable,
     "is not answering (connection refused)"),
    (httpx.ReadTimeout("slow"), UpstreamTimeout, "sent nothing for 120s"),
    (httpx.RemoteProtocolError("garbage"), UpstreamUnreachable, ": RemoteProtocolError"),
])
async def test_no_answer_is_named(exc: Exception, kind: type[LynkrError], fragment: str
                                  ) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    target = upstream("ollama", CASES["ollama"], handler)
    with pytest.raises(kind) as raised:
        await events_of(target, target.prepare(REQUEST, ANSWERING))
    assert "ollama" in raised.value.message and fragment in raised.value.message


async def test_a_cut_stream_ends_with_a_stream_error() -> None:
    frames = openai_chunks(Reply(text="hello there"))

    class Cut(httpx.AsyncByteStream):
        async def __aiter__(self) -> Any:
            yield frames[0]
            yield frames[1]
            raise httpx.ReadError("peer reset")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Cut(), headers={"content-type": "text/event-stream"})

    target = upstream("openai", CASES["openai"], handler)
    events = await events_of(target, target.prepare(REQUEST, ANSWERING))
    assert isinstance(events[-1], StreamError)
    assert "the answer broke off in the middle (ReadError: peer reset)" in events[-1].message


async def test_the_parse_context_comes_from_the_request() -> None:
    """Tool ids already in the conversation are never reused for a new call."""
    history = Request("m", (
        Message("user", (TextBlock("go"),)),
        Message("assistant", (ToolUseBlock("call_0", "Read", {"path": "a"}),)),
    ), 100, stream=True)
    target = upstream("openai", CASES["openai"], lambda r: httpx.Response(500))
    call = target.prepare(history, ANSWERING)
    assert call.context.taken_ids == frozenset({"call_0"})
    assert call.context.input_estimate == len(call.body) // 4
