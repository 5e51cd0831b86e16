"""The AWS Bedrock transport: boto3's ``bedrock-runtime`` client, off the event loop.

Every blocking boto3 call runs in ``trio.to_thread`` behind one ``CapacityLimiter`` (at most
``AWS_BEDROCK_MAX_CONCURRENCY`` calls and streams at once, as many pooled connections). A
streamed answer is read by a worker thread that hands each event to the trio side through a
memory channel; when the client goes away the stream is closed, which ends the thread's read,
and the thread is joined before ``open`` returns: no thread outlives its request.

Claude model ids go through ``invoke_model_with_response_stream`` with the Anthropic-native
body (cache_control, thinking signatures and betas kept) unless ``AWS_BEDROCK_CLAUDE_API`` is
``converse``; every other model through ``converse_stream``. Errors before the answer starts
are raised as ``LynkrError``; later ones end the stream with a ``StreamError``.
"""

from __future__ import annotations

import contextlib
import math
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import boto3
import botocore.session
import orjson
import trio
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.tokens import ScopedEnvTokenProvider, TokenProviderChain

from lynkr.config.bedrock import BedrockSettings
from lynkr.config.providers import ProviderSettings
from lynkr.formats.bedrock.converse import build_converse, for_boto3
from lynkr.formats.bedrock.errors import bedrock_error
from lynkr.formats.bedrock.invoke import InvokeStreamParser, build_invoke_body, invoke_events
from lynkr.formats.bedrock.models import is_claude
from lynkr.formats.bedrock.stream import ConverseStreamParser, converse_events, stream_error
from lynkr.model.errors import LynkrError, UpstreamError, UpstreamTimeout, UpstreamUnreachable
from lynkr.model.events import Event, StreamError
from lynkr.model.request import Request
from lynkr.ports import Answering, InHand, ParseContext, ProviderInfo, UpstreamCall


class BedrockClient:
    """boto3's client and the limiter its calls share; ``aclose`` as the server expects."""

    def __init__(self, runtime: Any, max_concurrency: int) -> None:
        self.runtime = runtime
        self.limiter = trio.CapacityLimiter(max_concurrency)

    async def aclose(self) -> None:
        self.runtime.close()


def make_bedrock_client(config: BedrockSettings, connect_timeout_s: float = 10.0
                        ) -> BedrockClient:
    session = botocore.session.get_session()
    if config.api_key:  # a Bedrock API key: boto3's own bearer provider, scoped to this client
        env = {"AWS_BEARER_TOKEN_BEDROCK": config.api_key}
        session.register_component("token_provider", TokenProviderChain(
            providers=[ScopedEnvTokenProvider(session, environ=env)]))
    options = Config(
        region_name=config.region,
        connect_timeout=connect_timeout_s,
        read_timeout=config.read_timeout_s,
        retries={"total_max_attempts": 1},  # retries belong to Lynkr's resilience layer
        max_pool_connections=config.max_concurrency,
        user_agent_extra="lynkr",
        **({"signature_version": "bearer"} if config.api_key else {}),
    )
    if config.profile:
        session.set_config_variable("profile", config.profile)
    if config.access_key_id and config.secret_access_key:
        session.set_credentials(config.access_key_id, config.secret_access_key,
                                config.session_token)
    runtime = boto3.Session(botocore_session=session).client(
        "bedrock-runtime", region_name=config.region, endpoint_url=config.endpoint_url,
        config=options)
    return BedrockClient(runtime, config.max_concurrency)


