"""Diff review: what an added line is judged for, that removed lines are not, that secrets are
never repeated, whole-file findings, and determinism."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.tools.workspace.diff_review import Finding, added_lines, review

AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"
GITHUB = "ghp_" + "a1" * 18


def diff_adding(path: str, *lines: str, removed: tuple[str, ...] = ()) -> str:
    body = "".join(f"-{line}\n" for line in removed) + "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -10,{len(removed)} +10,{len(lines)} @@\n{body}"
    )


@pytest.mark.parametrize(
    ("path", "line", "kind", "severity"),
    [
        ("app.py", "print('debug', x)", "debug", "medium"),
        ("app.py", "    breakpoint()", "debug", "medium"),
        ("app.py", "import pdb; pdb.set_trace()", "debug", "medium"),
        ("web.ts", "  console.log(state)", "debug", "medium"),
        ("web.js", "debugger;", "debug", "medium"),
        ("main.go", "\tfmt.Println(value)", "debug", "medium"),
        ("model.rb", "  binding.pry", "debug", "medium"),
        ("lib.rs", "    dbg!(x);", "debug", "medium"),
        ("any.txt", "<<<<<<< HEAD", "conflict", "high"),
        ("any.txt", "=======", "conflict", "high"),
        ("any.txt", ">>>>>>> feature", "conflict", "high"),
        ("config.py", f"KEY = '{AWS_KEY}'", "secret", "high"),
        ("deploy.sh", f"export TOKEN={GITHUB}", "secret", "high"),
        ("settings.py", 'password = "hunter2hunter2"', "secret", "high"),
        ("id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----", "secret", "high"),
        ("app.py", "# TODO: handle errors", "todo", "low"),
        ("app.go", "// FIXME later", "todo", "low"),
    ],
)
def test_an_added_line_is_judged(path: str, line: str, kind: str, severity: str) -> None:
    findings = review(diff_adding(path, line), [])
    assert [(f.path, f.line, f.kind, f.severity) for f in findings] == [(path, 10, kind, severity)]


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("app.py", "logger.info('fine')"),
        ("README.md", "print('in docs is fine')"),  # no debug rule for Markdown
        ("app.py", "value = compute()  # mentions todos only in lower case"),
        ("app.py", "password = os.environ['PASSWORD']"),
        ("notes.txt", "a line with ======= inside"),
    ],
)
def test_clean_lines_give_nothing(path: str, line: str) -> None:
    assert review(diff_adding(path, line), []) == []


def test_removed_lines_are_not_findings() -> None:
    diff = diff_adding("app.py", "logger.debug(x)", removed=("print(x)", "# TODO old"))
    assert review(diff, []) == []


def test_a_secret_is_masked_in_the_finding() -> None:
    (finding,) = review(diff_adding("c.py", f"k = '{AWS_KEY}'"), [])
    assert AWS_KEY not in finding.message
    assert finding.message == "possible AWS access key id (AKIA…)"


def test_line_numbers_follow_the_hunks() -> None:
    diff = (
        "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,3 @@\n keep\n+print(1)\n keep\n"
        "@@ -40 +41,2 @@\n-gone\n+ok\n+print(2)\n"
    )
    assert [(p, n, t) for p, n, t in added_lines(diff)] == [
        ("x.py", 2, "print(1)"),
        ("x.py", 41, "ok"),
        ("x.py", 42, "print(2)"),
    ]
    assert [f.line for f in review(diff, [])] == [2, 42]


def test_whole_file_findings_and_order() -> None:
    diff = diff_adding("b.py", "# TODO x", f"s = '{AWS_KEY}'") + diff_adding("a.py", "print(1)")
    findings = review(diff, [(None, None, "logo.png"), (5000, 0, "vendor/big.js"), (10, 2, "b.py")])
    assert [(f.path, f.line, f.kind) for f in findings] == [
        ("a.py", 10, "debug"),
        ("b.py", 10, "todo"),
        ("b.py", 11, "secret"),
        ("logo.png", None, "binary"),
        ("vendor/big.js", None, "large"),
    ]
    assert findings[-1] == Finding(
        "vendor/big.js",
        None,
        "large",
        "medium",
        "5000 lines added to one file (over 1000): generated or vendored?",
    )


@given(
    st.text(max_size=400),
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(0, 5000)),
            st.one_of(st.none(), st.integers(0, 9)),
            st.text(max_size=20),
        ),
        max_size=4,
    ),
)
def test_any_text_is_reviewed_without_raising(diff: str, stats: list) -> None:  # type: ignore[type-arg]
    first = review(diff, stats)
    assert review(diff, stats) == first  # deterministic
