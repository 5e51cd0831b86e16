"""The workspace tools as the model sees them: names as the original Lynkr's, in a stable
order (the loop keeps what it offered per session, so the prompt cache holds)."""

from __future__ import annotations

from typing import Any

from lynkr.model.request import Tool
from lynkr.tools.workspace.store import STATUSES


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


_PATH = {"type": "string", "description": "a file or folder, relative to the workspace root"}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": 200, "description": "at most (default 50)"}
_TASK_ID = {"type": "integer", "minimum": 1}
_TASK_FIELDS = {
    "title": {"type": "string"},
    "description": {"type": "string"},
    "priority": {"type": "integer", "minimum": 0, "maximum": 10},
    "tags": {"type": "array", "items": {"type": "string"}},
    "linked_file": _PATH,
}

WORKSPACE_TOOLS: tuple[Tool, ...] = (
    Tool(
        "workspace_index_rebuild",
        "Rebuild the index of the workspace (files, languages, symbols) and its project "
        "summary. Writes the summary as Markdown only when `write_to` names a file; an "
        "existing file that Lynkr did not generate (such as the user's own CLAUDE.md) is "
        "replaced only with `overwrite: true`, which needs the user's consent.",
        _schema({"write_to": _PATH, "overwrite": {"type": "boolean"}}),
    ),
    Tool(
        "project_summary",
        "Summarise the project: languages, frameworks, lint and test configuration, "
        "dependency manifests, the latest test run, coverage and open tasks.",
        _schema({"rebuild": {"type": "boolean", "description": "refresh the index first"}}),
    ),
    Tool(
        "workspace_symbol_search",
        "Find where symbols (functions, classes, methods, types, variables) are defined, by "
        "name: exact matches first, then prefixes and substrings.",
        _schema(
            {
                "query": {"type": "string"},
                "language": {"type": "string"},
                "path": _PATH,
                "limit": _LIMIT,
            },
            ("query",),
        ),
    ),
    Tool(
        "workspace_symbol_references",
        "List where a symbol is used across the workspace (its definitions listed apart).",
        _schema({"symbol": {"type": "string"}, "path": _PATH, "limit": _LIMIT}, ("symbol",)),
    ),
    Tool(
        "workspace_git_status",
        "Git status of the workspace: branch, upstream, ahead/behind, staged, unstaged, "
        "untracked and conflicted files.",
        _schema({}),
    ),
    Tool(
        "workspace_diff",
        "The git diff of the working tree (or of the staged changes), optionally for some paths.",
        _schema(
            {"staged": {"type": "boolean"}, "paths": {"type": "array", "items": {"type": "string"}}}
        ),
    ),
    Tool(
        "workspace_diff_review",
        "Review the uncommitted changes (or the staged ones) for common problems: leftover "
        "debug output, merge conflict markers, secrets, very large or binary files, new "
        "TODOs. Deterministic; findings by file and line.",
        _schema({"staged": {"type": "boolean"}}),
    ),
    Tool(
        "workspace_git_commit",
        "Commit staged changes (after staging `paths`, or everything with `all: true`). The "
        "workspace's policy may run or require tests first.",
        _schema(
            {
                "message": {"type": "string"},
                "all": {"type": "boolean"},
                "paths": {"type": "array", "items": {"type": "string"}},
                "skip_tests": {"type": "boolean"},
            },
            ("message",),
        ),
    ),
    Tool(
        "workspace_git_push",
        "Push a branch (default: the current one) to a remote (default origin), when the "
        "workspace's policy allows pushing. Never force-pushes.",
        _schema(
            {
                "remote": {"type": "string"},
                "branch": {"type": "string"},
                "set_upstream": {"type": "boolean"},
            }
        ),
    ),
    Tool(
        "workspace_test_run",
        "Run the workspace's test command (configured, or detected from the project) and "
        "record the result.",
        _schema({}),
    ),
    Tool(
        "workspace_test_history",
        "Recent test runs of this workspace, newest first.",
        _schema({"limit": _LIMIT}),
    ),
    Tool(
        "workspace_test_summary",
        "The latest test run, the pass rate of recent runs, and coverage.",
        _schema({}),
    ),
    Tool(
        "workspace_task_create",
        "Create a task in the workspace's task tracker.",
        _schema({**_TASK_FIELDS, "status": {"type": "string", "enum": list(STATUSES)}}, ("title",)),
    ),
    Tool(
        "workspace_tasks_list",
        "List the workspace's tasks, optionally by status.",
        _schema({"status": {"type": "string", "enum": list(STATUSES)}, "limit": _LIMIT}),
    ),
    Tool(
        "workspace_task_update",
        "Change a task's title, description, priority, tags or linked file.",
        _schema({"id": _TASK_ID, **_TASK_FIELDS}, ("id",)),
    ),
    Tool(
        "workspace_task_set_status",
        "Set a task's status.",
        _schema(
            {"id": _TASK_ID, "status": {"type": "string", "enum": list(STATUSES)}}, ("id", "status")
        ),
    ),
    Tool("workspace_task_delete", "Delete a task.", _schema({"id": _TASK_ID}, ("id",))),
)
NAMES = tuple(t.name for t in WORKSPACE_TOOLS)
