"""capability_filter: what non-Anthropic families cannot take is dropped; Anthropic keeps all."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from lynkr.model import (
    ImageBlock,
    Message,
    RedactedThinkingBlock,
    Request,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.ports import Ports, ProviderInfo, estimate_tokens
from lynkr.stages.capability_filter import (
    BILLING_PREFIX,
    CapabilityFilterConfig,
    capability_filter,
    strip_keywords,
)
from lynkr.stages.exchange import Context, Exchange, Note, Route

PORTS = Ports(
    {
        "openai": ProviderInfo("openai", "openai", "gpt-4o", "https://o/v1/chat/completions"),
        "ollama": ProviderInfo("ollama", "ollama", "qwen2.5-coder:7b", "http://o/api/chat",
                             local=True),
        "llamacpp": ProviderInfo("llamacpp", "openai", "default", "http://l/v1/chat/completions",
                               local=True),
        "anthropic": ProviderInfo(
            "anthropic", "anthropic", "claude-sonnet-4-5", "https://a/v1/messages"
        ),
    },
    "ollama",
)
BILLING = TextBlock(f"{BILLING_PREFIX} cc_version=2.0.14; cc_entrypoint=cli")
SYSTEM = TextBlock("You are Claude Code.")
READ = Tool("Read", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}})
DEFERRED = Tool(
    "mcp__slack__post", "Post to Slack", {"type": "object"}, extra={"defer_loading": True}
)
WEB_SEARCH = Tool("web_search", type="web_search_20250305", extra={"max_uses": 5})
CUSTOM = Tool("Custom", "typed custom tool", {"type": "object"}, type="custom")


def user(*blocks: Any) -> Message:
    return Message("user", tuple(blocks))


def assistant(*blocks: Any) -> Message:
    return Message("assistant", tuple(blocks))


HISTORY = (
    user(TextBlock("fix the bug")),
    assistant(
        ThinkingBlock("the bug is in a.py", "sig=="),
        RedactedThinkingBlock("xyz"),
        ToolUseBlock("t1", "Read", {"path": "a.py"}),
    ),
    user(ToolResultBlock("t1", (TextBlock("print(1)"),))),
)
FULL = Request(
    model="claude-sonnet-4-5",
    messages=HISTORY,
    max_tokens=8192,
    system=(BILLING, SYSTEM),
    tools=(READ, DEFERRED, WEB_SEARCH, CUSTOM),
    extra={"context_management": {"edits": []}, "output_config": {"effort": "high"}},
    betas=("interleaved-thinking-2025-05-14", "context-management-2025-06-27"),
)
STRIPPED = attrs.evolve(
    FULL,
    system=(SYSTEM,),
    tools=(READ, CUSTOM),
    extra={},
    betas=(),
    messages=(HISTORY[0], assistant(ToolUseBlock("t1", "Read", {"path": "a.py"})), HISTORY[2]),
)


def run(req: Request, provider: str, config: CapabilityFilterConfig | None = None) -> Exchange:
    info = PORTS.providers[provider]
    before = Exchange(req, Context("r1"), route=Route(provider, info.model))
    return capability_filter(before, config or CapabilityFilterConfig(), PORTS)


@pytest.mark.parametrize("provider", ["openai", "ollama", "llamacpp"])
def test_translated_families_drop_anthropic_only_parts(provider: str) -> None:
    out = run(FULL, provider)
    assert out.request == STRIPPED
    [note] = out.notes
    assert note.stage == "capability_filter"
    assert note.summary == (
        "dropped context_management, output_config, 2 betas, billing header, "
        "tool mcp__slack__post, tool web_search, thinking history"
    )
    assert note.tokens_removed > 0


def test_anthropic_family_keeps_everything() -> None:
    out = run(FULL, "anthropic")
    assert out.request is FULL
    assert out.notes == (Note("capability_filter", "anthropic family: kept all"),)


def test_nothing_to_drop() -> None:
    req = Request("m", (user(TextBlock("hi")),), 100, system=(SYSTEM,), tools=(READ,))
    out = run(req, "openai")
    assert out.request is req
    assert out.notes == (Note("capability_filter", "nothing to drop"),)



@pytest.mark.parametrize(("provider", "source", "note"), [
    ("ollama", {"type": "url", "url": "https://example.test/a.png"},
     "dropped WARNING: 1 image URL(s) not sent (Ollama takes only inline base64 images)"),
    ("ollama", {"type": "base64", "media_type": "image/png", "data": "aGk="}, "nothing to drop"),
    ("openai", {"type": "url", "url": "https://example.test/a.png"}, "nothing to drop"),
])
def test_image_urls_ollama_cannot_take_are_named(provider: str, source: dict[str, Any],
                                                  note: str) -> None:
    req = Request("m", (user(TextBlock("what is this?"), ImageBlock(source)),), 100,
                  system=(SYSTEM,), tools=(READ,))
    out = run(req, provider)
    assert out.request == req  # a note only: the format is what sends inline images alone
    assert out.notes == (Note("capability_filter", note),)

BASE = Request("claude-sonnet-4-5", HISTORY[:1], 1024, system=(SYSTEM,), tools=(READ,))
THOUGHTFUL = attrs.evolve(BASE, messages=HISTORY)


@pytest.mark.parametrize(
    ("before", "after", "config"),
    [
        pytest.param(
            attrs.evolve(BASE, extra={"context_management": {}}),
            BASE,
            CapabilityFilterConfig(),
            id="extra-fields",
        ),
        pytest.param(
            attrs.evolve(BASE, betas=("a", "b")), BASE, CapabilityFilterConfig(), id="betas"
        ),
        pytest.param(
            attrs.evolve(BASE, system=(BILLING, SYSTEM)),
            BASE,
            CapabilityFilterConfig(),
            id="billing-header",
        ),
        pytest.param(
            attrs.evolve(BASE, system=(SYSTEM, TextBlock(f"see {BILLING_PREFIX}"))),
            attrs.evolve(BASE, system=(SYSTEM, TextBlock(f"see {BILLING_PREFIX}"))),
            CapabilityFilterConfig(),
            id="billing-prefix-only-at-start",
        ),
        pytest.param(
            attrs.evolve(BASE, system=(BILLING, SYSTEM)),
            attrs.evolve(BASE, system=(BILLING, SYSTEM)),
            CapabilityFilterConfig(strip_billing_header=False),
            id="billing-kept",
        ),
        pytest.param(
            attrs.evolve(BASE, tools=(DEFERRED, READ)),
            BASE,
            CapabilityFilterConfig(),
            id="deferred-tool",
        ),
        pytest.param(
            attrs.evolve(BASE, tools=(READ, Tool("X", extra={"defer_loading": False}))),
            attrs.evolve(BASE, tools=(READ, Tool("X", extra={"defer_loading": False}))),
            CapabilityFilterConfig(),
            id="defer-loading-false-kept",
        ),
        pytest.param(
            attrs.evolve(BASE, tools=(READ, WEB_SEARCH, CUSTOM)),
            attrs.evolve(BASE, tools=(READ, CUSTOM)),
            CapabilityFilterConfig(),
            id="server-tool-but-not-custom",
        ),
        pytest.param(
            THOUGHTFUL,
            attrs.evolve(BASE, messages=STRIPPED.messages),
            CapabilityFilterConfig(),
            id="thinking-history",
        ),
        pytest.param(
            THOUGHTFUL,
            THOUGHTFUL,
            CapabilityFilterConfig(drop_thinking_history=False),
            id="thinking-kept",
        ),
    ],
)
@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_each_part(
    before: Request, after: Request, config: CapabilityFilterConfig, provider: str
) -> None:
    assert run(before, provider, config).request == after
    assert run(before, "anthropic", config).request == before


def test_thinking_in_user_turns_is_not_touched() -> None:
    odd = user(ThinkingBlock("not ours"), TextBlock("hi"))
    req = Request("m", (odd,), 100)
    assert run(req, "openai").request == req


def test_tokens_removed_counts_removed_text() -> None:
    long_billing = TextBlock(BILLING_PREFIX + "x" * 373)  # 400 characters
    req = Request("m", (user(TextBlock("hi")),), 100, system=(long_billing, SYSTEM))
    [note] = run(req, "openai").notes
    assert note.tokens_removed == estimate_tokens(long_billing.text)
    thinking = Request(
        "m", (user(TextBlock("a")), assistant(ThinkingBlock("t" * 40, "s"), TextBlock("b"))), 100
    )
    [note] = run(thinking, "openai").notes
    assert note.tokens_removed == estimate_tokens("t" * 40)


def test_tokens_removed_zero_when_no_text_removed() -> None:
    req = Request("m", (user(TextBlock("hi")),), 100, betas=("x",))
    out = run(req, "openai")
    assert out.notes == (Note("capability_filter", "dropped 1 betas", 0),)


SCHEMA = {
    "type": "object",
    "$schema": "http://json-schema.org/draft-07/schema#",
    "additionalProperties": False,
    "properties": {
        "format": {"type": "string", "format": "uri", "description": "a property named format"},
        "pattern": {"type": "string", "pattern": "^a+$"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"format": {"type": "string", "format": "date"}},
                "additionalProperties": False,
            },
        },
        "choice": {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]},
    },
    "required": ["format", "pattern"],
}
SCHEMA_STRIPPED = {
    "type": "object",
    "properties": {
        "format": {"type": "string", "description": "a property named format"},
        "pattern": {"type": "string", "pattern": "^a+$"},
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"format": {"type": "string"}}},
        },
        "choice": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["format", "pattern"],
}
KEYWORDS = ("format", "additionalProperties", "$schema")


def test_schema_keywords_removed_at_every_depth_but_not_property_names() -> None:
    assert strip_keywords(SCHEMA, frozenset(KEYWORDS)) == SCHEMA_STRIPPED


def test_schema_keywords_only_for_the_configured_provider() -> None:
    tool = Tool("Fetch", "fetch a url", SCHEMA)
    req = Request("m", (user(TextBlock("hi")),), 100, tools=(tool, WEB_SEARCH))
    config = CapabilityFilterConfig(schema_drop_keywords={"llamacpp": KEYWORDS})
    stripped = run(req, "llamacpp", config)
    assert stripped.request.tools == (Tool("Fetch", "fetch a url", SCHEMA_STRIPPED),)
    assert stripped.notes[0].summary == (
        "dropped tool web_search, schema keywords format,additionalProperties,$schema"
    )
    other = run(req, "openai", config)
    assert other.request.tools == (tool,)


def test_message_text_never_touched() -> None:
    messages = (
        user(TextBlock(f"{BILLING_PREFIX} typed by the user")),
        assistant(TextBlock("format: pattern")),
    )
    req = attrs.evolve(FULL, messages=messages)
    assert run(req, "openai").request.messages == messages


SCHEMA_FORMAT = {"type": "json_schema", "schema": {"type": "object"}, "name": "answer"}
BEDROCK = Ports({"bedrock": ProviderInfo("bedrock", "bedrock", "m", "https://b")}, "bedrock")


def formatted(fmt: dict[str, Any], **more: Any) -> Request:
    return Request("m", (user(TextBlock("hi")),), 100,
                   extra={"output_config": {"format": fmt, **more}})


@pytest.mark.parametrize("provider", ["openai", "ollama", "llamacpp"])
def test_structured_output_survives_for_families_that_have_it(provider: str) -> None:
    out = run(formatted(SCHEMA_FORMAT, effort="low"), provider)
    assert out.request.extra == {"output_config": {"format": SCHEMA_FORMAT}}
    assert "output format" not in out.notes[0].summary


def test_structured_output_on_bedrock_and_without_an_equivalent() -> None:
    before = Exchange(formatted(SCHEMA_FORMAT), Context("r1"), route=Route("bedrock", "m"))
    out = capability_filter(before, CapabilityFilterConfig(), BEDROCK)
    assert out.request.extra == {"output_config": {"format": SCHEMA_FORMAT}}
    loose = Exchange(formatted({"type": "json_object"}), Context("r1"),
                     route=Route("bedrock", "m"))
    out = capability_filter(loose, CapabilityFilterConfig(), BEDROCK)
    assert out.request.extra == {}
    assert "WARNING: output format json_object (no equivalent on bedrock; the answer is " \
        "free text)" in out.notes[0].summary


@pytest.mark.parametrize(("fmt", "extra", "note"), [
    (SCHEMA_FORMAT, {"output_config": {"format": {"type": "json_schema",
                                                  "schema": {"type": "object"}},
                                       "effort": "low"}},
     "output format as Anthropic's"),
    ({"type": "json_object"}, {"output_config": {"effort": "low"}},
     "WARNING: output format json_object dropped (Anthropic has no equivalent)"),
])
def test_anthropic_gets_its_own_format_shape(fmt: dict[str, Any], extra: dict[str, Any],
                                             note: str) -> None:
    out = run(formatted(fmt, effort="low"), "anthropic")
    assert out.request.extra == extra
    assert out.notes[0] == Note("capability_filter", note)