class BedrockUpstream:
    """The ``Upstream`` port over boto3: ``prepare`` names the operation and its JSON body."""

    def __init__(self, config: BedrockSettings, client: BedrockClient,
                 settings: ProviderSettings | None = None, context_window: int = 200_000
                 ) -> None:
        self.config = config
        self.settings = settings or config.as_provider()
        self.client = client
        self._info = ProviderInfo("bedrock", "bedrock", self.settings.model,
                                  self.settings.endpoint, context_window)

    @property
    def info(self) -> ProviderInfo:
        return self._info

    def uses_invoke(self, model_id: str) -> bool:
        return is_claude(model_id) and self.config.claude_api == "invoke"

    def prepare(self, request: Request, answering: Answering) -> UpstreamCall:
        model_id = request.model or self.settings.model
        stream = "_stream" if request.stream else ""
        if self.uses_invoke(model_id):
            operation, body = "invoke" + stream, orjson.dumps(build_invoke_body(request))
        else:
            operation = "converse" + stream
            body = orjson.dumps(build_converse(request, model_id))
        context = ParseContext.of(request, answering.message_id, answering.model, len(body))
        return UpstreamCall(model_id, body, {}, context, operation)

    @asynccontextmanager
    async def open(self, call: UpstreamCall) -> AsyncIterator[Any]:
        op, model_id, context = call.operation, call.target, call.context
        runtime = self.client.runtime
        if op == "converse":
            answer = await self._call(model_id, lambda: runtime.converse(
                **for_boto3(orjson.loads(call.body))))
            yield InHand(converse_events(answer, context.message_id, context.model,
                                        context.taken_ids))
            return
        if op == "invoke":
            raw = await self._call(model_id, lambda: _read_invoke(runtime, model_id, call.body))
            yield InHand(invoke_events(raw, context.message_id, context.model))
            return
        parser: Any
        if op == "converse_stream":
            answer = await self._call(model_id, lambda: runtime.converse_stream(
                **for_boto3(orjson.loads(call.body))))
            events = answer["stream"]
            parser = ConverseStreamParser(context.message_id, context.model,
                                          context.input_estimate, context.taken_ids)
        else:
            answer = await self._call(model_id, lambda: runtime.invoke_model_with_response_stream(
                modelId=model_id, body=call.body,
                contentType="application/json", accept="application/json"))
            events = answer["body"]
            parser = InvokeStreamParser(context.message_id, context.model)
        sender, receiver = trio.open_memory_channel[tuple[str, Any]](math.inf)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pump, events, sender)
            try:
                yield BedrockStream(receiver, parser, self._failure)
            finally:
                _wake(events)  # a read blocked on the socket fails; the thread then ends
                receiver.close()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _call(self, model_id: str, call: Callable[[], Any]) -> Any:
        try:
            return await trio.to_thread.run_sync(call, limiter=self.client.limiter)
        except ClientError as exc:
            raise _client_error(exc, model_id) from None
        except BotoCoreError as exc:
            raise self._transport_error(exc) from None

    async def _pump(self, events: Any, sender: trio.MemorySendChannel[tuple[str, Any]]
                    ) -> None:
        def read() -> None:
            def put(item: tuple[str, Any]) -> None:
                trio.from_thread.run_sync(sender.send_nowait, item)

            try:
                for event in events:
                    put(("event", event))
                put(("end", None))
            except (trio.BrokenResourceError, trio.ClosedResourceError, trio.RunFinishedError):
                return  # the trio side has gone: stop reading
            except Exception as exc:  # the thread's top-level guard: all goes to the trio side
                try:
                    put(("error", exc))
                except (trio.BrokenResourceError, trio.ClosedResourceError,
                        trio.RunFinishedError):
                    return

        async with sender:
            await trio.to_thread.run_sync(read, limiter=self.client.limiter)

    def _failure(self, exc: Exception) -> StreamError:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error") or {}
            return stream_error(str(error.get("Code") or "internalServerException"),
                                str(error.get("Message") or ""))
        if isinstance(exc, ReadTimeoutError):
            return StreamError("timeout_error", f"bedrock sent nothing for "
                               f"{self.config.read_timeout_s:g}s; the answer was stopped")
        return StreamError("api_error", f"bedrock: connection lost in the middle of the "
                                        f"answer ({type(exc).__name__})")

    def _transport_error(self, exc: BotoCoreError) -> LynkrError:
        where = f"bedrock (region {self.config.region})"  # never the URL: clients see this
        if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
            return UpstreamUnreachable(f"{where} is not answering ({type(exc).__name__}); is "
                                       f"the region or AWS_BEDROCK_ENDPOINT right?")
        if isinstance(exc, ReadTimeoutError):
            return UpstreamTimeout(f"{where} sent nothing for {self.config.read_timeout_s:g}s")
        if isinstance(exc, NoCredentialsError):
            return UpstreamError(f"{where}: no AWS credentials; set AWS_BEDROCK_API_KEY or "
                                 f"configure the AWS credential chain")
        return UpstreamError(f"{where}: {type(exc).__name__}")


def _wake(events: Any) -> None:
    """Shut the stream's socket down (closing alone does not wake a blocked ``recv``)."""
    raw = getattr(events, "_raw_stream", None)
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    with contextlib.suppress(OSError, AttributeError):
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError, AttributeError, ValueError):
        events.close()


def _read_invoke(runtime: Any, model_id: str, body: bytes) -> bytes:
    answer = runtime.invoke_model(modelId=model_id, body=body,
                                  contentType="application/json", accept="application/json")
    return bytes(answer["body"].read())


def _client_error(exc: ClientError, model_id: str) -> LynkrError:
    error = exc.response.get("Error") or {}
    status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 500
    return bedrock_error(str(error.get("Code") or ""), str(error.get("Message") or ""),
                         int(status), model_id)


class BedrockStream:
    """The events of one streamed answer, one list per upstream event (or batch of them)."""

    def __init__(self, receiver: trio.MemoryReceiveChannel[tuple[str, Any]], parser: Any,
                 failure: Callable[[Exception], StreamError]) -> None:
        self._receiver = receiver
        self._parser = parser
        self._failure = failure
        self._finished = False

    def __aiter__(self) -> BedrockStream:
        return self

    async def __anext__(self) -> list[Event]:
        while not self._finished:
            try:
                kind, item = await self._receiver.receive()
            except (trio.EndOfChannel, trio.ClosedResourceError):
                kind, item = "end", None
            events = self._handle(kind, item)
            # take whatever else is already waiting: one write for the lot
            while not self._finished:
                try:
                    kind, item = self._receiver.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                    break
                events += self._handle(kind, item)
            if events:
                return events
        raise StopAsyncIteration

    def _handle(self, kind: str, item: Any) -> list[Event]:
        if kind == "end":
            self._finished = True
            return list(self._parser.close())
        if kind == "error":
            self._finished = True
            return [self._failure(item)]
        try:
            chunk = item["chunk"]["bytes"] if "chunk" in item else item
            events = list(self._parser.feed(chunk))
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            self._finished = True
            return [StreamError("api_error", f"bedrock sent a malformed event: {exc}")]
        if self._parser.done:
            self._finished = True
        return events
