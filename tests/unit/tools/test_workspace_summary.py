"""The project summary's signals (frameworks, lint, tests, manifests), coverage in its two
formats and when missing, and the generated Markdown."""

from __future__ import annotations

import json

from lynkr.tools.workspace.summary import GENERATED_MARK, coverage, render_markdown, signals

PACKAGE = json.dumps(
    {
        "dependencies": {"react": "18", "express": "4"},
        "devDependencies": {"jest": "29", "typescript": "5"},
        "scripts": {"test": "jest --ci"},
    }
)
PYPROJECT = """
[project]
dependencies = ["fastapi>=0.100", "SQLAlchemy[asyncio]>=2", "attrs"]
[project.optional-dependencies]
test = ["pytest>=8"]
[tool.ruff]
line-length = 100
[tool.mypy]
strict = true
[tool.pytest.ini_options]
"""
GO_MOD = "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n)\n"


def test_signals_from_manifests_and_config_files() -> None:
    files = {
        "package.json": PACKAGE,
        "pyproject.toml": PYPROJECT,
        "go.mod": GO_MOD,
        "requirements.txt": "# pinned\nDjango==5.0\nflask\n",
    }
    paths = [
        *files,
        ".eslintrc.json",
        ".prettierrc",
        "yarn.lock",
        "src/a_test.go",
        "docs/.eslintrc.json",
    ]
    assert signals(paths, files.get) == {
        "frameworks": [
            "Django",
            "Express",
            "FastAPI",
            "Flask",
            "Gin",
            "Jest",
            "React",
            "SQLAlchemy",
            "TypeScript",
            "attrs",
            "pytest",
        ],
        "lint": ["ESLint", "Prettier", "Ruff", "mypy"],
        "tests": ["go test", "npm test (jest --ci)", "pytest"],
        "manifests": {
            "go.mod": "Go modules",
            "package.json": "npm",
            "pyproject.toml": "Python project",
            "requirements.txt": "pip requirements",
            "yarn.lock": "Yarn lockfile",
        },
        "dependency_count": 11,
    }


def test_malformed_manifests_are_skipped() -> None:
    files = {"package.json": "{not json", "pyproject.toml": "[project\nbroken", "go.mod": "\0\0"}
    assert signals(list(files), files.get) == {
        "frameworks": [],
        "lint": [],
        "tests": [],
        "manifests": {
            "go.mod": "Go modules",
            "package.json": "npm",
            "pyproject.toml": "Python project",
        },
        "dependency_count": 0,
    }
    odd = {"package.json": "[1, 2]", "pyproject.toml": "project = 3\ntool = 'x'\n"}
    assert signals(list(odd), odd.get)["frameworks"] == []


def test_coverage_in_both_formats_and_when_missing() -> None:
    files = {
        "coverage/coverage-summary.json": json.dumps(
            {"total": {"lines": {"total": 10, "covered": 8, "pct": 80}}}
        ),
        "coverage.json": json.dumps({"totals": {"percent_covered": 91.2345}}),
        "broken.json": "{",
        "other.json": "{}",
    }
    assert coverage(
        [
            "coverage/coverage-summary.json",
            "coverage.json",
            "gone.json",
            "broken.json",
            "other.json",
        ],
        files.get,
    ) == [
        {"file": "coverage/coverage-summary.json", "status": "ok", "lines_pct": 80.0},
        {"file": "coverage.json", "status": "ok", "lines_pct": 91.23},
        {"file": "gone.json", "status": "missing"},
        {"file": "broken.json", "status": "unreadable (not JSON)"},
        {"file": "other.json", "status": "unrecognised format"},
    ]


def test_markdown_starts_with_the_mark_and_says_what_is_missing() -> None:
    text = render_markdown(
        {
            "files": 3,
            "languages": {"python": 2, "markdown": 1},
            "frameworks": ["pytest"],
            "lint": [],
            "tests": ["pytest"],
            "manifests": {"pyproject.toml": "Python project"},
            "latest_test_run": {"status": "passed", "command": "pytest", "passed": 4, "failed": 0},
            "coverage": [{"file": "coverage/coverage-summary.json", "status": "missing"}],
        }
    )
    assert text.splitlines() == [
        GENERATED_MARK,
        "",
        "# Project summary",
        "",
        "- Files indexed: 3",
        "- Languages: python (2), markdown (1)",
        "- Frameworks: pytest",
        "- Lint and style: none found",
        "- Test configuration: pytest",
        "- Dependency manifests: pyproject.toml (Python project)",
        "- Latest test run: passed (pytest, passed 4, failed 0)",
        "- Coverage (coverage/coverage-summary.json): missing",
    ]
