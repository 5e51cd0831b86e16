"""system_prompt: a shorter system prompt for small local models.

Assumes: a route is set; the system prompt is Markdown-like (``#`` headings start sections, as
Claude Code's does) and may hold an ``<env>...</env>`` block describing the environment.
Guarantees: only for the providers named in ``applies_to`` (by default the local ones); removes
the sections whose heading is listed in ``drop_sections`` (with their sub-sections) from the
system blocks and from mid-conversation ``system`` messages; then, when ``max_tokens`` is set,
keeps the system blocks' start up to that budget, cut on a line, with a marker, and keeps every
``<env>`` block (``message_max_tokens`` does the same for each mid-conversation system
message); ``tokens_removed`` is what it saved.
Never: applies to a provider not in ``applies_to`` (so never to Anthropic backends by default),
touches user or assistant messages, or makes the system prompt longer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

import attrs

from lynkr.model.content import Block, TextBlock
from lynkr.model.request import Message
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

LOCAL_PROVIDERS = ("ollama", "llamacpp", "lmstudio")
_HEADING = re.compile(r"^(#{1,6})\s+\S.*$", re.MULTILINE)
_ENV = re.compile(r"<env>.*?</env>", re.DOTALL)


@attrs.frozen
class SystemPromptConfig:
    applies_to: Sequence[str] = LOCAL_PROVIDERS
    drop_sections: Sequence[str] = ()  # headings as written, e.g. "# Tone and style"
    max_tokens: int = 8000  # 0: no budget
    # 0: mid-conversation system messages (Claude Code's environment notes) kept whole; else
    # each is cut to about this many tokens the same way
    message_max_tokens: int = 0


def system_prompt(exchange: Exchange, config: SystemPromptConfig, ports: Ports) -> Exchange:
    assert exchange.route is not None
    if exchange.route.provider not in config.applies_to:
        return exchange.noted("system_prompt", f"not applied to {exchange.route.provider}")
    request = exchange.request
    drop = {h.strip().lower() for h in config.drop_sections}
    system = tuple(b2 for b in request.system if (b2 := _drop_block(b, drop)) is not None)
    if config.max_tokens:
        system = _budget(system, config.max_tokens, ports)
    messages = tuple(_drop_message(m, drop) for m in request.messages)
    messages = tuple(m for m in messages if m.content or m.role != "system")
    if config.message_max_tokens:
        messages = tuple(_budget_message(m, config.message_max_tokens, ports)
                         for m in messages)
    if _same(system, request.system) and _same(messages, request.messages):
        return exchange.noted("system_prompt", "unchanged")
    before = _tokens(request.system, request.messages, ports)
    after = _tokens(system, messages, ports)
    if after >= before:
        return exchange.noted("system_prompt", "unchanged")
    changed = attrs.evolve(request, system=system, messages=messages)
    return exchange.noted("system_prompt", f"system prompt {before:,}>{after:,} tokens",
                          before - after, request=changed)


def drop_sections(text: str, drop: set[str]) -> str:
    """``text`` without the sections (heading to the next heading of the same or a higher
    level) whose heading, lower-cased, is in ``drop``."""
    if not drop:
        return text
    out: list[str] = []
    skip_level = 0
    position = 0
    for match in _HEADING.finditer(text):
        chunk = text[position: match.start()]
        if not skip_level:
            out.append(chunk)
        level = len(match.group(1))
        if skip_level and level > skip_level:
            position = match.start()
            continue
        skip_level = level if match.group(0).strip().lower() in drop else 0
        position = match.start()
    if not skip_level:
        out.append(text[position:])
    return "".join(out)


def _drop_block(block: TextBlock, drop: set[str]) -> TextBlock | None:
    text = drop_sections(block.text, drop)
    if text == block.text:
        return block
    return attrs.evolve(block, text=text) if text.strip() else None


def _drop_message(message: Message, drop: set[str]) -> Message:
    if message.role != "system" or not drop:
        return message
    content: list[Block] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            kept = _drop_block(block, drop)
            if kept is not None:
                content.append(kept)
        else:
            content.append(block)
    return Message("system", tuple(content))


def _budget_message(message: Message, budget: int, ports: Ports) -> Message:
    if message.role != "system" or not all(isinstance(b, TextBlock) for b in message.content):
        return message
    blocks: tuple[TextBlock, ...] = message.content  # type: ignore[assignment]
    cut = _budget(blocks, budget, ports)
    return message if cut is blocks else Message("system", cut)


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _budget(system: tuple[TextBlock, ...], budget: int, ports: Ports) -> tuple[TextBlock, ...]:
    if 2 * sum(len(b.text) for b in system) <= budget:  # text runs well under 1 token a char
        return system
    whole, last = _cut_texts(ports.count_tokens, tuple(b.text for b in system), budget)
    out = list(system[:whole])
    if last is not None:
        out.append(attrs.evolve(system[whole], text=last))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _cut_texts(count: Callable[[str], int], texts: tuple[str, ...], budget: int
               ) -> tuple[int, str | None]:
    """How many of ``texts`` stay whole, and the cut text of the next one (None: none): a pure
    function of the texts, memoised (a session sends the same system prompt every turn)."""
    envs = [e for t in texts for e in _ENV.findall(t)]
    left = budget - sum(count(e) for e in envs)
    for index, text in enumerate(texts):
        cost = count(text)
        if cost <= left:
            left -= cost
            continue
        lines = text.splitlines(keepends=True)
        kept, spent = [], 0
        for line in lines:
            spent += count(line)
            if spent > left:
                break
            kept.append(line)
        omitted = count("".join(lines[len(kept):]))
        head = "".join(kept).rstrip("\n")
        marker = f"[... system prompt shortened: {omitted:,} tokens omitted ...]"
        rest_envs = [e for t in texts[index:] for e in _ENV.findall(t) if e not in head]
        return index, "\n".join(p for p in (head, marker, *rest_envs) if p)
    return len(texts), None


@functools.lru_cache(maxsize=1024)
def _counted(count: Callable[[str], int], text: str) -> int:
    return count(text)


def _tokens(system: tuple[TextBlock, ...], messages: tuple[Message, ...], ports: Ports) -> int:
    texts = [b.text for b in system]
    texts += [b.text for m in messages if m.role == "system" for b in m.content
              if isinstance(b, TextBlock)]
    return sum(_counted(ports.count_tokens, t) for t in texts)
