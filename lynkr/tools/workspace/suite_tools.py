"""``workspace_test_run``, ``workspace_test_history`` and ``workspace_test_summary``; and
``run_tests``, which the commit policy uses too.

Guarantees: the command is the configured one (``WORKSPACE_TEST_COMMAND``) or one detected from
the project (``npm test``, ``go test ./...``, ``cargo test``, ``python3 -m pytest -q``,
``bundle exec rspec``); it runs in the root, killed with its whole process group at
``WORKSPACE_TEST_TIMEOUT_MS``; every run is recorded with the working tree's fingerprint
(in a git workspace), so the commit policy can tell which tree the tests passed on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from lynkr.tools.workspace import arguments as a
from lynkr.tools.workspace import git
from lynkr.tools.workspace.harness import detect_command, parse_counts, status_of, tail
from lynkr.tools.workspace.process import run_command
from lynkr.tools.workspace.state import Workspace
from lynkr.tools.workspace.store import RunRecord

RECENT = 20  # runs the summary's pass rate covers


async def suite_command(ws: Workspace) -> str:
    if ws.settings.test_command:
        return ws.settings.test_command
    top = await ws.in_thread(lambda: os.listdir(ws.root))
    scripts: dict[str, str] = {}
    if "package.json" in top:
        try:
            data = json.loads(await ws.read_text("package.json") or "{}")
        except ValueError:
            data = {}
        if isinstance(data, dict) and isinstance(data.get("scripts"), dict):
            scripts = {str(k): str(v) for k, v in data["scripts"].items()}
    command = detect_command(top, scripts)
    if command is None:
        raise a.ToolError(
            "no test command: set WORKSPACE_TEST_COMMAND (none could be "
            "detected from the project's files)"
        )
    return command


async def run_tests(ws: Workspace, command: str, now: float) -> dict[str, Any]:
    """Run ``command`` (a shell command line from the configuration) and record the run."""
    tree = await git.tree_fingerprint(ws.root) if await ws.is_git() else ""
    result = await run_command(
        ("/bin/sh", "-c", command), ws.root, ws.settings.test_timeout_s, cap=512 * 1024
    )
    output = result.stdout + ("\n" + result.stderr if result.stderr else "")
    counts = parse_counts(output)
    record = RunRecord(
        now,
        round(result.duration_s * 1000),
        command,
        result.returncode,
        status_of(result.returncode),
        counts.passed,
        counts.failed,
        counts.skipped,
        tree,
        tail(output),
    )
    run_id = await ws.store.add_run(record)
    return {
        "id": run_id,
        "status": record.status,
        "command": command,
        "exit_code": record.exit_code,
        "passed": record.passed,
        "failed": record.failed,
        "skipped": record.skipped,
        "duration_ms": record.duration_ms,
        "output_dropped_bytes": result.dropped,
        "output_tail": record.output_tail,
    }


async def suite_run(ws: Workspace, args: Mapping[str, Any], now: float) -> dict[str, Any]:
    return await run_tests(ws, await suite_command(ws), now)


async def suite_history(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    limit = a.integer(args, "limit", default=10, low=1, high=200) or 10
    runs = await ws.store.runs(limit)
    for run in runs:
        run.pop("output_tail")
        run.pop("tree")
    return {"runs": runs, "total": len(runs)}


async def suite_summary(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    runs = await ws.store.runs(RECENT)
    latest = runs[0] if runs else None
    if latest is not None:
        latest.pop("tree")
    passed = sum(run["status"] == "passed" for run in runs)
    return {
        "latest": latest,
        "recent_runs": len(runs),
        "pass_rate": round(passed / len(runs), 3) if runs else None,
        "coverage": await ws.coverage(),
    }
