"""Memory injection, pure: recalled memories go into the newest user turn, decided once.

Assumes: the caller recalls memories for the newest user turn (``newest_turn``) by its words
(``turn_text``), asks ``decide`` once for that turn, and keeps the returned
``InjectionDecision`` for the session (a plain value; a lost decision only costs a cache miss).
On every later request it passes all the session's decisions to ``apply_decisions``.
Guarantees: memories go into a user turn, never the system prompt; a turn that was given
memories gets byte-for-byte the same block at the same place on every later request, whatever
is recalled then, so the provider's prompt cache keeps the whole earlier conversation; a turn's
identity ignores ``cache_control`` marks, which clients move from turn to turn; the block comes
after the turn's leading tool results (which must stay first) and carries no cache mark.
Never: changes any other message, drops or reorders a block, or reads a clock or a store.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence

import attrs
import orjson

from lynkr.model.content import Block, TextBlock, ToolResultBlock
from lynkr.model.memory import Memory
from lynkr.model.request import Message

OPEN, CLOSE = "<lynkr-memory>", "</lynkr-memory>"
PREAMBLE = ("What you remember about this user from earlier conversations (it may be out of "
            "date: what the user says now wins):")


# what is not the user's words: client reminders, and memories Lynkr injected itself
_NOT_TYPED = re.compile(r"<system-reminder>.*?(?:</system-reminder>|$)|"
                        + re.escape(OPEN) + r".*?(?:" + re.escape(CLOSE) + r"|$)", re.DOTALL)


@attrs.frozen
class InjectionDecision:
    """What one user turn was given: ``block`` is "" when it was given nothing."""

    turn_key: str
    block: str = ""
    count: int = 0
    tokens: int = 0
    memory_ids: tuple[int, ...] = ()


def render_memories(memories: Sequence[Memory]) -> str:
    """The block injected for ``memories`` ("" for none), one line per memory."""
    if not memories:
        return ""
    lines = [f"- ({m.kind}) {' '.join(m.text.split())}" for m in memories]
    return "\n".join([OPEN, PREAMBLE, *lines, CLOSE])


def turn_key(message: Message) -> str:
    """A digest of a user turn's content, blind to ``cache_control`` marks."""
    return hashlib.sha256(orjson.dumps([_block_identity(b) for b in message.content])
                          ).hexdigest()


def _block_identity(block: Block) -> object:
    if isinstance(block, TextBlock):
        return ["text", block.text]
    if isinstance(block, ToolResultBlock):
        return ["tool_result", block.tool_use_id, [_block_identity(b) for b in block.content]]
    if hasattr(block, "cache_control"):
        block = attrs.evolve(block, cache_control=None)
    return [type(block).__name__, repr(block)]


def is_typed_turn(message: Message) -> bool:
    """A user message carrying text the user typed (not only tool results or reminders)."""
    return message.role == "user" and any(
        isinstance(b, TextBlock) and b.text.strip()
        and not b.text.lstrip().startswith("<system-reminder>") for b in message.content)


def turn_text(message: Message) -> str:
    """The words a user typed in one turn, to recall and extract by: its text blocks without
    ``<system-reminder>``s or an injected memory block (tool results are not the user's)."""
    texts = (b.text for b in message.content if isinstance(b, TextBlock))
    return _NOT_TYPED.sub(" ", "\n".join(texts))


def newest_turn(messages: Sequence[Message]) -> int | None:
    """The index of the newest typed user turn, or None."""
    for index in range(len(messages) - 1, -1, -1):
        if is_typed_turn(messages[index]):
            return index
    return None


def decide(turn: Message, memories: Sequence[Memory], count_tokens: Callable[[str], int]
           ) -> InjectionDecision:
    block = render_memories(memories)
    return InjectionDecision(turn_key(turn), block, len(memories),
                             count_tokens(block) if block else 0,
                             tuple(m.id for m in memories))


def apply(turn: Message, decision: InjectionDecision) -> Message:
    """``turn`` with the decision's block inserted after its leading tool results."""
    if not decision.block:
        return turn
    at = 0
    while at < len(turn.content) and isinstance(turn.content[at], ToolResultBlock):
        at += 1
    content = (*turn.content[:at], TextBlock(decision.block), *turn.content[at:])
    return attrs.evolve(turn, content=content)


def apply_decisions(messages: Sequence[Message], decisions: Mapping[str, InjectionDecision]
                    ) -> tuple[Message, ...]:
    """Every user turn that has a recorded decision, given its block again."""
    if not decisions:
        return tuple(messages)
    out = []
    for message in messages:
        decision = decisions.get(turn_key(message)) if message.role == "user" else None
        out.append(message if decision is None else apply(message, decision))
    return tuple(out)


def header_value(decision: InjectionDecision | None) -> str:
    """The ``x-lynkr-memory`` header: ``3 injected, 212 tokens``."""
    if decision is None:
        return "0 injected, 0 tokens"
    return f"{decision.count} injected, {decision.tokens} tokens"
