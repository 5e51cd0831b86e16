"""Real workspaces for the workspace-tool tests: folders with files, git repositories with a
bare remote, and the box over them (called through the ToolBox port, as the loop calls it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import attrs

from lynkr.config.workspace import WorkspaceSettings
from lynkr.tools.port import ToolContext, ToolOutcome
from lynkr.tools.workspace import WorkspaceBox, workspace_box

CONTEXT = ToolContext("req_1", "session_1", "user", "", 1_700_000_000.0)


def sh(cwd: Path, *argv: str) -> str:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True).stdout


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def git_repo(root: Path, files: dict[str, str], *, remote: Path | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write(root, files)
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "git", "config", "user.email", "dev@example.com")
    sh(root, "git", "config", "user.name", "Dev")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "initial")
    if remote is not None:
        sh(remote.parent, "git", "init", "-q", "--bare", "-b", "main", str(remote))
        sh(root, "git", "remote", "add", "origin", str(remote))
    return root


def box_for(root: Path, db: Path, **settings: Any) -> WorkspaceBox:
    box = workspace_box(WorkspaceSettings(root=str(root), db_path=str(db), **settings))
    assert box is not None
    return box


async def call(box: WorkspaceBox, name: str, now: float = CONTEXT.now, **args: Any) -> ToolOutcome:
    return await box.run(name, args, attrs.evolve(CONTEXT, now=now))


async def ok(box: WorkspaceBox, name: str, **args: Any) -> Any:
    """The call's JSON result; the test fails with the error text if the call failed."""
    outcome = await call(box, name, **args)
    assert not outcome.is_error, outcome.text
    return json.loads(outcome.text)


async def refused(box: WorkspaceBox, name: str, **args: Any) -> str:
    outcome = await call(box, name, **args)
    assert outcome.is_error, outcome.text
    return outcome.text
