"""The legs of an answer Lynkr's tool loop ran (the model's calls to Lynkr's tools and their
results), as the client sees them and as the model saw them, and their restoration in later
turns.

The client is shown each Lynkr call as a ``server_tool_use`` block and its result as a
``lynkr_tool_result`` block, inside the one assistant message of the answer. The real Claude
Code CLI keeps both in the history it sends back (checked by tests/e2e/test_tool_loop_cli.py);
OpenAI-dialect renderers show neither. The model saw something else: its own ``tool_use``
blocks, then a user message of ``tool_result`` blocks, then its next turn. ``restore`` turns the
client's history back into what the model saw, so the next turn's upstream request repeats the
earlier one byte for byte (the provider's prompt cache holds):

- from the blocks themselves, when the client kept them (``rebuild``: they carry the call's id,
  name and input and the result's text, so the rebuilt legs are exact);
- else from the session's store (``Legs`` kept under the answer's place in the history and a
  digest of what the client saw of it), for clients that drop unknown blocks;
- else the message stays as the client sent it (the request is valid, the calls are gone).

Results of Lynkr calls the model made beside a client call (or past ``POLICY_MAX_STEPS``) are
``pending``: they go in front of the next user message, where the client's own results are.
Never: does I/O (the store is read through the function it is given).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import orjson

from lynkr.formats.anthropic.blocks import parse_block, render_block
from lynkr.model.content import (
    Block,
    OpaqueBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.errors import BadRequest
from lynkr.model.request import Message

SERVER_USE = "server_tool_use"  # Anthropic's block for a call the server runs
RESULT = "lynkr_tool_result"  # its result: {tool_use_id, is_error, content: [text blocks]}
LEGS_KEY = "tools.legs"  # SessionStore: the places of the session's kept legs ...
LEG_KEY = "tools.legs.{}"  # ... and each one's Legs, by place


@attrs.frozen
class Legs:
    messages: tuple[Message, ...]  # assistant, user (results), ..., the last assistant turn
    pending: tuple[Block, ...] = ()  # results that go in front of the next user message


def present_use(use: ToolUseBlock) -> OpaqueBlock:
    """The call as the client sees it: the model's ``tool_use``, typed ``server_tool_use``."""
    return OpaqueBlock(SERVER_USE, {**render_block(use), "type": SERVER_USE})


def present_result(result: ToolResultBlock) -> OpaqueBlock:
    return OpaqueBlock(
        RESULT, {**render_block(result), "type": RESULT, "is_error": result.is_error}
    )


def shown(block: Block) -> bool:
    """Whether ``block`` is a result Lynkr showed (Anthropic's own ``server_tool_use`` blocks,
    a native web search's, are not Lynkr's: a call is Lynkr's when a result of Lynkr's
    answers it)."""
    return isinstance(block, OpaqueBlock) and block.type == RESULT


def anchor(place: int, message: Message) -> str:
    """A digest of what every client keeps of an answer (its text and its client tool calls),
    with its place in the history: the key its legs are kept under."""
    h = hashlib.sha256(str(place).encode())
    for block in message.content:
        if isinstance(block, TextBlock):
            h.update(block.text.encode())
        elif isinstance(block, ToolUseBlock):
            h.update(b"\0" + block.id.encode())
    return h.hexdigest()[:32]


def rebuild(message: Message) -> Legs | None:
    """The legs an answer's presentation blocks stand for; None when it has none."""
    ours = {b.raw.get("tool_use_id") for b in message.content
            if isinstance(b, OpaqueBlock) and b.type == RESULT}
    if not ours:
        return None
    turns: list[Message] = []
    said: list[Block] = []
    results: list[Block] = []
    for block in message.content:
        if isinstance(block, OpaqueBlock) and block.type == RESULT:
            results.append(_result(block.raw))
            continue
        if results:  # the model spoke again after the results: a new turn
            turns += [Message("assistant", tuple(said)), Message("user", tuple(results))]
            said, results = [], []
        said.append(
            _use(block.raw)
            if isinstance(block, OpaqueBlock)
            and block.type == SERVER_USE
            and block.raw.get("id") in ours
            else block
        )
    if said:
        turns.append(Message("assistant", tuple(said)))
    return Legs(tuple(turns), tuple(results))


def _use(raw: Any) -> Block:
    """The model's ``tool_use`` again (its extra fields included: the round trip is exact)."""
    return parse_block({**raw, "type": "tool_use"}, SERVER_USE)


def _result(raw: Any) -> Block:
    return parse_block({**raw, "type": "tool_result"}, RESULT)


def restore(
    messages: Sequence[Message], kept: Callable[[int, Message], Legs | None]
) -> tuple[tuple[Message, ...], int]:
    """``messages`` with each answer's legs back where the model saw them, and how many
    answers were restored. ``kept(place, message)`` gives the stored legs of an assistant
    message without presentation blocks (or None)."""
    out: list[Message] = []
    carry: tuple[Block, ...] = ()
    restored = 0
    for place, message in enumerate(messages):
        if carry:
            if message.role == "user":
                message = Message("user", carry + message.content)
            else:
                out.append(Message("user", carry))
            carry = ()
        if message.role == "assistant":
            legs = rebuild(message) or kept(place, message)
            if legs is not None:
                out.extend(legs.messages)
                carry = legs.pending
                restored += 1
                continue
        out.append(message)
    if carry:
        out.append(Message("user", carry))
    return tuple(out), restored


def needs_restoring(messages: Iterable[Message], places: frozenset[int]) -> bool:
    """Whether any assistant message holds a result Lynkr showed or sits at a kept place
    (every request asks: a plain loop, no call per block)."""
    for place, message in enumerate(messages):
        if message.role != "assistant":
            continue
        if place in places:
            return True
        for block in message.content:
            if block.__class__ is OpaqueBlock and block.type == RESULT:  # type: ignore[union-attr]
                return True
    return False


def encode_legs(place: int, message: Message, legs: Legs) -> str:
    return orjson.dumps(
        {
            "anchor": anchor(place, message),
            "messages": [_message_json(m) for m in legs.messages],
            "pending": [render_block(b) for b in legs.pending],
        }
    ).decode()


def decode_legs(text: str, place: int, message: Message) -> Legs | None:
    """The legs ``encode_legs`` kept for this place, if ``message`` is the answer they were
    kept for (its anchor matches); None otherwise."""
    try:
        obj = orjson.loads(text)
        if obj.get("anchor") != anchor(place, message):
            return None
        messages = tuple(
            Message(m["role"], tuple(parse_block(b, "legs") for b in m["content"]))
            for m in obj["messages"]
        )
        return Legs(messages, tuple(parse_block(b, "legs") for b in obj["pending"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError, BadRequest):
        return None


def _message_json(message: Message) -> dict[str, Any]:
    return {"role": message.role, "content": [render_block(b) for b in message.content]}


def encode_places(places: Iterable[int]) -> str:
    return orjson.dumps(sorted(set(places))).decode()


def decode_places(text: str | None) -> frozenset[int]:
    if not text:
        return frozenset()
    try:
        return frozenset(int(p) for p in orjson.loads(text))
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return frozenset()
