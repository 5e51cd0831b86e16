"""The task tracker: ``workspace_task_create``, ``workspace_tasks_list``,
``workspace_task_update``, ``workspace_task_set_status``, ``workspace_task_delete``.

Guarantees: tasks persist in the workspace store (SQLite), scoped to the workspace root; an
unknown id or status is an error that says so; times are the loop's clock (``now``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lynkr.tools.workspace import arguments as a
from lynkr.tools.workspace.state import Workspace
from lynkr.tools.workspace.store import STATUSES

MAX_TITLE = 500
MAX_DESCRIPTION = 20_000


def _status(args: Mapping[str, Any], *, required: bool = False) -> str | None:
    status = a.text(args, "status", required=required)
    if status is not None and status not in STATUSES:
        raise a.ToolError(f"`status` must be one of {', '.join(STATUSES)}, got {status!r}")
    return status


def _fields(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, limit in (("title", MAX_TITLE), ("description", MAX_DESCRIPTION)):
        value = a.text(args, name)
        if value is not None:
            if len(value) > limit:
                raise a.ToolError(f"`{name}` is longer than {limit} characters")
            fields[name] = value.strip() if name == "title" else value
    priority = a.integer(args, "priority", low=0, high=10)
    if priority is not None:
        fields["priority"] = priority
    if "tags" in args:
        fields["tags"] = ",".join(sorted({t.strip() for t in a.strings(args, "tags")}))
    linked = a.text(args, "linked_file")
    if linked is not None:
        fields["linked_file"] = ws.jail.relative(linked)
    return fields


def _task_id(args: Mapping[str, Any]) -> int:
    value = a.integer(args, "id", required=True, low=1, high=2**62)
    assert value is not None
    return value


def _shown(task: dict[str, Any]) -> dict[str, Any]:
    return {**task, "tags": [t for t in task["tags"].split(",") if t]}


async def task_create(ws: Workspace, args: Mapping[str, Any], now: float) -> dict[str, Any]:
    a.text(args, "title", required=True)
    fields = _fields(ws, args)
    fields["status"] = _status(args) or "todo"
    return {"created": _shown(await ws.store.create_task(fields, now))}


async def tasks_list(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    limit = a.integer(args, "limit", default=50, low=1, high=200) or 50
    tasks = await ws.store.tasks(_status(args), limit)
    return {
        "tasks": [_shown(t) for t in tasks],
        "total": len(tasks),
        "by_status": await ws.store.task_counts(),
    }


async def _update(
    ws: Workspace, task_id: int, fields: dict[str, Any], now: float
) -> dict[str, Any]:
    task = await ws.store.update_task(task_id, fields, now)
    if task is None:
        raise a.ToolError(f"no task {task_id} in this workspace")
    return {"updated": _shown(task)}


async def task_update(ws: Workspace, args: Mapping[str, Any], now: float) -> dict[str, Any]:
    task_id = _task_id(args)
    fields = _fields(ws, args)
    if not fields:
        raise a.ToolError(
            "nothing to update: give title, description, priority, tags or linked_file"
        )
    return await _update(ws, task_id, fields, now)


async def task_set_status(ws: Workspace, args: Mapping[str, Any], now: float) -> dict[str, Any]:
    task_id = _task_id(args)
    status = _status(args, required=True)
    return await _update(ws, task_id, {"status": status}, now)


async def task_delete(ws: Workspace, args: Mapping[str, Any]) -> dict[str, Any]:
    task_id = _task_id(args)
    if not await ws.store.delete_task(task_id):
        raise a.ToolError(f"no task {task_id} in this workspace")
    return {"deleted": task_id}
