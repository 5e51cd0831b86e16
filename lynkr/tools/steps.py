"""The events of several model calls (the tool loop's steps) as ONE answer to the client.

Assumes: each step is a complete canonical event stream (message_start ... message_stop), fed
in order; ``lynkr`` names the tools Lynkr runs (the session's offered set).
Guarantees: the client sees one ``MessageStart`` (the first step's), block indexes numbered
0, 1, 2, ... across steps in the order blocks start, each call to a Lynkr tool as a
``server_tool_use`` block (shown whole when the model has finished writing it), each result as
a ``lynkr_tool_result`` block, and one ``MessageDelta`` + ``MessageStop`` at the end with the
usage summed over the steps (as Anthropic reports its own server tools: cumulative). Calls to
the client's tools pass through as they stream. A ``StreamError`` passes through and ends the
answer.
Never: does I/O, or decides what runs (the server's loop does, from ``StepEnd``).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import orjson

from lynkr.formats.fold import Folder, merge_usage, unfold_block
from lynkr.model.content import Block, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.events import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
    Usage,
)
from lynkr.model.request import Message
from lynkr.tools.legs import present_result, present_use

_DELTAS = frozenset({TextDelta, InputJsonDelta, ThinkingDelta, SignatureDelta})


@attrs.frozen
class StepEnd:
    """What one model call said, once its stream ended."""

    # the assistant turn as the model wrote it (what the next call repeats); empty for a first
    # step that calls none of Lynkr's tools (nothing needs it: the answer ends as it came)
    turn: Message
    lynkr_calls: tuple[ToolUseBlock, ...]  # calls to Lynkr's tools, in order
    client_calls: bool  # whether it also called a client tool (the answer then ends)
    stop_reason: str | None
    stop_sequence: str | None
    error: StreamError | None  # the step broke off: the answer ends with it
    bad_inputs: Mapping[str, str] = attrs.field(factory=dict)  # call id -> unparsable input


def add_usage(a: Usage, b: Usage) -> Usage:
    return Usage(
        a.input_tokens + b.input_tokens,
        a.output_tokens + b.output_tokens,
        a.cache_creation_input_tokens + b.cache_creation_input_tokens,
        a.cache_read_input_tokens + b.cache_read_input_tokens,
    )


class AnswerEditor:
    def __init__(self, lynkr: frozenset[str]) -> None:
        self._lynkr = lynkr
        self._next = 0  # the client's next block index
        self._started = False
        self.usage = Usage()  # summed over finished steps
        self.steps = 0  # steps ended so far
        self.turns: list[Message] = []  # each finished step's turn, as the model wrote it
        self._begin()

    def _begin(self) -> None:
        # the step's events for the model's own turn, folded at its end only when needed
        self._step: list[Event] = []
        self._indexes: dict[int, int] = {}  # the step's block index -> the client's
        self._held: dict[int, tuple[ToolUseBlock, list[str]]] = {}  # Lynkr calls being written
        self._calls: list[ToolUseBlock] = []
        self._bad: dict[str, str] = {}  # call id -> its input, when that is not a JSON object
        self._client_calls = False
        self._start_usage = Usage()
        self._delta: MessageDelta | None = None
        self._error: StreamError | None = None

    def feed(self, events: list[Event]) -> list[Event]:
        """One read of the current step, as the client's events (the same event objects
        while the client's indexes are the step's: the usual first step costs no copies; a
        read of deltas only, none of them to a Lynkr call, is given back as the same list)."""
        if not self._held:
            indexes = self._indexes
            for event in events:
                if type(event) not in _DELTAS:
                    break
                index = event.index  # type: ignore[union-attr]  # a delta: its type says so
                if indexes[index] != index:
                    break
            else:
                self._step += events
                return events
        out: list[Event] = []
        for event in events:
            self._event(event, out)
        return out

    def _event(self, event: Event, out: list[Event]) -> None:
        if isinstance(event, (TextDelta, InputJsonDelta, ThinkingDelta, SignatureDelta)):
            held = self._held.get(event.index) if self._held else None
            if held is not None:
                if isinstance(event, InputJsonDelta):
                    held[1].append(event.partial_json)
                return
            self._step.append(event)
            index = self._indexes[event.index]
            out.append(event if index == event.index else attrs.evolve(event, index=index))
        elif isinstance(event, BlockStart):
            self._start(event, out)
        elif isinstance(event, BlockStop):
            self._stop(event, out)
        elif isinstance(event, MessageStart):
            self._start_usage = event.usage
            if not self._started:
                self._started = True
                self._step.append(event)
                out.append(event)
        elif isinstance(event, MessageDelta):
            self._delta = event
        elif isinstance(event, MessageStop):
            pass
        elif isinstance(event, StreamError):
            self._error = self._error or event
            out.append(event)
        else:  # Ping
            out.append(event)

    def _start(self, event: BlockStart, out: list[Event]) -> None:
        block = event.block
        if isinstance(block, ToolUseBlock) and block.name in self._lynkr:
            self._held[event.index] = (block, [])
            return
        if isinstance(block, ToolUseBlock):
            self._client_calls = True
        self._step.append(event)
        index = self._indexes[event.index] = self._claim()
        out.append(event if index == event.index else BlockStart(index, block))

    def _stop(self, event: BlockStop, out: list[Event]) -> None:
        held = self._held.pop(event.index, None)
        if held is None:
            self._step.append(event)
            index = self._indexes[event.index]
            out.append(event if index == event.index else BlockStop(index))
            return
        start, parts = held
        text = "".join(parts)
        try:
            arguments = orjson.loads(text) if text.strip() else dict(start.input)
        except orjson.JSONDecodeError:
            arguments = None
        call = attrs.evolve(start, input=arguments if isinstance(arguments, dict) else {})
        if not isinstance(arguments, dict):  # the loop answers it with an error
            self._bad[call.id] = text[:200]
        self._calls.append(call)
        self._step.append(BlockStart(event.index, call))
        self._step.append(BlockStop(event.index))
        index = self._claim()
        out += unfold_block(index, present_use(call))  # the input as a delta, as Anthropic

    def _claim(self) -> int:
        index = self._next
        self._next += 1
        return index

    def end_step(self) -> StepEnd:
        """The current step is over: what it said; the next ``feed`` starts a new step."""
        delta = self._delta
        step_usage = merge_usage(self._start_usage, delta.usage) if delta else self._start_usage
        self.usage = add_usage(self.usage, step_usage)
        # the turn is needed when Lynkr ran something (the next call repeats it, the legs keep
        # it); a first step that calls none of Lynkr's tools ends the answer as it came
        content: tuple[Block, ...] = ()
        if self._calls or self.steps:
            folder = Folder()
            for event in self._step:
                folder.add(event)
            content = folder.result().content
        end = StepEnd(
            Message("assistant", content),
            tuple(self._calls),
            self._client_calls,
            delta.stop_reason if delta else None,
            delta.stop_sequence if delta else None,
            self._error,
            self._bad,
        )
        self.steps += 1
        self.turns.append(end.turn)
        self._begin()
        return end

    def kept_by_every_client(self) -> Message:
        """What every client keeps of the answer (its text and its own tool calls, in order):
        what the legs' anchor is computed from (``lynkr.tools.legs.anchor``)."""
        return Message(
            "assistant",
            tuple(
                b
                for turn in self.turns
                for b in turn.content
                if isinstance(b, TextBlock)
                or (isinstance(b, ToolUseBlock) and b.name not in self._lynkr)
            ),
        )

    def results(self, results: list[ToolResultBlock]) -> list[Event]:
        """Lynkr's results, shown to the client."""
        out: list[Event] = []
        for result in results:
            index = self._claim()
            out += [BlockStart(index, present_result(result)), BlockStop(index)]
        return out

    def finish(self, stop_reason: str | None, stop_sequence: str | None = None) -> list[Event]:
        """The answer's end: one ``MessageDelta`` (usage summed) and ``MessageStop``."""
        return [MessageDelta(stop_reason, self.usage, stop_sequence), MessageStop()]
