"""The scripted sessions: what the user asks, what the fake model does at each step, and how
the result in the workspace is checked.

The fake model is scripted by step: the number of its own tool turns already in the request for
the current task. Each tool call carries its step in its id (``call_t<task>s<step>k<n>``), so a
pipeline that elides old turns cannot make the script go back; the step is the larger of that
marker and the plain count. Where a real model would need to read something (which file the
grep found, which line a test failure points at, the line count printed by ``wc``), the script
reads it from the request it received, from the most recent tool result where a real model
would: an optimization that loses that information makes the task fail, as it would live.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
from harness.wire import Reply, ToolCall

from benchmarks.token_savings import workspaces

_MARK = re.compile(r"call_t(\d+)s(\d+)k\d+")
_TASK = re.compile(r"Task (\d+):")
_READ_LINE = re.compile(r"^\s*(\d+)(?:→|\t)(.*)$", re.M)
# dedupe's marker for a result that repeats an earlier one: a real model looks the earlier
# copy up, and so does the script
_SAME_AS = re.compile(r"^\[same output as the earlier result of (\S+) ")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return ""


@attrs.frozen
class Ctx:
    """What one step of the script sees: the request, the workspace, the task and step."""

    body: dict[str, Any]
    workspace: Path
    task: int
    step: int

    @property
    def latest(self) -> str:
        """The tool results after the model's last turn (what it just asked for)."""
        messages = self.body.get("messages", [])
        out: list[str] = []
        for m in reversed(messages):
            if m.get("role") == "assistant":
                break
            if m.get("role") == "tool":
                out.append(self._resolve(_text(m.get("content"))))
        return "\n".join(reversed(out))

    def _resolve(self, text: str) -> str:
        found = _SAME_AS.match(text)
        if not found:
            return text
        for m in self.body.get("messages", []):
            if m.get("role") == "tool" and m.get("tool_call_id") == found.group(1):
                return _text(m.get("content"))
        return text

    @property
    def everything(self) -> str:
        return "\n".join(_text(m.get("content")) for m in self.body.get("messages", []))

    def call(self, name: str, **arguments: Any) -> Reply:
        return Reply(text="", tool_calls=(ToolCall(name, arguments,
                                                   id=f"call_t{self.task}s{self.step}k0"),))


Step = Callable[[Ctx], Reply]


def position(body: dict[str, Any]) -> tuple[int, int]:
    """(task, step): the task from the last user message saying ``Task N:`` (1 if none), the
    step from the tool-call markers of that task and from counting tool turns after it."""
    messages = body.get("messages", [])
    task, start = 1, 0
    for index, m in enumerate(messages):
        if m.get("role") == "user":
            found = _TASK.findall(_text(m.get("content")))
            if found:
                task, start = int(found[-1]), index
    counted = sum(1 for m in messages[start:]
                  if m.get("role") == "assistant" and m.get("tool_calls"))
    marked = [int(s) for t, s in _MARK.findall(str(messages)) if int(t) == task]
    return task, max(counted, max(marked) + 1 if marked else 0)


@attrs.frozen
class Scenario:
    name: str
    description: str
    prompts: tuple[str, ...]  # one CLI run each; the later ones continue the conversation
    prepare: Callable[[Path], None]
    steps: dict[int, Sequence[Step]]
    check: Callable[[Path, list[str]], str | None]  # None when the task succeeded
    client: str = "claude"  # the real CLI that runs it: "claude" (Claude Code) or "opencode"

    def reply(self, body: dict[str, Any], workspace: Path) -> Reply:
        if not body.get("tools"):
            return Reply(text="ok")  # the CLI's side requests (titles, topic checks)
        task, step = position(body)
        steps = self.steps.get(task)
        if not steps:
            return Reply(text=f"FAILED: no script for task {task}")
        if step >= len(steps):
            return Reply(text="FAILED: the script ran past its last step")
        return steps[step](Ctx(body, workspace, task, step))


def _fail(why: str) -> Reply:
    return Reply(text=f"FAILED: {why}")


# -- (a) explore a repository, edit a constant -----------------------------------------------

