"""The "workspace" ``ToolBox``: index and project summary, symbol search and references, git
with its policies, the test harness, the task tracker and diff review, all inside
``WORKSPACE_ROOT``.

Assumes: built only when ``WORKSPACE_ROOT`` is set (``workspace_box`` answers None otherwise).
Guarantees: every call is bounded in time (``fail_after``, per tool) and in output
(``MAX_OUTPUT_CHARS``, the cut said in the text); a failed call, a refused path, a policy that
says no or a timeout is a ``ToolOutcome`` with ``is_error`` that says why, never an exception.
Never: runs a command the model wrote, or touches a path outside the root.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import apsw
import attrs
import trio

from lynkr.config.workspace import WorkspaceSettings
from lynkr.model.request import Tool
from lynkr.tools.port import ToolContext, ToolOutcome
from lynkr.tools.workspace import git_tools, index_tools, suite_tools, task_tools
from lynkr.tools.workspace.arguments import ToolError, known
from lynkr.tools.workspace.definitions import WORKSPACE_TOOLS
from lynkr.tools.workspace.git import GitFailed
from lynkr.tools.workspace.jail import PathRefused
from lynkr.tools.workspace.process import ProcessFailed
from lynkr.tools.workspace.state import Workspace

log = logging.getLogger("lynkr.tools.workspace")
MAX_OUTPUT_CHARS = 30_000
DEFAULT_TIMEOUT_S = 60.0
Handler = Callable[[Workspace, Mapping[str, Any], float], Awaitable[dict[str, Any]]]


def _plain(handler: Callable[[Workspace, Mapping[str, Any]], Awaitable[dict[str, Any]]]) -> Handler:
    async def call(ws: Workspace, args: Mapping[str, Any], now: float) -> dict[str, Any]:
        return await handler(ws, args)

    return call


HANDLERS: dict[str, Handler] = {
    "workspace_index_rebuild": _plain(index_tools.index_rebuild),
    "project_summary": _plain(index_tools.project_summary),
    "workspace_symbol_search": _plain(index_tools.symbol_search),
    "workspace_symbol_references": _plain(index_tools.symbol_references),
    "workspace_git_status": _plain(git_tools.git_status),
    "workspace_diff": _plain(git_tools.git_diff),
    "workspace_diff_review": _plain(git_tools.diff_review),
    "workspace_git_commit": git_tools.git_commit,
    "workspace_git_push": _plain(git_tools.git_push),
    "workspace_test_run": suite_tools.suite_run,
    "workspace_test_history": _plain(suite_tools.suite_history),
    "workspace_test_summary": _plain(suite_tools.suite_summary),
    "workspace_task_create": task_tools.task_create,
    "workspace_tasks_list": _plain(task_tools.tasks_list),
    "workspace_task_update": task_tools.task_update,
    "workspace_task_set_status": task_tools.task_set_status,
    "workspace_task_delete": _plain(task_tools.task_delete),
}
assert tuple(HANDLERS) == tuple(t.name for t in WORKSPACE_TOOLS)
_PROPERTIES = {t.name: tuple(t.input_schema.get("properties", {})) for t in WORKSPACE_TOOLS}


def render(result: Mapping[str, Any], limit: int = MAX_OUTPUT_CHARS) -> str:
    text = json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit} more characters cut: narrow the call]"


@attrs.define
class WorkspaceBox:
    """Lynkr's workspace tools over one root (see the module docstring)."""

    workspace: Workspace

    @property
    def name(self) -> str:
        return "workspace"

    def tools(self) -> tuple[Tool, ...]:
        return WORKSPACE_TOOLS

    def timeout_s(self, tool: str) -> float:
        settings = self.workspace.settings
        if tool == "workspace_test_run":
            return settings.test_timeout_s + 30
        if tool == "workspace_git_commit" and settings.git_test_command:
            return settings.test_timeout_s + 90
        if tool == "workspace_git_push":
            return 180.0
        return DEFAULT_TIMEOUT_S

    async def run(
        self, name: str, arguments: Mapping[str, Any], context: ToolContext
    ) -> ToolOutcome:
        handler = HANDLERS.get(name)
        if handler is None:
            return ToolOutcome(f"unknown workspace tool {name!r}", is_error=True)
        timeout = self.timeout_s(name)
        try:
            if not isinstance(arguments, Mapping):
                raise ToolError("the arguments must be a JSON object")
            known(arguments, _PROPERTIES[name])
            with trio.fail_after(timeout):
                result = await handler(self.workspace, arguments, context.now)
        except (ToolError, PathRefused, GitFailed, ProcessFailed) as error:
            return ToolOutcome(f"{name}: {error}", is_error=True)
        except trio.TooSlowError:
            return ToolOutcome(
                f"{name} did not finish within {timeout:g} s and was stopped", is_error=True
            )
        except (OSError, apsw.Error) as error:
            log.warning("workspace tool %s failed: %s", name, error)
            return ToolOutcome(f"{name} failed: {error}", is_error=True)
        return ToolOutcome(render(result))

    def close(self) -> None:
        self.workspace.store.close()


def workspace_box(settings: WorkspaceSettings) -> WorkspaceBox | None:
    """The box for ``settings``, or None when no ``WORKSPACE_ROOT`` is configured."""
    if settings.root is None:
        return None
    return WorkspaceBox(Workspace(settings))
