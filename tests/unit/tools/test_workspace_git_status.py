"""``git status --porcelain=v1 --branch -z`` parsed (bytes as git writes them)."""

from __future__ import annotations

import pytest

from lynkr.tools.workspace.git import GitFailed, check_ref, parse_status


def test_branch_tracking_and_files() -> None:
    text = (
        "## main...origin/main [ahead 2, behind 1]\0M  staged.py\0 M edited.py\0"
        "MM both.py\0A  new.py\0?? untracked.txt\0UU conflict.py\0"
        "R  renamed.py\0old name.py\0 D deleted.py\0"
    )
    assert parse_status(text) == {
        "branch": "main",
        "upstream": "origin/main",
        "ahead": 2,
        "behind": 1,
        "staged": [
            {"status": "M", "path": "staged.py"},
            {"status": "M", "path": "both.py"},
            {"status": "A", "path": "new.py"},
            {"status": "R", "path": "renamed.py"},
        ],
        "unstaged": [
            {"status": "M", "path": "edited.py"},
            {"status": "M", "path": "both.py"},
            {"status": "D", "path": "deleted.py"},
        ],
        "untracked": ["untracked.txt"],
        "conflicted": ["conflict.py"],
    }


@pytest.mark.parametrize(
    ("header", "branch", "upstream", "ahead"),
    [
        ("## No commits yet on main", "No commits yet on main", None, 0),
        ("## HEAD (no branch)", "HEAD (no branch)", None, 0),
        ("## feature/x...up/feature/x [ahead 3]", "feature/x", "up/feature/x", 3),
        ("## main...origin/main [gone]", "main", "origin/main", 0),
    ],
)
def test_branch_headers(header: str, branch: str, upstream: str | None, ahead: int) -> None:
    status = parse_status(header + "\0")
    assert (status["branch"], status["upstream"], status["ahead"]) == (branch, upstream, ahead)


@pytest.mark.parametrize(
    "name", ["-f", "--force", "a..b", "", "x y", "origin;rm", "a" * 300, "+main", ":main"]
)
def test_refs_that_could_be_options_or_tricks_are_refused(name: str) -> None:
    with pytest.raises(GitFailed, match="is not a valid name"):
        check_ref(name, "branch")


@pytest.mark.parametrize("name", ["origin", "main", "feature/x-1.2", "user@host", "v1.0+b"])
def test_ordinary_refs_pass(name: str) -> None:
    assert check_ref(name, "branch") == name
