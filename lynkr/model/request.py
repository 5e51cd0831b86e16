"""The canonical request: Anthropic Messages as frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from lynkr.model.content import EMPTY, Block, TextBlock

Role = Literal["user", "assistant", "system"]


@attrs.frozen
class Message:
    role: Role
    content: tuple[Block, ...]


@attrs.frozen
class Tool:
    """A client tool (``input_schema`` kept as parsed) or a typed server tool (``type`` set).

    ``extra`` keeps the fields we do not model (cache_control, defer_loading, strict, ...).
    """

    name: str
    description: str = ""
    input_schema: Mapping[str, Any] = EMPTY
    type: str | None = None
    extra: Mapping[str, Any] = EMPTY

    @property
    def is_server_tool(self) -> bool:
        return self.type is not None and self.type != "custom"

    @property
    def deferred(self) -> bool:
        return bool(self.extra.get("defer_loading"))


@attrs.frozen
class Request:
    model: str
    messages: tuple[Message, ...]
    max_tokens: int
    system: tuple[TextBlock, ...] = ()
    stream: bool = False
    tools: tuple[Tool, ...] = ()
    tool_choice: Mapping[str, Any] | None = None
    thinking: Mapping[str, Any] | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: tuple[str, ...] = ()
    metadata: Mapping[str, Any] | None = None
    # Top-level fields we do not model (context_management, output_config, betas' fields...).
    extra: Mapping[str, Any] = EMPTY
    # anthropic-beta header values, kept for Anthropic-dialect upstreams.
    betas: tuple[str, ...] = ()
    # a stable key per conversation for the backend's prompt cache (OpenAI prompt_cache_key,
    # a llama.cpp slot); set by the cache_breakpoints stage, never by a client
    cache_key: str | None = None

    def system_text(self, sep: str = "\n\n") -> str:
        return sep.join(block.text for block in self.system if block.text)
