"""The real Claude Code CLI through Lynkr to a scripted fake model, in each upstream dialect
(OpenAI chat, Ollama, and Anthropic Messages through MODEL_PROVIDER=anthropic).

Each scenario scripts the model by conversation step (the number of assistant tool turns
already in the history), then checks the workspace and what reached the model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness.claude_cli import CliRun, run_claude
from harness.fake_model import FakeModel
from harness.proxy import proxy
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e
# "dialect+pipeline" runs the scenario through that named pipeline instead of the default
DIALECTS = ["openai", "ollama", "anthropic", "bedrock", "bedrock-converse",
            "openai+max-savings"]


def _uses_tools(message: dict[str, Any]) -> bool:
    if message.get("tool_calls"):
        return True
    content = message.get("content")
    return isinstance(content, list) and any(b.get("type") == "tool_use" for b in content)


def step_of(body: dict[str, Any]) -> int:
    return sum(1 for m in body["messages"] if m["role"] == "assistant" and _uses_tools(m))


def _as_tool_messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Chat-style ``role: tool`` messages, from an Anthropic user turn's tool_result blocks."""
    if message["role"] == "tool":
        return [message]
    content = message.get("content")
    if message["role"] != "user" or not isinstance(content, list):
        return []
    out = []
    for block in content:
        if block.get("type") == "tool_result":
            inner = block.get("content")
            text = inner if isinstance(inner, str) else "\n".join(
                b.get("text", "") for b in inner or () if b.get("type") == "text")
            prefix = "[tool error] " if block.get("is_error") else ""
            out.append({"role": "tool", "tool_call_id": block["tool_use_id"],
                        "content": prefix + text})
    return out


def scripted(steps: list[Callable[[], Reply]]) -> Callable[[dict[str, Any]], Reply]:
    def script(body: dict[str, Any]) -> Reply:
        if not body.get("tools"):
            return Reply(text="ok")  # side requests (titles, summaries)
        return steps[min(step_of(body), len(steps) - 1)]()
    return script


def tool_messages(fake: FakeModel) -> list[dict[str, Any]]:
    """The tool results in the model's last request."""
    main = [c for c in fake.calls if c.body.get("tools")]
    return [t for m in main[-1].body["messages"] for t in _as_tool_messages(m)]


def run(dialect: str, steps: list[Callable[[], Reply]], prompt: str, tmp_path: Path,
        claude_bin: str) -> tuple[CliRun, FakeModel, Path]:
    workspace, home = tmp_path / "ws", tmp_path / "home"
    workspace.mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    dialect, _, pipeline = dialect.partition("+")
    with proxy(dialect, scripted(steps), pipeline or None) as (url, fake):
        result = run_claude(claude_bin, url, prompt, workspace, home)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.result["is_error"] is False, result.result
    return result, fake, workspace


@pytest.mark.parametrize("dialect", DIALECTS)
def test_plain_answer(dialect: str, tmp_path: Path, claude_bin: str) -> None:
    result, fake, _ = run(dialect, [lambda: Reply(text="Hi from the fake model.")], "say hi",
                          tmp_path, claude_bin)
    assert result.result["result"] == "Hi from the fake model."
    main = [c for c in fake.calls if c.body.get("tools")]
    assert main, "the main request never reached the model"
    assert "say hi" in str(main[0].body["messages"])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_write_creates_the_file(dialect: str, tmp_path: Path, claude_bin: str) -> None:
    target = tmp_path / "ws" / "hello.txt"
    steps = [lambda: Reply(text="Writing.", tool_calls=(
                 ToolCall("Write", {"file_path": str(target), "content": "hello world\n"},
                          id="call_w1"),)),
             lambda: Reply(text="Wrote hello.txt.")]
    result, fake, _ = run(dialect, steps, "create hello.txt", tmp_path, claude_bin)
    assert target.read_text() == "hello world\n"
    assert result.result["result"] == "Wrote hello.txt."
    [tool] = tool_messages(fake)
    assert tool["tool_call_id"] == "call_w1"
    assert str(target) in tool["content"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bash_then_read_in_three_model_calls(dialect: str, tmp_path: Path,
                                             claude_bin: str) -> None:
    out = tmp_path / "ws" / "out.txt"
    steps = [lambda: Reply(tool_calls=(ToolCall(
                 "Bash", {"command": f"echo from-bash > {out} && echo bash-ran",
                          "description": "write a file"}),)),
             lambda: Reply(tool_calls=(ToolCall("Read", {"file_path": str(out)}),)),
             lambda: Reply(text="The file says from-bash.")]
    result, fake, _ = run(dialect, steps, "run it then read it", tmp_path, claude_bin)
    main = [c for c in fake.calls if c.body.get("tools")]
    assert len(main) == 3
    tools = tool_messages(fake)
    ids = [use["id"] for use in result.tool_uses()]
    assert [t["tool_call_id"] for t in tools] == ids  # synthesised ids stay consistent
    assert "bash-ran" in tools[0]["content"]
    assert "from-bash" in tools[1]["content"]
    assert result.result["result"] == "The file says from-bash."


@pytest.mark.parametrize("dialect", DIALECTS)
def test_edit_changes_the_file(dialect: str, tmp_path: Path, claude_bin: str) -> None:
    (tmp_path / "ws").mkdir()
    target = tmp_path / "ws" / "notes.txt"
    target.write_text("first line\nold line\nlast line\n")
    steps = [lambda: Reply(tool_calls=(ToolCall("Read", {"file_path": str(target)}),)),
             lambda: Reply(tool_calls=(ToolCall("Edit", {
                 "file_path": str(target), "old_string": "old line",
                 "new_string": "new line"}),)),
             lambda: Reply(text="Edited.")]
    result, fake, _ = run(dialect, steps, "fix the old line", tmp_path, claude_bin)
    assert target.read_text() == "first line\nnew line\nlast line\n"
    assert result.result["result"] == "Edited."
    assert "old line" in tool_messages(fake)[0]["content"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_two_tool_calls_in_one_turn(dialect: str, tmp_path: Path, claude_bin: str) -> None:
    steps = [lambda: Reply(tool_calls=(
                 ToolCall("Bash", {"command": "echo first-call", "description": "one"},
                          id="call_a"),
                 ToolCall("Bash", {"command": "echo second-call", "description": "two"},
                          id="call_b"))),
             lambda: Reply(text="Both ran.")]
    result, fake, _ = run(dialect, steps, "run both", tmp_path, claude_bin)
    assert len(result.tool_uses()) == 2
    tools = {t["tool_call_id"]: t["content"] for t in tool_messages(fake)}
    assert "first-call" in tools["call_a"]
    assert "second-call" in tools["call_b"]
    assert result.result["result"] == "Both ran."


@pytest.mark.parametrize("dialect", DIALECTS)
def test_failing_command_output_reaches_the_model(dialect: str, tmp_path: Path,
                                                  claude_bin: str) -> None:
    steps = [lambda: Reply(tool_calls=(ToolCall(
                 "Bash", {"command": "ls /definitely-not-here-lynkr",
                          "description": "list"}),)),
             lambda: Reply(text="That directory does not exist.")]
    result, fake, _ = run(dialect, steps, "list it", tmp_path, claude_bin)
    [tool] = tool_messages(fake)
    assert tool["content"].startswith("[tool error]")
    assert "definitely-not-here-lynkr" in tool["content"]
    assert "No such file" in tool["content"]
    assert result.result["result"] == "That directory does not exist."
