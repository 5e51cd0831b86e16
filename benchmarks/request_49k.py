"""A Claude Code-shaped Anthropic Messages request of about 49 KB, built from generated text.

The shape and the sizes follow the first request Claude Code 2.1.328 sends (12 tools with JSON
Schema ``input_schema`` including ``$schema``, one ``defer_loading`` tool, three system blocks
with ``cache_control`` after a billing-header block, a ``role: "system"`` item inside
``messages``, adaptive thinking, ``context_management``, ``output_config``,
``metadata.user_id``, ``max_tokens: 128000``, ``stream: true``). Every piece of prose here is
deterministic filler made from a small word list; none of the recorded client's text is used.

``python -m benchmarks.request_49k`` prints the sizes; ``--dump`` prints the body.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

_WORDS = (  # noqa: SIM905
    "alpha beta gamma delta module buffer socket stream parser token window branch commit "
    "review output input record field value index cursor budget worker thread queue handle "
    "latency measure sample report table column layout render frame packet header payload "
    "client server proxy route stage phase filter schema object array string number boolean "
    "default option flag config setting limit timeout retry backoff session context summary "
    "detail example pattern search result match across inside before after while during "
    "should would could must always never often rarely simply quickly carefully clearly the "
    "a an of to in for on with by from and or but not this that these those each every file "
    "folder path line block chunk event message request response answer question task"
).split()


def filler(length: int, seed: int) -> str:
    """Deterministic sentence-like text of exactly ``length`` characters."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < length:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 16))]
        sentence = " ".join(words).capitalize() + ("." if rng.random() < 0.85 else ":")
        if rng.random() < 0.12:
            sentence += "\n"
        parts.append(sentence)
        size += len(sentence) + 1
    return " ".join(parts)[:length]


SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"


def _prop(kind: str | None, desc_len: int, seed: int, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": filler(desc_len, seed)}
    if kind is not None:
        out["type"] = kind
    out.update(more)
    return out


def _schema(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"$schema": SCHEMA_URL, "type": "object", "properties": props}
    if required is not None:
        out["required"] = required
    out["additionalProperties"] = False
    return out


def _tools() -> list[dict[str, Any]]:
    big_int = 9007199254740991
    levels = ["low", "medium", "high", "xhigh", "max"]
    finding = {
        "type": "object",
        "properties": {
            "file": _prop("string", 48, 301),
            "line": _prop("integer", 37, 302, minimum=-big_int, maximum=big_int),
            "summary": _prop("string", 23, 303),
            "short_summary": _prop("string", 96, 304, maxLength=60),
            "failure_scenario": _prop("string", 42, 305),
            "category": _prop("string", 110, 306, maxLength=40),
            "severity": _prop("string", 166, 307, enum=["important", "pre_existing", "nit"]),
            "verdict": _prop("string", 57, 308, enum=["CONFIRMED", "PLAUSIBLE"]),
            "outcome": _prop("string", 78, 309, enum=["fixed", "skipped", "no_change_needed"]),
        },
        "required": ["file", "summary", "failure_scenario"],
        "additionalProperties": False,
    }
    specs: list[tuple[str, int, dict[str, Any]]] = [
        ("Agent", 3225, _schema({
            "description": _prop("string", 42, 101),
            "prompt": _prop("string", 33, 102),
            "subagent_type": _prop("string", 50, 103),
            "model": _prop("string", 358, 104, enum=["small", "medium", "large", "tiny"]),
            "effort": _prop("string", 341, 105, enum=levels),
            "run_in_background": _prop("boolean", 286, 106),
            "isolation": _prop("string", 221, 107, enum=["worktree", "remote"]),
        }, ["description", "prompt"])),
        ("Bash", 2110, _schema({
            "command": _prop("string", 23, 111),
            "timeout": _prop("number", 70, 112),
            "description": _prop("string", 926, 113),
            "run_in_background": _prop("boolean", 181, 114),
            "dangerouslyDisableSandbox": _prop("boolean", 90, 115),
        }, ["command"])),
        ("Edit", 360, _schema({
            "file_path": _prop("string", 39, 121),
            "old_string": _prop("string", 19, 122),
            "new_string": _prop("string", 63, 123),
            "replace_all": _prop("boolean", 53, 124, default=False),
        }, ["file_path", "old_string", "new_string"])),
        ("ListAgents", 1433, _schema({
            "channel": _prop("string", 41, 131, maxLength=256),
            "q": _prop("string", 41, 132, maxLength=256),
            "cursor": _prop("string", 96, 133, maxLength=256),
        })),
        ("Read", 790, _schema({
            "file_path": _prop("string", 37, 141),
            "offset": _prop("integer", 92, 142, minimum=0, maximum=big_int),
            "limit": _prop("integer", 83, 143, exclusiveMinimum=0, maximum=big_int),
            "pages": _prop("string", 113, 144),
            "allow_large": _prop("boolean", 281, 145),
        }, ["file_path"])),
        ("ReportFindings", 574, _schema({
            "level": _prop("string", 29, 151, enum=levels),
            "findings": {"description": filler(60, 152), "maxItems": 32, "type": "array",
                         "items": finding},
        }, ["findings"])),
        ("ScheduleWakeup", 3396, _schema({
            "delaySeconds": _prop("number", 98, 161),
            "reason": _prop("string", 136, 162),
            "prompt": _prop("string", 355, 163),
            "stop": _prop("boolean", 154, 164),
            "noop": _prop("boolean", 307, 165),
        })),
        ("Skill", 1417, _schema({
            "skill": _prop("string", 71, 171),
            "args": _prop("string", 32, 172),
        }, ["skill"])),
        ("ToolSearch", 952, _schema({
            "query": _prop("string", 99, 181),
            "max_results": _prop("number", 48, 182, default=5),
        }, ["query", "max_results"])),
        ("Workflow", 3496, _schema({
            "script": _prop("string", 207, 191, maxLength=524288),
            "name": _prop("string", 105, 192),
            "description": _prop("string", 68, 193),
            "title": _prop("string", 62, 194),
            "args": _prop(None, 280, 195),
            "scriptPath": _prop("string", 329, 196),
            "resumeFromRunId": _prop("string", 568, 197, pattern="^wf_[a-z0-9-]{6,}$"),
        })),
    ]
    tools = [{"name": name, "description": filler(size, 1000 + i), "input_schema": schema}
             for i, (name, size, schema) in enumerate(specs)]
    tools.append({"name": "DeferredToolPlaceholder", "description": filler(83, 1100),
                  "input_schema": {"type": "object", "properties": {}},
                  "defer_loading": True})
    tools.append({"name": "Write", "description": filler(240, 1101), "input_schema": _schema({
        "file_path": _prop("string", 71, 201),
        "content": _prop("string", 32, 202),
    }, ["file_path", "content"])})
    return tools


def build_body(stream: bool = True) -> dict[str, Any]:
    """The request body as a dict (``stream`` as asked)."""
    user_id = json.dumps({"device_id": "d" * 64,
                          "account_uuid": "00000000-0000-4000-8000-000000000001",
                          "session_id": "00000000-0000-4000-8000-000000000002"},
                         separators=(",", ":"))
    return {
        "model": "claude-opus-4-5",
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>\n" + filler(542, 2)
                 + "\n</system-reminder>\n"},
                {"type": "text", "text": "say hi"},
            ]},
            {"role": "system", "content": [
                {"type": "text", "text": "# Environment\n" + filler(9184, 3),
                 "cache_control": {"type": "ephemeral"}},
            ], "output_config": {"effort": "medium"}},
        ],
        "system": [
            {"type": "text",
             "text": "x-anthropic-billing-header: cc_version=0.0.0.bench; cc_entrypoint=sdk-cli;"},
            {"type": "text", "text": filler(62, 4), "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "\n" + filler(7530, 5),
             "cache_control": {"type": "ephemeral"}},
        ],
        "tools": _tools(),
        "metadata": {"user_id": user_id},
        "max_tokens": 128000,
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
        "stream": stream,
    }


