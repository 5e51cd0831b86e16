"""Replay: every recorded Anthropic request, in session order, through Lynkr running one named
pipeline against a fake upstream that answers "ok" and keeps the body it received.

Per request it keeps the upstream body's input tokens (Lynkr's own counter, over the text the
model reads: message contents, tool-call arguments and the tool schemas as JSON) and bytes, the
``x-lynkr-tokens-removed`` and ``x-lynkr-stages`` response headers, and, from a second,
in-process run of the same pipeline over the same request, each stage's ``tokens_removed``
(the figure the engine sums into the header; the header itself only carries the total).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import trio
from harness.fake_model import FakeModel
from harness.servers import serve_asgi
from harness.wire import Reply

from benchmarks.token_savings.live import lynkr_env, serve_lynkr_recorded
from lynkr.bench.replay import parse
from lynkr.config.settings import load_settings
from lynkr.pipeline.compile import compile_file, resolve
from lynkr.pipeline.runner import run_stages
from lynkr.server.app import build_state

_NUMBER = re.compile(r"(\d[\d,]*)\s*tok")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_block(p) for p in content)
    return "" if content is None else orjson.dumps(content).decode()


def _block(part: Any) -> str:
    if isinstance(part, dict):
        if isinstance(part.get("text"), str):
            return str(part["text"])
        if part.get("type") == "tool_result":
            return _text(part.get("content"))
        if part.get("type") == "tool_use":
            return f"{part.get('name', '')}\n{orjson.dumps(part.get('input')).decode()}"
        if isinstance(part.get("thinking"), str):
            return str(part["thinking"])
    return orjson.dumps(part).decode()


def upstream_text(body: dict[str, Any]) -> str:
    """What the upstream model reads of an OpenAI or Ollama chat body (or an Anthropic one):
    the system text, every message's text, tool-call names and arguments, the tool schemas."""
    parts: list[str] = [_text(body.get("system"))] if body.get("system") else []
    for m in body.get("messages", []):
        parts.append(_text(m.get("content")))
        for key in ("reasoning_content", "thinking"):
            if isinstance(m.get(key), str):
                parts.append(m[key])
        for call in m.get("tool_calls") or []:
            fn = call.get("function", {})
            args = fn.get("arguments")
            parts += [fn.get("name", ""), args if isinstance(args, str)
                      else orjson.dumps(args).decode()]
    if body.get("tools"):
        parts.append(orjson.dumps(body["tools"]).decode())
    return "\n".join(p for p in parts if p)


def composition(body: dict[str, Any], count: Callable[[str], int]) -> dict[str, int]:
    """Where an upstream body's input tokens are: tool schemas, system text, tool results,
    the rest of the conversation (user text, system reminders, the model's own turns)."""
    parts = {"tools": 0, "system": 0, "tool_results": 0, "conversation": 0}
    if body.get("tools"):
        parts["tools"] = count(orjson.dumps(body["tools"]).decode())
    if body.get("system"):
        parts["system"] += count(_text(body["system"]))
    for m in body.get("messages", []):
        only = {k: v for k, v in m.items() if k in ("content", "tool_calls", "reasoning_content",
                                                       "thinking")}
        tokens = count(upstream_text({"messages": [only]}))
        role = m.get("role")
        kind = {"system": "system", "tool": "tool_results"}.get(role or "", "conversation")
        parts[kind] += tokens
    return parts


def parse_stage_notes(header: str) -> list[tuple[str, str]]:
    """``x-lynkr-stages``: ``stage=summary; stage=summary`` → [(stage, summary)]."""
    out = []
    for item in header.split("; "):
        stage, _, summary = item.partition("=")
        if stage and re.fullmatch(r"[a-z_]+", stage):
            out.append((stage, summary))
        elif out:  # a summary that itself contained "; "
            out[-1] = (out[-1][0], out[-1][1] + "; " + item)
    return out


def header_tokens(summary: str) -> int | None:
    found = _NUMBER.findall(summary)
    return int(found[-1].replace(",", "")) if found else None


def _sum_dicts(items: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        for key, value in item.items():
            out[key] = out.get(key, 0) + value
    return out


async def _in_process(pipeline: str, env: dict[str, str], requests: list[dict[str, Any]]
                      ) -> list[dict[str, int]]:
    settings = load_settings(environ=dict(env), env_file="/nonexistent/.env")
    state = build_state(settings, compile_file(resolve(pipeline)))
    out: list[dict[str, int]] = []
    for rec in requests:
        exchange, _ = await run_stages(state.pipeline, parse(rec, len(out)), state.ports)
        per: dict[str, int] = {}
        for note in exchange.notes:
            per[note.stage] = per.get(note.stage, 0) + note.tokens_removed
        out.append(per)
    return out


def replay(pipeline: str, sessions: dict[str, list[dict[str, Any]]], root: Path,
           count: Callable[[str], int], dialect: str = "openai") -> dict[str, list[dict[str,
                                                                                        Any]]]:
    """{session: [per request: tokens, bytes, headers, per-stage removal]} for ``pipeline``."""
    fake = FakeModel(lambda body: Reply(text="ok", prompt_tokens=1, completion_tokens=1))
    results: dict[str, list[dict[str, Any]]] = {}
    root.mkdir(parents=True, exist_ok=True)
    with serve_asgi(fake) as upstream:
        env = lynkr_env(upstream, dialect, root)
        with serve_lynkr_recorded(env, pipeline) as (url, _rec, _state), \
                httpx.Client(timeout=60) as client:
            for name, requests in sessions.items():
                rows = []
                for rec in requests:
                    before = len(fake.calls)
                    query = f"?{rec['query']}" if rec["query"] else ""
                    path = rec.get("path", "/v1/messages")
                    with client.stream("POST", f"{url}{path}{query}",
                                       headers={**rec["headers"], "x-api-key": "dummy"},
                                       content=orjson.dumps(rec["body"])) as response:
                        response.read()
                    bodies = [c.body for c in fake.calls[before:]]
                    texts = [upstream_text(b) for b in bodies]
                    notes = parse_stage_notes(response.headers.get("x-lynkr-stages", ""))
                    rows.append({
                        "status": response.status_code,
                        "main": bool(rec["body"].get("tools")),
                        "messages": len(rec["body"].get("messages", [])),
                        "client_tokens": count(upstream_text(rec["body"])),
                        "upstream_calls": len(bodies),
                        "upstream_tokens": sum(count(t) for t in texts),
                        "upstream_bytes": sum(len(orjson.dumps(b)) for b in bodies),
                        "composition": _sum_dicts([composition(b, count) for b in bodies]),
                        "tokens_removed_header": int(response.headers.get(
                            "x-lynkr-tokens-removed", "0") or 0),
                        "stages_header": response.headers.get("x-lynkr-stages", ""),
                        "stage_tokens_header": {s: header_tokens(t) for s, t in notes},
                        "error": None if response.status_code == 200
                        else response.text[:300],
                    })
                results[name] = rows
        flat = [rec for requests in sessions.values() for rec in requests]
        try:
            per_stage = trio.run(_in_process, pipeline, env, flat)
        except Exception as exc:  # an internal API moved: the header figures still stand
            per_stage = [{"<in-process failed>": 0}] * len(flat)
            print(f"  note: in-process per-stage run failed for {pipeline}: {exc!r}")
    index = 0
    for rows in results.values():
        for row in rows:
            row["stage_tokens"] = per_stage[index]
            index += 1
    return results
