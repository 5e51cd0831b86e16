"""Canonical Request → the keyword arguments of boto3's ``converse`` / ``converse_stream``.

The result is the Converse JSON document (images and documents as base64 strings, as on the
HTTP wire); ``for_boto3`` turns those into the raw bytes boto3 wants. Mapping: system blocks →
``system`` text with a ``cachePoint`` after each block marked ``cache_control`` (likewise in
messages and after the tools); images and PDFs → ``image``/``document`` blocks; tool calls and
results → ``toolUse``/``toolResult`` (``status: error`` for ``is_error``); Claude thinking with
a real signature → ``reasoningContent``; sampling → ``inferenceConfig``; ``top_k`` and thinking
→ ``additionalModelRequestFields`` (Claude only). Blank text is never sent (Bedrock rejects it).
A model without tool support gets no ``toolConfig``, and the history's calls become text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from lynkr.formats.bedrock.models import is_claude, supports_tools
from lynkr.formats.bedrock.turns import bedrock_messages
from lynkr.formats.output_format import bedrock_output_config, output_format
from lynkr.formats.reasoning import BUDGETS, intent, is_foreign
from lynkr.model.content import (
    Block,
    ImageBlock,
    OpaqueBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.request import Request, Tool

CACHE_POINT = {"cachePoint": {"type": "default"}}
IMAGE_FORMATS = ("png", "jpeg", "gif", "webp")
# Claude betas Bedrock accepts in additionalModelRequestFields / the InvokeModel body
BEDROCK_BETAS = frozenset((
    "interleaved-thinking-2025-05-14", "context-1m-2025-08-07", "token-efficient-tools-2025-02-19",
    "computer-use-2024-10-22", "computer-use-2025-01-24", "computer-use-2025-11-24",
    "output-128k-2025-02-19", "dev-full-thinking-2025-05-14", "context-management-2025-06-27",
    "effort-2025-11-24", "tool-search-tool-2025-10-19", "tool-examples-2025-10-29",
    "fine-grained-tool-streaming-2025-05-14",
))
_DOC_NAME = re.compile(r"[^A-Za-z0-9 \-()\[\]]")


def build_converse(request: Request, model_id: str) -> dict[str, Any]:
    claude, tools_ok = is_claude(model_id), supports_tools(model_id)
    out: dict[str, Any] = {"modelId": model_id}
    messages = []
    for message in bedrock_messages(request.messages):
        content = [part for block in message.content
                   for part in _block(block, claude, tools_ok)]
        if content:
            messages.append({"role": message.role, "content": content})
    out["messages"] = messages
    system = _system(request)
    if system:
        out["system"] = system
    config = _inference(request)
    if config:
        out["inferenceConfig"] = config
    if tools_ok and request.tools:
        tool_config = _tool_config(request.tools, request.tool_choice)
        if tool_config:
            out["toolConfig"] = tool_config
    output = bedrock_output_config(output_format(request))
    if output:
        out["outputConfig"] = output
    if claude:
        extra = claude_fields(request)
        if extra:
            out["additionalModelRequestFields"] = extra
        out["additionalModelResponseFieldPaths"] = ["/stop_sequence"]
    return out


def _system(request: Request) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in request.system:
        if block.text.strip():
            out.append({"text": block.text})
        if block.cache_control and out and "text" in out[-1]:
            out.append(CACHE_POINT)
    return out


def _inference(request: Request) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if request.max_tokens:
        config["maxTokens"] = request.max_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.stop_sequences:
        config["stopSequences"] = list(request.stop_sequences)
    return config


def claude_fields(request: Request) -> dict[str, Any]:
    """``additionalModelRequestFields`` for Claude: top_k, thinking, accepted betas."""
    extra: dict[str, Any] = {}
    if request.top_k is not None:
        extra["top_k"] = request.top_k
    want = intent(request.thinking)
    if want is not None and want.on:
        budget = want.budget or BUDGETS[want.effort]
        if request.max_tokens:
            budget = min(budget, request.max_tokens - 1)
        if budget >= 1024:
            extra["thinking"] = {"type": "enabled", "budget_tokens": budget}
    betas = [b for b in request.betas if b in BEDROCK_BETAS]
    if betas:
        extra["anthropic_beta"] = betas
    return extra


def _tool_config(tools: tuple[Tool, ...], choice: Mapping[str, Any] | None
                 ) -> dict[str, Any] | None:
    specs: list[dict[str, Any]] = []
    for tool in tools:
        if tool.is_server_tool:
            continue
        schema = {k: v for k, v in tool.input_schema.items() if k != "$schema"}
        spec: dict[str, Any] = {"name": tool.name, "inputSchema": {"json": schema}}
        if tool.description:
            spec["description"] = tool.description
        specs.append({"toolSpec": spec})
        if tool.extra.get("cache_control"):
            specs.append(CACHE_POINT)
    if not specs:
        return None
    config: dict[str, Any] = {"tools": specs}
    kind = (choice or {}).get("type")
    if kind == "any":
        config["toolChoice"] = {"any": {}}
    elif kind == "tool" and choice and choice.get("name"):
        config["toolChoice"] = {"tool": {"name": choice["name"]}}
    elif kind == "auto":
        config["toolChoice"] = {"auto": {}}
    return config


def _block(block: Block, claude: bool, tools_ok: bool) -> list[dict[str, Any]]:
    parts = _parts(block, claude, tools_ok)
    if getattr(block, "cache_control", None) and parts:
        parts.append(CACHE_POINT)
    return parts


def _parts(block: Block, claude: bool, tools_ok: bool) -> list[dict[str, Any]]:
    if isinstance(block, TextBlock):
        return [{"text": block.text}] if block.text.strip() else []
    if isinstance(block, ImageBlock):
        return [image(block)]
    if isinstance(block, ToolUseBlock):
        if not tools_ok:
            return [{"text": f"[called tool {block.name} with {dict(block.input)}]"}]
        return [{"toolUse": {"toolUseId": block.id, "name": block.name,
                             "input": dict(block.input)}}]
    if isinstance(block, ToolResultBlock):
        return [_tool_result(block, tools_ok)]
    if isinstance(block, ThinkingBlock):
        if not claude or is_foreign(block.signature):
            return []
        return [{"reasoningContent": {"reasoningText": {"text": block.thinking,
                                                        "signature": block.signature}}}]
    if isinstance(block, RedactedThinkingBlock):
        return [{"reasoningContent": {"redactedContent": block.data}}] if claude else []
    return _opaque(block)


def image(block: ImageBlock) -> dict[str, Any]:
    source = block.source
    if source.get("type") != "base64":
        return {"text": f"[image: {source.get('url', '')}]"}
    fmt = str(source.get("media_type", "image/png")).removeprefix("image/")
    fmt = "jpeg" if fmt == "jpg" else fmt
    return {"image": {"format": fmt if fmt in IMAGE_FORMATS else "png",
                      "source": {"bytes": source.get("data", "")}}}


def _tool_result(block: ToolResultBlock, tools_ok: bool) -> dict[str, Any]:
    if not tools_ok:
        prefix = "[tool error] " if block.is_error else ""
        return {"text": f"[result of {block.tool_use_id}] {prefix}{block.text()}"}
    content: list[dict[str, Any]] = []
    for part in block.content:
        if isinstance(part, ImageBlock):
            content.append(image(part))
        elif isinstance(part, TextBlock):
            if part.text.strip():
                content.append({"text": part.text})
        elif isinstance(part, OpaqueBlock):
            content.extend(_opaque(part))
    return {"toolResult": {"toolUseId": block.tool_use_id,
                           "content": content or [{"text": "(no output)"}],
                           "status": "error" if block.is_error else "success"}}


def _opaque(block: Block) -> list[dict[str, Any]]:
    if not isinstance(block, OpaqueBlock):
        return []
    source = block.raw.get("source") or {}
    if block.type == "document" and source.get("type") == "text":
        text = str(source.get("data", ""))
        return [{"text": text}] if text.strip() else []
    if block.type == "document" and source.get("media_type") == "application/pdf" \
            and source.get("type") == "base64":
        name = _DOC_NAME.sub(" ", str(block.raw.get("title") or "document")).strip()
        return [{"document": {"format": "pdf", "name": name or "document",
                              "source": {"bytes": source.get("data", "")}}}]
    return [{"text": f"[{block.type}]"}]


def for_boto3(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The Converse document with base64 ``bytes`` fields decoded, as boto3 wants them."""
    return {k: [_decode(m) for m in v] if k == "messages" else v for k, v in kwargs.items()}


def _decode(value: Any, parent: str = "") -> Any:
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if isinstance(inner, str) and (key, parent) in _BINARY:
                out[key] = base64.b64decode(inner)
            elif key in ("input", "json"):  # tool input: the model's JSON, never bytes
                out[key] = inner
            else:
                out[key] = _decode(inner, key)
        return out
    if isinstance(value, list):
        return [_decode(v, parent) for v in value]
    return value


_BINARY = frozenset((("bytes", "source"), ("redactedContent", "reasoningContent")))
