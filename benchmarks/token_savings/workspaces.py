"""Deterministic workspaces for the recorded sessions: a small Python repository to explore, a
package with a verbose test runner and three bugs, and an empty notes folder.

Everything is generated from a fixed seed, so two recordings see the same files; the text is
plausible Python but filler (nothing here comes from the Claude Code CLI).
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

WORDS = ("record", "batch", "token", "window", "buffer", "cursor", "ledger", "entry", "queue",
         "frame", "packet", "session", "segment", "report", "metric", "account", "invoice",
         "schedule", "channel", "payload", "digest", "archive", "profile", "bucket")
VERBS = ("load", "parse", "merge", "split", "render", "validate", "collect", "resolve",
         "normalise", "compact", "score", "index", "flush", "encode", "decode", "group")
MODULES = ("config", "client", "retry", "transport", "cache", "models", "storage", "queueing",
           "scheduler", "metrics", "auth", "billing", "export", "importer", "search",
           "formatting", "validation", "events", "pagination", "cli")

RETRY_LIMIT_LINE = "RETRY_LIMIT = 3"


def _git(workspace: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.invalid",
                    "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                   cwd=workspace, check=True, capture_output=True, timeout=30)


def _function(rng: random.Random, name: str) -> list[str]:
    noun, other = rng.sample(WORDS, 2)
    verb = rng.choice(VERBS)
    lines = [
        f"def {name}({noun}s, *, limit=None, strict=False):",
        f'    """{verb.capitalize()} each {noun} and return the {other}s it produces.',
        "",
        f"    ``limit`` caps how many {noun}s are looked at; with ``strict`` an invalid {noun}",
        f"    raises ``ValueError`` instead of being skipped and counted in the {other} report.",
        '    """',
        "    result = []",
        "    skipped = 0",
        f"    for index, {noun} in enumerate({noun}s):",
        "        if limit is not None and index >= limit:",
        "            break",
        f"        if not _is_valid_{noun}({noun}):",
        "            if strict:",
        f"                raise ValueError(f\"invalid {noun} at {{index}}: {{{noun}!r}}\")",
        "            skipped += 1",
        "            continue",
        f"        {other} = _{verb}_{noun}({noun}, weight={rng.randint(2, 97)})",
        f"        if {other} is None:",
        "            continue",
        f"        result.append({other})",
        f"    log.debug(\"{name}: %d {other}s, %d skipped\", len(result), skipped)",
        "    return result",
        "",
        "",
    ]
    return lines


def _module(rng: random.Random, module: str, extra: list[str]) -> str:
    lines = [f'"""The {module} layer of acme: helpers used by the client and the CLI."""', "",
             "from __future__ import annotations", "", "import logging",
             "from dataclasses import dataclass, field", "", "log = logging.getLogger(__name__)",
             "", ""]
    for k in range(rng.randint(4, 6)):
        lines += [f"{module.upper()}_{rng.choice(WORDS).upper()}_{k} = {rng.randint(1, 999)}"]
    lines += ["", ""]
    count = rng.randint(9, 11)
    for k in range(count):
        if k == count // 2:
            lines += extra
        lines += _function(rng, f"{rng.choice(VERBS)}_{rng.choice(WORDS)}s_{k}")
    lines += ["@dataclass", f"class {module.capitalize()}State:",
              f'    """What the {module} layer remembers between calls."""', "",
              "    entries: list[str] = field(default_factory=list)", "    version: int = 1",
              ""]
    return "\n".join(lines) + "\n"


def explore_repo(workspace: Path) -> None:
    """~20 modules of ~250 lines under src/acme, a few tests, and a git history of 26 commits."""
    rng = random.Random(20261124)
    src = workspace / "src" / "acme"
    src.mkdir(parents=True)
    (workspace / "tests").mkdir()
    (src / "__init__.py").write_text('"""acme: a demo package."""\n')
    _git(workspace, "init", "-q")
    for module in MODULES:
        extra: list[str] = []
        if module == "config":
            extra = ["# How often the client retries a failed call before giving up.",
                     RETRY_LIMIT_LINE, "RETRY_BACKOFF_S = 0.5", "", ""]
        if module == "client":
            extra = ["from acme.config import RETRY_LIMIT", "",
                     "def call_with_retry(send, request):",
                     '    """Send ``request``, retrying up to RETRY_LIMIT times."""',
                     "    for attempt in range(RETRY_LIMIT):",
                     "        reply = send(request)",
                     "        if reply.ok:", "            return reply",
                     "    raise RuntimeError(f\"gave up after {RETRY_LIMIT} attempts\")", "", ""]
        (src / f"{module}.py").write_text(_module(rng, module, extra))
        _git(workspace, "add", ".")
        _git(workspace, "commit", "-q", "-m", f"Add the {module} layer")
    for k in range(6):
        (workspace / "tests" / f"test_{MODULES[k]}.py").write_text(
            "\n".join(f"def test_{MODULES[k]}_{i}():\n    assert {i} + 1 == {i + 1}\n"
                      for i in range(30)))
    _git(workspace, "add", ".")
    _git(workspace, "commit", "-q", "-m", "Tests for the first layers")
    (workspace / "README.md").write_text("# acme\n\nA demo package.\n")
    _git(workspace, "add", ".")
    _git(workspace, "commit", "-q", "-m", "README")


