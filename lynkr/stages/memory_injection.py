"""memory_inject: recalled memories go into the newest user turn, decided once per turn.

Assumes: ``ports.memory`` is the long-term memory (None: memory is off and this stage does
nothing); ``ports.sessions`` keeps the session's decisions (``stages.session``: a lost value
only costs a cache miss). Put it after the stages that rewrite history (their output is what
a turn's identity is taken from) and before ``cache_breakpoints`` and ``prompt_cache``.
Guarantees: memories are recalled for the newest typed user turn (``newest_turn``) by its words
(``turn_text``), for the request's user and workspace (``memory_scope``), leaving out memories
learnt in this same session (they are in the conversation already), within
``MEMORY_RETRIEVAL_LIMIT`` and ``MEMORY_MAX_INJECT_TOKENS``. The choice (also "nothing") is
made once per turn and recorded for the session; a turn that was given memories gets
byte-for-byte the same block at the same place on every later request, whatever would be
recalled then, so the provider's prompt cache keeps the whole earlier conversation. A turn's
identity ignores ``cache_control`` marks, which clients move from turn to turn; the block
comes after the turn's leading tool results (which must stay first) and carries no cache
mark. The ``memory`` annotation (the ``x-lynkr-memory`` header) says what the newest turn
carries: ``3 injected, 212 tokens``.
Never: writes into the system prompt, changes any other message, drops or reorders a block,
gives an older turn memories it was not given when it was the newest, or shows one user
another's memories.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence

import attrs
import orjson

from lynkr.model.content import Block, TextBlock, ToolResultBlock
from lynkr.model.memory import Memory, Recalled
from lynkr.model.request import Message
from lynkr.ports import Ports
from lynkr.stages.exchange import MEMORY_ANNOTATION, MEMORY_TURN, Exchange
from lynkr.stages.memory_scope import exchange_scope
from lynkr.stages.session import recall, remember, session_key

OPEN, CLOSE = "<lynkr-memory>", "</lynkr-memory>"
STORE_KEY = "memory_inject"  # the session's decisions: {"last": turn key, "given": {key: ...}}
MAX_STATE_CHARS = 48_000  # past this a session's new turns get no more memories
MAX_EMPTY = 64  # turns decided with nothing, remembered per session
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
    if getattr(block, "cache_control", None) is not None:
        block = attrs.evolve(block, cache_control=None)  # type: ignore[arg-type]  # has one
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


@attrs.frozen
class MemoryInjectConfig:
    # also recall memories learnt earlier in this same session (normally they are still in
    # the conversation, so they would be paid for twice)
    same_session: bool = False


async def memory_inject(exchange: Exchange, config: MemoryInjectConfig, ports: Ports
                        ) -> Exchange:
    memory = ports.memory
    if memory is None:
        return exchange.noted("memory_inject", "off (MEMORY_ENABLED=false)")
    request = exchange.request
    state = SessionDecisions.read(recall(ports, exchange, STORE_KEY))
    index = newest_turn(request.messages)
    newest: InjectionDecision | None = None
    how = "no typed user turn"
    if index is not None:
        turn = request.messages[index]
        key = turn_key(turn)
        newest = state.of(key)
        how = "as decided earlier"
        if newest is None:
            recalled: tuple[Recalled, ...] = ()
            if state.size() < MAX_STATE_CHARS:
                recalled = await memory.recall(
                    exchange_scope(exchange, memory.default_user), turn_text(turn),
                    exclude_session=None if config.same_session else session_key(exchange))
            newest = decide(turn, [r.memory for r in recalled], ports.count_tokens)
            how = "decided now"
            state = state.with_decision(newest)
            remember(ports, exchange, STORE_KEY, state.value())
    messages = apply_decisions(request.messages, state.given)
    earlier = len(state.given) - (1 if newest is not None and newest.block else 0)
    summary = f"{header_value(newest)} ({how})" + (
        f"; {earlier} earlier turn(s) kept" if earlier else "")
    annotations = {**exchange.annotations, MEMORY_ANNOTATION: header_value(newest)}
    if newest is not None:
        annotations[MEMORY_TURN] = newest.turn_key
    return exchange.noted("memory_inject", summary,
                          request=attrs.evolve(request, messages=messages),
                          annotations=annotations)


@attrs.frozen
class SessionDecisions:
    """What a session's turns were given (``given``, by turn key), and which turns were
    decided with nothing (``empty``, the newest ``MAX_EMPTY``): as JSON in the session store.
    Side requests (titles, summaries) share the session, so more than the newest turn must be
    remembered as decided."""

    given: Mapping[str, InjectionDecision] = attrs.field(factory=dict)
    empty: tuple[str, ...] = ()

    def of(self, key: str) -> InjectionDecision | None:
        """The turn's decision, or None when it was never decided."""
        if key in self.given:
            return self.given[key]
        return InjectionDecision(key) if key in self.empty else None

    def with_decision(self, decision: InjectionDecision) -> SessionDecisions:
        if decision.block:
            return attrs.evolve(self, given={**self.given, decision.turn_key: decision})
        return attrs.evolve(self, empty=(*self.empty, decision.turn_key)[-MAX_EMPTY:])

    def size(self) -> int:
        return sum(len(d.block) + 80 for d in self.given.values())

    def value(self) -> dict[str, object]:
        return {"given": {k: [d.block, d.count, d.tokens, list(d.memory_ids)]
                          for k, d in self.given.items()}, "empty": list(self.empty)}

    @classmethod
    def read(cls, stored: object) -> SessionDecisions:
        """From the store's JSON; anything malformed reads as nothing recorded."""
        if not isinstance(stored, dict):
            return cls()
        given: dict[str, InjectionDecision] = {}
        raw = stored.get("given")
        for key, value in (raw.items() if isinstance(raw, dict) else ()):
            if isinstance(value, list) and len(value) == 4 and isinstance(value[0], str) \
                    and value[0] and isinstance(value[1], int) and isinstance(value[2], int) \
                    and isinstance(value[3], list):
                block, count, tokens, ids = value
                given[key] = InjectionDecision(key, block, count, tokens,
                                               tuple(i for i in ids if isinstance(i, int)))
        empty = stored.get("empty")
        keys = tuple(k for k in empty if isinstance(k, str)) if isinstance(empty, list) else ()
        return cls(given, keys)
