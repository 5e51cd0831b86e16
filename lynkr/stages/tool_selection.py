"""tool_selection: fewer or shorter tool definitions, decided once per session.

Assumes: a route is set; ``ports.providers`` knows the route's wire family; ``ports.sessions``
(when present) keeps the session's decision.
Guarantees: client-agnostic (tool names compared case-insensitively, no client's names built
in). Removal happens only with ``max_tools`` > 0 and more tools than that (or a
``token_budget``): the kept set is chosen once per session, from the conversation's start (the
first user turn's words against each tool's name and description, ties in the client's order),
always holding ``always_keep``, workspace tools (those taking a command, a path or a pattern),
server tools, every tool the conversation has called, the tool ``tool_choice`` names and tools
the first user turn names; it is stored and reproduced on every later turn, so the tool list,
the first thing in the prompt, stays byte-identical. A tool the conversation calls later that
was not kept is put back (reported: the prefix changes once). Shortening
(``max_description_tokens``, ``strip_schema_descriptions``) depends on each tool's own text
only, so it is identical on every turn: where removal cannot pay (a cached backend) this is the
stable saving.
Never: calls a model, removes a tool already used or named by ``tool_choice``, leaves fewer than
``max_tools`` tools, changes its choice between turns of a session (except to put a called tool
back), or touches an Anthropic-family backend's tools unless ``apply_to_anthropic`` is set.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import orjson

from lynkr.model.content import TextBlock, ToolUseBlock
from lynkr.model.request import Request, Tool
from lynkr.ports import Ports
from lynkr.stages.capability_filter import strip_keywords
from lynkr.stages.exchange import Exchange
from lynkr.stages.session import recall, remember

_WORDS = re.compile(r"[a-z][a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STOP = frozenset(_WORDS.findall(
    "the and for with this that from into you your are was were can use using will not all any "
    "but has have what when where which who how its our out get set let then than them there "
    "these those file files tool tools please make sure also just like want need should would "
    "could about some more most other only over such very each"
))
# parameters that mark a tool acting on the workspace (a shell, a file, a search), in any
# client's spelling: file_path, filePath, path, command, cmd, pattern, glob, ...
_WORKSPACE_PARAMETERS = frozenset({"command", "cmd", "filepath", "path", "pattern", "glob",
                                   "notebookpath", "filename", "file"})
STORE_KEY = "tool_selection"


@attrs.frozen
class ToolSelectionConfig:
    max_tools: int = 0  # 0: never remove a tool; else keep about this many, once per session
    always_keep: Sequence[str] = ()  # names, compared case-insensitively
    apply_to_anthropic: bool = False
    token_budget: int = 0  # 0: no budget; else optional tools only while all tools fit in it
    # 0: descriptions as sent; else each kept tool's description is cut at a paragraph or
    # sentence end to about this many tokens (Claude Code's are thousands of tokens long)
    max_description_tokens: int = 0
    # drop the "description" of each parameter inside kept tools' schemas (property names,
    # types and enums stay)
    strip_schema_descriptions: bool = False


def tool_selection(exchange: Exchange, config: ToolSelectionConfig, ports: Ports) -> Exchange:
    assert exchange.route is not None
    request = exchange.request
    if not config.apply_to_anthropic and \
            ports.providers[exchange.route.provider].family == "anthropic":
        return exchange.noted("tool_selection", "anthropic family: kept all")
    if not request.tools:
        return exchange.noted("tool_selection", "no tools")
    kept_names, reopened = _kept(exchange, config, ports)
    removed = [t for t in request.tools if t.name not in kept_names]
    kept = tuple(t for t in request.tools if t.name in kept_names)
    slimmed = [_slim(t, config, ports) for t in kept]
    shortened = tuple(tool for tool, _ in slimmed)
    cut = [a for a, b in zip(kept, shortened, strict=True) if a is not b]
    if not removed and not cut:
        return exchange.noted("tool_selection", f"kept all {len(request.tools)} tools")
    saved = sum(_count(ports, tool_text(t)) for t in removed)
    saved += sum(tokens for _, tokens in slimmed)
    summary = f"removed {len(removed)} of {len(request.tools)} tools: " \
        f"{', '.join(t.name for t in removed) or 'none'}"
    if cut:
        summary += f"; slimmed {len(cut)} descriptions"
    if reopened:
        summary += f"; put back {', '.join(reopened)} (called; the tool list changes once)"
    return exchange.noted("tool_selection", summary, saved,
                          request=attrs.evolve(request, tools=shortened))


def _kept(exchange: Exchange, config: ToolSelectionConfig, ports: Ports
          ) -> tuple[set[str], list[str]]:
    """The names kept this turn, and those put back because the conversation called them."""
    request = exchange.request
    names = [t.name for t in request.tools]
    limit = config.max_tools if config.max_tools > 0 else len(names) * bool(config.token_budget)
    if limit <= 0 or (len(names) <= limit and not config.token_budget):
        return set(names), []
    offered = hashlib.sha256("\0".join(names).encode()).hexdigest()[:16]
    stored = recall(ports, exchange, STORE_KEY)
    if isinstance(stored, dict) and stored.get("offered") == offered \
            and isinstance(stored.get("keep"), list):
        kept = {str(n) for n in stored["keep"]} & set(names)
    else:
        kept = _choose(request, config, limit, ports)
        remember(ports, exchange, STORE_KEY, {"offered": offered, "keep": sorted(kept)})
        return kept, []
    wanted = used_tool_names(request) | _named_by_choice(request)
    reopened = sorted(n for n in names if n in wanted and n not in kept)
    if reopened:
        kept |= set(reopened)
        remember(ports, exchange, STORE_KEY, {"offered": offered, "keep": sorted(kept)})
    return kept, reopened


def slim(tool: Tool, config: ToolSelectionConfig) -> Tool:
    """A kept tool with its description shortened and its parameter descriptions dropped, as
    configured; the very same tool when nothing applies."""
    out = compact(tool, config.max_description_tokens * 4) if config.max_description_tokens \
        else tool
    if config.strip_schema_descriptions:
        schema = strip_keywords(out.input_schema, _DESCRIPTION)
        if schema != out.input_schema:
            out = attrs.evolve(out, input_schema=schema)
    return out


_DESCRIPTION = frozenset({"description"})


def _slim(tool: Tool, config: ToolSelectionConfig, ports: Ports) -> tuple[Tool, int]:
    """``slim`` and the tokens it saved, memoised on the tool's text: a session sends the same
    tools with every request, so each is slimmed and counted once."""
    if not (config.max_description_tokens or config.strip_schema_descriptions):
        return tool, 0
    key = (tool.name, tool.description, orjson.dumps(tool.input_schema),
           config.max_description_tokens, config.strip_schema_descriptions)
    description, schema, saved = _slimmed(ports.count_tokens, key)
    if description is None:
        return tool, 0
    return attrs.evolve(tool, description=description, input_schema=schema), saved


@functools.lru_cache(maxsize=1024)
def _slimmed(counter: Callable[[str], int], key: tuple[str, str, bytes, int, bool]
             ) -> tuple[str | None, Mapping[str, Any], int]:
    name, description, schema_json, max_tokens, strip = key
    before = Tool(name, description, orjson.loads(schema_json))
    after = slim(before, ToolSelectionConfig(max_description_tokens=max_tokens,
                                             strip_schema_descriptions=strip))
    if after is before:
        return None, before.input_schema, 0
    return after.description, after.input_schema, \
        counter(tool_text(before)) - counter(tool_text(after))


def compact(tool: Tool, max_chars: int) -> Tool:
    """``tool`` with its description cut at a paragraph (else sentence) end near ``max_chars``;
    the same tool when it is short enough (so a second run changes nothing)."""
    text = tool.description
    if len(text) <= max_chars:
        return tool
    ends = (text.rfind("\n\n", 0, max_chars), text.rfind(". ", 0, max_chars) + 1)
    near = [e for e in ends if e >= max_chars // 3]
    end = max(near) if near else max([e for e in ends if e > 0], default=max_chars)
    return attrs.evolve(tool, description=text[:end].rstrip())


def tool_text(tool: Tool) -> str:
    """What a tool costs upstream: its name, description and schema."""
    return f"{tool.name}\n{tool.description}\n{orjson.dumps(tool.input_schema).decode()}"


def used_tool_names(request: Request) -> set[str]:
    return {b.name for m in request.messages for b in m.content if isinstance(b, ToolUseBlock)}


def _named_by_choice(request: Request) -> set[str]:
    choice = request.tool_choice or {}
    return {str(choice["name"])} if choice.get("name") else set()


def is_workspace_tool(tool: Tool) -> bool:
    """A tool taking a command, a path or a pattern: a shell, a file or a search tool."""
    properties = tool.input_schema.get("properties")
    if not isinstance(properties, Mapping):
        return False
    return any(str(k).replace("_", "").replace("-", "").lower() in _WORKSPACE_PARAMETERS
               for k in properties)


def _protected(request: Request, config: ToolSelectionConfig) -> set[str]:
    keep = {n.casefold() for n in config.always_keep}
    first = _first_user_text(request).casefold()
    named = set(_WORDS.findall(first.replace("_", " ")))
    names = {t.name for t in request.tools
             if t.name.casefold() in keep or t.is_server_tool or is_workspace_tool(t)
             or t.name.casefold() in named}
    return names | used_tool_names(request) | _named_by_choice(request)


def _first_user_text(request: Request) -> str:
    for m in request.messages:
        if m.role == "user":
            return " ".join(b.text for b in m.content if isinstance(b, TextBlock))
    return ""


def _choose(request: Request, config: ToolSelectionConfig, limit: int, ports: Ports
            ) -> set[str]:
    protected = _protected(request, config)
    kept = {t.name for t in request.tools if t.name in protected}
    query = _words(_first_user_text(request))
    ranked = sorted(((_score(t, query), -i, t) for i, t in enumerate(request.tools)
                     if t.name not in kept), key=lambda item: (item[0], item[1]), reverse=True)
    budget = config.token_budget
    spent = sum(_count(ports, tool_text(t)) for t in request.tools if t.name in kept) \
        if budget else 0
    for _score_value, _order, tool in ranked:
        if len(kept) >= limit:
            break
        if budget:
            cost = _count(ports, tool_text(tool))
            if spent + cost > budget and kept:  # the best-ranked tool stays at any budget
                continue
            spent += cost
        kept.add(tool.name)
    return kept


def _words(text: str) -> frozenset[str]:
    split = _CAMEL.sub(" ", text.replace("_", " ").replace("-", " ")).lower()
    return frozenset(w for w in _WORDS.findall(split) if len(w) > 2 and w not in _STOP)


# Tool names and descriptions repeat on every request of a session: their words are computed
# once (a pure function memoised, not state: the same text always gives the same words).
_tool_words = functools.lru_cache(maxsize=1024)(_words)


@functools.lru_cache(maxsize=2048)
def _counted(counter: Callable[[str], int], text: str) -> int:
    return counter(text)


def _count(ports: Ports, text: str) -> int:
    """Tokens of a tool's text: the same tools come with every request of a session, so each
    text is counted once per counter (memoised; the counter is a pure function)."""
    return _counted(ports.count_tokens, text)


def _score(tool: Tool, query: frozenset[str]) -> int:
    if not query:
        return 0
    name_words = _tool_words(tool.name) - {"mcp"}
    description_words = _tool_words(tool.description[:600])
    return 3 * len(name_words & query) + len((description_words - name_words) & query)
