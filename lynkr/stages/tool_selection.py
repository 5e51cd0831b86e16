"""tool_selection: send only the tools the conversation can need.

Assumes: a route is set; ``ports.providers`` knows the route's wire family.
Guarantees: deterministic (scores from the words of the last user turns and the recent tool
calls against each tool's name and description, ties kept in the client's order); always keeps
the ``always_keep`` tools, server tools, every tool the conversation has called and the tool
``tool_choice`` names; keeps at most ``max_tools`` (more only when that many are protected) and,
when ``token_budget`` is set, adds optional tools only while the tools fit in it; reports the
tools and tokens removed.
Never: calls a model, removes a tool already used or named by ``tool_choice``, or removes anything
for an Anthropic-family backend unless ``apply_to_anthropic`` is set.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import orjson

from lynkr.formats.json_schema import strip_keywords
from lynkr.model.content import TextBlock, ToolUseBlock
from lynkr.model.request import Request, Tool
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

CORE_TOOLS = ("Bash", "Read", "Edit", "Write", "Glob", "Grep")
_WORDS = re.compile(r"[a-z][a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STOP = frozenset(_WORDS.findall(
    "the and for with this that from into you your are was were can use using will not all any "
    "but has have what when where which who how its our out get set let then than them there "
    "these those file files tool tools please make sure also just like want need should would "
    "could about some more most other only over such very each"
))


@attrs.frozen
class ToolSelectionConfig:
    max_tools: int = 16
    always_keep: Sequence[str] = CORE_TOOLS
    apply_to_anthropic: bool = False
    recent_user_turns: int = 3  # how many of the last user turns' text is matched
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
    protected = _protected(request, config)
    kept_names = _choose(request, config, protected, ports)
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
    return exchange.noted("tool_selection", summary, saved,
                          request=attrs.evolve(request, tools=shortened))


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


def _protected(request: Request, config: ToolSelectionConfig) -> set[str]:
    names = set(config.always_keep) | used_tool_names(request)
    choice = request.tool_choice or {}
    if choice.get("name"):
        names.add(str(choice["name"]))
    names.update(t.name for t in request.tools if t.is_server_tool)
    return names


def _choose(request: Request, config: ToolSelectionConfig, protected: set[str], ports: Ports
            ) -> set[str]:
    kept = {t.name for t in request.tools if t.name in protected}
    query = _query_words(request, config.recent_user_turns)
    scored = [(score, -i, t) for i, t in enumerate(request.tools)
              if t.name not in kept and (score := _score(t, query)) > 0]
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    budget = config.token_budget
    spent = sum(_count(ports, tool_text(t)) for t in request.tools if t.name in kept) \
        if budget else 0
    for _score_value, _order, tool in scored:
        if len(kept) >= config.max_tools:
            break
        if budget:
            cost = _count(ports, tool_text(tool))
            if spent + cost > budget:
                continue
            spent += cost
        kept.add(tool.name)
    return kept


def _query_words(request: Request, turns: int) -> frozenset[str]:
    users = [m for m in request.messages if m.role == "user"][-turns:] if turns > 0 else []
    text = " ".join(b.text for m in users for b in m.content if isinstance(b, TextBlock))
    recent = [b.name for m in request.messages[-6:] for b in m.content
              if isinstance(b, ToolUseBlock)]
    return _words(text + " " + " ".join(recent))


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
