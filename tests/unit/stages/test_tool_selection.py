"""tool_selection: tools removed only on request, once per session, never one the conversation
calls; workspace tools of any client (lowercase names included) always stay."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from lynkr.cache.sessions import MemorySessionStore
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
        "ollama": ProviderInfo("ollama", "ollama", "qwen2.5-coder:7b", "http://o/api/chat"),
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
        provider: str = "ollama", ports: Ports = PORTS) -> Exchange:
    before = Exchange(request, Context("r1", session_id="s1"), route=Route(provider, "m"))
    return tool_selection(before, config or ToolSelectionConfig(), ports)


def names(exchange: Exchange) -> list[str]:
    return [t.name for t in exchange.request.tools]


SLACK_USED = (
    user(TextBlock("tell the team")),
    Message("assistant", (ToolUseBlock("t1", "mcp__slack__post_message", {"text": "hi"}),)),
    user(ToolResultBlock("t1", (TextBlock("sent"),))),
)
TWO = ToolSelectionConfig(max_tools=2)


@pytest.mark.parametrize(
    ("request_", "config", "kept"),
    [
        pytest.param(req("fix the failing test"), None,
                     ["Bash", "Read", "WebFetch", "NotebookEdit", "mcp__slack__post_message",
                      "TodoWrite"], id="nothing-removed-by-default"),
        pytest.param(req("fix the failing test"), TWO, ["Bash", "Read"],
                     id="client-order-when-nothing-scores"),
        pytest.param(req("fetch https://example.com and summarize the page"), TWO,
                     ["Bash", "WebFetch"], id="keyword-in-name-and-description"),
        pytest.param(req("edit the jupyter notebook cell 3"), TWO, ["Bash", "NotebookEdit"],
                     id="camel-case-name"),
        pytest.param(req("post it to slack"), TWO, ["Bash", "mcp__slack__post_message"],
                     id="mcp-tool"),
        pytest.param(req("now something else", *SLACK_USED), TWO,
                     ["Bash", "mcp__slack__post_message"], id="used-tool-kept"),
        pytest.param(req("go", tool_choice={"type": "tool", "name": "TodoWrite"}), TWO,
                     ["Bash", "TodoWrite"], id="tool-choice-kept"),
        pytest.param(req("use todowrite and fetch"), TWO, ["WebFetch", "TodoWrite"],
                     id="named-in-the-first-turn-any-case"),
        pytest.param(req("fix it"), ToolSelectionConfig(max_tools=1, always_keep=("read",)),
                     ["Read"], id="always-keep-case-insensitive"),
        pytest.param(req("fetch the web page url"),
                     ToolSelectionConfig(token_budget=1), ["WebFetch"],
                     id="token-budget-keeps-the-best-tool"),
    ],
)
def test_selection(request_: Request, config: ToolSelectionConfig | None, kept: list[str]
                   ) -> None:
    assert names(run(request_, config)) == kept


def test_report_names_and_tokens_of_removed_tools() -> None:
    out = run(req("fetch the page"), ToolSelectionConfig(max_tools=3))
    removed = (NOTEBOOK, SLACK, TODO)
    assert out.notes == (
        Note("tool_selection",
             "removed 3 of 6 tools: NotebookEdit, mcp__slack__post_message, TodoWrite",
             sum(PORTS.count_tokens(tool_text(t)) for t in removed)),
    )
    assert out.request == attrs.evolve(req("fetch the page"), tools=(BASH, READ, FETCH))


def test_anthropic_family_untouched_unless_configured() -> None:
    request = req("fix the failing test")
    out = run(request, TWO, provider="anthropic")
    assert out.request is request
    assert out.notes == (Note("tool_selection", "anthropic family: kept all"),)
    forced = run(request, attrs.evolve(TWO, apply_to_anthropic=True), provider="anthropic")
    assert names(forced) == ["Bash", "Read"]


@pytest.mark.parametrize(
    ("request_", "summary"),
    [
        pytest.param(req("hi", tools=()), "no tools", id="no-tools"),
        pytest.param(req("hi", tools=(BASH, READ)), "kept all 2 tools", id="fewer-than-max"),
    ],
)
def test_nothing_removed(request_: Request, summary: str) -> None:
    out = run(request_, TWO)
    assert out.request is request_
    assert out.notes == (Note("tool_selection", summary),)


def test_deterministic_and_client_order_kept() -> None:
    request = req("post to slack then fetch the url", tools=tuple(reversed(TOOLS)))
    config = ToolSelectionConfig(max_tools=3)
    first, second = run(request, config), run(request, config)
    assert first == second
    assert names(first) == ["TodoWrite", "mcp__slack__post_message", "WebFetch"]


def test_server_tools_are_kept() -> None:
    search = Tool("web_search", type="web_search_20250305")
    out = run(req("hello", tools=(search, FETCH, TODO)), ToolSelectionConfig(max_tools=1))
    assert names(out) == ["web_search"]


def test_decided_once_per_session_later_turns_get_the_same_tools() -> None:
    ports = attrs.evolve(PORTS, sessions=MemorySessionStore())
    first = req("post it to slack")
    later = attrs.evolve(first, messages=(*first.messages, Message("assistant", (
        TextBlock("done"),)), user(TextBlock("now fetch the web page and edit the notebook"))))
    chosen = names(run(first, TWO, ports=ports))
    assert names(run(later, TWO, ports=ports)) == chosen == ["Bash",
                                                            "mcp__slack__post_message"]
    # the store lost: the decision is taken again from the conversation's start, the same one
    assert names(run(later, TWO, ports=attrs.evolve(PORTS, sessions=MemorySessionStore()))) \
        == chosen


def test_a_called_tool_that_was_not_kept_is_put_back_and_stays() -> None:
    ports = attrs.evolve(PORTS, sessions=MemorySessionStore())
    first = req("post it to slack")
    assert "TodoWrite" not in names(run(first, TWO, ports=ports))
    called = attrs.evolve(first, messages=(*first.messages, Message("assistant", (
        ToolUseBlock("t9", "TodoWrite", {"todos": []}),)), user(ToolResultBlock(
            "t9", (TextBlock("ok"),)))))
    out = run(called, TWO, ports=ports)
    assert "TodoWrite" in names(out) and "put back TodoWrite" in out.notes[-1].summary
    after = attrs.evolve(called, messages=(*called.messages, Message("assistant", (
        TextBlock("ok"),)), user(TextBlock("next")),))
    assert names(run(after, TWO, ports=ports)) == names(out)


def lowercase_tools() -> tuple[Tool, ...]:
    """opencode's tool shapes: lowercase names, camelCase parameters."""
    def t(name: str, **props: str) -> Tool:
        return Tool(name, f"The {name} tool.", {"type": "object", "properties": {
            k: {"type": v} for k, v in props.items()}, "required": list(props)})
    return (t("bash", command="string", description="string"), t("read", filePath="string"),
            t("write", filePath="string", content="string"),
            t("edit", filePath="string", oldString="string", newString="string"),
            t("grep", pattern="string"), t("glob", pattern="string"), t("list", path="string"),
            t("webfetch", url="string"), t("todowrite", todos="array"),
            t("todoread"), t("task", prompt="string"))


@pytest.mark.parametrize("max_tools", [0, 1, 3, 8, 16])
@pytest.mark.parametrize("prompt", ["What is in app.py?", "Use your tool, please", "hi"])
def test_lowercase_client_keeps_every_workspace_tool(max_tools: int, prompt: str) -> None:
    tools = lowercase_tools()
    request = Request("m", (user(TextBlock(prompt)),), 1024, tools=tools)
    kept = names(run(request, ToolSelectionConfig(max_tools=max_tools)))
    assert {"bash", "read", "write", "edit", "grep", "glob", "list"} <= set(kept)
    assert len(kept) >= min(max_tools or len(tools), len(tools))


def test_a_single_tool_is_never_removed() -> None:
    only = Tool("llm_time", "Returns the current time.", {"type": "object", "properties": {}})
    request = Request("m", (user(TextBlock("Use your tool, please")),), 1024, tools=(only,))
    for config in (ToolSelectionConfig(), ToolSelectionConfig(max_tools=1),
                   ToolSelectionConfig(max_tools=4, token_budget=1)):
        assert names(run(request, config)) == ["llm_time"]


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
