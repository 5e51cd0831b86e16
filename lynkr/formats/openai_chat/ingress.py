"""OpenAI Chat Completions request JSON (what Cursor and the openai SDK send) → canonical Request.

Accepts: ``system``/``developer`` messages anywhere (the leading ones become the system prompt,
later ones stay in place as ``system`` messages); string or part-array content (text, image_url
as data or http(s) URL, input_audio and file kept opaque); assistant ``tool_calls`` whose
arguments are a JSON string, a truncated JSON string (repaired) or an object; legacy
``function_call``/``function`` messages; ``reasoning_content``/``reasoning`` strings on assistant
turns (other shapes of them are ignored); ``null`` for any optional field; every other OpenAI
field (seed, penalties, logprobs, store, ...), which is dropped.

Guarantees: consecutive tool results and the user message after them form one canonical user
turn with the results first; ``max_tokens`` is the client's limit, 0 when it gave none (the
pipeline's map_model gives the routed model its own); ``tool_choice`` is only set when there
are tools. A wrong type in a field we read is a BadRequest naming its path
(``messages.2.tool_calls.0.function.name``).
Never: does I/O, mutates its input, or accepts ``n > 1``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from lynkr.formats.jsonvalue import opt_int, opt_number, opt_object, opt_str, required, want
from lynkr.formats.reasoning import ANY_PROVIDER, details_text, sign
from lynkr.formats.toolcalls import parse_arguments
from lynkr.model.content import (
    EMPTY,
    Block,
    ImageBlock,
    OpaqueBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.errors import BadRequest
from lynkr.model.request import Message, Request, Tool

PLACEHOLDER_SCHEMA: Mapping[str, Any] = {"type": "object", "properties": {}}
# A custom (free-form text) tool is offered to function-calling models as one string argument.
FREEFORM_SCHEMA: Mapping[str, Any] = {
    "type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}
CLIENT_REASONING = ("reasoning_content", "reasoning", "reasoning_details")
_CHOICES = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}


@attrs.frozen
class ChatClientOptions:
    """What the client asked for that only matters when answering it."""

    include_usage: bool = False  # stream_options.include_usage: send the usage chunk
    n: int = 1


def parse_chat_request(obj: dict[str, Any]) -> tuple[Request, ChatClientOptions]:
    model = want(str, required(obj, "model", ""), "model", "a string")
    if not model:
        raise BadRequest("model: must not be empty")
    raw_messages = want(list, required(obj, "messages", ""), "messages", "an array")
    n = opt_int(obj, "n", "")
    if n is not None and n > 1:
        raise BadRequest("n > 1 is not supported")
    system, messages = _Conversation().parse(raw_messages)
    tools = _parse_tools(obj.get("tools"))
    choice = _tool_choice(obj)  # checked even without tools: a wrong type is still a 400
    stream = obj.get("stream")
    stream_options = opt_object(obj, "stream_options", "") or {}
    include_usage = stream_options.get("include_usage")
    request = Request(
        model=model,
        messages=messages,
        max_tokens=_max_tokens(obj),
        system=system,
        stream=bool(stream is not None and want(bool, stream, "stream", "a boolean")),
        tools=tools,
        tool_choice=choice if tools else None,
        thinking=_thinking(obj),
        temperature=opt_number(obj, "temperature", ""),
        top_p=opt_number(obj, "top_p", ""),
        stop_sequences=_stop(obj.get("stop")),
        metadata=_metadata(obj),
        extra=_extra(obj),
    )
    options = ChatClientOptions(
        include_usage=include_usage is not None and want(
            bool, include_usage, "stream_options.include_usage", "a boolean"),
        n=1 if n is None else n,
    )
    return request, options


# ---- messages ---------------------------------------------------------------------------------


class _Conversation:
    """Walks the messages once, merging tool results into the user turn that follows them."""

    def __init__(self) -> None:
        self.system: list[TextBlock] = []
        self.messages: list[Message] = []
        self.pending: list[Block] | None = None  # the user turn being gathered
        self.function_ids: dict[str, str] = {}  # legacy function_call name → synthesized id

    def parse(self, raw: list[Any]) -> tuple[tuple[TextBlock, ...], tuple[Message, ...]]:
        for i, item in enumerate(raw):
            path = f"messages.{i}"
            obj = want(dict, item, path, "a message object")
            role = required(obj, "role", path + ".")
            if role in ("system", "developer"):
                self._system(obj, path)
            elif role == "user":
                self._gather(parse_parts(required(obj, "content", path + "."), path + ".content"))
                self._flush()
            elif role == "assistant":
                self._flush()
                self.messages.append(Message("assistant", self._assistant(obj, path)))
            elif role == "tool":
                call_id = want(str, required(obj, "tool_call_id", path + "."),
                               path + ".tool_call_id", "a string")
                self._gather([_result(call_id, obj, path)])
            elif role == "function":
                name = want(str, required(obj, "name", path + "."), path + ".name", "a string")
                self._gather([_result(self.function_ids.get(name, f"call_{name}"), obj, path)])
            else:
                raise BadRequest(f"{path}.role: expected 'system', 'developer', 'user', "
                                 f"'assistant', 'tool' or 'function', got {role!r}")
        self._flush()
        return tuple(self.system), tuple(self.messages)

    def _system(self, obj: dict[str, Any], path: str) -> None:
        blocks = parse_text_parts(required(obj, "content", path + "."), path + ".content")
        self._flush()
        if self.messages:
            self.messages.append(Message("system", blocks))
        else:
            self.system.extend(blocks)

    def _gather(self, blocks: Iterable[Block]) -> None:
        if self.pending is None:
            self.pending = []
        self.pending.extend(blocks)

    def _flush(self) -> None:
        if self.pending is not None:
            self.messages.append(Message("user", tuple(self.pending)))
            self.pending = None

    def _assistant(self, obj: dict[str, Any], path: str) -> tuple[Block, ...]:
        blocks: list[Block] = []
        fields = {key: obj[key] for key in CLIENT_REASONING if (isinstance(obj.get(key), str)
                  and obj[key]) or (key == "reasoning_details" and isinstance(obj.get(key), list))}
        if fields:  # what the client echoes goes back to whichever backend answers
            text = next((v for v in fields.values() if isinstance(v, str)), "")
            blocks.append(ThinkingBlock(text or details_text(fields.get(
                "reasoning_details", ())), sign(ANY_PROVIDER, fields)))
        content = obj.get("content")
        if content is not None:
            text = "".join(b.text for b in parse_text_parts(content, path + ".content"))
            if text:
                blocks.append(TextBlock(text))
        calls = obj.get("tool_calls")
        if calls is not None:
            items = want(list, calls, path + ".tool_calls", "an array")
            blocks.extend(_tool_call(c, f"{path}.tool_calls.{j}") for j, c in enumerate(items))
        legacy = opt_object(obj, "function_call", path + ".")
        if legacy is not None:
            call = _function(legacy, path + ".function_call", f"call_{len(self.messages)}")
            self.function_ids[call.name] = call.id
            blocks.append(call)
        return tuple(blocks)


def _tool_call(raw: Any, path: str) -> ToolUseBlock:
    obj = want(dict, raw, path, "a tool call object")
    call_id = want(str, required(obj, "id", path + "."), path + ".id", "a string")
    if obj.get("type") == "custom":
        custom = want(dict, required(obj, "custom", path + "."), path + ".custom", "an object")
        name = want(str, required(custom, "name", path + ".custom."), path + ".custom.name",
                    "a string")
        text = want(str, custom.get("input", ""), path + ".custom.input", "a string")
        return ToolUseBlock(call_id, name, {"input": text})
    function = want(dict, required(obj, "function", path + "."), path + ".function", "an object")
    return _function(function, path + ".function", call_id)


def _function(obj: dict[str, Any], path: str, call_id: str) -> ToolUseBlock:
    name = want(str, required(obj, "name", path + "."), path + ".name", "a string")
    arguments = obj.get("arguments")
    if arguments is not None:
        want((str, dict), arguments, path + ".arguments", "a JSON string or an object")
    return ToolUseBlock(call_id, name, parse_arguments(arguments))


def _result(call_id: str, obj: dict[str, Any], path: str) -> ToolResultBlock:
    content = required(obj, "content", path + ".")
    if content is None or content == "":
        return ToolResultBlock(call_id)
    return ToolResultBlock(call_id, parse_parts(content, path + ".content"))


# ---- content parts ----------------------------------------------------------------------------


def parse_text_parts(value: Any, path: str) -> tuple[TextBlock, ...]:
    """System, developer and assistant content: a string or text (or refusal) parts."""
    if isinstance(value, str):
        return (TextBlock(value),)
    items = want(list, value, path, "a string or an array of text parts")
    blocks = []
    for i, raw in enumerate(items):
        part_path = f"{path}.{i}"
        part = want(dict, raw, part_path, "a content part object")
        kind = required(part, "type", part_path + ".")
        if kind not in ("text", "refusal"):
            raise BadRequest(f"{part_path}.type: expected 'text', got {kind!r}")
        blocks.append(TextBlock(want(str, required(part, kind, part_path + "."),
                                     f"{part_path}.{kind}", "a string")))
    return tuple(blocks)


def parse_parts(value: Any, path: str) -> tuple[Block, ...]:
    """User and tool content: a string or an array of text, image_url, input_audio, file."""
    if isinstance(value, str):
        return (TextBlock(value),)
    items = want(list, value, path, "a string or an array of content parts")
    return tuple(_part(raw, f"{path}.{i}") for i, raw in enumerate(items))


def _part(raw: Any, path: str) -> Block:
    part = want(dict, raw, path, "a content part object")
    kind = required(part, "type", path + ".")
    if kind == "text":
        return TextBlock(want(str, required(part, "text", path + "."), path + ".text",
                              "a string"))
    if kind == "image_url":
        image = required(part, "image_url", path + ".")
        if isinstance(image, str):  # some clients send the URL itself
            return ImageBlock(image_source(image, path + ".image_url"))
        image = want(dict, image, path + ".image_url", "an object")
        url = want(str, required(image, "url", path + ".image_url."), path + ".image_url.url",
                   "a string")
        return ImageBlock(image_source(url, path + ".image_url.url"))
    if kind in ("input_audio", "file"):
        want(dict, required(part, kind, path + "."), f"{path}.{kind}", "an object")
        return OpaqueBlock(kind, part)
    raise BadRequest(f"{path}.type: expected 'text', 'image_url', 'input_audio' or 'file', "
                     f"got {kind!r}")


def image_source(url: str, path: str) -> Mapping[str, Any]:
    """An image URL as an Anthropic image source: base64 for data URLs, else url."""
    if url.startswith("data:"):
        header, comma, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if comma and encoding == "base64":
            return {"type": "base64", "media_type": media_type or "image/png", "data": data}
        raise BadRequest(f"{path}: expected a base64 data URL")
    if url.startswith(("http://", "https://")):
        return {"type": "url", "url": url}
    raise BadRequest(f"{path}: expected a data: or http(s) URL")


# ---- tools and settings -----------------------------------------------------------------------


def _parse_tools(value: Any) -> tuple[Tool, ...]:
    if value is None:
        return ()
    items = want(list, value, "tools", "an array")
    return tuple(_tool(raw, f"tools.{i}") for i, raw in enumerate(items))


def _tool(raw: Any, path: str) -> Tool:
    obj = want(dict, raw, path, "a tool object")
    kind = obj.get("type", "function")
    if kind not in ("function", "custom"):
        raise BadRequest(f"{path}.type: expected 'function' or 'custom', got {kind!r}")
    spec = want(dict, required(obj, kind, path + "."), f"{path}.{kind}", "an object")
    spec_path = f"{path}.{kind}."
    name = want(str, required(spec, "name", spec_path), spec_path + "name", "a string")
    description = opt_str(spec, "description", spec_path) or ""
    if kind == "custom":
        fmt = opt_object(spec, "format", spec_path)
        return Tool(name, description, FREEFORM_SCHEMA, type="custom",
                    extra={"format": fmt} if fmt else EMPTY)
    schema = opt_object(spec, "parameters", spec_path)
    strict = spec.get("strict")
    if strict is not None:
        want(bool, strict, spec_path + "strict", "a boolean")
    return Tool(name, description, schema or PLACEHOLDER_SCHEMA,
                extra={"strict": True} if strict else EMPTY)


def _tool_choice(obj: dict[str, Any]) -> Mapping[str, Any] | None:
    value = obj.get("tool_choice")
    choice: dict[str, Any] | None
    if value is None:
        choice = None
    elif isinstance(value, str):
        if value not in _CHOICES:
            raise BadRequest(f"tool_choice: expected 'auto', 'required' or 'none', got {value!r}")
        choice = dict(_CHOICES[value])
    else:
        choice = _named_choice(want(dict, value, "tool_choice", "a string or an object"))
    parallel = obj.get("parallel_tool_calls")
    if parallel is not None and not want(bool, parallel, "parallel_tool_calls", "a boolean"):
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    return choice


def _named_choice(value: dict[str, Any]) -> dict[str, Any]:
    kind = required(value, "type", "tool_choice.")
    if kind in ("function", "custom"):
        spec = want(dict, required(value, kind, "tool_choice."), f"tool_choice.{kind}",
                    "an object")
        name = want(str, required(spec, "name", f"tool_choice.{kind}."),
                    f"tool_choice.{kind}.name", "a string")
        return {"type": "tool", "name": name}
    if kind == "allowed_tools":
        allowed = want(dict, required(value, kind, "tool_choice."), "tool_choice.allowed_tools",
                       "an object")
        mode = allowed.get("mode", "auto")
        if mode not in ("auto", "required"):
            raise BadRequest(f"tool_choice.allowed_tools.mode: expected 'auto' or 'required', "
                             f"got {mode!r}")
        return dict(_CHOICES[mode])
    raise BadRequest(f"tool_choice.type: expected 'function', 'custom' or 'allowed_tools', "
                     f"got {kind!r}")


def _max_tokens(obj: dict[str, Any]) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        value = opt_int(obj, key, "")
        if value is not None:
            if value < 1:
                raise BadRequest(f"{key}: must be at least 1")
            return value
    return 0  # none: map_model gives the routed model its own limit


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    items = want(list, value, "stop", "a string or an array of strings")
    return tuple(want(str, s, f"stop.{i}", "a string") for i, s in enumerate(items))


def _thinking(obj: dict[str, Any]) -> Mapping[str, Any] | None:
    effort = opt_str(obj, "reasoning_effort", "")
    if effort is None:
        return None
    return {"type": "disabled"} if effort == "none" else {"type": "adaptive"}


def _extra(obj: dict[str, Any]) -> Mapping[str, Any]:
    config: dict[str, Any] = {}
    effort = opt_str(obj, "reasoning_effort", "")
    if effort is not None and effort != "none":
        config["effort"] = effort
    fmt = _response_format(opt_object(obj, "response_format", ""))
    if fmt is not None:
        config["format"] = fmt
    return {"output_config": config} if config else EMPTY


def _response_format(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    kind = required(value, "type", "response_format.")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind != "json_schema":
        raise BadRequest(f"response_format.type: expected 'text', 'json_object' or "
                         f"'json_schema', got {kind!r}")
    path = "response_format.json_schema"
    spec = want(dict, required(value, "json_schema", "response_format."), path, "an object")
    out: dict[str, Any] = {"type": "json_schema",
                           "schema": opt_object(spec, "schema", path + ".") or {}}
    name = opt_str(spec, "name", path + ".")
    if name is not None:
        out["name"] = name
    if isinstance(spec.get("strict"), bool):
        out["strict"] = spec["strict"]
    return out


def _metadata(obj: dict[str, Any]) -> Mapping[str, Any] | None:
    user = opt_str(obj, "user", "")
    return None if user is None else {"user_id": user}
