"""A scripted fake AWS Bedrock runtime speaking the real wire format, for boto3's real client.

Routes ``POST /model/{modelId}/converse|converse-stream|invoke|invoke-with-response-stream``;
checks the ``Authorization`` header (SigV4 for the ``bedrock`` service, or ``Bearer <key>``)
and the body as Bedrock would (alternating roles starting with user, no blank text, toolConfig
whenever the history has tool blocks; for InvokeModel ``anthropic_version`` and no unknown
keys). Streams are ``application/vnd.amazon.eventstream`` frames (``encode_frame``). Errors are
``x-amzn-ErrorType`` + ``{"message"}``, as the service sends them.

Each request is recorded as a ``Call`` whose ``body`` is a chat-style *view* of the conversation
(``messages`` with ``tool_calls`` and ``role: tool`` results, ``tools``), so scripts and
assertions written for the OpenAI-style fake apply unchanged; ``raw`` is the real body.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import struct
from collections.abc import Callable
from typing import Any

import attrs
import orjson
import trio

from harness.asgi import handled_lifespan, read_request
from harness.fake_model import Fault
from harness.wire import Reply

INVOKE_KEYS = frozenset((
    "anthropic_version", "anthropic_beta", "max_tokens", "system", "messages", "tools",
    "tool_choice", "thinking", "temperature", "top_p", "top_k", "stop_sequences",
    "output_config"))
ERROR_CODES = {400: "ValidationException", 403: "AccessDeniedException",
               404: "ResourceNotFoundException", 408: "ModelTimeoutException",
               429: "ThrottlingException", 500: "InternalServerException",
               503: "ServiceUnavailableException"}


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude (total and headers length, CRC32), string
    headers (type 7), payload, and the CRC32 of everything before it."""
    raw = b"".join(struct.pack(">B", len(k)) + k.encode() + b"\x07"
                   + struct.pack(">H", len(v.encode())) + v.encode()
                   for k, v in headers.items())
    total = 12 + len(raw) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + raw + payload
    return message + struct.pack(">I", binascii.crc32(message) & 0xFFFFFFFF)


def event(name: str, payload: dict[str, Any]) -> bytes:
    return encode_frame({":event-type": name, ":content-type": "application/json",
                         ":message-type": "event"}, orjson.dumps(payload))


def exception(name: str, message: str) -> bytes:
    return encode_frame({":exception-type": name, ":content-type": "application/json",
                         ":message-type": "exception"}, orjson.dumps({"message": message}))


@attrs.frozen
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]  # chat-style view (see the module docstring)
    raw: dict[str, Any]
    model_id: str
    operation: str


Script = list[Reply | Fault] | Callable[[dict[str, Any]], Reply | Fault]


class FakeBedrock:
    def __init__(self, script: Script, api_key: str | None = None) -> None:
        self.script = script
        self.api_key = api_key
        self.calls: list[Call] = []
        self._ids = 0

    def _next(self, view: dict[str, Any]) -> Reply | Fault:
        if callable(self.script):
            return self.script(view)
        return self.script[min(len(self.calls) - 1, len(self.script) - 1)]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await handled_lifespan(scope, receive, send):
            return
        body, headers = await read_request(scope, receive)
        parts = scope["path"].split("/")
        if len(parts) != 4 or parts[1] != "model" or parts[3] not in (
                "converse", "converse-stream", "invoke", "invoke-with-response-stream"):
            await _error(send, 404, "UnknownOperationException", scope["path"])
            return
        model_id, operation = parts[2], parts[3]
        if not self._authorized(headers.get("authorization", "")):
            await _error(send, 403, "UnrecognizedClientException",
                         "The security token included in the request is invalid.")
            return
        raw = orjson.loads(body)
        invoke = operation.startswith("invoke")
        problem = _check_invoke(raw) if invoke else _check_converse(raw)
        view = _view(raw, invoke)
        self.calls.append(Call(scope["path"], headers, view, raw, model_id, operation))
        if problem:
            await _error(send, 400, "ValidationException", problem)
            return
        step = self._next(view)
        if isinstance(step, Fault) and step.kind == "status":
            code = ERROR_CODES.get(step.status, "InternalServerException")
            await _error(send, step.status, code, step.body.decode())
            return
        reply = step if isinstance(step, Reply) else Reply(text="partial answer " * 4)
        self._ids += 1
        if operation == "converse":
            await _json(send, converse_json(reply, self._ids))
        elif operation == "invoke":
            await _json(send, anthropic_message(reply, self._ids))
        else:
            frames = converse_frames(reply, self._ids) if operation == "converse-stream" \
                else invoke_frames(reply, self._ids)
            await self._stream(send, frames, step if isinstance(step, Fault) else None)

    def _authorized(self, value: str) -> bool:
        if self.api_key:
            return value == f"Bearer {self.api_key}"
        return value.startswith("AWS4-HMAC-SHA256 Credential=") and \
            "/bedrock/aws4_request" in value and "Signature=" in value

    async def _stream(self, send: Any, frames: list[bytes], fault: Fault | None) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/vnd.amazon.eventstream"),
            (b"x-amzn-requestid", b"fake-request-id")]})
        if fault is not None:
            frames = frames[: fault.after]
        for frame in frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        if fault is not None and fault.kind == "error_frame":
            frame = exception("modelStreamErrorException", "model crashed")
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        elif fault is not None and fault.kind == "stall":
            await trio.sleep_forever()
        elif fault is not None and fault.kind == "cut":
            raise RuntimeError("connection dropped on purpose")
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] if text else []


