"""The HTTP transport: one pooled ``httpx.AsyncClient`` per provider, the only network I/O.

``open`` sends the request and checks the status before anything reaches the client: an error
status, a refused connection or a timeout there is raised as a ``LynkrError`` (the server answers
it as error JSON). Once open, ``UpstreamStream`` yields canonical events a read at a time, and
turns a failure in the middle (a lost connection, a body that fails to decode) into a final
``StreamError`` event, never a silent end.

What reaches a client or a log never holds a secret: error bodies are read up to
``UPSTREAM_ERROR_BODY_BYTES`` and scrubbed of the provider's key and URL credentials, and
messages name the provider, not its URL. A wait for a pooled connection beyond
``UPSTREAM_POOL_TIMEOUT_MS`` is ``PoolBusy`` (local back-pressure, not a provider fault).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson

from lynkr.config.limits import Limits
from lynkr.config.providers import ProviderSettings
from lynkr.config.secrets import Scrubber, url_password
from lynkr.config.settings import Settings
from lynkr.formats.upstream_errors import error_message
from lynkr.model.errors import (
    LynkrError,
    PoolBusy,
    UpstreamTimeout,
    UpstreamUnreachable,
    from_upstream_status,
)
from lynkr.model.events import Event, StreamError
from lynkr.model.request import Request
from lynkr.providers.profiles import Profile, StreamParser, make_profile


class UpstreamBody(bytes):
    """The upstream body, with the headers that depend on the request (``anthropic-beta``)."""

    headers: dict[str, str]


class UpstreamStream:
    """The events of one upstream answer, one list per read."""

    def __init__(self, provider: HttpProvider, response: httpx.Response,
                 parser: StreamParser) -> None:
        self._provider = provider
        # We ask for identity encoding; then the transport's byte stream is the body and the
        # two decoding layers of aiter_bytes() can be skipped (they cost per chunk).
        encoding = response.headers.get("content-encoding", "identity")
        self._chunks = aiter(response.stream) if encoding == "identity" \
            else response.aiter_bytes()
        self._parser = parser
        self._closed = False

    def __aiter__(self) -> UpstreamStream:
        return self

    async def aclose(self) -> None:
        await self._chunks.aclose()  # type: ignore[attr-defined]

    async def __anext__(self) -> list[Event]:
        parser = self._parser
        if parser.done and not self._closed:
            await self._drain()
        while not self._closed:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._closed = True
                return parser.close()
            except httpx.TimeoutException:
                self._closed = True
                return [StreamError("timeout_error", self._provider.silent_message())]
            except httpx.HTTPError as exc:  # connection lost, or a body that fails to decode
                self._closed = True
                return [StreamError("api_error", self._provider.scrub(
                    f"{self._provider.name}: the answer broke off in the middle "
                    f"({type(exc).__name__}: {exc})"))]
            try:
                events = parser.feed(chunk)
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                self._closed = True
                return [StreamError("api_error", f"{self._provider.name} sent a malformed "
                                                 f"stream: {exc}")]
            if events:
                if isinstance(events[-1], StreamError):  # an upstream error frame may echo a key
                    events[-1] = StreamError(events[-1].error_type,
                                             self._provider.scrub(events[-1].message))
                return events
        raise StopAsyncIteration

    async def _drain(self, limit: int = 8) -> None:
        """Read what follows the answer's end (usually just the body's end), so the pooled
        connection can be reused; give up after a few reads."""
        self._closed = True
        for _ in range(limit):
            try:
                await self._chunks.__anext__()
            except (StopAsyncIteration, httpx.HTTPError):
                return


class HttpProvider:
    def __init__(self, settings: ProviderSettings, client: httpx.AsyncClient,
                 profile: Profile | None = None, limits: Limits | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self.client = client
        self.profile = profile or make_profile(settings)
        self.limits = limits or Limits()
        self.scrub = Scrubber([settings.api_key, url_password(settings.endpoint)])

    def silent_message(self) -> str:
        return (f"{self.name} sent nothing for {self.settings.read_timeout_s:g}s; "
                f"the answer was stopped")

    def body(self, request: Request) -> bytes:
        data = orjson.dumps(self.profile.build(request))
        if self.profile.request_headers is None:
            return data
        body = UpstreamBody(data)
        body.headers = self.profile.request_headers(request)
        return body

    @asynccontextmanager
    async def open(self, body: bytes, message_id: str, model: str, input_estimate: int,
                   taken_ids: frozenset[str] = frozenset()) -> AsyncIterator[UpstreamStream]:
        endpoint = self.settings.endpoint
        extra = getattr(body, "headers", None)
        headers = {**self.profile.headers, **extra} if extra else self.profile.headers
        request = self.client.build_request("POST", endpoint, content=bytes(body),
                                            headers=headers)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.ConnectError as exc:
            raise UpstreamUnreachable(
                f"{self.name} is not answering ({self.scrub(reason(exc))}); is it running, "
                f"and is its endpoint setting right?") from None
        except httpx.PoolTimeout:
            wait = self.limits.pool_timeout_s
            raise PoolBusy(f"{self.name}: no upstream connection came free within {wait:g}s "
                           f"(UPSTREAM_MAX_CONNECTIONS, UPSTREAM_POOL_TIMEOUT_MS)",
                           retry_after=max(1.0, wait)) from None
        except httpx.TimeoutException:
            raise UpstreamTimeout(self.silent_message()) from None
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(f"{self.name}: {self.scrub(reason(exc))}") from None
        try:
            if response.status_code >= 400:
                raise await self._status_error(response)
            parser = self.profile.parser(message_id, model, input_estimate, taken_ids,
                                         max_line=self.limits.upstream_max_line_bytes)
            stream = UpstreamStream(self, response, parser)
            try:
                yield stream
            finally:
                await stream.aclose()
        finally:
            await response.aclose()

    async def _status_error(self, response: httpx.Response) -> LynkrError:
        try:
            detail = self.scrub(error_message(await self._error_body(response)))
        except httpx.HTTPError:
            detail = "(no body)"
        retry = response.headers.get("retry-after")
        retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
        message = f"{self.name} answered {response.status_code}: {detail}"
        return from_upstream_status(response.status_code, message, retry_after)

    async def _error_body(self, response: httpx.Response) -> bytes:
        """At most ``UPSTREAM_ERROR_BODY_BYTES`` of an error body (its message is near the
        start; an endless one must not be read whole)."""
        limit, chunks, size = self.limits.error_body_bytes, [], 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
        return b"".join(chunks)[:limit]


def reason(exc: Exception) -> str:
    """Why a connection failed, without the address (a client must not learn it)."""
    text = str(exc).lower()
    if "refused" in text or "errno 111" in text or "all attempts to connect" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text \
            or "name resolution" in text:
        return "its host name does not resolve"
    return type(exc).__name__


def make_client(settings: Settings, provider: ProviderSettings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(connect=settings.connect_timeout_s, read=provider.read_timeout_s,
                            write=provider.read_timeout_s, pool=settings.limits.pool_timeout_s)
    limits = httpx.Limits(max_connections=settings.max_connections,
                          max_keepalive_connections=settings.max_connections,
                          keepalive_expiry=settings.keepalive_expiry_s)
    return httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=True)