def python_lines(workspace: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in (workspace / "src" / "acme").glob("*.py"))


# -- the test-fixing workspace ---------------------------------------------------------------

CALC_MODULES = ("geometry", "pricing", "units", "stats", "timing", "grading", "scoring", "rates")
BUGS = {("pricing", 3), ("stats", 6), ("rates", 1)}  # (module, function index) with a wrong sign


def calc_repo(workspace: Path) -> None:
    """8 modules of 10 small functions, 400 tests in a verbose runner, three sign bugs."""
    rng = random.Random(7)
    pkg = workspace / "calc"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    tests = []
    for module in CALC_MODULES:
        lines = [f'"""calc.{module}: small arithmetic helpers."""', "", ""]
        for k in range(10):
            a, b = rng.randint(2, 9), rng.randint(1, 20)
            name = f"{rng.choice(VERBS)}_{module}_{k}"
            var = f"acc_{module}_{k}"
            sign = "-" if (module, k) in BUGS else "+"
            lines += [f"def {name}(value):",
                      f'    """Scale ``value`` by {a} and shift it by {b} ({module} rule {k})."""',
                      f"    {var} = value * {a}", f"    {var} = {var} {sign} {b}",
                      f"    return {var}", "", ""]
            tests += [(module, name, x, x * a + b) for x in range(5)]
        (pkg / f"{module}.py").write_text("\n".join(lines))
    runner = ['"""Runs every calc test and prints a pytest-like verbose report."""', "",
              "import importlib", "import inspect", "import sys", "", "TESTS = ["]
    runner += [f"    ({m!r}, {n!r}, {x}, {e})," for m, n, x, e in tests]
    runner += ["]", "", "",
               "def main():",
               "    failures = []",
               "    for i, (module, name, x, expected) in enumerate(TESTS):",
               "        fn = getattr(importlib.import_module('calc.' + module), name)",
               "        got = fn(x)",
               "        status = 'PASSED' if got == expected else 'FAILED'",
               "        pct = (i + 1) * 100 // len(TESTS)",
               "        print(f'calc/{module}.py::test_{name}[{x}] {status:<8} [{pct:3d}%]')",
               "        if got != expected:",
               "            line = inspect.getsourcelines(fn)[1]",
               "            failures.append(f'FAILED test_{name}[{x}] - calc/{module}.py:{line} '",
               "                            f'in {name}: expected {expected}, got {got}')",
               "    print('=' * 30 + ' short test summary info ' + '=' * 30)",
               "    for failure in failures:",
               "        print(failure)",
               "    passed = len(TESTS) - len(failures)",
               "    tail = f'{len(failures)} failed, ' if failures else ''",
               "    print('=' * 30 + f' {tail}{passed} passed in 0.12s ' + '=' * 30)",
               "    return 1 if failures else 0", "", "",
               "if __name__ == '__main__':", "    sys.exit(main())", ""]
    (workspace / "run_tests.py").write_text("\n".join(runner))
    _git(workspace, "init", "-q")
    _git(workspace, "add", ".")
    _git(workspace, "commit", "-q", "-m", "calc with tests")


def notes_dir(workspace: Path) -> None:
    (workspace / "notes").mkdir(parents=True)
    (workspace / "notes" / "README.md").write_text("Notes live here.\n")


def small_app(workspace: Path) -> None:
    """Two small Python files for a short session of a lowercase-tool client (opencode)."""
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "app.py").write_text('print("hello from app")\n')
    (workspace / "util.py").write_text(
        '"""Helpers."""\n\n\ndef greet(name):\n    return f"hi {name}"\n\n\n'
        'if __name__ == "__main__":\n    print(greet("util"))\n')
