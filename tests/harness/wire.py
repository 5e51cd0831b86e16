"""Model answers written in each provider's real wire format (what real servers send)."""

from __future__ import annotations

from typing import Any

import attrs
import orjson


@attrs.frozen
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str | None = None


@attrs.frozen
class Reply:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    thinking: str = ""
    finish: str | None = None  # default: stop, or tool_calls when there are calls
    prompt_tokens: int = 120
    completion_tokens: int = 12
    # the upstream's cache figure: OpenAI prompt_tokens_details.cached_tokens (or, with
    # cache_field="prompt_cache_hit_tokens", DeepSeek's own field)
    cached_tokens: int = 0
    cache_field: str = "cached_tokens"
    # OpenAI dialect: the field the thinking comes in ("reasoning_content"; "reasoning" or
    # "openrouter": OpenRouter's ``reasoning`` string plus ``reasoning_details`` pieces)
    reasoning_field: str = "reasoning_content"


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] if text else []


def openai_chunks(reply: Reply, model: str = "fake-model", cid: str = "chatcmpl-1"
                  ) -> list[bytes]:
    """An OpenAI Chat Completions stream, one SSE frame per item, ending in [DONE]."""

    def frame(delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {"id": cid, "object": "chat.completion.chunk", "created": 1, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    out = [frame({"role": "assistant", "content": ""})]
    out += [frame(_reasoning_delta(reply.reasoning_field, p)) for p in _pieces(reply.thinking, 8)]
    out += [frame({"content": p}) for p in _pieces(reply.text, 4)]
    for index, call in enumerate(reply.tool_calls):
        args = orjson.dumps(call.arguments).decode()
        out.append(frame({"tool_calls": [{"index": index, "id": call.id or f"call_{index}",
                                          "type": "function",
                                          "function": {"name": call.name, "arguments": ""}}]}))
        out += [frame({"tool_calls": [{"index": index, "function": {"arguments": p}}]})
                for p in _pieces(args, 9)]
    finish = reply.finish or ("tool_calls" if reply.tool_calls else "stop")
    out.append(frame({}, finish))
    usage = {"id": cid, "object": "chat.completion.chunk", "created": 1, "model": model,
             "choices": [], "usage": {"prompt_tokens": reply.prompt_tokens,
                                      "completion_tokens": reply.completion_tokens,
                                      "total_tokens": reply.prompt_tokens
                                      + reply.completion_tokens}}
    if reply.cached_tokens:
        usage["usage"].update(  # type: ignore[attr-defined]
            {"prompt_tokens_details": {"cached_tokens": reply.cached_tokens}}
            if reply.cache_field == "cached_tokens"
            else {reply.cache_field: reply.cached_tokens})
    out.append(b"data: " + orjson.dumps(usage) + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return out


def _reasoning_delta(field: str, piece: str) -> dict[str, Any]:
    if field != "openrouter":
        return {field: piece}
    return {"reasoning": piece, "reasoning_details": [
        {"type": "reasoning.text", "text": piece, "index": 0, "format": "unknown"}]}


def openai_json(reply: Reply, model: str = "fake-model") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id or f"call_{i}", "type": "function",
             "function": {"name": c.name, "arguments": orjson.dumps(c.arguments).decode()}}
            for i, c in enumerate(reply.tool_calls)]
    finish = reply.finish or ("tool_calls" if reply.tool_calls else "stop")
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": reply.prompt_tokens,
                      "completion_tokens": reply.completion_tokens,
                      "total_tokens": reply.prompt_tokens + reply.completion_tokens}}


def ollama_lines(reply: Reply, model: str = "fake-model") -> list[bytes]:
    """An Ollama /api/chat NDJSON stream: tool calls arrive whole, done_reason says stop."""

    def line(message: dict[str, Any], **extra: Any) -> bytes:
        obj = {"model": model, "created_at": "2026-01-01T00:00:00Z",
               "message": {"role": "assistant", "content": "", **message}, "done": False}
        obj.update(extra)
        return orjson.dumps(obj) + b"\n"

    out = [line({"thinking": p}) for p in _pieces(reply.thinking, 8)]
    out += [line({"content": p}) for p in _pieces(reply.text, 4)]
    if reply.tool_calls:
        out.append(line({"tool_calls": [
            {**({"id": c.id} if c.id else {}),  # newer Ollama builds send ids, older do not
             "function": {"index": i, "name": c.name, "arguments": c.arguments}}
            for i, c in enumerate(reply.tool_calls)]}))
    done_reason = "length" if reply.finish == "length" else "stop"
    out.append(line({}, done=True, done_reason=done_reason, total_duration=1000,
                    prompt_eval_count=reply.prompt_tokens, eval_count=reply.completion_tokens))
    return out


def ollama_json(reply: Reply, model: str = "fake-model") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}}
                                 for c in reply.tool_calls]
    return {"model": model, "created_at": "2026-01-01T00:00:00Z", "message": message,
            "done": True, "done_reason": "stop", "prompt_eval_count": reply.prompt_tokens,
            "eval_count": reply.completion_tokens}
