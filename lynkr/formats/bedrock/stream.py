"""ConverseStream events (the dicts boto3 yields, keyed by event name) → canonical events.

Bedrock sends ``messageStart``, content blocks (a text block may start with its first delta;
a tool call starts with ``contentBlockStart``), ``messageStop`` with the stop reason, and only
then ``metadata`` with the usage: the stop reason is held until the usage arrives, so the one
``message_delta`` carries both. Tool calls are gathered whole (``AnswerBuilder``) and emitted at
the end with valid JSON input. An exception event ends the stream with a ``StreamError``.
``converse_events`` turns a whole (non-streamed) Converse response into the same events.
"""

from __future__ import annotations

from typing import Any

import attrs

from lynkr.formats.bedrock.models import stop_reason
from lynkr.formats.toolcalls import AnswerBuilder
from lynkr.model.events import Event, MessageDelta, MessageStart, StreamError, Usage

# in-stream exceptions (and boto3's EventStreamError codes) → Anthropic error types
STREAM_ERRORS = {
    "internalServerException": "api_error",
    "modelStreamErrorException": "api_error",
    "validationException": "invalid_request_error",
    "throttlingException": "rate_limit_error",
    "serviceUnavailableException": "overloaded_error",
    "modelTimeoutException": "timeout_error",
}


def usage_from_bedrock(obj: dict[str, Any] | None) -> Usage:
    obj = obj or {}
    return Usage(
        input_tokens=obj.get("inputTokens") or 0,
        output_tokens=obj.get("outputTokens") or 0,
        cache_creation_input_tokens=obj.get("cacheWriteInputTokens") or 0,
        cache_read_input_tokens=obj.get("cacheReadInputTokens") or 0,
    )


def stream_error(name: str, message: str) -> StreamError:
    key = name[:1].lower() + name[1:]
    return StreamError(STREAM_ERRORS.get(key, "api_error"),
                       f"bedrock: {name}: {message or 'stream failed'}")


class ConverseStreamParser:
    def __init__(self, message_id: str, model: str, input_estimate: int = 0,
                 taken_ids: frozenset[str] = frozenset()) -> None:
        # reasoning without a Bedrock signature (non-Claude models) is still signed, so that no
        # thinking block reaches a client with an empty signature; it is never sent back
        self._answer = AnswerBuilder(message_id, taken_ids, sign_for="bedrock")
        self._start = MessageStart(message_id, model, Usage(input_tokens=input_estimate))
        self._started = False
        self._stop: str | None = None
        self._stop_sequence: str | None = None
        self._usage = Usage(input_tokens=input_estimate)
        self.done = False

    def feed(self, event: dict[str, Any]) -> list[Event]:
        out: list[Event] = []
        if self.done:
            return out
        if not self._started:
            out.append(self._start)
            self._started = True
        for name, body in event.items():
            self._event(name, body or {}, out)
        return out

    def close(self) -> list[Event]:
        """The event stream ended: finish if ``messageStop`` came, else report the cut."""
        out: list[Event] = []
        if not self._started:
            out.append(self._start)
            self._started = True
        if not self.done:
            if self._stop is not None:
                self._finish(out)
            else:
                self.done = True
                out.append(StreamError("api_error", "bedrock: the event stream ended before "
                                                    "the answer was complete"))
        return out

    def _event(self, name: str, body: dict[str, Any], out: list[Event]) -> None:
        if name == "contentBlockDelta":
            self._delta(body.get("contentBlockIndex", 0), body.get("delta") or {}, out)
        elif name == "contentBlockStart":
            tool = (body.get("start") or {}).get("toolUse")
            if tool:
                self._answer.call(body.get("contentBlockIndex", 0), tool.get("toolUseId"),
                                  tool.get("name"))
        elif name == "messageStop":
            self._stop = body.get("stopReason") or "end_turn"
            extra = body.get("additionalModelResponseFields") or {}
            if isinstance(extra, dict) and isinstance(extra.get("stop_sequence"), str):
                self._stop_sequence = extra["stop_sequence"]
        elif name == "metadata":
            self._usage = usage_from_bedrock(body.get("usage"))
            if self._stop is not None:
                self._finish(out)
        elif name.endswith("Exception"):
            self.done = True
            out.append(stream_error(name, str(body.get("message") or body.get("Message", ""))))

    def _delta(self, index: int, delta: dict[str, Any], out: list[Event]) -> None:
        if "text" in delta:
            self._answer.text(delta["text"], out)
        elif "toolUse" in delta:
            fragment = (delta["toolUse"] or {}).get("input")
            if fragment:
                self._answer.call(index, None, None).arguments.append(fragment)
        elif "reasoningContent" in delta:
            reasoning = delta["reasoningContent"] or {}
            self._answer.thinking(reasoning.get("text") or "", out,
                                  reasoning.get("signature") or "")

    def whole_call(self, index: int, tool: dict[str, Any]) -> None:
        """A tool call that arrived whole (the non-streamed answer)."""
        pending = self._answer.call(index, tool.get("toolUseId"), tool.get("name"))
        value = tool.get("input")
        pending.whole = value if isinstance(value, dict) else {}

    def _finish(self, out: list[Event]) -> None:
        self.done = True
        self._answer.finish(stop_reason(self._stop), self._usage, out)
        if self._stop_sequence and isinstance(out[-2], MessageDelta):
            out[-2] = attrs.evolve(out[-2], stop_sequence=self._stop_sequence)


def converse_events(response: dict[str, Any], message_id: str, model: str,
                    taken_ids: frozenset[str] = frozenset()) -> list[Event]:
    """A whole Converse response as the events its stream would have carried."""
    parser = ConverseStreamParser(message_id, model, 0, taken_ids)
    out = parser.feed({"messageStart": {"role": "assistant"}})
    message = (response.get("output") or {}).get("message") or {}
    for index, block in enumerate(message.get("content") or ()):
        if "text" in block:
            out += parser.feed({"contentBlockDelta": {"contentBlockIndex": index,
                                                      "delta": {"text": block["text"]}}})
        elif "toolUse" in block:
            parser.whole_call(index, block["toolUse"])
        elif "reasoningContent" in block:
            text = (block["reasoningContent"] or {}).get("reasoningText") or {}
            out += parser.feed({"contentBlockDelta": {"contentBlockIndex": index, "delta": {
                "reasoningContent": {"text": text.get("text", ""),
                                     "signature": text.get("signature", "")}}}})
    out += parser.feed({"messageStop": {
        "stopReason": response.get("stopReason"),
        "additionalModelResponseFields": response.get("additionalModelResponseFields")}})
    out += parser.feed({"metadata": {"usage": response.get("usage")}})
    return out
