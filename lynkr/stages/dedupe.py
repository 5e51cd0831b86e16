"""dedupe: repeated content is shortened where it arrives, the first copy kept in full.

Assumes: tool results answer tool_use blocks of earlier assistant turns (normalize ran).
Guarantees: decided on arrival, append-only: a tool result whose text an earlier tool result of
the conversation already holds (the same file read again, unchanged; the same command with the
same output) becomes a one-line marker naming the earlier call (``[same output as the earlier
result of call_1 (Read /a.py): 1,234 tokens omitted]``), and a ``<system-reminder>`` text
block of a user turn that an earlier user turn already holds is removed (unless it is all the
turn holds or carries a cache mark). Each decision depends only on the block and what comes
before it, so every later turn reproduces it byte for byte and the prompt's prefix stays
cacheable; idempotent; ``tokens_removed`` is what it saved.
Never: changes an earlier copy (the first copy always stays whole), deletes a tool_result block
(only its content is shortened, so every tool_use stays answered), touches the user's own text,
or replaces anything with a longer marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from lynkr.model.content import Block, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.request import Message
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

MARKER_PREFIX = "[same output as the earlier result of "
REMINDER_OPEN, REMINDER_CLOSE = "<system-reminder>", "</system-reminder>"
# a text counted in context can cost a piece or two more or less at its edges: a marker must
# save more than that, so the request never grows
_MARGIN = 4
_SUBJECT_KEYS = ("file_path", "filePath", "path", "command", "pattern", "url", "query",
                 "notebook_path")


@attrs.frozen
class DedupeConfig:
    same_output: bool = True  # a result whose text an earlier result holds
    system_reminders: bool = True
    min_tokens: int = 20  # results shorter than this are left alone


@attrs.frozen
class _Walk:
    """What the walk from the first message on has seen, and what it saved."""

    calls: dict[str, tuple[str, Mapping[str, Any]]]
    outputs: dict[str, str] = attrs.field(factory=dict)  # text -> tool_use_id of its first copy
    reminders: set[str] = attrs.field(factory=set)
    saved: list[int] = attrs.field(factory=lambda: [0, 0])  # tokens, blocks changed


def dedupe(exchange: Exchange, config: DedupeConfig, ports: Ports) -> Exchange:
    messages = exchange.request.messages
    walk = _Walk(calls={b.id: (b.name, b.input) for m in messages for b in m.content
                        if isinstance(b, ToolUseBlock)})
    out: list[Message] = []
    for message in messages:
        if message.role != "user":
            out.append(message)
            continue
        content = _content(message.content, walk, config, ports)
        out.append(message if content is message.content else Message("user", content))
    tokens, changed = walk.saved
    if not changed:
        return exchange.noted("dedupe", "no duplicates")
    request = attrs.evolve(exchange.request, messages=tuple(out))
    return exchange.noted("dedupe", f"shortened {changed} repeats", tokens, request=request)


def _content(blocks: tuple[Block, ...], walk: _Walk, config: DedupeConfig, ports: Ports
             ) -> tuple[Block, ...]:
    kept: list[Block] = []
    removed = 0  # tokens of the repeated reminders removed from this turn
    for block in blocks:
        if isinstance(block, ToolResultBlock):
            kept.append(_result(block, walk, config, ports))
        elif isinstance(block, TextBlock) and config.system_reminders and _is_reminder(block):
            repeated = block.text in walk.reminders and block.cache_control is None
            walk.reminders.add(block.text)
            if repeated:
                removed += ports.count_tokens(block.text)
                continue
            kept.append(block)
        else:
            kept.append(block)
    if not kept:  # the turn held only repeated reminders: left as it is
        return blocks
    if removed:
        walk.saved[0] += removed
        walk.saved[1] += len(blocks) - len(kept)
    if len(kept) == len(blocks) and all(a is b for a, b in zip(kept, blocks, strict=True)):
        return blocks
    return tuple(kept)


def _result(block: ToolResultBlock, walk: _Walk, config: DedupeConfig, ports: Ports
            ) -> ToolResultBlock:
    text = block.text()
    if not config.same_output or not text or text.startswith(MARKER_PREFIX) \
            or not all(isinstance(p, TextBlock) for p in block.content):
        return block
    first = walk.outputs.setdefault(text, block.tool_use_id)
    if first == block.tool_use_id:
        return block
    tokens = ports.count_tokens(text)
    if tokens < config.min_tokens:
        return block
    name, tool_input = walk.calls.get(first, ("", {}))
    marker = f"{MARKER_PREFIX}{first} ({_subject(name, tool_input)}): {tokens:,} tokens omitted]"
    saved = tokens - ports.count_tokens(marker)
    if saved < _MARGIN:
        return block
    walk.saved[0] += saved
    walk.saved[1] += 1
    return attrs.evolve(block, content=(TextBlock(marker),))


def _subject(name: str, tool_input: Mapping[str, Any]) -> str:
    for key in _SUBJECT_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            return f"{name} {value[:120]}".strip()
    return name or "tool"


def _is_reminder(block: TextBlock) -> bool:
    text = block.text.strip()
    return text.startswith(REMINDER_OPEN) and text.endswith(REMINDER_CLOSE)
