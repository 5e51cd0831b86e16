"""The server-side tool loop with real clients: the Claude Code CLI and the anthropic SDK,
through Lynkr (with the test ToolBox) to a scripted fake model.

The model calls a Lynkr tool, then a client tool, then answers. The client sees ONE coherent
answer per turn, runs only its own tool, and its next request, once Lynkr has restored the
earlier legs, repeats the loop's own upstream request byte for byte (the prefix holds).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import orjson
import pytest
from harness.claude_cli import run_claude
from harness.fake_model import Call
from harness.sdk_clients import track
from harness.tool_boxes import serve_with_box
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e
TOOLS = [
    {
        "name": "Bash",
        "description": "Run a shell command.",
        "input_schema": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    }
]


def _calls(message: dict[str, Any]) -> list[str]:
    """The tool names an upstream message calls (OpenAI or Anthropic dialect)."""
    names = [c["function"]["name"] for c in message.get("tool_calls") or ()]
    content = message.get("content")
    if isinstance(content, list):
        names += [b["name"] for b in content if b.get("type") == "tool_use"]
    return names


def scripted(steps: list[Callable[[], Reply]]) -> Callable[[dict[str, Any]], Reply]:
    """The reply for the number of assistant turns with tool calls so far (side requests
    without tools get a plain answer)."""

    def script(body: dict[str, Any]) -> Reply:
        if not body.get("tools"):
            return Reply(text="ok")
        done = sum(1 for m in body["messages"] if m["role"] == "assistant" and _calls(m))
        return steps[min(done, len(steps) - 1)]()

    return script


def _without_cache_marks(value: Any) -> Any:
    """``cache_control`` moves to the newest message each turn (the client does that, and the
    provider's cache key ignores it): compared without it."""
    if isinstance(value, dict):
        return {k: _without_cache_marks(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_marks(v) for v in value]
    return value


def assert_prefix_kept(loop_call: Call, next_call: Call, leg: str = "lynkr_echo") -> None:
    """``next_call`` (the client's next turn) repeats ``loop_call`` (the loop's own second model
    call: the first turn plus Lynkr's call and result) byte for byte."""
    before, after = loop_call.body, next_call.body
    assert orjson.dumps(after["tools"]) == orjson.dumps(before["tools"])
    n = len(before["messages"])
    assert orjson.dumps(_without_cache_marks(after["messages"][:n])) == orjson.dumps(
        _without_cache_marks(before["messages"])
    )
    assert _calls(before["messages"][-2]) == [leg]  # the leg is in it


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_claude_code_sees_one_answer_and_runs_only_its_own_tool(
    dialect: str, tmp_path: Path, claude_bin: str
) -> None:
    workspace, home = tmp_path / "ws", tmp_path / "home"
    workspace.mkdir()
    home.mkdir()
    target = workspace / "out.txt"
    steps = [
        lambda: Reply(
            text="Asking Lynkr.",
            tool_calls=(ToolCall("lynkr_echo", {"text": "from-lynkr"}, id="call_l1"),),
        ),
        lambda: Reply(
            tool_calls=(
                ToolCall(
                    "Bash",
                    {"command": f"echo from-bash > {target}", "description": "write"},
                    id="call_b1",
                ),
            )
        ),
        lambda: Reply(text="Done: Lynkr echoed and the file is written."),
    ]
    with serve_with_box(scripted(steps), dialect) as (url, fake, box, _):
        result = run_claude(claude_bin, url, "echo then write", workspace, home)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.result["is_error"] is False, result.result
    assert result.result["result"] == "Done: Lynkr echoed and the file is written."
    assert target.read_text() == "from-bash\n"  # the client ran its own tool ...
    assert [c[0] for c in box.calls] == ["lynkr_echo"]  # ... and Lynkr its own, once
    assert [u["name"] for u in result.tool_uses()] == ["Bash"]
    shown = [
        b for e in result.events if e.get("type") == "assistant" for b in e["message"]["content"]
    ]
    assert [b["type"] for b in shown if b["type"] != "text"] == [
        "server_tool_use",
        "lynkr_tool_result",
        "tool_use",
    ]
    main = [c for c in fake.calls if c.body.get("tools")]
    assert len(main) == 3  # the loop's two model calls, then the client's next turn
    assert_prefix_kept(main[1], main[2])


def test_the_anthropic_sdk_sees_one_answer_and_keeps_the_prefix() -> None:
    steps = [
        lambda: Reply(
            text="Asking.", tool_calls=(ToolCall("lynkr_echo", {"text": "sdk"}, id="call_l1"),)
        ),
        lambda: Reply(tool_calls=(ToolCall("Bash", {"command": "ls"}, id="call_b1"),)),
        lambda: Reply(text="Two files."),
    ]
    with serve_with_box(scripted(steps)) as (url, fake, box, _):
        sdk = track(anthropic.Anthropic(base_url=url, api_key="dummy", max_retries=0))
        history: list[Any] = [{"role": "user", "content": "list the files"}]
        with sdk.messages.stream(
            model="claude-opus-5-5",
            max_tokens=1024,
            tools=TOOLS,
            messages=history,
            extra_headers={"x-session-id": "sdk-1"},
        ) as stream:
            text = "".join(stream.text_stream)
            first = stream.get_final_message()
        assert text == "Asking."
        assert first.stop_reason == "tool_use"
        assert [b.type for b in first.content] == [
            "text",
            "server_tool_use",
            "lynkr_tool_result",
            "tool_use",
        ]
        [use] = [b for b in first.content if b.type == "tool_use"]
        assert (use.name, use.input) == ("Bash", {"command": "ls"})
        history += [
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": use.id, "content": "a.py\nb.py"}
                ],
            },
        ]
        second = sdk.messages.create(
            model="claude-opus-5-5",
            max_tokens=1024,
            tools=TOOLS,
            messages=history,
            extra_headers={"x-session-id": "sdk-1"},
        )
    assert second.content[0].text == "Two files."
    assert [c[0] for c in box.calls] == ["lynkr_echo"]
    assert len(fake.calls) == 3
    assert_prefix_kept(fake.calls[1], fake.calls[2])