def _stop(reply: Reply) -> str:
    if reply.finish == "length":
        return "max_tokens"
    return "tool_use" if reply.tool_calls else (reply.finish or "end_turn")


def _call_id(reply_id: int, index: int, given: str | None) -> str:
    return given or f"tooluse_{reply_id}_{index}"


def converse_frames(reply: Reply, reply_id: int) -> list[bytes]:
    out = [event("messageStart", {"role": "assistant"})]
    index = 0
    if reply.thinking:
        out += [event("contentBlockDelta", {"contentBlockIndex": index, "delta": {
            "reasoningContent": {"text": p}}}) for p in _pieces(reply.thinking, 8)]
        out.append(event("contentBlockDelta", {"contentBlockIndex": index, "delta": {
            "reasoningContent": {"signature": "sig-bedrock"}}}))
        out.append(event("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    if reply.text:  # text blocks get no start event: the first delta opens them
        out += [event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": p},
                                            "p": "abcdefgh"}) for p in _pieces(reply.text, 4)]
        out.append(event("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    for n, call in enumerate(reply.tool_calls):
        out.append(event("contentBlockStart", {"contentBlockIndex": index, "start": {
            "toolUse": {"toolUseId": _call_id(reply_id, n, call.id), "name": call.name}}}))
        args = orjson.dumps(call.arguments).decode()
        out += [event("contentBlockDelta", {"contentBlockIndex": index, "delta": {
            "toolUse": {"input": p}}}) for p in _pieces(args, 9)]
        out.append(event("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    out.append(event("messageStop", {"stopReason": _stop(reply)}))
    out.append(event("metadata", {"usage": _usage(reply), "metrics": {"latencyMs": 12}}))
    return out


def _usage(reply: Reply) -> dict[str, int]:
    return {"inputTokens": reply.prompt_tokens, "outputTokens": reply.completion_tokens,
            "totalTokens": reply.prompt_tokens + reply.completion_tokens,
            "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0}


def converse_json(reply: Reply, reply_id: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text:
        content.append({"text": reply.text})
    content += [{"toolUse": {"toolUseId": _call_id(reply_id, n, c.id), "name": c.name,
                             "input": c.arguments}} for n, c in enumerate(reply.tool_calls)]
    return {"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": _stop(reply), "usage": _usage(reply), "metrics": {"latencyMs": 9}}


def anthropic_message(reply: Reply, reply_id: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text:
        content.append({"type": "text", "text": reply.text})
    content += [{"type": "tool_use", "id": _call_id(reply_id, n, c.id), "name": c.name,
                 "input": c.arguments} for n, c in enumerate(reply.tool_calls)]
    return {"id": f"msg_bdrk_{reply_id}", "type": "message", "role": "assistant",
            "model": "claude-fake", "content": content, "stop_reason": _stop(reply),
            "stop_sequence": None, "usage": {"input_tokens": reply.prompt_tokens,
                                             "output_tokens": reply.completion_tokens}}


def invoke_frames(reply: Reply, reply_id: int) -> list[bytes]:
    def chunk(obj: dict[str, Any]) -> bytes:
        return event("chunk", {"bytes": base64.b64encode(orjson.dumps(obj)).decode()})

    message = anthropic_message(reply, reply_id)
    out = [chunk({"type": "message_start", "message": {
        **message, "content": [], "stop_reason": None,
        "usage": {"input_tokens": reply.prompt_tokens, "output_tokens": 1}}})]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            out.append(chunk({"type": "content_block_start", "index": index,
                              "content_block": {"type": "text", "text": ""}}))
            out += [chunk({"type": "content_block_delta", "index": index,
                           "delta": {"type": "text_delta", "text": p}})
                    for p in _pieces(block["text"], 4)]
        else:
            out.append(chunk({"type": "content_block_start", "index": index,
                              "content_block": {**block, "input": {}}}))
            out += [chunk({"type": "content_block_delta", "index": index, "delta": {
                "type": "input_json_delta", "partial_json": p}})
                for p in _pieces(orjson.dumps(block["input"]).decode(), 9)]
        out.append(chunk({"type": "content_block_stop", "index": index}))
    out.append(chunk({"type": "message_delta", "delta": {"stop_reason": _stop(reply),
                                                         "stop_sequence": None},
                      "usage": {"output_tokens": reply.completion_tokens}}))
    out.append(chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": reply.prompt_tokens, "outputTokenCount": reply.completion_tokens,
        "invocationLatency": 10, "firstByteLatency": 5}}))
    return out


def _check_converse(raw: dict[str, Any]) -> str | None:
    messages = raw.get("messages") or []
    if not messages or messages[0].get("role") != "user":
        return "A conversation must start with a user message."
    for i, message in enumerate(messages):
        if i and message.get("role") == messages[i - 1].get("role"):
            return "A conversation must alternate between user and assistant roles."
        for block in message.get("content") or []:
            if "text" in block and not block["text"].strip():
                return "The text field in the ContentBlock object is blank."
            if ("toolUse" in block or "toolResult" in block) and "toolConfig" not in raw:
                return "The toolConfig field must be defined when using toolUse and " \
                       "toolResult content blocks."
    return None


def _check_invoke(raw: dict[str, Any]) -> str | None:
    if raw.get("anthropic_version") != "bedrock-2023-05-31":
        return "anthropic_version: field required"
    extra = sorted(set(raw) - INVOKE_KEYS)
    if extra:
        return f"extraneous key [{extra[0]}] is not permitted"
    roles = [m.get("role") for m in raw.get("messages") or []]
    if not roles or roles[0] != "user" or any(a == b for a, b in itertools.pairwise(roles)):
        return "messages: roles must alternate between user and assistant, starting with user"
    return None


def _view(raw: dict[str, Any], invoke: bool) -> dict[str, Any]:
    """The conversation in chat shape: tool calls on assistant turns, results as tool turns."""
    messages: list[dict[str, Any]] = []
    for message in raw.get("messages") or []:
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        texts, calls = [], []
        for block in blocks or []:
            kind, data = _anthropic_kind(block) if invoke else _converse_kind(block)
            if kind == "text":
                texts.append(data["text"])
            elif kind == "tool_use":
                calls.append({"id": data["id"], "type": "function", "function": {
                    "name": data["name"], "arguments": orjson.dumps(data["input"]).decode()}})
            elif kind == "tool_result":
                messages.append({"role": "tool", "tool_call_id": data["tool_use_id"],
                                 "content": data["text"]})
        entry: dict[str, Any] = {"role": message["role"], "content": "\n".join(texts)}
        if calls:
            entry["tool_calls"] = calls
        if texts or calls:
            messages.append(entry)
    tools = raw.get("tools") if invoke else (raw.get("toolConfig") or {}).get("tools")
    return {"messages": messages, "tools": tools or [], "stream": True}


def _anthropic_kind(block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if block.get("type") != "tool_result":
        return str(block.get("type")), block
    content = block.get("content")
    text = content if isinstance(content, str) else "\n".join(
        c.get("text", "") for c in content or [] if isinstance(c, dict))
    prefix = "[tool error] " if block.get("is_error") else ""
    return "tool_result", {"tool_use_id": block["tool_use_id"], "text": prefix + text}


def _converse_kind(block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "text" in block:
        return "text", block
    if "toolUse" in block:
        use = block["toolUse"]
        return "tool_use", {"id": use["toolUseId"], "name": use["name"], "input": use["input"]}
    if "toolResult" in block:
        result = block["toolResult"]
        text = "\n".join(c.get("text", "") for c in result.get("content") or [])
        prefix = "[tool error] " if result.get("status") == "error" else ""
        return "tool_result", {"tool_use_id": result["toolUseId"], "text": prefix + text}
    return "other", block


async def _json(send: Any, payload: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": orjson.dumps(payload)})


async def _error(send: Any, status: int, code: str, message: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"x-amzn-errortype", code.encode())]})
    await send({"type": "http.response.body", "body": orjson.dumps({"message": message})})
