"""Canonical messages → flat chat turns, the shape every chat-style dialect is built from.

OpenAI Chat, Ollama and (later) Bedrock-like dialects all want: one leading system text; user
turns of text and images; assistant turns of text plus tool calls; one tool turn per result,
placed before the rest of its user turn. This module makes that list once, so each dialect only
renders it.
"""

from __future__ import annotations

from typing import Literal

import attrs

from lynkr.model.content import (
    Block,
    ImageBlock,
    OpaqueBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.request import Request

MidSystem = Literal["in_place", "as_user", "merge"]


@attrs.frozen
class SystemTurn:
    text: str


@attrs.frozen
class UserTurn:
    parts: tuple[TextBlock | ImageBlock, ...]

    def text(self, sep: str = "\n") -> str:
        return sep.join(p.text for p in self.parts if isinstance(p, TextBlock))

    @property
    def images(self) -> tuple[ImageBlock, ...]:
        return tuple(p for p in self.parts if isinstance(p, ImageBlock))


@attrs.frozen
class AssistantTurn:
    text: str
    tool_calls: tuple[ToolUseBlock, ...] = ()
    thinking: tuple[ThinkingBlock, ...] = ()


@attrs.frozen
class ToolTurn:
    tool_use_id: str
    name: str
    text: str
    is_error: bool = False


Turn = SystemTurn | UserTurn | AssistantTurn | ToolTurn

ERROR_PREFIX = "[tool error] "


def to_turns(request: Request, mid_system: MidSystem = "in_place") -> list[Turn]:
    names = {b.id: b.name for m in request.messages for b in m.content
             if isinstance(b, ToolUseBlock)}
    system = request.system_text()
    turns: list[Turn] = []
    # A system message right after an assistant tool call waits until that call's results
    # are placed: every chat dialect wants the results immediately after the call.
    deferred: list[str] = []
    for message in request.messages:
        if message.role == "assistant":
            turns.append(_assistant(message.content))
        elif message.role == "system":
            text = "\n".join(b.text for b in message.content if isinstance(b, TextBlock))
            if mid_system == "merge":
                system = f"{system}\n\n{text}" if system else text
            elif turns and isinstance(turns[-1], AssistantTurn) and turns[-1].tool_calls:
                deferred.append(text)
            else:
                _system_here(turns, text, mid_system)
        else:
            _user(message.content, names, turns, deferred, mid_system)
            deferred = []
    for text in deferred:
        _system_here(turns, text, mid_system)
    if system:
        turns.insert(0, SystemTurn(system))
    return turns


def _system_here(turns: list[Turn], text: str, mid_system: MidSystem) -> None:
    if mid_system == "as_user":
        _add_user(turns, (TextBlock(f"<system-reminder>\n{text}\n</system-reminder>"),))
    else:
        turns.append(SystemTurn(text))


def _assistant(content: tuple[Block, ...]) -> AssistantTurn:
    text = "".join(b.text for b in content if isinstance(b, TextBlock))
    calls = tuple(b for b in content if isinstance(b, ToolUseBlock))
    thinking = tuple(b for b in content if isinstance(b, ThinkingBlock))
    return AssistantTurn(text, calls, thinking)


def _user(content: tuple[Block, ...], names: dict[str, str], turns: list[Turn],
          deferred: list[str], mid_system: MidSystem) -> None:
    parts: list[TextBlock | ImageBlock] = []
    for block in content:
        if isinstance(block, ToolResultBlock):
            text = block.text()
            turns.append(ToolTurn(block.tool_use_id, names.get(block.tool_use_id, ""),
                                  ERROR_PREFIX + text if block.is_error else text,
                                  block.is_error))
            # Images can't ride in a tool turn: they follow in the user turn.
            parts.extend(b for b in block.content if isinstance(b, ImageBlock))
        elif isinstance(block, (TextBlock, ImageBlock)):
            if not (isinstance(block, TextBlock) and not block.text):
                parts.append(block)
        elif isinstance(block, OpaqueBlock):
            parts.append(TextBlock(_describe(block)))
    for text in deferred:
        _system_here(turns, text, mid_system)
    if parts:
        if mid_system != "in_place":
            _add_user(turns, tuple(parts))
        else:
            turns.append(UserTurn(tuple(parts)))


def _add_user(turns: list[Turn], parts: tuple[TextBlock | ImageBlock, ...]) -> None:
    """Append to the previous user turn if it is the last one, else start a new one."""
    if turns and isinstance(turns[-1], UserTurn):
        turns[-1] = UserTurn(turns[-1].parts + parts)
    else:
        turns.append(UserTurn(parts))


def _describe(block: OpaqueBlock) -> str:
    if block.type == "document":
        source = block.raw.get("source") or {}
        if source.get("type") == "text":
            return str(source.get("data", ""))
        return f"[document: {block.raw.get('title') or source.get('media_type', 'file')}]"
    return f"[{block.type}]"


def image_data_url(image: ImageBlock) -> str:
    source = image.source
    if source.get("type") == "base64":
        return f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    return str(source.get("url", ""))
