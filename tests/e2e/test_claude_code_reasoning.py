"""The real Claude Code CLI through Lynkr to reasoning models that reject a tool-call turn sent
back without their reasoning, on loopback URLs (not DeepSeek's), with no echo switch set.

Three dialects of reasoning: OpenAI-compatible ``reasoning_content`` (DeepSeek, Kimi, GLM and
Qwen3 behind vLLM/SGLang), OpenRouter's ``reasoning`` + ``reasoning_details``, and Ollama's
``thinking``. Each session is three model turns: Bash, then Read, then the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness.claude_cli import run_claude
from harness.guards import needs_reasoning_back
from harness.proxy import proxy
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e

THOUGHTS = ["First run the command.", "Now read what it wrote.", "The file is read."]
# dialect -> (the fields a tool-call turn must carry back, the answer's reasoning field)
CASES = {
    "openai": (("reasoning_content",), "reasoning_content"),
    "openrouter": (("reasoning", "reasoning_details"), "openrouter"),
    "ollama": (("thinking",), "reasoning_content"),  # Ollama's wire always says "thinking"
}


def script(out: Path, field: str) -> Callable[[dict[str, Any]], Reply]:
    def reply(body: dict[str, Any]) -> Reply:
        if not body.get("tools"):
            return Reply(text="a title")
        step = sum(1 for m in body["messages"]
                   if m["role"] == "assistant" and m.get("tool_calls"))
        if step == 0:
            return Reply(thinking=THOUGHTS[0], reasoning_field=field, tool_calls=(ToolCall(
                "Bash", {"command": f"echo reasoned > {out}", "description": "write"},
                id="call_bash"),))
        if step == 1:
            return Reply(thinking=THOUGHTS[1], reasoning_field=field, tool_calls=(
                ToolCall("Read", {"file_path": str(out)}, id="call_read"),))
        return Reply(thinking=THOUGHTS[2], reasoning_field=field, text="It says reasoned.")
    return reply


@pytest.mark.parametrize("dialect", sorted(CASES))
def test_three_turn_tool_session_keeps_the_reasoning(dialect: str, tmp_path: Path,
                                                     claude_bin: str) -> None:
    fields, answer_field = CASES[dialect]
    workspace, home = tmp_path / "ws", tmp_path / "home"
    workspace.mkdir()
    home.mkdir()
    out = workspace / "out.txt"
    guard = needs_reasoning_back(*fields)
    with proxy(dialect, script(out, answer_field), guard=guard) as (url, fake):
        result = run_claude(claude_bin, url, "run it then read it", workspace, home)
    assert fake.rejected == []
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.result["is_error"] is False, result.result
    assert result.result["result"] == "It says reasoned."
    assert out.read_text() == "reasoned\n"
    main = [c.body for c in fake.calls if c.body.get("tools")]
    assert len(main) == 3
    echoed = [m for m in main[2]["messages"] if m["role"] == "assistant" and m.get("tool_calls")]
    first = fields[0]
    assert [m[first] for m in echoed] == THOUGHTS[:2]  # each turn its own, in its own field
    thinking = [b for e in result.events if e.get("type") == "assistant"
                for b in e["message"]["content"] if b.get("type") == "thinking"]
    assert thinking and all(b["signature"] for b in thinking)  # never an empty signature
