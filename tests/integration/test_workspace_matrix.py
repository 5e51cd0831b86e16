"""The original Lynkr's "Manual Test Matrix" rows for indexing, navigation, project summary
and tasks, automated against real folders and git repositories through the workspace box."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from workspace_helpers import box_for, call, git_repo, ok, refused, sh, write

from lynkr.config.workspace import WorkspaceSettings
from lynkr.tools.workspace import treesitter_symbols, workspace_box
from lynkr.tools.workspace.summary import GENERATED_MARK

PROJECT = {
    "package.json": json.dumps(
        {
            "devDependencies": {"eslint": "9", "jest": "29", "typescript": "5"},
            "scripts": {"test": "jest"},
        }
    ),
    ".eslintrc.json": "{}\n",
    "src/geometry.ts": "export function area(r: number): number { return 3.14 * r * r; }\n"
    "export class Circle { constructor(public r: number) {} }\n",
    "src/report.ts": 'import { area, Circle } from "./geometry";\n'
    "export const total = area(2) + area(3);\n"
    "const c = new Circle(1);\n",
    "src/view.ts": 'import { area } from "./geometry";\nconsole.info(area(1));\n',
    "tools/build.py": "def compile_assets(path):\n    return path\n",
    "tools/legacy.py": "def legacy_only():\n    pass\n",
    "lib/billing.rb": "module Billing\n  def self.invoice_total_unique(items)\n"
    "    items.sum\n  end\nend\n\nBilling.invoice_total_unique([1])\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_repo(tmp_path / "repo", PROJECT)


async def test_rebuild_index_writes_the_summary_and_the_catalog_reflects_the_repo(
    repo: Path, tmp_path: Path
) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    result = await ok(box, "workspace_index_rebuild", write_to="CLAUDE.md")
    assert result["written_to"] == "CLAUDE.md"
    assert result["languages"] == {"typescript": 3, "python": 2, "json": 2, "ruby": 1}
    claude = (repo / "CLAUDE.md").read_text()
    assert claude.startswith(GENERATED_MARK)
    assert "- Languages: typescript (3), json (2), python (2), ruby (1)" in claude
    assert "- Lint and style: ESLint" in claude
    found = await ok(box, "workspace_symbol_search", query="compile_assets")
    assert [(r["path"], r["line"], r["kind"]) for r in found["results"]] == [
        ("tools/build.py", 1, "function")
    ]


async def test_remove_a_file_and_reindex(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    await ok(box, "workspace_index_rebuild", write_to="CLAUDE.md")
    assert (await ok(box, "workspace_symbol_search", query="legacy_only"))["total"] == 1
    sh(repo, "git", "rm", "-q", "tools/legacy.py")
    result = await ok(box, "workspace_index_rebuild", write_to="CLAUDE.md")
    assert (await ok(box, "workspace_symbol_search", query="legacy_only"))["results"] == []
    assert result["languages"]["python"] == 1
    assert "python (1)" in (repo / "CLAUDE.md").read_text()


async def test_a_deleted_file_leaves_search_results_even_without_a_rebuild(
    repo: Path, tmp_path: Path
) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    assert (await ok(box, "workspace_symbol_search", query="legacy_only"))["total"] == 1
    (repo / "tools" / "legacy.py").unlink()
    write(repo, {"tools/fresh.py": "def legacy_only_v2():\n    pass\n"})
    found = await ok(box, "workspace_symbol_search", query="legacy_only")
    assert [r["name"] for r in found["results"]] == ["legacy_only_v2"]


async def test_cross_file_definition_and_references_in_typescript(
    repo: Path, tmp_path: Path
) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    definition = await ok(box, "workspace_symbol_search", query="area", language="typescript")
    assert [(r["path"], r["line"], r["kind"]) for r in definition["results"]] == [
        ("src/geometry.ts", 1, "function")
    ]
    refs = await ok(box, "workspace_symbol_references", symbol="area")
    assert [(d["path"], d["line"]) for d in refs["definitions"]] == [("src/geometry.ts", 1)]
    assert [(r["path"], r["line"]) for r in refs["references"]] == [
        ("src/report.ts", 1),
        ("src/report.ts", 2),
        ("src/report.ts", 2),
        ("src/view.ts", 1),
        ("src/view.ts", 2),
    ]
    assert {r["path"] for r in refs["references"]}.isdisjoint({"src/geometry.ts"})
    expected = "tree-sitter" if treesitter_symbols.available("typescript") else "heuristic"
    assert {r["parser"] for r in refs["references"]} == {expected}


async def test_unsupported_language_falls_back_to_heuristics(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    found = await ok(box, "workspace_symbol_search", query="invoice_total_unique")
    assert [(r["path"], r["line"], r["parser"]) for r in found["results"]] == [
        ("lib/billing.rb", 2, "heuristic")
    ]
    refs = await ok(box, "workspace_symbol_references", symbol="invoice_total_unique")
    assert [(r["path"], r["line"]) for r in refs["references"]] == [("lib/billing.rb", 7)]
    assert "searched by text" in refs["note"]


async def test_malformed_files_do_not_break_the_index(repo: Path, tmp_path: Path) -> None:
    write(
        repo,
        {
            "bad.py": "def broken(:\n",
            "bad.ts": "export function ok( {{{\n",
            "bin.go": "\0\0\xff package",
            "huge.py": "x = 1\n" * 300_000,
        },
    )
    box = box_for(repo, tmp_path / "ws.db")
    result = await ok(box, "workspace_index_rebuild")
    assert result["files"] == len(PROJECT) + 4
    assert (await ok(box, "workspace_symbol_search", query="broken"))["results"][0][
        "parser"
    ] == "heuristic"


async def test_project_summary_after_tests_and_with_coverage_missing(
    repo: Path, tmp_path: Path
) -> None:
    box = box_for(repo, tmp_path / "ws.db", test_command="echo '3 passed, 1 failed in 0.1s'")
    await ok(box, "workspace_index_rebuild")
    await ok(box, "workspace_test_run")
    summary = await ok(box, "project_summary")
    assert summary["latest_test_run"]["passed"] == 3
    assert summary["latest_test_run"]["failed"] == 1
    assert "ESLint" in summary["lint"]
    assert summary["frameworks"] == ["Jest", "TypeScript"]
    assert summary["coverage"] == [{"file": "coverage/coverage-summary.json", "status": "missing"}]
    write(repo, {"coverage/coverage-summary.json": json.dumps({"total": {"lines": {"pct": 87.5}}})})
    summary = await ok(box, "project_summary")
    assert summary["coverage"][0] == {
        "file": "coverage/coverage-summary.json",
        "status": "ok",
        "lines_pct": 87.5,
    }


async def test_the_users_own_claude_md_is_never_overwritten_without_consent(
    repo: Path, tmp_path: Path
) -> None:
    mine = "# My notes\nNever lose these.\n"
    write(repo, {"CLAUDE.md": mine})
    box = box_for(repo, tmp_path / "ws.db")
    message = await refused(box, "workspace_index_rebuild", write_to="CLAUDE.md")
    assert "not generated by Lynkr" in message and "overwrite: true" in message
    assert (repo / "CLAUDE.md").read_text() == mine
    await ok(box, "workspace_index_rebuild", write_to="docs/SUMMARY.md")
    assert (repo / "docs" / "SUMMARY.md").read_text().startswith(GENERATED_MARK)
    await ok(box, "workspace_index_rebuild", write_to="docs/SUMMARY.md")  # ours: replaced
    await ok(box, "workspace_index_rebuild", write_to="CLAUDE.md", overwrite=True)
    assert (repo / "CLAUDE.md").read_text().startswith(GENERATED_MARK)


async def test_task_crud_persists_across_calls_and_restarts(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    created = (
        await ok(
            box,
            "workspace_task_create",
            title="Fix flaky test",
            priority=3,
            tags=["ci", "tests"],
            linked_file="src/report.ts",
        )
    )["created"]
    assert (created["id"], created["status"], created["tags"], created["linked_file"]) == (
        1,
        "todo",
        ["ci", "tests"],
        "src/report.ts",
    )
    await ok(box, "workspace_task_create", title="Write docs")
    box.close()
    box = box_for(repo, tmp_path / "ws.db")  # a restart: same file, same root
    listed = await ok(box, "workspace_tasks_list")
    assert [t["title"] for t in listed["tasks"]] == ["Fix flaky test", "Write docs"]
    updated = await call(
        box,
        "workspace_task_update",
        now=1_700_000_100.0,
        id=1,
        title="Fix the flaky test",
        description="seen twice",
    )
    task = json.loads(updated.text)["updated"]
    assert (task["title"], task["description"], task["updated_at"]) == (
        "Fix the flaky test",
        "seen twice",
        1_700_000_100.0,
    )
    await ok(box, "workspace_task_set_status", id=1, status="in_progress")
    listed = await ok(box, "workspace_tasks_list", status="in_progress")
    assert [t["id"] for t in listed["tasks"]] == [1]
    assert listed["by_status"] == {"in_progress": 1, "todo": 1}
    assert (await ok(box, "workspace_task_delete", id=1)) == {"deleted": 1}
    assert [t["id"] for t in (await ok(box, "workspace_tasks_list"))["tasks"]] == [2]
    assert "no task 1" in await refused(box, "workspace_task_delete", id=1)
    assert "must be one of" in await refused(
        box, "workspace_task_set_status", id=2, status="finished"
    )
    other = box_for(tmp_path, tmp_path / "ws.db")  # another root sharing the file
    assert (await ok(other, "workspace_tasks_list"))["tasks"] == []


async def test_a_folder_that_is_not_a_repository(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    write(
        root,
        {
            "main.go": "package main\nfunc Run() {}\n",
            "node_modules/x/y.js": "function hidden() {}\n",
        },
    )
    box = box_for(root, tmp_path / "ws.db")
    result = await ok(box, "workspace_index_rebuild")
    assert result["files"] == 1  # node_modules skipped without git
    assert (await ok(box, "workspace_symbol_search", query="Run"))["total"] == 1
    assert "not a git repository" in await refused(box, "workspace_git_status")


def test_no_box_without_a_workspace_root() -> None:
    assert workspace_box(WorkspaceSettings()) is None


async def test_the_tools_offered_are_stable_and_named_as_the_original(tmp_path: Path) -> None:
    box = box_for(tmp_path, tmp_path / "ws.db")
    assert box.name == "workspace"
    assert box.tools() == box.tools()
    assert [t.name for t in box.tools()] == [
        "workspace_index_rebuild",
        "project_summary",
        "workspace_symbol_search",
        "workspace_symbol_references",
        "workspace_git_status",
        "workspace_diff",
        "workspace_diff_review",
        "workspace_git_commit",
        "workspace_git_push",
        "workspace_test_run",
        "workspace_test_history",
        "workspace_test_summary",
        "workspace_task_create",
        "workspace_tasks_list",
        "workspace_task_update",
        "workspace_task_set_status",
        "workspace_task_delete",
    ]
    assert all(t.input_schema["type"] == "object" for t in box.tools())
