"""``workspace_git_status``, ``workspace_diff``, ``workspace_diff_review``,
``workspace_git_commit`` and ``workspace_git_push``, with the original's policies.

Guarantees:
- ``POLICY_GIT_ALLOW_PUSH`` false (the default): every push is refused with a policy message,
  before git runs.
- ``POLICY_GIT_TEST_COMMAND`` set: it runs before every commit (recorded in the test history)
  and a failure blocks the commit; ``skip_tests`` skips it only when tests are not required.
- ``POLICY_GIT_REQUIRE_TESTS`` true without a test command: a commit needs a passing
  ``workspace_test_run`` on exactly the current working tree (same fingerprint), else it is
  blocked with what to do.
Paths are jailed before git sees them; a path that leaves the root refuses the whole call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lynkr.tools.workspace import arguments as a
from lynkr.tools.workspace import git
from lynkr.tools.workspace.diff_review import review
from lynkr.tools.workspace.jail import PathRefused
from lynkr.tools.workspace.state import Workspace
from lynkr.tools.workspace.suite_tools import run_tests

Row = tuple[int | None, int | None, str]  # git diff --numstat: added, deleted, path

DIFF_CHARS = 24_000
UNTRACKED_REVIEWED = 200  # untracked files read for the review, at most
UNTRACKED_BYTES = 512 * 1024


class PolicyDenied(a.ToolError):
    """A policy (POLICY_GIT_*) refused the call."""


async def _require_git(ws: Workspace) -> None:
    if not await ws.is_git():
        raise a.ToolError(f"the workspace ({ws.root}) is not a git repository")


async def git_status(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    await _require_git(ws)
    return await git.status(ws.root)


async def git_diff(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    await _require_git(ws)
    paths = [ws.jail.relative(p) for p in a.strings(args, "paths")]
    staged = a.flag(args, "staged")
    result = await git.diff(ws.root, staged=staged, paths=paths, cap=DIFF_CHARS)
    stats = await git.numstat(ws.root, staged=staged)
    files = [
        {"path": p, "added": add, "deleted": rm}
        for add, rm, p in stats
        if not paths or any(p == q or p.startswith(q.rstrip("/") + "/") for q in paths)
    ]
    answer: dict[str, Any] = {"staged": staged, "files": files, "diff": result.stdout}
    if result.dropped:
        answer["truncated"] = f"{result.dropped} more bytes of diff not shown; ask for fewer paths"
    if not result.stdout:
        answer["diff"] = "no changes" + (" staged" if staged else "")
    return answer


async def _untracked(ws: Workspace, paths: list[str]) -> tuple[str, list[Row]]:
    """Untracked files as a diff that adds every line (``git diff`` leaves them out), and
    their numstat rows (binary: None)."""
    chunks: list[str] = []
    rows: list[Row] = []
    for path in paths[:UNTRACKED_REVIEWED]:
        text = await ws.read_text(path, UNTRACKED_BYTES)
        if text is None:
            continue
        if "\0" in text:
            rows.append((None, None, path))
            continue
        lines = text.splitlines()
        rows.append((len(lines), 0, path))
        chunks.append(
            f"+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines)
        )
    return "".join(chunks), rows


def _sizes(ws: Workspace, paths: list[str]) -> dict[str, int]:
    sizes = {}
    for path in paths:
        try:
            sizes[path] = ws.jail.resolve(path).stat().st_size
        except (PathRefused, OSError):  # deleted, or a link leaving the root
            continue
    return sizes


async def diff_review(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    await _require_git(ws)
    staged = a.flag(args, "staged")
    result = await git.diff(ws.root, staged=staged, cap=8 * 1024 * 1024)
    stats: list[Row] = list(await git.numstat(ws.root, staged=staged))
    text = result.stdout
    if not staged:
        added, rows = await _untracked(ws, await git.untracked(ws.root))
        text += added
        stats += rows
    sizes = await ws.in_thread(lambda: _sizes(ws, [path for *_, path in stats]))
    findings = review(text, stats, sizes)
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return {
        "staged": staged,
        "files_changed": len(stats),
        "findings": [f.to_json() for f in findings],
        "counts": counts,
        "verdict": "blocking problems found"
        if counts.get("high")
        else "warnings found"
        if findings
        else "no problems found",
        **({"truncated": True} if result.dropped else {}),
    }


async def _commit_checks(ws: Workspace, skip_tests: bool, now: float) -> dict[str, Any]:
    settings = ws.settings
    if settings.git_test_command and not (skip_tests and not settings.git_require_tests):
        run = await run_tests(ws, settings.git_test_command, now)
        if run["status"] != "passed":
            raise PolicyDenied(
                f"commit blocked by policy: the test command (POLICY_GIT_TEST_COMMAND) "
                f"{run['status']} (exit {run['exit_code']}); output:\n{run['output_tail']}"
            )
        return {"tests": "ran", "command": settings.git_test_command, "passed": run["passed"]}
    if settings.git_require_tests and not settings.git_test_command:
        tree = await git.tree_fingerprint(ws.root)
        runs = await ws.store.runs(20)
        if not any(r["status"] == "passed" and r["tree"] == tree for r in runs):
            last = runs[0] if runs else None
            why = (
                "no test run is recorded"
                if last is None
                else f"the latest run {last['status']}"
                if last["status"] != "passed"
                else "the files changed since the latest passing run"
            )
            raise PolicyDenied(
                f"commit blocked by policy (POLICY_GIT_REQUIRE_TESTS=true): {why}. Run "
                "workspace_test_run on the current files, then commit again."
            )
        return {"tests": "passed on this working tree"}
    return {"tests": "skipped" if skip_tests and settings.git_test_command else "not required"}


async def git_commit(ws: Workspace, args: Mapping[str, Any], now: float) -> dict[str, Any]:
    await _require_git(ws)
    message = a.text(args, "message", required=True)
    assert message is not None
    paths = [ws.jail.relative(p) for p in a.strings(args, "paths")]
    if a.flag(args, "all") or paths:
        await git.stage(ws.root, paths)
    checks = await _commit_checks(ws, a.flag(args, "skip_tests"), now)
    staged = (await git.status(ws.root))["staged"]
    if not staged:
        raise a.ToolError("nothing staged to commit: pass `paths`, or `all: true`")
    commit = await git.commit(ws.root, message)
    return {"commit": commit, "message": message, "files": len(staged), "policy": checks}


async def git_push(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    if not ws.settings.git_allow_push:
        raise PolicyDenied(
            "push denied by policy: POLICY_GIT_ALLOW_PUSH is false (the "
            "default); the user can push, or allow it in Lynkr's settings"
        )
    await _require_git(ws)
    remote = a.text(args, "remote", default="origin") or "origin"
    branch = a.text(args, "branch") or await git.current_branch(ws.root)
    result = await git.push(ws.root, remote, branch, set_upstream=a.flag(args, "set_upstream"))
    return {
        "remote": remote,
        "branch": branch,
        "output": (result.stdout + result.stderr).strip()[-4000:],
    }