def _grep_hit(ctx: Ctx) -> str | None:
    # at a line start (indented in compress_history's summary of elided calls) or after "→ "
    found = re.findall(r"(?:^\s*|→ )(\S+?\.py):\d+:RETRY_LIMIT = \d+", ctx.everything,
                       re.M)
    return str(ctx.workspace / found[-1]) if found else None


def _read_config(ctx: Ctx) -> Reply:
    path = _grep_hit(ctx)
    return ctx.call("Read", file_path=path) if path else _fail("the grep hit is gone")


def _edit_limit(ctx: Ctx) -> Reply:
    path = _grep_hit(ctx)
    if not path or "RETRY_LIMIT = 3" not in ctx.latest:
        return _fail("the re-read config does not show RETRY_LIMIT = 3")
    return ctx.call("Edit", file_path=path, old_string="RETRY_LIMIT = 3",
                    new_string="RETRY_LIMIT = 5")


def _report_lines(ctx: Ctx) -> Reply:
    total = re.findall(r"(\d+) total", ctx.latest)
    if not total:
        return _fail("no wc total in the last output")
    return Reply(text=f"Done: RETRY_LIMIT is now 5. The package has {total[-1]} lines of Python.")


def _read_module(module: str) -> Step:
    return lambda c: c.call("Read", file_path=str(c.workspace / "src" / "acme" / f"{module}.py"))


def _explore_steps(deep: bool) -> list[Step]:
    def ws(ctx: Ctx, *parts: str) -> str:
        return str(ctx.workspace.joinpath(*parts))

    steps: list[Step] = [
        lambda c: c.call("Bash", command="ls -R", description="List the repository"),
        lambda c: c.call("Bash", command="wc -l src/acme/*.py tests/*.py",
                         description="Count lines"),
        lambda c: c.call("Bash", command="git log --stat -n 12", description="Recent history"),
        lambda c: c.call("Bash", command="grep -rn RETRY_LIMIT src tests",
                         description="Find the retry limit"),
        _read_config,
        lambda c: c.call("Read", file_path=ws(c, "src", "acme", "client.py")),
        lambda c: c.call("Read", file_path=ws(c, "src", "acme", "retry.py")),
    ]
    if deep:
        steps += [_read_module(m) for m in ("transport", "cache", "models", "storage",
                                            "scheduler")]
        steps += [lambda c: c.call("Bash", command="grep -rn 'def .*_records_' src",
                                   description="Find the record helpers"),
                  lambda c: c.call("Bash", command="git log -p -n 3 -- src/acme/client.py",
                                   description="Client history")]
    steps += [
        _read_config,  # the same file a second time, right before editing it
        _edit_limit,
        _read_config,  # re-read after the edit
        lambda c: c.call("Bash", command="git diff", description="Show the change"),
        lambda c: c.call("Bash", command="wc -l src/acme/*.py | tail -1",
                         description="Total lines"),
        _report_lines,
    ]
    return steps


def _check_explore(workspace: Path, results: list[str]) -> str | None:
    config = (workspace / "src" / "acme" / "config.py").read_text()
    if "RETRY_LIMIT = 5" not in config or "RETRY_LIMIT = 3" in config:
        return "config.py does not say RETRY_LIMIT = 5"
    lines = workspaces.python_lines(workspace)
    if not results or f"has {lines} lines" not in results[-1]:
        return f"the answer does not give the {lines} lines: {results[-1:]!r}"
    return None


# -- (b) run a verbose test suite, fix, re-run -----------------------------------------------

_FAILED = re.compile(r"^FAILED \S+ - (\S+?):(\d+) in (\w+)", re.M)


def _read_failure(ctx: Ctx) -> Reply:
    found = _FAILED.findall(ctx.latest)
    if not found:
        return _fail("no FAILED line in the test output")
    path, _line, _name = found[0]
    return ctx.call("Read", file_path=str(ctx.workspace / path))


def _fix_failure(ctx: Ctx) -> Reply:
    found = _FAILED.findall(_last_summary(ctx))
    if not found:
        return _fail("the failure report is gone")
    path, line, _name = found[0]
    numbered = dict(_READ_LINE.findall(ctx.latest))
    for n in range(int(line), int(line) + 5):
        text = numbered.get(str(n), "")
        if " - " in text:
            return ctx.call("Edit", file_path=str(ctx.workspace / path),
                            old_string=text.strip(), new_string=text.strip().replace(" - ", " + "))
    return _fail(f"cannot see line {line} of {path} in the read result")


