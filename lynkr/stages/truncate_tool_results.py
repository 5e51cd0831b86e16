"""truncate_tool_results: cut long tool outputs to a per-tool budget, keeping head and tail.

Assumes: tool results answer tool_use blocks of earlier assistant turns (the tool's name is
looked up by ``tool_use_id``; an unknown one gets the ``default`` limit).
Guarantees: each text block of a tool result longer than its tool's limit (tokens, ``limits`` by
tool name compared case-insensitively, ``default`` otherwise) keeps its first and last lines
(``head_share`` of the budget for the head, by tool name) around one marker ``[... N lines / T
tokens omitted ...]``; cuts fall on line boundaries, or inside a line only when a single line is
longer than the budget.
Decided on arrival: the cut depends only on the result's own text and its tool's name, never on
its age, so a result is cut exactly so when it first appears and byte for byte the same on every
later turn (the prompt's prefix stays cacheable); idempotent (a text holding the marker is not
cut again); ``tokens_removed`` is what it saved.
Never: deletes a tool_result block, touches non-text content, makes a result longer, cuts text
outside tool results, or cuts an older result further as the conversation grows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from lynkr.model.content import Block, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.request import Message
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

MARKER = re.compile(r"\[\.\.\. [\d,]+ (?:lines|characters) / [\d,]+ tokens omitted \.\.\.\]")
DEFAULT_LIMITS = {"Read": 4000, "Bash": 2000, "Grep": 1500, "default": 3000}
DEFAULT_HEAD_SHARE = {"Read": 0.7, "Bash": 0.3, "default": 0.5}


@attrs.frozen
class TruncateToolResultsConfig:
    enabled: bool = True  # TOOL_TRUNCATION_ENABLED=false turns it off
    limits: Mapping[str, int] = attrs.field(factory=lambda: dict(DEFAULT_LIMITS))
    head_share: Mapping[str, float] = attrs.field(factory=lambda: dict(DEFAULT_HEAD_SHARE))


def truncate_tool_results(exchange: Exchange, config: TruncateToolResultsConfig, ports: Ports
                          ) -> Exchange:
    if not config.enabled:
        return exchange.noted("truncate_tool_results", "disabled")
    messages = exchange.request.messages
    names = {b.id: b.name for m in messages for b in m.content if isinstance(b, ToolUseBlock)}
    saved = [0, 0]  # tokens, blocks cut
    out = []
    for message in messages:
        if message.role != "user":
            out.append(message)
            continue
        content = tuple(
            _result(b, names.get(b.tool_use_id, ""), config, ports, saved)
            if isinstance(b, ToolResultBlock) else b
            for b in message.content)
        changed = any(a is not b for a, b in zip(content, message.content, strict=True))
        out.append(Message("user", content) if changed else message)
    if not saved[1]:
        return exchange.noted("truncate_tool_results", "nothing over its limit")
    request = attrs.evolve(exchange.request, messages=tuple(out))
    return exchange.noted("truncate_tool_results", f"cut {saved[1]} tool outputs", saved[0],
                          request=request)


def _limit(table: Mapping[str, float], name: str, fallback: float) -> float:
    """The entry for ``name``, compared case-insensitively (``Read`` also covers ``read``)."""
    if name in table:
        return table[name]
    folded = name.casefold()
    for key, value in table.items():
        if key.casefold() == folded:
            return value
    return table.get("default", fallback)


def _result(block: ToolResultBlock, name: str, config: TruncateToolResultsConfig, ports: Ports,
            saved: list[int]) -> ToolResultBlock:
    limit = int(_limit(config.limits, name, 3000))
    head_share = min(max(_limit(config.head_share, name, 0.5), 0.0), 1.0)
    content: list[Block] = []
    for part in block.content:
        if isinstance(part, TextBlock) and not MARKER.search(part.text):
            before = ports.count_tokens(part.text)
            if before > limit:
                text = cut(part.text, limit, head_share, before, ports)
                after = ports.count_tokens(text)
                if after < before:
                    saved[0] += before - after
                    saved[1] += 1
                    part = attrs.evolve(part, text=text)
        content.append(part)
    if all(a is b for a, b in zip(content, block.content, strict=True)):
        return block
    return attrs.evolve(block, content=tuple(content))


def cut(text: str, budget: int, head_share: float, total: int, ports: Ports) -> str:
    """``text`` (``total`` tokens) cut to about ``budget`` tokens: head, marker, tail."""
    lines = text.splitlines(keepends=True)
    head_budget = int(budget * head_share)
    head = _fit(lines, head_budget, ports)
    tail = _fit(lines[::-1][: len(lines) - head], budget - head_budget, ports)
    if head + tail == 0 or (head == 0 and head_budget > 0) or len(lines) < 3:
        return _cut_chars(text, budget, head_share, total)
    omitted = lines[head: len(lines) - tail]
    marker = (f"[... {len(omitted):,} lines / {ports.count_tokens(''.join(omitted)):,} tokens "
              f"omitted ...]\n")
    head_text = "".join(lines[:head])
    if head_text and not head_text.endswith("\n"):
        head_text += "\n"
    return head_text + marker + "".join(lines[len(lines) - tail:])


def _fit(lines: list[str], budget: int, ports: Ports) -> int:
    """How many of ``lines``, from the first, fit in ``budget`` tokens."""
    spent = count = 0
    for line in lines:
        spent += ports.count_tokens(line)
        if spent > budget:
            break
        count += 1
    return count


def _cut_chars(text: str, budget: int, head_share: float, total: int) -> str:
    keep = int(len(text) * budget / max(total, 1))
    head_chars = int(keep * head_share)
    tail_chars = keep - head_chars
    omitted = len(text) - head_chars - tail_chars
    omitted_tokens = total - budget
    tail = text[len(text) - tail_chars:] if tail_chars else ""
    return (f"{text[:head_chars]}\n[... {omitted:,} characters / {omitted_tokens:,} tokens "
            f"omitted ...]\n{tail}")
