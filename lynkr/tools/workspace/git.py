"""Git in the workspace: status, diff, the working tree's fingerprint, commit and push, each
one ``git`` process bounded by ``process.run_command``.

Assumes: the caller applied the policies (``POLICY_GIT_*``) and jailed every path it passes.
Guarantees: arguments never reach git as options (remotes and branches are checked, paths
follow ``--``); git never prompts (no terminal, ``GIT_TERMINAL_PROMPT=0``); nothing is ever
force-pushed. Raises ``GitFailed`` with git's own message when git says no.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from lynkr.tools.workspace.process import Completed, run_command

GIT_TIMEOUT_S = 30.0
PUSH_TIMEOUT_S = 120.0
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@+-]{0,199}$")
_BRANCH = re.compile(
    r"^## (?P<branch>.+?)(?:\.\.\.(?P<upstream>\S+))?"
    r"(?: \[(?P<track>[^\]]+)\])?$"
)


class GitFailed(RuntimeError):
    """Git refused or failed; the message is git's."""


async def git(
    root: str,
    *args: str,
    timeout_s: float = GIT_TIMEOUT_S,
    cap: int = 256 * 1024,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> Completed:
    # paths are file names, never pathspec magic (":(top)...", ":!x")
    environment = {"GIT_LITERAL_PATHSPECS": "1", **(env or {})}
    result = await run_command(("git", *args), root, timeout_s, cap=cap, env=environment)
    if result.timed_out:
        raise GitFailed(f"git {args[0]} did not finish within {timeout_s:g} s")
    if check and not result.ok:
        message = (result.stderr or result.stdout).strip() or f"exit {result.returncode}"
        raise GitFailed(f"git {args[0]}: {message[-2000:]}")
    return result


def check_ref(value: str, what: str) -> str:
    if not isinstance(value, str) or not _REF.match(value) or ".." in value:
        raise GitFailed(f"{what} {value!r} is not a valid name")
    return value


async def is_repository(root: str) -> bool:
    result = await git(root, "rev-parse", "--is-inside-work-tree", check=False)
    return result.ok and result.stdout.strip() == "true"


async def list_files(root: str) -> list[str]:
    """Tracked and untracked files that are not ignored, root-relative."""
    result = await git(
        root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", cap=64 * 1024 * 1024
    )
    return sorted({p for p in result.stdout.split("\0") if p})


def parse_status(text: str) -> dict[str, Any]:
    """``git status --porcelain=v1 --branch -z`` as branch, tracking and file lists."""
    entries = text.split("\0")
    status: dict[str, Any] = {
        "branch": None,
        "upstream": None,
        "ahead": 0,
        "behind": 0,
        "staged": [],
        "unstaged": [],
        "untracked": [],
        "conflicted": [],
    }
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if not entry:
            continue
        if entry.startswith("## "):
            match = _BRANCH.match(entry)
            if match:
                status["branch"] = match["branch"]
                status["upstream"] = match["upstream"]
                for part in (match["track"] or "").split(", "):
                    key, _, number = part.partition(" ")
                    if key in ("ahead", "behind") and number.isdigit():
                        status[key] = int(number)
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":  # a rename's source path follows as its own entry
            index += 1
        if code == "??":
            status["untracked"].append(path)
        elif "U" in code or code in ("AA", "DD"):
            status["conflicted"].append(path)
        else:
            if code[0] != " ":
                status["staged"].append({"status": code[0], "path": path})
            if code[1] != " ":
                status["unstaged"].append({"status": code[1], "path": path})
    return status


async def untracked(root: str) -> list[str]:
    result = await git(
        root, "ls-files", "-z", "--others", "--exclude-standard", cap=16 * 1024 * 1024
    )
    return sorted(p for p in result.stdout.split("\0") if p)


async def status(root: str) -> dict[str, Any]:
    result = await git(
        root, "status", "--porcelain=v1", "--branch", "-z", "--untracked-files=normal"
    )
    return parse_status(result.stdout)


async def diff(
    root: str, *, staged: bool, paths: Sequence[str] = (), cap: int = 256 * 1024
) -> Completed:
    args = ["diff", "--no-color", "--no-ext-diff"] + (["--cached"] if staged else [])
    return await git(root, *args, "--", *paths, cap=cap)


async def numstat(root: str, *, staged: bool) -> list[tuple[int | None, int | None, str]]:
    """(added, deleted, path) per changed file; None for binary files."""
    args = ["diff", "--numstat", "-z", "--no-renames"] + (["--cached"] if staged else [])
    result = await git(root, *args)
    rows = []
    for record in result.stdout.split("\0"):
        parts = record.split("\t", 2)
        if len(parts) == 3:
            added, deleted, path = parts
            rows.append(
                (
                    int(added) if added.isdigit() else None,
                    int(deleted) if deleted.isdigit() else None,
                    path,
                )
            )
    return rows


async def tree_fingerprint(root: str) -> str:
    """The tree id git would record if every change, untracked files included (ignored ones
    not), were committed now: equal ids mean the same working-tree content. Written through a
    temporary copy of the index, so the real index is untouched."""
    git_dir = (await git(root, "rev-parse", "--absolute-git-dir")).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="lynkr-index-") as folder:
        index = str(Path(folder) / "index")
        real = Path(git_dir) / "index"
        if await trio.to_thread.run_sync(real.exists):
            await trio.to_thread.run_sync(shutil.copyfile, real, index)
        env = {"GIT_INDEX_FILE": index}
        await git(root, "add", "--all", "--", ".", env=env)
        return (await git(root, "write-tree", env=env)).stdout.strip()


async def stage(root: str, paths: Sequence[str]) -> None:
    await git(root, "add", "--all", "--", *(paths or (".",)))


async def commit(root: str, message: str) -> str:
    await git(root, "commit", "--quiet", "-m", message)
    head = await git(root, "rev-parse", "HEAD")
    return head.stdout.strip()


async def current_branch(root: str) -> str:
    result = await git(root, "symbolic-ref", "--short", "-q", "HEAD", check=False)
    branch = result.stdout.strip()
    if not result.ok or not branch:
        raise GitFailed("HEAD is detached: name the branch to push")
    return branch


async def push(root: str, remote: str, branch: str, *, set_upstream: bool) -> Completed:
    args = ["push", "--porcelain"] + (["--set-upstream"] if set_upstream else [])
    return await git(
        root,
        *args,
        check_ref(remote, "remote"),
        f"refs/heads/{check_ref(branch, 'branch')}",
        timeout_s=PUSH_TIMEOUT_S,
    )
