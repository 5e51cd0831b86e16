"""tool_selection: only the tools the conversation can need; used and core tools always stay."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from lynkr.model import Message, Request, TextBlock, Tool, ToolResultBlock, ToolUseBlock
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.exchange import Context, Exchange, Note, Route
from lynkr.stages.tool_selection import (
    ToolSelectionConfig,
    compact,
    tool_selection,
    tool_text,
)

PORTS = Ports(
    {
        "ollama": ProviderInfo("ollama", "ollama", "qwen2.5-coder:7b", "http://o/api/chat",
                             local=True),
        "anthropic": ProviderInfo("anthropic", "anthropic", "claude-x", "https://a/v1/messages"),
    },
    "ollama",
)


def tool(name: str, description: str) -> Tool:
    return Tool(name, description, {"type": "object", "properties": {"x": {"type": "string"}}})


BASH, READ = tool("Bash", "Run a shell command"), tool("Read", "Read a file from disk")
FETCH = tool("WebFetch", "Fetch a web page by URL and summarize its content")
NOTEBOOK = tool("NotebookEdit", "Edit a cell of a Jupyter notebook")
SLACK = tool("mcp__slack__post_message", "Post a message to a Slack channel")
TODO = tool("TodoWrite", "Write the task list for the session")
TOOLS = (BASH, READ, FETCH, NOTEBOOK, SLACK, TODO)


def user(*blocks: Any) -> Message:
    return Message("user", tuple(blocks))


def req(text: str, *history: Message, **changes: Any) -> Request:
    messages = (*history, user(TextBlock(text)))
    return attrs.evolve(Request("m", messages, 1024, tools=TOOLS), **changes)


def run(request: Request, config: ToolSelectionConfig | None = None,
        provider: str = "ollama") -> Exchange:
    before = Exchange(request, Context("r1"), route=Route(provider, "m"))
    return tool_selection(before, config or ToolSelectionConfig(), PORTS)


def names(exchange: Exchange) -> list[str]:
    return [t.name for t in exchange.request.tools]


SLACK_USED = (
    user(TextBlock("tell the team")),
    Message("assistant", (ToolUseBlock("t1", "mcp__slack__post_message", {"text": "hi"}),)),
    user(ToolResultBlock("t1", (TextBlock("sent"),))),
)


@pytest.mark.parametrize(
    ("request_", "config", "kept"),
    [
        pytest.param(req("fix the failing test"), None, ["Bash", "Read"], id="core-only"),
        pytest.param(req("fetch https://example.com and summarize the page"), None,
                     ["Bash", "Read", "WebFetch"], id="keyword-in-name-and-description"),
        pytest.param(req("edit the jupyter notebook cell 3"), None,
                     ["Bash", "Read", "NotebookEdit"], id="camel-case-name"),
        pytest.param(req("post it to slack"), None, ["Bash", "Read", "mcp__slack__post_message"],
                     id="mcp-tool"),
        pytest.param(req("now something else", *SLACK_USED), None,
                     ["Bash", "Read", "mcp__slack__post_message"], id="used-tool-kept"),
        pytest.param(req("go", tool_choice={"type": "tool", "name": "TodoWrite"}), None,
                     ["Bash", "Read", "TodoWrite"], id="tool-choice-kept"),
        pytest.param(req("fetch the page, edit the notebook, post to slack"),
                     ToolSelectionConfig(max_tools=3), ["Bash", "Read", "NotebookEdit"],
                     id="max-tools-best-score-first"),
        pytest.param(req("fix it"), ToolSelectionConfig(always_keep=("Read",)), ["Read"],
                     id="always-keep-configurable"),
        pytest.param(req("fix it"), ToolSelectionConfig(always_keep=(), max_tools=0),
                     [], id="nothing-needed"),
        pytest.param(req("fetch the web page url"),
                     ToolSelectionConfig(token_budget=1), ["Bash", "Read"],
                     id="token-budget-admits-no-optional-tool"),
    ],
)
def test_selection(request_: Request, config: ToolSelectionConfig | None, kept: list[str]
                   ) -> None:
    assert names(run(request_, config)) == kept


def test_report_names_and_tokens_of_removed_tools() -> None:
    out = run(req("fetch the page"))
    removed = (NOTEBOOK, SLACK, TODO)
    assert out.notes == (
        Note("tool_selection",
             "removed 3 of 6 tools: NotebookEdit, mcp__slack__post_message, TodoWrite",
             sum(PORTS.count_tokens(tool_text(t)) for t in removed)),
    )
    assert out.request == attrs.evolve(req("fetch the page"), tools=(BASH, READ, FETCH))


def test_anthropic_family_untouched_unless_configured() -> None:
    request = req("fix the failing test")
    out = run(request, provider="anthropic")
    assert out.request is request
    assert out.notes == (Note("tool_selection", "anthropic family: kept all"),)
    forced = run(request, ToolSelectionConfig(apply_to_anthropic=True), provider="anthropic")
    assert names(forced) == ["Bash", "Read"]


@pytest.mark.parametrize(
    ("request_", "summary"),
    [
        pytest.param(req("hi", tools=()), "no tools", id="no-tools"),
        pytest.param(req("hi", tools=(BASH, READ)), "kept all 2 tools", id="all-core"),
    ],
)
def test_nothing_removed(request_: Request, summary: str) -> None:
    out = run(request_)
    assert out.request is request_
    assert out.notes == (Note("tool_selection", summary),)


def test_deterministic_and_client_order_kept() -> None:
    request = req("post to slack then fetch the url", tools=tuple(reversed(TOOLS)))
    first, second = run(request), run(request)
    assert first == second
    assert names(first) == ["mcp__slack__post_message", "WebFetch", "Read", "Bash"]


def test_server_tools_are_kept() -> None:
    search = Tool("web_search", type="web_search_20250305")
    assert names(run(req("hello", tools=(search, FETCH)))) == ["web_search"]


def test_long_descriptions_are_cut_at_a_paragraph_and_a_second_run_changes_nothing() -> None:
    long = Tool("Bash", "Run a command.\n\n" + "Details. " * 400, {"type": "object"})
    cut = compact(long, 100).description
    assert cut.startswith("Run a command.\n\nDetails.") and cut.endswith(".")
    assert len(cut) <= 100
    assert compact(Tool("X", "A short one.\n\n" + "x" * 300, {}), 60).description == \
        "A short one."  # no sentence end in reach: the paragraph
    assert compact(READ, 100) is READ
    config = ToolSelectionConfig(max_description_tokens=25)
    once = run(Request("m", (user(TextBlock("run ls")),), 10, tools=(long, READ)), config)
    assert [len(t.description) <= 100 for t in once.request.tools] == [True, True]
    assert once.request.tools[1] == READ
    assert once.notes[-1].tokens_removed > 500
    twice = tool_selection(once, config, PORTS)
    assert twice.request == once.request


def test_parameter_descriptions_can_be_dropped_but_names_stay() -> None:
    schema = {"type": "object", "properties": {
        "description": {"type": "string", "description": "the commit message"},
        "path": {"type": "string", "description": "where"}}, "required": ["path"]}
    bash = Tool("Bash", "Run.", schema)
    out = run(Request("m", (user(TextBlock("go")),), 10, tools=(bash,)),
              ToolSelectionConfig(strip_schema_descriptions=True))
    assert out.request.tools[0].input_schema == {"type": "object", "properties": {
        "description": {"type": "string"}, "path": {"type": "string"}}, "required": ["path"]}
    assert out.notes[-1].tokens_removed > 0
