"""The conversation as Bedrock wants it, before either wire shape is rendered.

Bedrock (Converse and the Anthropic-native InvokeModel body alike) wants messages that alternate
and start with ``user``, tool results first in their user message, and no ``system`` role inside
``messages``. Claude Code sends mid-conversation system messages and, after a tool call, may
split results and text over several user messages; this makes one canonical shape of them.
"""

from __future__ import annotations

from lynkr.model.content import Block, TextBlock, ToolResultBlock
from lynkr.model.request import Message

START = TextBlock("(conversation start)")


def bedrock_messages(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """Alternating user/assistant messages, starting with user, results first in each."""
    merged: list[tuple[str, list[Block]]] = []
    for message in messages:
        role = "assistant" if message.role == "assistant" else "user"
        content = list(message.content)
        if message.role == "system":
            content = [_reminder(b) for b in content if isinstance(b, TextBlock) and b.text]
        if not content:
            continue
        if merged and merged[-1][0] == role:
            merged[-1][1].extend(content)
        else:
            merged.append((role, content))
    if merged and merged[0][0] == "assistant":
        merged.insert(0, ("user", [START]))
    return tuple(Message("user" if role == "user" else "assistant",
                         _results_first(content) if role == "user" else tuple(content))
                 for role, content in merged)


def _reminder(block: TextBlock) -> TextBlock:
    return TextBlock(f"<system-reminder>\n{block.text}\n</system-reminder>",
                     block.cache_control)


def _results_first(content: list[Block]) -> tuple[Block, ...]:
    results = [b for b in content if isinstance(b, ToolResultBlock)]
    if not results:
        return tuple(content)
    return (*results, *(b for b in content if not isinstance(b, ToolResultBlock)))