def _last_summary(ctx: Ctx) -> str:
    """The summary of the most recent test run anywhere in the request, and what follows."""
    text = ctx.everything
    start = text.rfind("short test summary info")
    return text[start:] if start >= 0 else ""


def _run_tests(c: Ctx) -> Reply:
    return c.call("Bash", command="python run_tests.py", description="Run the test suite")


def _report_tests(ctx: Ctx) -> Reply:
    summary = re.findall(r"= (\d+ passed) in", ctx.everything)
    if not summary:
        return _fail("no passing summary")
    return Reply(text=f"All tests pass now: {summary[-1]}.")


def _tests_steps() -> list[Step]:
    fix_round: list[Step] = [_read_failure, _fix_failure, _run_tests]
    return [_run_tests, *fix_round * len(workspaces.BUGS),
            lambda c: c.call("Bash", command="git status --short && git diff --stat",
                             description="What changed"),
            _report_tests]


def _check_tests(workspace: Path, results: list[str]) -> str | None:
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "run_tests.py"], cwd=workspace, capture_output=True,
                         text=True, timeout=60, check=False)
    if run.returncode != 0:
        return "run_tests.py still fails: " + run.stdout.splitlines()[-1]
    if not results or "400 passed" not in results[-1]:
        return f"the answer does not report 400 passed: {results[-1:]!r}"
    return None


# -- (c) a conversation of many short tasks (one CLI run per task, --continue) ---------------

_TODO = "- write the report\n- review the budget\n- book the room\n"


def _say(template: str, pattern: str, first: bool = False) -> Step:
    def step(ctx: Ctx) -> Reply:
        found = re.findall(pattern, ctx.latest, re.M)
        return Reply(text=template.format(found[0 if first else -1])) if found \
            else _fail(f"{pattern!r} not in the last tool result")
    return step


def _chat_steps() -> dict[int, Sequence[Step]]:
    def todo(c: Ctx) -> str:
        return str(c.workspace / "notes" / "todo.md")
    return {
        1: [lambda c: c.call("Write", file_path=todo(c), content=_TODO),
            lambda c: Reply(text="Created notes/todo.md with three items.")],
        2: [lambda c: c.call("Read", file_path=todo(c)),
            _say("The first item is: {}.", r"^\s*\d+(?:→|\t)- (.+)$", first=True)],
        3: [lambda c: c.call("Bash", command="python --version", description="Python version"),
            _say("You have Python {}.", r"Python (\S+)")],
        4: [lambda c: c.call("Read", file_path=todo(c)),
            lambda c: c.call("Edit", file_path=todo(c), old_string="- book the room\n",
                             new_string="- book the room\n- ship it\n")
            if "book the room" in c.latest else _fail("todo not read"),
            lambda c: Reply(text="Added 'ship it'.")],
        5: [lambda c: c.call("Bash", command="grep -c '^- ' notes/todo.md",
                             description="Count items"),
            _say("There are {} items.", r"^(\d+)\s*$")],
        6: [lambda c: c.call("Bash", command="ls -la notes", description="List notes"),
            lambda c: Reply(text="notes/ holds README.md and todo.md.")],
        7: [lambda c: c.call("Bash", command="cp notes/todo.md notes/todo.bak && ls notes",
                             description="Back up the todo list"),
            lambda c: Reply(text="Backed up to notes/todo.bak.")],
        8: [lambda c: c.call("Bash", command="find . -name '*.md' | sort",
                             description="Find markdown files"),
            _say("Markdown files: {}.", r"(\S*todo\.md)")],
        9: [lambda c: Reply(text="Today: wrote the todo list, added an item, backed it up.")],
    }


_CHAT_PROMPTS = (
    "Task 1: create notes/todo.md with three items: write the report, review the budget, "
    "book the room.",
    "Task 2: what is the first item on my todo list?",
    "Task 3: which Python version do I have?",
    "Task 4: add 'ship it' after 'book the room'.",
    "Task 5: how many items are on the list now?",
    "Task 6: what is in the notes folder?",
    "Task 7: make a backup copy of the todo list as notes/todo.bak.",
    "Task 8: which markdown files are in the workspace?",
    "Task 9: summarise what we did today in one line.",
)


