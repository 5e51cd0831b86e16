"""The real Codex CLI, opencode, llm and aider through Lynkr (default pipeline) to a scripted
fake model.

Each client is configured the way its own documentation says for a custom provider (Codex: one
``model_providers`` entry with ``wire_api = "responses"``; opencode: an OpenAI-compatible
provider), with its home in tmp_path and every request on loopback. The fake model speaks
OpenAI Chat Completions; it is scripted by how many tool turns the conversation holds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness.agent_clis import (
    AIDER_BIN,
    CODEX_BIN,
    LLM_BIN,
    OPENCODE_BIN,
    find_cli,
    run_aider,
    run_codex,
    run_llm,
    run_opencode,
)
from harness.fake_model import FakeModel
from harness.guards import needs_reasoning_back
from harness.proxy import proxy
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e

PATCH = "*** Begin Patch\n*** Add File: patched.txt\n+patched by codex\n*** End Patch\n"


def _binary(variable: str, local: Path, name: str) -> str:
    binary = find_cli(variable, local, name)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (tests/run.py installs it)")
        pytest.skip(f"{name} not installed (needs Node and npm; run tests/run.py)")
    return binary


@pytest.fixture(scope="session")
def codex_bin() -> str:
    return _binary("LYNKR_CODEX_BIN", CODEX_BIN, "codex")


@pytest.fixture(scope="session")
def opencode_bin() -> str:
    return _binary("LYNKR_OPENCODE_BIN", OPENCODE_BIN, "opencode")


@pytest.fixture(scope="session")
def aider_bin() -> str:
    return _binary("LYNKR_AIDER_BIN", AIDER_BIN, "aider")


@pytest.fixture(scope="session")
def llm_bin() -> str:
    return _binary("LYNKR_LLM_BIN", LLM_BIN, "llm")


def tool_turns(body: dict[str, Any]) -> int:
    return sum(1 for m in body["messages"] if m["role"] == "assistant" and m.get("tool_calls"))


def scripted(steps: list[Reply], final: str = "done") -> Callable[[dict[str, Any]], Reply]:
    def script(body: dict[str, Any]) -> Reply:
        if not body.get("tools"):
            return Reply(text="a title")  # side requests (titles, summaries)
        n = tool_turns(body)
        return steps[n] if n < len(steps) else Reply(text=final)
    return script


def call(name: str, arguments: dict[str, Any], n: int) -> Reply:
    return Reply(thinking=f"Thought {n}.", tool_calls=(ToolCall(name, arguments, id=f"call_{n}"),))


def tool_results(fake: FakeModel) -> list[str]:
    last = [c for c in fake.calls if c.body.get("tools")][-1]
    return [m["content"] for m in last.body["messages"] if m["role"] == "tool"]


def first_request(fake: FakeModel) -> dict[str, Any]:
    return next(c.body for c in fake.calls if c.body.get("tools"))


def workspace(tmp_path: Path) -> tuple[Path, Path]:
    ws, home = tmp_path / "ws", tmp_path / "home"
    ws.mkdir()
    home.mkdir()
    return ws, home


# (Codex model, the shell command step, the patch step): a catalog model has the apply_patch
# freeform tool; an unknown model name gets none, and patches through its shell instead
CODEX_MODELS = {
    "catalog": ("gpt-5.5", call("exec_command", {"cmd": "echo hello there > hello.txt"}, 0),
                call("apply_patch", {"input": PATCH}, 1)),
    "unknown": ("my-local-coder", call("exec_command", {"cmd": "echo hello there > hello.txt"}, 0),
                call("exec_command", {"cmd": f"apply_patch <<'EOF'\n{PATCH}EOF\n"}, 1)),
}


@pytest.mark.parametrize("kind", sorted(CODEX_MODELS))
def test_codex_writes_files_through_its_shell_and_apply_patch(
        kind: str, codex_bin: str, tmp_path: Path) -> None:
    model, shell, patch = CODEX_MODELS[kind]
    ws, home = workspace(tmp_path)
    with proxy("openai", scripted([shell, patch]), guard=needs_reasoning_back()) as (url, fake):
        run = run_codex(codex_bin, url, "Create hello.txt with a greeting", ws, home, model)
    assert run.returncode == 0, run.stderr[-3000:]
    assert fake.rejected == []  # the reasoning went back (Codex: encrypted_content)
    last = [c for c in fake.calls if c.body.get("tools")][-1].body["messages"]
    assert [m["reasoning_content"] for m in last if m.get("tool_calls")] == [
        "Thought 0.", "Thought 1."]
    assert (ws / "hello.txt").read_text() == "hello there\n"
    assert (ws / "patched.txt").read_text() == "patched by codex\n"
    assert len(tool_results(fake)) == 2  # both results went back to the model
    assert "Success" in tool_results(fake)[1] or "patched.txt" in tool_results(fake)[1]


def test_codex_default_model_runs_its_code_mode_exec_tool(codex_bin: str, tmp_path: Path
                                                          ) -> None:
    """Codex's default model gets its tools in an ``additional_tools`` input item, grouped in
    namespaces, with ``exec`` a freeform (grammar) tool running JavaScript that calls them."""
    ws, home = workspace(tmp_path)
    code = "await tools.exec_command({cmd: 'echo from exec > exec.txt'});\ntext('ok');"
    with proxy("openai", scripted([call("exec", {"input": code}, 0)])) as (url, fake):
        run = run_codex(codex_bin, url, "Create exec.txt", ws, home)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (ws / "exec.txt").read_text() == "from exec\n"
    tools = {t["function"]["name"]: t["function"] for t in first_request(fake)["tools"]}
    assert tools["exec"]["parameters"]["required"] == ["input"]  # freeform → one string
    assert len(tool_results(fake)) == 1


def test_codex_output_schema_reaches_the_model_as_response_format(
        codex_bin: str, tmp_path: Path) -> None:
    ws, home = workspace(tmp_path)
    schema = {"type": "object", "properties": {"answer": {"type": "string"}},
              "required": ["answer"], "additionalProperties": False}
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    with proxy("openai", scripted([], final='{"answer":"42"}')) as (url, fake):
        run = run_codex(codex_bin, url, "What is the answer?", ws, home, "gpt-5.5",
                        ("--output-schema", str(tmp_path / "schema.json")))
    assert run.returncode == 0, run.stderr[-3000:]
    sent = first_request(fake)["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["schema"] == schema
    assert '{"answer":"42"}' in run.stdout


def test_opencode_reads_a_file(opencode_bin: str, tmp_path: Path) -> None:
    ws, home = workspace(tmp_path)
    (ws / "notes.txt").write_text("the secret word is pelican\n")
    steps = [call("read", {"filePath": str(ws / "notes.txt")}, 0)]  # with reasoning
    script = scripted(steps, final="The file says pelican.")
    with proxy("openai", script, guard=needs_reasoning_back()) as (url, fake):
        run = run_opencode(opencode_bin, url, "What does notes.txt say?", ws, home)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "pelican" in tool_results(fake)[0]
    assert "The file says pelican." in run.stdout
    assert fake.rejected == []  # opencode echoes reasoning_content; it reached the backend


def test_llm_schema_reaches_the_model_and_no_output_limit_is_invented(
        llm_bin: str, tmp_path: Path) -> None:
    with proxy("openai", [Reply(text='{"answer": 42}')]) as (url, fake):
        run = run_llm(llm_bin, url, ("--schema", "answer int", "6 times 7?"), tmp_path / "llm")
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout) == {"answer": 42}
    body = fake.calls[0].body
    assert body["response_format"]["json_schema"]["schema"]["properties"] == {
        "answer": {"type": "integer"}}
    # llm sets no limit and fake-model is in no table: the server's own default applies
    assert "max_tokens" not in body and "max_completion_tokens" not in body


def test_aider_edits_a_file(aider_bin: str, tmp_path: Path) -> None:
    ws, home = workspace(tmp_path)
    (ws / "hello.py").write_text("print('hello')\n")
    # an unknown model gets aider's "whole" edit format: the file's new content, fenced
    reply = Reply(text="hello.py\n```python\nprint('hello, world')\n```\n")
    with proxy("openai", [reply]) as (url, fake):
        run = run_aider(aider_bin, url, "Say hello, world", ("hello.py",), ws, home)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (ws / "hello.py").read_text() == "print('hello, world')\n"
    assert "Applied edit to hello.py" in run.stdout
    assert "hello.py" in str(fake.calls[0].body["messages"])


def _uses_tools(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return bool(message.get("tool_calls")) or (isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_use" for b in content))


def _results(body: dict[str, Any]) -> list[str]:
    """Tool results in a chat (role tool) or Anthropic (tool_result blocks) conversation."""
    out = []
    for message in body["messages"]:
        if message["role"] == "tool":
            out.append(str(message["content"]))
        elif isinstance(message.get("content"), list):
            out += [str(b.get("content")) for b in message["content"]
                    if isinstance(b, dict) and b.get("type") == "tool_result"]
    return out


@pytest.mark.parametrize("dialect", ["ollama", "anthropic"])
def test_codex_apply_patch_through_other_backend_dialects(dialect: str, codex_bin: str,
                                                          tmp_path: Path) -> None:
    """The freeform apply_patch call and its output also survive Ollama's and Anthropic's
    tool formats (arguments as objects; tool_use/tool_result blocks)."""
    ws, home = workspace(tmp_path)
    steps = [Reply(tool_calls=(ToolCall("apply_patch", {"input": PATCH}, id="call_p"),))]

    def script(body: dict[str, Any]) -> Reply:
        if not body.get("tools"):
            return Reply(text="a title")
        used = sum(1 for m in body["messages"] if m["role"] == "assistant" and _uses_tools(m))
        return steps[used] if used < len(steps) else Reply(text="patched")

    with proxy(dialect, script) as (url, fake):
        run = run_codex(codex_bin, url, "Add patched.txt", ws, home, "gpt-5.5")
    assert run.returncode == 0, run.stderr[-3000:]
    assert (ws / "patched.txt").read_text() == "patched by codex\n"
    last = [c.body for c in fake.calls if c.body.get("tools")][-1]
    assert any("patched.txt" in r for r in _results(last))
