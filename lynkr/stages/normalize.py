"""normalize: make the history valid for any upstream before anything else looks at it.

Assumes: a parsed canonical request (any dialect's ingress produced it).
Guarantees: no empty text blocks; in every user turn the tool_result blocks come first; every
tool_use in an assistant turn has a tool_result in the next user turn (a missing one, left by an
interrupted client, is added as an error result, because every upstream rejects the gap).
Never: changes text, reorders turns, or touches the last user message's text.
"""

from __future__ import annotations

import attrs

from lynkr.model.content import Block, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.request import Message
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

MISSING_RESULT = "No result was recorded for this tool call (the client was interrupted)."


@attrs.frozen
class NormalizeConfig:
    fill_missing_tool_results: bool = True
    drop_empty_text: bool = True


def normalize(exchange: Exchange, config: NormalizeConfig, ports: Ports) -> Exchange:
    messages = exchange.request.messages
    fixed: list[Message] = []
    dropped = filled = 0
    for i, message in enumerate(messages):
        content = message.content
        if message.role == "user":
            content = _results_first(content)
            if config.fill_missing_tool_results and i > 0:
                content, n = _fill(messages[i - 1], content)
                filled += n
        if config.drop_empty_text:  # after the fill, so a second run finds nothing to drop
            kept = tuple(b for b in content if not (isinstance(b, TextBlock) and not b.text))
            if kept and len(kept) != len(content):  # never leave a turn with no content
                dropped += len(content) - len(kept)
                content = kept
        fixed.append(message if content is message.content else Message(message.role, content))
    if not (dropped or filled) and all(a is b for a, b in zip(fixed, messages, strict=True)):
        return exchange.noted("normalize", "unchanged")
    request = attrs.evolve(exchange.request, messages=tuple(fixed))
    return exchange.noted("normalize", f"dropped {dropped} empty, filled {filled} results",
                          request=request)


def _results_first(content: tuple[Block, ...]) -> tuple[Block, ...]:
    results = [b for b in content if isinstance(b, ToolResultBlock)]
    if not results or all(isinstance(b, ToolResultBlock) for b in content[: len(results)]):
        return content
    return (*results, *(b for b in content if not isinstance(b, ToolResultBlock)))


def _fill(previous: Message, content: tuple[Block, ...]) -> tuple[tuple[Block, ...], int]:
    if previous.role != "assistant":
        return content, 0
    answered = {b.tool_use_id for b in content if isinstance(b, ToolResultBlock)}
    missing = [b.id for b in previous.content
               if isinstance(b, ToolUseBlock) and b.id not in answered]
    if not missing:
        return content, 0
    added = tuple(ToolResultBlock(i, (TextBlock(MISSING_RESULT),), is_error=True)
                  for i in missing)
    return (*added, *content), len(added)
