"""Git through the workspace box on real repositories, pushing to a local bare repository:
the original matrix's git guards (push policy, tests before commit), the test harness, diff
review, path escapes through tool arguments (table), and each call's bounds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from workspace_helpers import box_for, call, git_repo, ok, refused, sh, write

from lynkr.tools.workspace.box import render

FILES = {"app.py": "def main():\n    return 1\n", "README.md": "# demo\n"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_repo(tmp_path / "repo", FILES, remote=tmp_path / "remote.git")


def remote_head(tmp_path: Path, branch: str = "main") -> str:
    return sh(tmp_path / "remote.git", "git", "rev-parse", branch).strip()


async def test_push_is_denied_by_default_with_a_policy_message(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    message = await refused(box, "workspace_git_push")
    assert "push denied by policy: POLICY_GIT_ALLOW_PUSH is false" in message
    assert sh(tmp_path / "remote.git", "git", "branch", "--list") == ""  # nothing arrived


async def test_push_when_allowed_reaches_the_bare_remote(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db", git_allow_push=True)
    write(repo, {"app.py": "def main():\n    return 2\n"})
    committed = await ok(box, "workspace_git_commit", message="return 2", all=True)
    pushed = await ok(box, "workspace_git_push", set_upstream=True)
    assert (pushed["remote"], pushed["branch"]) == ("origin", "main")
    assert remote_head(tmp_path) == committed["commit"]
    status = await ok(box, "workspace_git_status")
    assert (status["branch"], status["upstream"], status["ahead"]) == ("main", "origin/main", 0)
    assert "is not a valid name" in await refused(box, "workspace_git_push", branch="--force")
    assert "is not a valid name" in await refused(
        box, "workspace_git_push", remote="--receive-pack=touch /tmp/x"
    )


async def test_require_tests_blocks_a_commit_until_tests_pass_on_those_files(
    repo: Path, tmp_path: Path
) -> None:
    box = box_for(
        repo,
        tmp_path / "ws.db",
        git_require_tests=True,
        test_command="grep -q 'return 2' app.py && echo '1 passed in 0.01s'",
    )
    write(repo, {"app.py": "def main():\n    return 2\n"})
    message = await refused(box, "workspace_git_commit", message="m", all=True)
    assert "commit blocked by policy (POLICY_GIT_REQUIRE_TESTS=true): no test run" in message
    run = await ok(box, "workspace_test_run")
    assert (run["status"], run["passed"]) == ("passed", 1)
    write(repo, {"app.py": "def main():\n    return 3\n"})  # changed after the tests
    message = await refused(box, "workspace_git_commit", message="m", all=True)
    assert "the latest run failed" not in message
    assert "the files changed since the latest passing run" in message
    assert (await ok(box, "workspace_test_run"))["status"] == "failed"
    assert "the latest run failed" in await refused(box, "workspace_git_commit", message="m")
    write(repo, {"app.py": "def main():\n    return 2\n"})  # back to the tested content
    committed = await ok(box, "workspace_git_commit", message="tested", all=True)
    assert committed["policy"] == {"tests": "passed on this working tree"}
    assert sh(repo, "git", "log", "-1", "--format=%s").strip() == "tested"


async def test_the_policy_test_command_runs_before_each_commit(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db", git_test_command="test -f ok.flag")
    write(repo, {"app.py": "changed = True\n"})
    message = await refused(box, "workspace_git_commit", message="m", all=True)
    assert "commit blocked by policy: the test command (POLICY_GIT_TEST_COMMAND) failed" in message
    skipped = await ok(box, "workspace_git_commit", message="skip", skip_tests=True)
    assert skipped["policy"] == {"tests": "skipped"}
    write(repo, {"ok.flag": "", "app.py": "changed = 2\n"})
    committed = await ok(box, "workspace_git_commit", message="with tests", all=True)
    assert committed["policy"]["tests"] == "ran"
    history = await ok(box, "workspace_test_history")
    assert [r["status"] for r in history["runs"]] == ["passed", "failed"]
    strict = box_for(repo, tmp_path / "ws.db", git_test_command="false", git_require_tests=True)
    write(repo, {"app.py": "changed = 3\n"})
    assert "blocked" in await refused(
        strict, "workspace_git_commit", message="m", all=True, skip_tests=True
    )


async def test_commit_without_changes_and_without_a_message(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    assert "nothing staged" in await refused(box, "workspace_git_commit", message="empty")
    assert "`message` is required" in await refused(box, "workspace_git_commit", message=" ")


async def test_status_diff_and_review(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db")
    write(
        repo,
        {
            "app.py": "def main():\n    print('debug')\n    return 1  # TODO tidy\n",
            "new.py": "AWS = 'AKIA" + "ABCDEFGHIJKLMNOP'\n",
        },
    )
    status = await ok(box, "workspace_git_status")
    assert status["unstaged"] == [{"status": "M", "path": "app.py"}]
    assert status["untracked"] == ["new.py"]
    diff = await ok(box, "workspace_diff", paths=["app.py"])
    assert "+    print('debug')" in diff["diff"]
    assert diff["files"] == [{"path": "app.py", "added": 2, "deleted": 1}]
    assert (await ok(box, "workspace_diff", staged=True))["diff"] == "no changes staged"
    reviewed = await ok(box, "workspace_diff_review")
    assert [(f["path"], f["line"], f["kind"]) for f in reviewed["findings"]] == [
        ("app.py", 2, "debug"),
        ("app.py", 3, "todo"),
        ("new.py", 1, "secret"),
    ]
    assert reviewed["verdict"] == "blocking problems found"
    write(repo, {"data/big.csv": "row,1\n" * 200_000})
    (repo / "logo.png").write_bytes(b"\x89PNG\0\0" * 10)
    reviewed = await ok(box, "workspace_diff_review")
    assert [(f["path"], f["kind"]) for f in reviewed["findings"] if f["line"] is None] == [
        ("data/big.csv", "large"),
        ("logo.png", "binary"),
    ]
    assert "ABCDEFGHIJKLMNOP" not in json.dumps(reviewed)


async def test_test_runs_are_bounded_and_recorded(repo: Path, tmp_path: Path) -> None:
    box = box_for(repo, tmp_path / "ws.db", test_command="sleep 30", test_timeout_s=1.0)
    started = time.monotonic()
    run = await ok(box, "workspace_test_run")
    assert (run["status"], run["exit_code"]) == ("timed out", None)
    assert time.monotonic() - started < 10
    noisy = box_for(
        repo, tmp_path / "ws.db", test_command="yes line | head -n 200000; echo '2 passed in 1s'"
    )
    run = await ok(noisy, "workspace_test_run")
    assert run["output_dropped_bytes"] > 0 and len(run["output_tail"]) <= 4001
    summary = await ok(noisy, "workspace_test_summary")
    assert (summary["recent_runs"], summary["pass_rate"]) == (2, 0.5)
    assert summary["latest"]["status"] == "passed"


async def test_no_test_command_says_how_to_configure_one(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "bare", {"README.md": "x\n"})
    box = box_for(root, tmp_path / "ws.db")
    assert "set WORKSPACE_TEST_COMMAND" in await refused(box, "workspace_test_run")


@pytest.mark.parametrize(
    ("tool", "args", "reason"),
    [
        ("workspace_index_rebuild", {"write_to": "../evil.md"}, "'..' is not allowed"),
        ("workspace_index_rebuild", {"write_to": "/tmp/evil.md"}, "outside the workspace root"),
        ("workspace_index_rebuild", {"write_to": "out/evil.md"}, "through a symlink"),
        (
            "workspace_index_rebuild",
            {"write_to": ".git/hooks/pre-commit"},
            "not written inside .git",
        ),
        ("workspace_symbol_search", {"query": "x", "path": "/etc"}, "outside the workspace root"),
        ("workspace_symbol_references", {"symbol": "x", "path": "out"}, "through a symlink"),
        ("workspace_diff", {"paths": ["../remote.git"]}, "'..' is not allowed"),
        ("workspace_git_commit", {"message": "m", "paths": ["out/x"]}, "through a symlink"),
        ("workspace_task_create", {"title": "t", "linked_file": "/etc/passwd"}, "outside"),
        ("workspace_symbol_search", {"query": "x", "file": "a.py"}, "unknown argument(s) file"),
        ("workspace_tasks_list", {"limit": "many"}, "`limit` must be a whole number"),
        ("workspace_task_update", {"id": 99, "title": "t"}, "no task 99"),
        ("workspace_diff", {"staged": "perhaps"}, "must be true or false"),
    ],
)
async def test_bad_arguments_and_escapes_are_refused_as_tool_errors(
    repo: Path, tmp_path: Path, tool: str, args: dict[str, object], reason: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "out").symlink_to(outside)
    box = box_for(repo, tmp_path / "ws.db")
    outcome = await call(box, tool, **args)
    assert outcome.is_error and reason in outcome.text, outcome.text
    assert list(outside.iterdir()) == [] and not Path("/tmp/evil.md").exists()
    assert sh(repo, "git", "status", "--porcelain") == "?? out\n"  # nothing staged


async def test_unknown_tools_and_output_bounds(tmp_path: Path) -> None:
    box = box_for(tmp_path, tmp_path / "ws.db")
    outcome = await call(box, "workspace_fs_delete")
    assert outcome.is_error and "unknown workspace tool" in outcome.text
    long = render({"items": ["x" * 100] * 1000}, limit=500)
    assert len(long) < 600 and long.endswith("more characters cut: narrow the call]")