def _check_chat(workspace: Path, results: list[str]) -> str | None:
    todo = workspace / "notes" / "todo.md"
    if not todo.exists() or "- ship it\n" not in todo.read_text():
        return "notes/todo.md does not have 'ship it'"
    if not (workspace / "notes" / "todo.bak").exists():
        return "no notes/todo.bak"
    if len(results) < 5 or "There are 4 items." not in results[4]:
        return f"task 5 answered {results[4:5]!r}, not 4 items"
    if "write the report" not in results[1]:
        return f"task 2 answered {results[1:2]!r}"
    return None


# -- (d) a long session: 14 tasks, 46 model calls, past every compaction threshold ----------

_LONG_MODULES = ("client", "retry", "transport", "cache", "models", "storage", "queueing",
                 "scheduler", "metrics", "auth", "billing", "export")


def _module_task(module: str) -> list[Step]:
    path = f"src/acme/{module}.py"
    return [lambda c: c.call("Read", file_path=str(c.workspace / path)),
            _say("Its first constant is {}.", r"^\s*\d+(?:→|\t)([A-Z][A-Z0-9_]+) = ", first=True),
            ] if module in ("client", "cache", "billing") else [
            lambda c: c.call("Read", file_path=str(c.workspace / path)),
            lambda c: c.call("Bash", command=f"wc -l {path}", description="Count lines"),
            _say("It has {} lines.", r"^\s*(\d+) \S+\.py\s*$")]


def _long_steps() -> dict[int, Sequence[Step]]:
    steps: dict[int, Sequence[Step]] = {
        1: [lambda c: c.call("Bash", command="git log --stat -n 12", description="History"),
            lambda c: c.call("Bash", command="git log -p -n 2", description="Last changes"),
            lambda c: Reply(text="The last commits added the README and the tests.")]}
    for k, module in enumerate(_LONG_MODULES):
        steps[2 + k] = _module_task(module)
    steps[2 + len(_LONG_MODULES)] = [
        lambda c: c.call("Bash", command="grep -rn RETRY_LIMIT src tests",
                         description="Find the retry limit"),
        _read_config, _edit_limit,
        lambda c: c.call("Bash", command="git diff", description="Show the change"),
        lambda c: Reply(text="RETRY_LIMIT is now 5.")]
    steps[3 + len(_LONG_MODULES)] = [
        lambda c: c.call("Bash", command="wc -l src/acme/*.py | tail -1",
                         description="Total lines"),
        _report_lines]
    return steps


_LONG_PROMPTS = (
    "Task 1: what happened in the last commits?",
    *(f"Task {2 + k}: " + (f"what is the first constant in src/acme/{m}.py?"
                           if m in ("client", "cache", "billing")
                           else f"read src/acme/{m}.py and tell me how many lines it has.")
      for k, m in enumerate(_LONG_MODULES)),
    f"Task {2 + len(_LONG_MODULES)}: raise the client's retry limit from 3 to 5.",
    f"Task {3 + len(_LONG_MODULES)}: how many lines of Python does the acme package have now?",
)


def _check_long(workspace: Path, results: list[str]) -> str | None:
    failure = _check_explore(workspace, results)
    if failure:
        return failure
    for k, module in enumerate(_LONG_MODULES):
        answer = results[1 + k] if len(results) > 1 + k else ""
        text = (workspace / "src" / "acme" / f"{module}.py").read_text()
        if module in ("client", "cache", "billing"):
            first = re.findall(r"^([A-Z][A-Z0-9_]+) = ", text, re.M)
            if not first or f"first constant is {first[0]}." not in answer:
                return f"task {2 + k} answered {answer!r}"
        elif f"It has {len(text.splitlines())} lines." not in answer:
            return f"task {2 + k} answered {answer!r}, not {len(text.splitlines())} lines"
    return None


