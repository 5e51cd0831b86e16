"""compress_history: elide the middle of a conversation that outgrows its budget, at explicit
compaction points.

Assumes: a route is set (the window is the routed provider's ``context_window`` unless
``context_window`` is given); tool_use/tool_result pairs are adjacent (run ``normalize`` first).
A "turn" is one message.
Guarantees: nothing changes while the request's tokens are at most ``budget_tokens`` and
``max_fraction`` of the window. Above that, the first user message is kept, the last
``keep_recent_turns`` turns are kept verbatim (more when a cut would split a tool_use from its
tool_result or leave two user turns side by side), and the turns between are replaced by ONE
text block, appended to the first user message, that summarises them without a model: the tool
calls made with their key arguments and what each returned (a short output whole, else its first
line), the files they touched, the first line of each assistant text and of each user
instruction. Every tool_result left has its tool_use in the turn before it and no tool_use is
left without its result; roles still alternate.
Cache-stable: the moment a request first goes over budget is a compaction point (reported as
such): the summary and where the kept turns start are stored for the session
(``ports.sessions``), and every later turn whose history still begins with the same turns gets
the very same summary, so the new prefix (first message + summary + kept turns) is extended, not
rewritten, until the conversation outgrows the budget again (the next compaction point; when
none can be made, the last one stays rather than the history reverting). A lost store only
means the next over-budget request is a compaction point.
Never: alters the last user message or the recent turns, adds tokens (a summary that would not
save anything is not applied), or calls a model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from lynkr.formats.token_text import request_text
from lynkr.model.content import TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.request import Message
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange
from lynkr.stages.markers import DEDUPE_MARKER_PREFIX as MARKER_PREFIX
from lynkr.stages.session import digest, recall, remember

PATH_KEYS = ("file_path", "path", "notebook_path", "filepath", "filename")
REMINDER = "<system-reminder>"


def _at_least(minimum: float) -> Callable[[Any, Any, Any], None]:
    def check(_instance: Any, attribute: Any, value: Any) -> None:
        if value is not None and value < minimum:
            raise ValueError(f"{attribute.name} must be at least {minimum}, got {value}")
    return check


def _fraction(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"{attribute.name} must be in (0, 1], got {value}")


@attrs.frozen
class CompressHistoryConfig:
    budget_tokens: int | None = attrs.field(default=None, validator=_at_least(1))
    max_fraction: float = attrs.field(default=0.8, validator=_fraction)
    keep_recent_turns: int = attrs.field(default=6, validator=_at_least(1))
    context_window: int | None = attrs.field(default=None, validator=_at_least(1))
    summary_max_lines: int = attrs.field(default=60, validator=_at_least(4))
    argument_chars: int = attrs.field(default=80, validator=_at_least(8))


def compress_history(exchange: Exchange, config: CompressHistoryConfig, ports: Ports
                     ) -> Exchange:
    assert exchange.route is not None
    request = exchange.request
    window = config.context_window or ports.providers[exchange.route.provider].context_window
    limit = int(window * config.max_fraction)
    if config.budget_tokens is not None:
        limit = min(limit, config.budget_tokens)
    text = request_text(request)
    if len(text) // 2 <= limit:
        # cheap bound first: text runs at well under one token per two characters, so the
        # exact count (milliseconds on a large request) is only paid near the budget
        return exchange.noted("compress_history", f"within budget (~{len(text) // 4}/{limit})")
    key = "compress_history:" + digest((), request.messages[:1])
    reused, fits = _reuse(exchange, recall(ports, exchange, key), limit, ports)
    if reused is not None and fits:
        return reused
    before = ports.count_tokens(text)
    if before <= limit:
        return exchange.noted("compress_history", f"within budget ({before}/{limit})")
    cut = plan_cut(request.messages, config.keep_recent_turns)
    if cut is None:
        # no new compaction point: the session's last one (if any) stays, so the prefix does too
        return reused or exchange.noted("compress_history", f"over budget ({before}/{limit}), "
                                                            "nothing old enough to elide")
    head, start = cut
    messages = request.messages
    summary = summarize(messages[head:start], config)
    compressed = _apply(request.messages, head, start, summary)
    after = ports.count_tokens(request_text(attrs.evolve(request, messages=compressed)))
    if after >= before:
        return reused or exchange.noted("compress_history", "a summary would not save tokens")
    remember(ports, exchange, key, {"head": head, "start": start, "summary": summary,
                                    "digest": digest((), messages[:start]),
                                    "saved": before - after})
    still = "" if after <= limit else ", still over budget"
    return exchange.noted(
        "compress_history", f"compaction point: elided {start - head} turns, "
        f"{before}>{after} tokens{still}", before - after,
        request=attrs.evolve(request, messages=compressed))


def _apply(messages: tuple[Message, ...], head: int, start: int, summary: str
           ) -> tuple[Message, ...]:
    block = TextBlock(summary)
    first = Message("user", (*messages[0].content, block)) if head else Message("user", (block,))
    return (first, *messages[start:])


def _reuse(exchange: Exchange, stored: object, limit: int, ports: Ports
           ) -> tuple[Exchange | None, bool]:
    """The session's last compaction applied again, when this history still begins with the
    turns it covered (None otherwise), and whether the result still fits the budget. One that
    has outgrown it is what the caller sends when it cannot make a new compaction point."""
    if not isinstance(stored, dict):
        return None, False
    messages = exchange.request.messages
    head, start, summary = stored.get("head"), stored.get("start"), stored.get("summary")
    if not (isinstance(head, int) and isinstance(start, int) and isinstance(summary, str)) \
            or not head <= 1 <= start < len(messages) \
            or digest((), messages[:start]) != stored.get("digest"):
        return None, False
    request = attrs.evolve(exchange.request, messages=_apply(messages, head, start, summary))
    text = request_text(request)
    fits = len(text) // 2 <= limit or ports.count_tokens(text) <= limit
    saved = stored.get("saved")
    return exchange.noted("compress_history",
                          f"kept the compaction of {start - head} turns (stable prefix)",
                          saved if isinstance(saved, int) else 0, request=request), fits


def plan_cut(messages: tuple[Message, ...], keep: int) -> tuple[int, int] | None:
    """``(head, start)``: keep ``messages[:head]`` (the first user message, or nothing) and
    ``messages[start:]``; None when there is nothing that can be elided."""
    head = 1 if messages and messages[0].role == "user" and not any(
        isinstance(b, ToolResultBlock) for b in messages[0].content) else 0
    start = max(head, len(messages) - keep)
    while True:
        while start > head and not _clean_cut(messages[start:]):
            start -= 1
        referenced = _referenced_before(messages, start)
        if referenced is None or referenced <= head:
            break
        start = referenced  # keep the first copy a later dedupe marker points to
    if start <= head or not any(m.role == "user" for m in messages[start:]):
        return None
    return head, start


def _referenced_before(messages: tuple[Message, ...], start: int) -> int | None:
    """The earliest message before ``start`` holding a tool call whose result a dedupe marker
    in ``messages[start:]`` stands for (that result must stay), or None."""
    ids = {text[len(MARKER_PREFIX):].split(" ", 1)[0]
           for m in messages[start:] for b in m.content if isinstance(b, ToolResultBlock)
           if (text := b.text()).startswith(MARKER_PREFIX)}
    if not ids:
        return None
    for index, message in enumerate(messages[:start]):
        if any(isinstance(b, ToolUseBlock) and b.id in ids for b in message.content):
            return index
    return None


def _clean_cut(tail: tuple[Message, ...]) -> bool:
    """A tail can follow the summary: it opens with the assistant, and every tool_result in it
    answers a tool_use in it."""
    if tail[0].role != "assistant":
        return False
    calls = {b.id for m in tail for b in m.content if isinstance(b, ToolUseBlock)}
    return all(b.tool_use_id in calls for m in tail for b in m.content
               if isinstance(b, ToolResultBlock))


def summarize(elided: tuple[Message, ...], config: CompressHistoryConfig) -> str:
    """A deterministic, extractive summary of ``elided``."""
    calls: list[str] = []
    paths: list[str] = []
    said: list[str] = []
    asked: list[str] = []
    found = {b.tool_use_id: _returned(b.text(), config.argument_chars)
             for m in elided for b in m.content if isinstance(b, ToolResultBlock)}
    for message in elided:
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                line = _call_line(block, config.argument_chars)
                result = found.get(block.id)
                calls.append(f"{line} → {result}" if result else line)
                paths.extend(str(block.input[k]) for k in PATH_KEYS
                             if isinstance(block.input.get(k), str))
            elif isinstance(block, TextBlock) and not block.text.startswith(REMINDER):
                line = _first_line(block.text, 2 * config.argument_chars)
                if line:
                    (said if message.role == "assistant" else asked).append(line)
    lines = [f"[{len(elided)} earlier turns were elided by the proxy to fit the context "
             "window. What they contained:]"]
    budget = config.summary_max_lines
    sections = (("User asked:", asked), ("Assistant said:", said), ("Tool calls made:", calls))
    for title, items in sections:
        lines.extend(_section(title, items, max(1, budget // 4)))
    unique = list(dict.fromkeys(paths))
    if unique:
        lines.append("Files touched: " + ", ".join(unique[-budget:]))
    return "\n".join(lines)


def _section(title: str, items: list[str], limit: int) -> list[str]:
    if not items:
        return []
    shown = items[-limit:]  # the latest matter most
    head = [title] if len(shown) == len(items) else \
        [f"{title} (the last {len(shown)} of {len(items)})"]
    return [*head, *(f"- {item}" for item in shown)]


def _call_line(block: ToolUseBlock, chars: int) -> str:
    args = [f"{k}={_clip(str(v), chars)}" for k, v in block.input.items()
            if isinstance(v, (str, int, float, bool))][:3]
    return f"{block.name}({', '.join(args)})"


def _returned(text: str, chars: int) -> str:
    """What a tool call returned, for the summary: a short output whole (up to 6 lines, each on
    its own indented line), else its first line."""
    lines = [_clip(line.strip(), 2 * chars) for line in text.splitlines() if line.strip()]
    if 1 < len(lines) <= 6 and sum(map(len, lines)) <= 8 * chars:
        return "\n" + "\n".join(f"    {line}" for line in lines)
    return lines[0] if lines else ""


def _first_line(text: str, chars: int) -> str:
    for line in text.splitlines():
        if line.strip():
            return _clip(line.strip(), chars)
    return ""


def _clip(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"
