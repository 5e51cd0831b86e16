"""The JSON objects of a Responses answer: the response object, output items, usage, errors.

Accepts canonical values and the client's echo options. Guarantees: every object carries every
field the official SDK's models require (checked against openai's ``types/responses``); item ids
derive from the response id and the output index alone, so the stream and the whole response
name the same item the same way. Never: reads a clock or invents randomness.
"""

from __future__ import annotations

from typing import Any

from lynkr.formats.openai_responses.ingress import ResponsesClientOptions
from lynkr.model.events import StreamError, Usage

_PREFIXES = {"message": "msg", "function_call": "fc", "reasoning": "rs",
             "custom_tool_call": "ctc", "tool_search_call": "tsc"}
_INCOMPLETE = {
    "max_tokens": "max_output_tokens",
    "model_context_window_exceeded": "max_output_tokens",
    "refusal": "content_filter",
}
_ERROR_CODES = {"rate_limit_error": "rate_limit_exceeded"}


def item_id(response_id: str, kind: str, output_index: int) -> str:
    """``msg_…``/``fc_…``/``rs_…`` from the response id (``resp_`` dropped) and the index."""
    return f"{_PREFIXES[kind]}_{response_id.removeprefix('resp_')}_{output_index}"


def output_text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def summary_part(text: str) -> dict[str, Any]:
    return {"type": "summary_text", "text": text}


def message_item(id_: str, text: str | None, status: str) -> dict[str, Any]:
    """An assistant message item; ``text`` None is the empty one of output_item.added."""
    return {"id": id_, "type": "message", "status": status, "role": "assistant",
            "content": [] if text is None else [output_text_part(text)]}


def function_call_item(id_: str, call_id: str, name: str, arguments: str,
                       status: str, namespace: str | None = None) -> dict[str, Any]:
    return _named_call("function_call", id_, call_id, name, status, namespace,
                       arguments=arguments)


def custom_tool_call_item(id_: str, call_id: str, name: str, input_: str,
                          status: str, namespace: str | None = None) -> dict[str, Any]:
    return _named_call("custom_tool_call", id_, call_id, name, status, namespace, input=input_)


def _named_call(kind: str, id_: str, call_id: str, name: str, status: str,
                namespace: str | None, **payload: str) -> dict[str, Any]:
    item = {"id": id_, "type": kind, "status": status, **payload, "call_id": call_id,
            "name": name}
    if namespace:
        item["namespace"] = namespace
    return item


def tool_search_call_item(id_: str, call_id: str, arguments: Any, status: str
                          ) -> dict[str, Any]:
    return {"id": id_, "type": "tool_search_call", "status": status, "call_id": call_id,
            "execution": "client", "arguments": arguments if isinstance(arguments, dict) else {}}


def reasoning_item(id_: str, summary: list[str], encrypted: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": id_, "type": "reasoning",
                            "summary": [summary_part(text) for text in summary]}
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


def usage_object(usage: Usage) -> dict[str, Any]:
    """Responses usage: input includes cache reads and writes (as OpenAI counts it)."""
    cached, written = usage.cache_read_input_tokens, usage.cache_creation_input_tokens
    input_tokens = usage.input_tokens + cached + written
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + usage.output_tokens,
    }


def final_status(stop_reason: str | None) -> tuple[str, dict[str, Any] | None]:
    """(status, incomplete_details) of a finished answer."""
    reason = _INCOMPLETE.get(stop_reason or "")
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


def error_object(error: StreamError) -> dict[str, Any]:
    return {"code": _ERROR_CODES.get(error.error_type, "server_error"), "message": error.message}


def response_object(
    response_id: str,
    model: str,
    created_at: int,
    options: ResponsesClientOptions,
    *,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None = None,
    incomplete_details: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": incomplete_details,
        "instructions": options.instructions,
        "max_output_tokens": options.max_output_tokens,
        "model": model,
        "output": output,
        "parallel_tool_calls": options.parallel_tool_calls,
        "previous_response_id": options.previous_response_id,
        "reasoning": dict(options.reasoning or {"effort": None, "summary": None}),
        "store": options.store,
        "temperature": options.temperature,
        "text": dict(options.text),
        "tool_choice": options.tool_choice,
        "tools": list(options.tools),
        "top_p": options.top_p,
        "truncation": options.truncation,
        "usage": usage,
        "user": options.user,
        "metadata": dict(options.metadata),
    }
