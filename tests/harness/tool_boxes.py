"""A small ``ToolBox`` for the tool loop's tests: one tool per behaviour a box can have."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import trio

from harness.fake_anthropic import AnthropicGuard
from harness.fake_model import FakeModel, Script
from harness.proxy import UPSTREAM_KEY, provider_env
from harness.servers import lynkr_state, serve_asgi, serve_state
from lynkr.model.request import Tool
from lynkr.server.state import AppState
from lynkr.tools.port import ToolContext, ToolOutcome

_SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}}


class EchoBox:
    """``echo`` answers its text; ``broken`` raises; ``refuse`` answers is_error; ``stall``
    never answers (the loop's timeout ends it). Every call is kept in ``calls``."""

    name = "test"

    def __init__(self, names: tuple[str, ...] = ("echo", "broken", "refuse", "stall")) -> None:
        self.names = names
        self.calls: list[tuple[str, dict[str, Any], ToolContext]] = []

    def tools(self) -> tuple[Tool, ...]:
        return tuple(Tool(f"lynkr_{n}", f"The test box's {n} tool.", _SCHEMA) for n in self.names)

    async def run(
        self, name: str, arguments: Mapping[str, Any], context: ToolContext
    ) -> ToolOutcome:
        self.calls.append((name, dict(arguments), context))
        if name == "lynkr_echo":
            return ToolOutcome(f"echo: {arguments.get('text', '')}")
        if name == "lynkr_broken":
            raise RuntimeError("the box broke")
        if name == "lynkr_refuse":
            return ToolOutcome("refused: not allowed here", is_error=True)
        if name == "lynkr_stall":
            await trio.sleep_forever()
        return ToolOutcome(f"unknown tool {name}", is_error=True)


@contextmanager
def serve_with_box(
    script: Script, dialect: str = "openai", box: EchoBox | None = None, **env: str
) -> Iterator[tuple[str, FakeModel, EchoBox, AppState]]:
    """Lynkr with ``box`` (an ``EchoBox`` by default) in front of a scripted fake model, both
    real servers on loopback."""
    fake = FakeModel(script, AnthropicGuard(UPSTREAM_KEY) if dialect == "anthropic" else None)
    box = box or EchoBox()
    with serve_asgi(fake) as upstream:
        state = lynkr_state(
            {
                **provider_env(dialect, upstream),
                "LOG_LEVEL": "warning",
                "API_RETRY_MAX_RETRIES": "0",
                "MEMORY_ENABLED": "false",  # unless a test asks: its box joins every offer
                **env,
            }
        )
        state.toolboxes = (box,)
        with serve_state(state) as url:
            yield url, fake, box, state
