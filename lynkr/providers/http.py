"""The HTTP implementation of the ``Upstream`` port: one pooled ``httpx.AsyncClient`` each.

``prepare`` is pure: the profile builds the body and headers, and the parse context (answer id,
reported model, input estimate, tool ids in use) comes from the request. ``open`` sends the
call and checks the status before anything reaches the client: an error status, a refused
connection or a timeout there is raised as a ``LynkrError`` (the server answers it as error
JSON). Once open, ``HttpEvents`` yields canonical events a read at a time, and turns a failure
in the middle (a lost connection, a body that fails to decode) into a final ``StreamError``
event, never a silent end.

What reaches a client or a log never holds a secret: error bodies are read up to
``UPSTREAM_ERROR_BODY_BYTES`` and scrubbed of the provider's key and URL credentials, and
messages name the provider, not its URL. A wait for a pooled connection beyond
``UPSTREAM_POOL_TIMEOUT_MS`` is ``PoolBusy`` (local back-pressure, not a provider fault).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NoReturn

import httpx
import orjson

from lynkr.config.limits import Limits
from lynkr.config.providers import ProviderSettings
from lynkr.config.secrets import Scrubber, url_password
from lynkr.config.settings import Settings
from lynkr.config.vendors import vendor
from lynkr.model.events import Event, StreamError
from lynkr.model.request import Request
from lynkr.ports import Answering, ParseContext, ProviderInfo, UpstreamCall
from lynkr.providers.direct import DirectRoute, direct_route
from lynkr.providers.lean_transport import lean_body
from lynkr.providers.profiles import Profile, StreamParser, make_profile
from lynkr.providers.transport import (
    make_client,
    read_error_body,
    status_error,
    transport_error,
)


class HttpEvents:
    """The events of one upstream answer, one list per read.

    ``read()`` is the answer's next body bytes (None at its end), ``close()`` stops reading it.
    ``coalesced_reads``: each batch holds everything one socket read brought (the lean
    transport's body), so batches never pile up faster than they are read: the egress then
    writes each as it comes, without a reader task of its own."""

    def __init__(self, name: str, read: Callable[[], Awaitable[bytes | None]],
                 close: Callable[[], Awaitable[None]], coalesced: bool, parser: StreamParser,
                 silence: str, scrub: Scrubber) -> None:
        self._name = name
        self._silence = silence
        self._scrub = scrub
        self._read = read
        self._close = close
        self.coalesced_reads = coalesced
        self._parser = parser
        self._closed = False

    @classmethod
    def of_response(cls, name: str, response: httpx.Response, parser: StreamParser,
                    silence: str, scrub: Scrubber) -> HttpEvents:
        # We ask for identity encoding; then the transport's byte stream is the body and the
        # two decoding layers of aiter_bytes() can be skipped (they cost per chunk).
        identity = response.headers.get("content-encoding", "identity") == "identity"
        body = lean_body(response) if identity else None
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        chunks = aiter(stream) if identity else response.aiter_bytes()

        async def next_chunk() -> bytes | None:
            try:
                return await chunks.__anext__()
            except StopAsyncIteration:
                return None

        return cls(name, body.next if body is not None else next_chunk,
                   chunks.aclose,  # type: ignore[attr-defined]
                   body is not None, parser, silence, scrub)

    def __aiter__(self) -> HttpEvents:
        return self

    async def aclose(self) -> None:
        await self._close()

    async def __anext__(self) -> list[Event]:
        parser = self._parser
        if parser.done and not self._closed:
            await self._drain()
        while not self._closed:
            try:
                chunk = await self._read()
            except httpx.TimeoutException:
                self._closed = True
                return [StreamError("timeout_error", self._silence)]
            except httpx.HTTPError as exc:  # connection lost, or a body that fails to decode
                self._closed = True
                return [StreamError("api_error", self._scrub(
                    f"{self._name}: the answer broke off in the middle "
                    f"({type(exc).__name__}: {exc})"))]
            if chunk is None:
                self._closed = True
                return parser.close()
            try:
                events = parser.feed(chunk)
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                self._closed = True
                return [StreamError("api_error", f"{self._name} sent a malformed "
                                                 f"stream: {exc}")]
            if events:
                if isinstance(events[-1], StreamError):  # an upstream error frame may echo a key
                    events[-1] = StreamError(events[-1].error_type,
                                             self._scrub(events[-1].message))
                return events
        raise StopAsyncIteration

    async def _drain(self, limit: int = 8) -> None:
        """Read what follows the answer's end (usually just the body's end), so the pooled
        connection can be reused; give up after a few reads."""
        self._closed = True
        for _ in range(limit):
            try:
                if await self._read() is None:
                    return
            except httpx.HTTPError:
                return


class HttpUpstream:
    """One configured HTTP provider (any wire family but Bedrock's)."""

    def __init__(self, settings: ProviderSettings, client: httpx.AsyncClient,
                 context_window: int = 200_000, limits: Limits | None = None) -> None:
        self.settings = settings
        self.client = client
        self.limits = limits or Limits()
        self.profile: Profile = make_profile(settings, self.limits.upstream_max_line_bytes)
        self.scrub = Scrubber([settings.api_key, url_password(settings.endpoint)])
        self._info = ProviderInfo(settings.name, self.profile.family, settings.model,
                                  settings.endpoint, context_window, vendor(settings.name).local)
        self._routes: dict[str, DirectRoute | None] = {}

    @property
    def info(self) -> ProviderInfo:
        return self._info

    def silent_message(self) -> str:
        return (f"{self.settings.name} sent nothing for {self.settings.read_timeout_s:g}s; "
                f"the answer was stopped")

    def prepare(self, request: Request, answering: Answering) -> UpstreamCall:
        body = orjson.dumps(self.profile.build(request))
        headers = self.profile.headers
        if self.profile.request_headers is not None:
            extra = self.profile.request_headers(request)
            headers = {**headers, **extra} if extra else headers
        context = ParseContext.of(request, answering.message_id, answering.model, len(body))
        return UpstreamCall(self.settings.endpoint, body, headers, context)

    @asynccontextmanager
    async def open(self, call: UpstreamCall) -> AsyncIterator[HttpEvents]:
        route = self._route(call.target)
        data = route.request(call.headers, call.body) if route is not None else None
        if route is not None and data is not None:
            async with self._open_direct(route, data, call) as events:
                yield events
            return
        name = self.settings.name
        request = self.client.build_request("POST", call.target, content=call.body,
                                            headers=call.headers)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise transport_error(name, exc, self.silent_message(),
                                  self.limits.pool_timeout_s) from None
        try:
            if response.status_code >= 400:
                await self._raise_status(response)
            events = HttpEvents.of_response(name, response, self.profile.parser(call.context),
                                            self.silent_message(), self.scrub)
            try:
                yield events
            finally:
                await events.aclose()
        finally:
            await response.aclose()

    @asynccontextmanager
    async def _open_direct(self, route: DirectRoute, data: bytes, call: UpstreamCall
                           ) -> AsyncIterator[HttpEvents]:
        """``open`` on the lean transport without httpx's client: the same errors, the same
        events; an error or encoded body is read through an ``httpx.Response`` as before."""
        try:
            head, body = await route.exchange(data)
        except httpx.TransportError as exc:
            raise transport_error(self.settings.name, exc, self.silent_message(),
                                  self.limits.pool_timeout_s) from None
        try:
            parser = self.profile.parser(call.context)
            encoding = b", ".join(v for k, v in head.headers if k == b"content-encoding")
            if head.status >= 400 or encoding not in (b"", b"identity"):
                response = route.response(head, body)
                if head.status >= 400:
                    await self._raise_status(response)
                events = HttpEvents.of_response(self.settings.name, response, parser,
                                                self.silent_message(), self.scrub)
            else:
                events = HttpEvents(self.settings.name, body.next, body.aclose, True, parser,
                                    self.silent_message(), self.scrub)
            try:
                yield events
            finally:
                await events.aclose()
        finally:
            await body.aclose()

    async def _raise_status(self, response: httpx.Response) -> NoReturn:
        body = await read_error_body(response, self.limits.error_body_bytes)
        raise status_error(self.settings.name, response.status_code, body, response.headers,
                           self.scrub)

    def _route(self, target: str) -> DirectRoute | None:
        """The direct route to ``target`` (None: through httpx's client), found once."""
        try:
            return self._routes[target]
        except KeyError:
            route = self._routes[target] = direct_route(self.client, target)
            return route

    async def aclose(self) -> None:
        await self.client.aclose()


def http_client(settings: Settings, provider: ProviderSettings) -> httpx.AsyncClient:
    return make_client(connect_s=settings.connect_timeout_s, read_s=provider.read_timeout_s,
                       max_connections=settings.max_connections,
                       keepalive_s=settings.keepalive_expiry_s,
                       pool_s=settings.limits.pool_timeout_s,
                       lean=settings.upstream_transport == "lean")
