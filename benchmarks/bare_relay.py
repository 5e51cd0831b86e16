"""The floor under Lynkr's relay: the same server stack passing the upstream's bytes through.

    python -m benchmarks.bare_relay --port P --upstream http://127.0.0.1:U/v1/chat/completions \
        --body FILE [--hypercorn-writes]

An ASGI app on hypercorn's trio worker (with Lynkr's direct writes, as ``lynkr start`` serves,
unless ``--hypercorn-writes``) that answers every POST by sending ``FILE`` (the OpenAI body
Lynkr itself sent) to the upstream through Lynkr's lean transport and relaying each socket
read's body bytes to the client untouched: no parsing, no conversion, no pipeline, no metrics.
What it costs per relayed chunk is what any relay on this stack and machine costs (trio's
scheduler, hypercorn's HTTP/1.1, two sockets); ``benchmarks.streams`` runs it beside Lynkr so
Lynkr's own share per chunk is the difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from lynkr.providers.lean_transport import LeanTransport, lean_body
from lynkr.server.connection import install


def relay_app(upstream: str, body: bytes) -> Any:
    client = httpx.AsyncClient(transport=LeanTransport(max_connections=1000, keepalive_s=30),
                               timeout=60)
    headers = {"content-type": "application/json", "authorization": "Bearer x",
               "accept-encoding": "identity"}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] == "GET":  # the readiness probe
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        while (await receive()).get("more_body"):
            pass
        request = client.build_request("POST", upstream, content=body, headers=headers)
        response = await client.send(request, stream=True)
        reader = lean_body(response)
        assert reader is not None
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": [(b"content-type", b"text/event-stream")]})
        while (chunk := await reader.next()) is not None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the bare relay (the stack's floor)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the upstream's chat completions URL")
    parser.add_argument("--body", required=True, help="file with the request body to send")
    parser.add_argument("--hypercorn-writes", action="store_true",
                        help="hypercorn's own write path (not Lynkr's direct writes)")
    args = parser.parse_args(argv)
    if not args.hypercorn_writes:
        install()
    config = Config()
    config.bind = [f"127.0.0.1:{args.port}"]
    config.accesslog = None
    config.errorlog = None
    app = relay_app(args.upstream, Path(args.body).read_bytes())
    print(f"bare relay listening on {args.port}", flush=True)
    trio.run(serve, app, config)


if __name__ == "__main__":
    main()
