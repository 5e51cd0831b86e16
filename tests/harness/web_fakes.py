"""A table resolver (the Resolver port without DNS) and a recording httpx transport."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence

import attrs
import httpx

from lynkr.tools.web.addresses import IPAddress


@attrs.define
class TableResolver:
    """``host -> addresses``; a list of answers is one answer per lookup (the last repeats),
    which is how a rebinding DNS server behaves; a missing host does not resolve."""

    table: Mapping[str, Sequence[str] | Sequence[Sequence[str]]]
    calls: list[str] = attrs.field(factory=list)

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        self.calls.append(host)
        answers = self.table.get(host)
        if answers is None:
            raise OSError(-2, "Name or service not known")
        if answers and not isinstance(answers[0], str):
            index = min(self.calls.count(host), len(answers)) - 1
            answers = answers[index]  # type: ignore[assignment]
        return [ipaddress.ip_address(a) for a in answers]  # type: ignore[arg-type]


@attrs.define
class Recorder:
    """An httpx transport answering with ``handler`` and keeping every request it saw."""

    handler: Callable[[httpx.Request], httpx.Response]
    requests: list[httpx.Request] = attrs.field(factory=list)

    def client(self) -> httpx.AsyncClient:
        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return self.handler(request)

        return httpx.AsyncClient(transport=httpx.MockTransport(record), follow_redirects=False)


def body(data: bytes, status: int = 200, **headers: str) -> httpx.Response:
    """A response whose body is still to be read, as a real transport's is."""
    return httpx.Response(
        status,
        headers={k.replace("_", "-"): v for k, v in headers.items()},
        stream=httpx.ByteStream(data),
    )


def html(text: str, status: int = 200, charset: str = "utf-8") -> httpx.Response:
    return body(text.encode(charset), status, content_type=f"text/html; charset={charset}")


def redirect(location: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"location": location})
