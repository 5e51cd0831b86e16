"""The real Claude Code CLI through Lynkr with ``WORKSPACE_ROOT`` set, to a scripted fake model:
the model calls Lynkr's workspace tools (symbol search on a real git repository, then a push
the default policy refuses), Lynkr runs them inside one answer, and the CLI finishes normally,
having run none of them itself."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness.claude_cli import run_claude
from harness.proxy import proxy
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e

FILES = {
    "src/geometry.ts": "export function area(r: number): number { return 3.14 * r * r; }\n",
    "src/report.ts": 'import { area } from "./geometry";\nexport const total = area(2);\n',
}


def git_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        [
            "git",
            "-c",
            "user.name=Dev",
            "-c",
            "user.email=dev@example.com",
            "commit",
            "-q",
            "-m",
            "initial",
        ],
    ):
        subprocess.run(argv, cwd=root, check=True, capture_output=True)
    return root


def tool_results(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def script(body: dict[str, Any]) -> Reply:
    if not body.get("tools"):
        return Reply(text="ok")  # the CLI's side requests (titles, summaries)
    done = tool_results(body)
    if not done:
        return Reply(
            tool_calls=(ToolCall("workspace_symbol_search", {"query": "area"}, id="call_ws1"),)
        )
    if len(done) == 1:
        return Reply(tool_calls=(ToolCall("workspace_git_push", {}, id="call_ws2"),))
    return Reply(text="area is defined in src/geometry.ts; pushing is not allowed here.")


def test_claude_code_gets_one_answer_built_on_lynkrs_workspace_tools(
    tmp_path: Path, claude_bin: str
) -> None:
    repo = git_repo(tmp_path / "repo", FILES)
    home = tmp_path / "home"
    home.mkdir()
    with proxy(
        "openai", script, WORKSPACE_ROOT=str(repo), WORKSPACE_DB_PATH=str(tmp_path / "ws.db")
    ) as (url, fake):
        run = run_claude(claude_bin, url, "Where is area defined? Then push.", repo, home)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.result["is_error"] is False, run.result
    assert "src/geometry.ts" in run.result["result"]
    # the CLI ran none of Lynkr's tools itself
    assert not [
        u
        for u in run.tool_uses()
        if u["name"].startswith("workspace_") and u.get("type") == "tool_use"
    ]
    main = [c.body for c in fake.calls if c.body.get("tools")]
    offered = {t["function"]["name"] for t in main[0]["tools"]}
    assert {"workspace_symbol_search", "workspace_git_push", "Bash"} <= offered
    search, push = tool_results(main[-1])
    assert '"path":"src/geometry.ts","line":1' in search
    assert "push denied by policy: POLICY_GIT_ALLOW_PUSH is false" in push
