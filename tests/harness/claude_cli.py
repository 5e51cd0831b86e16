"""Finding and running the real Claude Code CLI against a Lynkr URL."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import attrs
import orjson

REPO = Path(__file__).resolve().parents[2]
LOCAL_BIN = REPO / ".cache" / "claude-code" / "node_modules" / ".bin" / "claude"


def find_claude() -> str | None:
    """LYNKR_CLAUDE_BIN, else the copy tests/run.py installs, else ``claude`` on PATH."""
    given = os.environ.get("LYNKR_CLAUDE_BIN")
    if given:
        return given
    if LOCAL_BIN.exists():
        return str(LOCAL_BIN)
    return shutil.which("claude")


@attrs.frozen
class CliRun:
    returncode: int
    events: list[dict[str, Any]]
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        results = [e for e in self.events if e.get("type") == "result"]
        assert results, f"no result event; stderr: {self.stderr[-2000:]}"
        return results[-1]

    def tool_uses(self) -> list[dict[str, Any]]:
        return [block for e in self.events if e.get("type") == "assistant"
                for block in e["message"]["content"] if block.get("type") == "tool_use"]


def run_claude(binary: str, base_url: str, prompt: str, workspace: Path, home: Path,
               timeout: float = 120, api_key: str = "dummy") -> CliRun:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": api_key,
        "IS_SANDBOX": "1",  # the CLI refuses bypassPermissions as root without it
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    completed = subprocess.run(
        [binary, "-p", prompt, "--permission-mode", "bypassPermissions",
         "--output-format", "stream-json", "--verbose"],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    events = [orjson.loads(line) for line in completed.stdout.splitlines()
              if line.startswith("{")]
    return CliRun(completed.returncode, events, completed.stderr)
