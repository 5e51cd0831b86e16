"""Settings of Lynkr's own tools and of the server-side tool loop: the original's
``TOOL_EXECUTION_MODE`` and ``POLICY_MAX_STEPS``, plus the per-call bounds.

Read from ``Settings.environ`` (``tool_loop_settings(Env(settings.environ))``), like the memory
settings, so nothing else in the configuration has to know about tools. Each box (MCP,
workspace, web, memory) reads its own variables the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from lynkr.config.settings import Env

MODES = ("server", "client", "passthrough")


@attrs.frozen
class ToolLoopSettings:
    # TOOL_EXECUTION_MODE: server (the original's default) offers the configured boxes' tools
    # and runs them; client and passthrough offer none (the client's tools only)
    mode: str = "server"
    max_steps: int = 8  # POLICY_MAX_STEPS: model calls in one answer at most
    call_timeout_s: float = 30.0  # TOOL_TIMEOUT_MS: one call's time at most
    result_max_chars: int = 32_000  # TOOL_RESULT_MAX_CHARS: a result's text is cut beyond

    @property
    def offers_tools(self) -> bool:
        return self.mode == "server"


def tool_loop_settings(env: Env) -> ToolLoopSettings:
    return ToolLoopSettings(
        mode=env.choice("TOOL_EXECUTION_MODE", "server", MODES),
        max_steps=env.int("POLICY_MAX_STEPS", 8, minimum=1),
        call_timeout_s=env.int("TOOL_TIMEOUT_MS", 30_000, minimum=1) / 1000,
        result_max_chars=env.int("TOOL_RESULT_MAX_CHARS", 32_000, minimum=256),
    )