def test_claude_code_with_a_lynkr_tool_a_workspace_tool_then_its_own(
    tmp_path: Path, claude_bin: str
) -> None:
    """Three legs in one answer: the test box's tool, the real workspace box's (built by
    open_toolboxes from WORKSPACE_ROOT at start-up), then the client's Bash."""
    workspace, home, project = tmp_path / "ws", tmp_path / "home", tmp_path / "project"
    for folder in (workspace, home, project):
        folder.mkdir()
    steps = [
        lambda: Reply(tool_calls=(ToolCall("lynkr_echo", {"text": "first"}, id="c1"),)),
        lambda: Reply(
            tool_calls=(ToolCall("workspace_task_create", {"title": "ship the loop"}, id="c2"),)
        ),
        lambda: Reply(
            tool_calls=(
                ToolCall(
                    "Bash", {"command": "echo own > own.txt", "description": "write"}, id="c3"
                ),
            )
        ),
        lambda: Reply(text="Three tools ran."),
    ]
    env = {
        "WORKSPACE_ROOT": str(project),
        "WORKSPACE_DB_PATH": str(tmp_path / "workspace.db"),
        "LYNKR_DB_PATH": str(tmp_path / "lynkr.db"),
    }
    with serve_with_box(scripted(steps), **env) as (url, fake, box, state):
        assert [b.name for b in state.toolboxes] == ["test", "workspace"]
        result = run_claude(claude_bin, url, "three tools", workspace, home)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.result["result"] == "Three tools ran."
    assert (workspace / "own.txt").read_text() == "own\n"
    assert [c[0] for c in box.calls] == ["lynkr_echo"]
    shown = [
        b for e in result.events if e.get("type") == "assistant" for b in e["message"]["content"]
    ]
    results = [b for b in shown if b["type"] == "lynkr_tool_result"]
    assert [r["is_error"] for r in results] == [False, False]
    assert "ship the loop" in results[1]["content"][0]["text"]
    main = [c for c in fake.calls if c.body.get("tools")]
    assert len(main) == 4  # three model calls in the loop, then the client's next turn
    assert [_calls(m) for m in main[2].body["messages"] if _calls(m)] == [
        ["lynkr_echo"],
        ["workspace_task_create"],
    ]
    assert_prefix_kept(main[2], main[3], leg="workspace_task_create")
