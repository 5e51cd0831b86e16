"""dedupe: remove repeated content from the history, keeping the latest copy in full.

Assumes: tool results answer tool_use blocks of earlier assistant turns (normalize ran).
Guarantees: an earlier tool result is shortened to a one-line marker when a later call of the
same tool with the same input exists (the same file read twice: the later read is what is true
now) or a later result has the same text; an earlier ``<system-reminder>`` text block of a user
turn repeated later is removed (unless it is all the turn holds or carries a cache mark);
the latest copy is always kept in full; idempotent; ``tokens_removed`` is what it saved.
Never: deletes a tool_result block (only its content is shortened, so every tool_use stays
answered), alters the last user message, or replaces anything with a longer marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import orjson

from lynkr.model.content import Block, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.request import Message
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

MARKER_PREFIX = "[duplicate of a later "
REMINDER_OPEN, REMINDER_CLOSE = "<system-reminder>", "</system-reminder>"
# a text counted in context can cost a piece or two more or less at its edges: a marker must
# save more than that, so the request never grows
_MARGIN = 4
_SUBJECT_KEYS = ("file_path", "path", "command", "pattern", "url", "query", "notebook_path")


@attrs.frozen
class DedupeConfig:
    same_call: bool = True  # an earlier result of the same tool + same input is superseded
    same_output: bool = True  # an earlier result whose text a later result repeats
    system_reminders: bool = True
    min_tokens: int = 20  # results shorter than this are left alone


@attrs.frozen
class _Walk:
    """What the walk from the newest message back has seen, and what it saved."""

    calls: dict[str, tuple[str, Mapping[str, Any]]]
    seen: set[object] = attrs.field(factory=set)
    saved: list[int] = attrs.field(factory=lambda: [0, 0])  # tokens, blocks changed


def dedupe(exchange: Exchange, config: DedupeConfig, ports: Ports) -> Exchange:
    messages = exchange.request.messages
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    walk = _Walk(calls={b.id: (b.name, b.input) for m in messages for b in m.content
                        if isinstance(b, ToolUseBlock)})
    out: list[Message] = []
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if message.role != "user":
            out.append(message)
            continue
        content = _content(message.content, walk, config, ports, frozen=i == last_user)
        out.append(message if content is message.content else Message("user", content))
    tokens, changed = walk.saved
    if not changed:
        return exchange.noted("dedupe", "no duplicates")
    request = attrs.evolve(exchange.request, messages=tuple(reversed(out)))
    return exchange.noted("dedupe", f"shortened {changed} duplicates", tokens, request=request)


def _content(blocks: tuple[Block, ...], walk: _Walk, config: DedupeConfig, ports: Ports,
             frozen: bool) -> tuple[Block, ...]:
    kept: list[Block] = []
    removed = 0  # tokens of the repeated reminders removed from this turn
    for block in reversed(blocks):
        if isinstance(block, ToolResultBlock):
            kept.append(_result(block, walk, config, ports, frozen))
        elif isinstance(block, TextBlock) and config.system_reminders and _is_reminder(block):
            repeated = not frozen and block.text in walk.seen and block.cache_control is None
            walk.seen.add(block.text)
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
    if len(kept) == len(blocks) and all(
            a is b for a, b in zip(kept, reversed(blocks), strict=True)):
        return blocks
    return tuple(reversed(kept))


def _result(block: ToolResultBlock, walk: _Walk, config: DedupeConfig, ports: Ports,
            frozen: bool) -> ToolResultBlock:
    text = block.text()
    if text.startswith(MARKER_PREFIX):
        return block
    name, tool_input = walk.calls.get(block.tool_use_id, ("", {}))
    call_key = ("call", name, orjson.dumps(tool_input, option=orjson.OPT_SORT_KEYS)) \
        if name and config.same_call else None
    output_key = ("output", text) if config.same_output and text else None
    repeated = (call_key in walk.seen) or (output_key in walk.seen)
    walk.seen.update(k for k in (call_key, output_key) if k is not None)
    if frozen or not repeated:
        return block
    tokens = ports.count_tokens(text)
    if tokens < config.min_tokens:
        return block
    marker = f"{MARKER_PREFIX}result: {_subject(name, tool_input)}, {tokens:,} tokens omitted]"
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