SCENARIOS: dict[str, Scenario] = {
    "explore-edit": Scenario(
        "explore-edit", "explore a 20-file repository (ls -R, wc, git log, grep, 3 Reads, the "
        "same file read 3 times), Edit a constant, git diff",
        ("Raise the client's retry limit from 3 to 5, then tell me how many lines of Python "
         "the acme package has.",),
        workspaces.explore_repo, {1: _explore_steps(deep=False)}, _check_explore),
    "test-fix-loop": Scenario(
        "test-fix-loop", "run a 400-test verbose suite (~24 KB of output) four times, read and "
        "fix three failing functions in between",
        ("The test suite fails. Run it with `python run_tests.py`, fix the bugs in calc/ and "
         "tell me when all tests pass.",),
        workspaces.calc_repo, {1: _tests_steps()}, _check_tests),
    "chat-many-turns": Scenario(
        "chat-many-turns", "9 short user turns in one conversation (claude -p, then -c -p), "
        "small tool calls",
        _CHAT_PROMPTS, workspaces.notes_dir, _chat_steps(), _check_chat),
    "deep-explore": Scenario(
        "deep-explore", "like explore-edit with 5 more file reads, a wide grep and git log -p",
        ("Raise the client's retry limit from 3 to 5, then tell me how many lines of Python "
         "the acme package has. Look around the code base first.",),
        workspaces.explore_repo, {1: _explore_steps(deep=True)}, _check_explore),
}
# -- (e) a client with lowercase tool names: opencode (bash, read, edit, glob, grep) ----------

def _oc(name: str, **arguments: Any) -> Step:
    return lambda c: c.call(name, **{k: v(c) if callable(v) else v for k, v in arguments.items()})


def _app(c: Ctx) -> str:
    return str(c.workspace / "app.py")


_DOUBLE = 'def double(x):\n    return 2 * x\n\n\nprint(double(21))\n'


def _opencode_steps() -> dict[int, Sequence[Step]]:
    return {
        1: [_oc("read", filePath=_app), _say("app.py prints {}.", r'print\("([^"]+)"\)')],
        2: [_oc("read", filePath=_app),
            lambda c: c.call("edit", filePath=_app(c), oldString='print("hello from app")',
                             newString=_DOUBLE.rstrip("\n"))
            if "hello from app" in c.latest else _fail("app.py not read"),
            _oc("bash", command="python3 app.py"),
            _say("It prints {}.", r"^(\d+)\s*$")],
        3: [_oc("glob", pattern="**/*.py"), _say("The Python files: {}.", r"(\S*util\.py)")],
        4: [_oc("grep", pattern="def greet"), _say("greet is defined in {}.", r"(\S*util\.py)")],
        5: [_oc("bash", command="python3 util.py"), _say("util.py prints {}.", r"^(hi \w+)\s*$")],
    }


_OPENCODE_PROMPTS = (
    "Task 1: What is in app.py?",
    "Task 2: add a function double(x) returning 2 * x to app.py, print double(21) instead "
    "of the greeting, and run it.",
    "Task 3: which Python files are in this folder?",
    "Task 4: where is greet defined?",
    "Task 5: run util.py and tell me what it prints.",
)


def _check_opencode(workspace: Path, results: list[str]) -> str | None:
    app = (workspace / "app.py").read_text()
    if "def double(x):" not in app:
        return "app.py has no double()"
    wanted = ("hello from app", "42", "util.py", "util.py", "hi util")
    for index, (answer, expected) in enumerate(zip(results, wanted, strict=False)):
        if expected not in answer:
            return f"task {index + 1} answered {answer!r}, not {expected!r}"
    return None if len(results) == len(wanted) else f"only {len(results)} answers"


SCENARIOS["opencode-lowercase"] = Scenario(
    "opencode-lowercase", "opencode (lowercase tools: bash, read, edit, glob, grep, ...) "
    "through Lynkr's OpenAI endpoint: 5 short tasks in one session (opencode run, then -c)",
    _OPENCODE_PROMPTS, workspaces.small_app, _opencode_steps(), _check_opencode, "opencode")
SCENARIOS["long-session"] = Scenario(
    "long-session", "14 tasks in one conversation (claude -p, then -c -p): git history, 12 "
    "modules read and measured, an edit, a line count; 46 model calls, past the compaction "
    "thresholds of local-only and max-savings", _LONG_PROMPTS, workspaces.explore_repo,
    _long_steps(), _check_long)
QUICK = ("explore-edit", "test-fix-loop", "chat-many-turns")
