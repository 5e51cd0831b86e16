"""The memory tools the model may call: ``memory_search``, ``memory_add``, ``memory_forget``,
``memory_stats``. Their definitions (canonical ``Tool`` values, offered only when memory is
enabled) and their execution against a ``MemoryStore`` for one scope.

Lynkr runs them itself in its server-side tool loop; the client never sees them. Every call
ends in a ``ToolOutcome`` the model can read: bad arguments, a refused secret or an unknown id
are ``is_error`` results that say what was wrong, never exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from lynkr.memory.database import check_candidate
from lynkr.memory.port import MemoryStore
from lynkr.model.memory import KINDS, Candidate, Memory, Scope
from lynkr.model.request import Tool

MAX_LIMIT = 20

MEMORY_TOOLS: tuple[Tool, ...] = (
    Tool("memory_search",
         "Search what you remember about this user and project from earlier conversations "
         "(preferences, decisions, facts, names, relationships). Use it when the user refers "
         "to something said before, or when a preference may apply.",
         {"type": "object", "properties": {
             "query": {"type": "string", "description": "what to look for, in words"},
             "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                       "description": "memories to return (default 5)"}},
          "required": ["query"], "additionalProperties": False}),
    Tool("memory_add",
         "Remember something durable the user told you, for later conversations: a "
         "preference, a decision, a fact about the project, a named entity or a relationship. "
         "Never secrets (keys, tokens, passwords).",
         {"type": "object", "properties": {
             "text": {"type": "string", "description": "one self-contained sentence"},
             "type": {"type": "string", "enum": list(KINDS)},
             "importance": {"type": "number", "minimum": 0, "maximum": 1},
             "global": {"type": "boolean",
                        "description": "true: applies in every project of this user"}},
          "required": ["text", "type"], "additionalProperties": False}),
    Tool("memory_forget",
         "Forget one memory by its id (as shown by memory_search), when the user asks you to "
         "or it is wrong.",
         {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"],
          "additionalProperties": False}),
    Tool("memory_stats",
         "How many memories you hold about this user and project, by type.",
         {"type": "object", "properties": {}, "additionalProperties": False}),
)
NAMES = frozenset(t.name for t in MEMORY_TOOLS)


@attrs.frozen
class ToolOutcome:
    text: str
    is_error: bool = False


def describe(memory: Memory) -> str:
    day = datetime.fromtimestamp(memory.created_at, UTC).strftime("%Y-%m-%d")
    where = ", global" if memory.is_global else ""
    return f"#{memory.id} ({memory.kind}, {day}{where}) {memory.text}"


async def run_tool(name: str, arguments: Mapping[str, Any], store: MemoryStore, scope: Scope,
                   now: float, *, session_id: str | None = None,
                   request_id: str | None = None) -> ToolOutcome:
    if name == "memory_search":
        return await _search(arguments, store, scope, now)
    if name == "memory_add":
        return await _add(arguments, store, scope, now, session_id, request_id)
    if name == "memory_forget":
        memory_id = arguments.get("id")
        if isinstance(memory_id, bool) or not isinstance(memory_id, int):
            return ToolOutcome("memory_forget needs an integer 'id'", is_error=True)
        if await store.forget(scope, memory_id):
            return ToolOutcome(f"Forgot memory #{memory_id}.")
        return ToolOutcome(f"No memory #{memory_id} to forget.", is_error=True)
    if name == "memory_stats":
        stats = await store.stats(scope)
        kinds = ", ".join(f"{n} {k}" for k, n in stats.by_kind.items())
        return ToolOutcome(f"{stats.total} memories" + (f": {kinds}" if kinds else "") +
                           f" ({stats.global_count} global).")
    return ToolOutcome(f"unknown memory tool {name!r}; known: {', '.join(sorted(NAMES))}",
                       is_error=True)


async def _search(arguments: Mapping[str, Any], store: MemoryStore, scope: Scope,
                  now: float) -> ToolOutcome:
    query, limit = arguments.get("query"), arguments.get("limit", 5)
    if not isinstance(query, str) or not query.strip():
        return ToolOutcome("memory_search needs a non-empty 'query' string", is_error=True)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        return ToolOutcome(f"'limit' must be a whole number from 1 to {MAX_LIMIT}",
                           is_error=True)
    recalled = await store.recall(scope, query, limit, now)
    if not recalled:
        return ToolOutcome("No memories match.")
    return ToolOutcome("\n".join(describe(r.memory) for r in recalled))


async def _add(arguments: Mapping[str, Any], store: MemoryStore, scope: Scope, now: float,
               session_id: str | None, request_id: str | None) -> ToolOutcome:
    text, kind = arguments.get("text"), arguments.get("type")
    importance = arguments.get("importance", 0.7)
    if not isinstance(text, str) or kind not in KINDS:
        return ToolOutcome(f"memory_add needs 'text' (a string) and 'type' (one of "
                           f"{', '.join(KINDS)})", is_error=True)
    if isinstance(importance, bool) or not isinstance(importance, int | float):
        return ToolOutcome("'importance' must be a number from 0 to 1", is_error=True)
    candidate = Candidate(kind, text, float(importance), is_global=arguments.get("global") is True)
    try:
        check_candidate(candidate)
    except ValueError as exc:
        return ToolOutcome(str(exc), is_error=True)
    stored = await store.remember(scope, [candidate], now, session_id=session_id,
                                  request_id=request_id)
    if not stored:
        return ToolOutcome("not stored", is_error=True)
    return ToolOutcome(f"Remembered as #{stored[0].id}.")