def small_body(stream: bool = True) -> dict[str, Any]:
    """A 1 KB Claude Code-shaped request (a title or quick question: no tools), for the
    per-request floor."""
    return {"model": "claude-opus-4-5", "max_tokens": 32000, "stream": stream,
            "system": [{"type": "text", "text": filler(300, 6)}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": filler(480, 7)}]}],
            "metadata": {"user_id": "user_" + "d" * 64}}


def body_bytes(stream: bool = True, small: bool = False) -> bytes:
    """Compact JSON, as the client sends it (``small``: the 1 KB request)."""
    body = small_body(stream) if small else build_body(stream)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


PATH = "/v1/messages?beta=true"

HEADERS: dict[str, str] = {
    "accept": "application/json",
    "content-type": "application/json",
    "user-agent": "claude-cli/0.0.0 (external, sdk-cli)",
    "x-claude-code-session-id": "00000000-0000-4000-8000-000000000002",
    "x-stainless-lang": "js",
    "x-stainless-retry-count": "0",
    "x-stainless-timeout": "600",
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,"
                      "context-management-2025-06-27,advanced-tool-use-2025-11-20,"
                      "effort-2025-11-24",
    "anthropic-dangerous-direct-browser-access": "true",
    "anthropic-version": "2023-06-01",
    "x-api-key": "dummy",
    "x-app": "cli",
    "connection": "keep-alive",
}


def http_request(host: str, port: int, stream: bool = True, small: bool = False) -> bytes:
    """The whole HTTP/1.1 request (head and body), ready to write on a socket."""
    body = body_bytes(stream, small)
    head = [f"POST {PATH} HTTP/1.1", f"host: {host}:{port}"]
    head += [f"{k}: {v}" for k, v in HEADERS.items()]
    head.append(f"content-length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def main() -> None:
    if "--dump" in sys.argv:
        sys.stdout.write(body_bytes().decode() + "\n")
        return
    body = build_body()
    raw = body_bytes()
    print(f"body: {len(raw)} bytes compact JSON, {len(body['tools'])} tools, "
          f"{len(body['system'])} system blocks, {len(body['messages'])} messages")
    for tool in body["tools"]:
        print(f"  {tool['name']:<24} {len(json.dumps(tool, separators=(',', ':'))):>6} bytes")


if __name__ == "__main__":
    main()
