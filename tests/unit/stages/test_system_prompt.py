"""system_prompt: sections dropped and a budget kept, for local providers only."""

from __future__ import annotations

import attrs
import pytest

from lynkr.model import Message, Request, TextBlock
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.exchange import Context, Exchange, Note, Route
from lynkr.stages.system_prompt import SystemPromptConfig, drop_sections, system_prompt


def words(text: str) -> int:
    return len(text.split())


PORTS = Ports(
    {
        "ollama": ProviderInfo("ollama", "ollama", "qwen", "http://o/api/chat", local=True),
        "anthropic": ProviderInfo("anthropic", "anthropic", "claude-x", "https://a/v1/messages"),
    },
    "ollama",
    words,
)
PROMPT = (
    "You are a coding agent.\n"
    "# Tone and style\nBe concise.\n## Examples\nuser: 2+2\nassistant: 4\n"
    "# Doing tasks\nRead before you edit.\n"
    "# Git\nCommit only when asked.\n"
)
ENV = "<env>\nWorking directory: /work\nPlatform: linux\n</env>"


def req(*system: str, messages: tuple[Message, ...] = ()) -> Request:
    chat = (*messages, Message("user", (TextBlock("hi"),)))
    return Request("m", chat, 1024, system=tuple(TextBlock(s) for s in system))


def run(request: Request, config: SystemPromptConfig, provider: str = "ollama") -> Exchange:
    return system_prompt(Exchange(request, Context("r1"), route=Route(provider, "m")), config,
                         PORTS)


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        pytest.param(["# Tone and style"],
                     "You are a coding agent.\n# Doing tasks\nRead before you edit.\n"
                     "# Git\nCommit only when asked.\n", id="with-sub-sections"),
        pytest.param(["## Examples", "# git"],
                     "You are a coding agent.\n# Tone and style\nBe concise.\n"
                     "# Doing tasks\nRead before you edit.\n", id="sub-section-and-case"),
        pytest.param(["# Nowhere"], PROMPT, id="absent-heading"),
        pytest.param([], PROMPT, id="nothing"),
    ],
)
def test_drop_sections(drop: list[str], expected: str) -> None:
    assert drop_sections(PROMPT, {d.lower() for d in drop}) == expected


def test_drops_in_system_blocks_and_system_messages() -> None:
    system_message = Message("system", (TextBlock("# Tone and style\nNo emojis."),))
    assistant = Message("assistant", (TextBlock("# Tone and style\nkept: not a system turn"),))
    request = req(PROMPT, messages=(Message("user", (TextBlock("a"),)), assistant,
                                    system_message))
    config = SystemPromptConfig(drop_sections=["# Tone and style"], max_tokens=0)
    out = run(request, config)
    assert out.request == attrs.evolve(
        request, system=(TextBlock(drop_sections(PROMPT, {"# tone and style"})),),
        messages=request.messages[:2] + request.messages[3:])
    assert out.notes == (Note("system_prompt", "system prompt 36>18 tokens", 18),)


def test_budget_keeps_start_and_env() -> None:
    request = req(PROMPT, "More rules " * 50, ENV)
    out = run(request, SystemPromptConfig(max_tokens=20))
    [block] = out.request.system
    assert block.text == (
        "You are a coding agent.\n# Tone and style\nBe concise.\n## Examples\n"
        "[... system prompt shortened: 17 tokens omitted ...]\n" + ENV)
    assert out.notes[0].tokens_removed == words(PROMPT) + 100 + words(ENV) - words(block.text)


def test_within_budget_unchanged() -> None:
    request = req(PROMPT, ENV)
    out = run(request, SystemPromptConfig(max_tokens=1000))
    assert out.request is request
    assert out.notes == (Note("system_prompt", "unchanged"),)


@pytest.mark.parametrize(
    ("provider", "config"),
    [
        pytest.param("anthropic", SystemPromptConfig(max_tokens=1), id="anthropic-default"),
        pytest.param("ollama", SystemPromptConfig(applies_to=["anthropic"], max_tokens=1),
                     id="local-not-listed"),
        pytest.param("ollama", SystemPromptConfig(applies_to=["lmstudio"], max_tokens=1),
                     id="not-listed"),
    ],
)
def test_not_applied(provider: str, config: SystemPromptConfig) -> None:
    request = req(PROMPT)
    out = run(request, config, provider)
    assert out.request is request
    assert out.notes == (Note("system_prompt", f"not applied to {provider}"),)


def test_anthropic_when_listed() -> None:
    config = SystemPromptConfig(applies_to=["anthropic"], drop_sections=["# Git"], max_tokens=0)
    assert run(req(PROMPT), config, "anthropic").request.system == (
        TextBlock(drop_sections(PROMPT, {"# git"})),)


def test_mid_conversation_system_messages_get_their_own_budget() -> None:
    notes = "# Environment\n" + "".join(f" - fact number {i} about the machine\n"
                                        for i in range(300))
    request = Request("m", (Message("user", (TextBlock("hi"),)),
                            Message("system", (TextBlock(notes),))), 10)
    before = Exchange(request, Context("r"), route=Route("ollama", "m"))
    after = system_prompt(before, SystemPromptConfig(max_tokens=0, message_max_tokens=200), PORTS)
    text = after.request.messages[1].content[0].text
    assert text.startswith("# Environment\n - fact number 0")
    assert "tokens omitted" in text and len(text) < len(notes) // 4
    assert after.request.messages[0] == request.messages[0]
    assert after.notes[-1].tokens_removed > 1000
    again = system_prompt(after, SystemPromptConfig(max_tokens=0, message_max_tokens=200), PORTS)
    assert again.request == after.request
