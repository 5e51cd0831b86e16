"""A small web site for web_fetch's tests (an ASGI app for ``serve_asgi``): a page in
ISO-8859-1 that echoes the Host it was asked for, redirects (some to places web_fetch must
refuse), a body that never comes, an image, a 404. It records the Host of every request."""

from __future__ import annotations

from typing import Any

import attrs
import trio

from harness.asgi import handled_lifespan, read_request


@attrs.define
class Pages:
    """A small site: pages, redirects (some to places web_fetch must refuse), a body that
    never comes."""

    port: int = 0
    hosts: list[str] = attrs.field(factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await handled_lifespan(scope, receive, send):
            return
        _, headers = await read_request(scope, receive)
        self.hosts.append(headers.get("host", ""))
        path = scope["path"]
        moves = {
            "/redirect": "/page",
            "/loop": "/loop",
            "/to-metadata": "http://169.254.169.254/latest/meta-data/",
            "/to-localhost": f"http://localhost:{self.port}/page",
            "/to-other-loopback": f"http://127.0.0.2:{self.port}/page",
            "/to-decimal-loopback": f"http://2130706433:{self.port}/page",
        }
        if path in moves:
            await _start(send, 302, "text/plain", [(b"location", moves[path].encode())])
            await send({"type": "http.response.body", "body": b""})
        elif path == "/page":
            page = (
                f"<html><head><title>Caf\xe9 page</title></head><body><nav>menu</nav>"
                f"<h1>Welcome</h1><p>Host was {headers.get('host')}; caf\xe9.</p>"
                f"<a href='/redirect'>again</a></body></html>"
            )
            await _start(send, 200, "text/html; charset=iso-8859-1")
            await send({"type": "http.response.body", "body": page.encode("iso-8859-1")})
        elif path == "/slow":
            await _start(send, 200, "text/plain")
            await trio.sleep_forever()
        elif path == "/image":
            await _start(send, 200, "image/png")
            await send({"type": "http.response.body", "body": b"\x89PNG\r\n\x1a\n"})
        else:
            await _start(send, 404, "text/html")
            await send({"type": "http.response.body", "body": b"<h1>Not here</h1>"})


async def _start(
    send: Any, status: int, content_type: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode()), *(extra or [])],
        }
    )
