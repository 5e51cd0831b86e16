"""dedupe: a repeat becomes a short marker where it arrives; the first copy stays whole."""

from __future__ import annotations

from typing import Any

import pytest

from lynkr.model import Message, Request, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.dedupe import DedupeConfig, dedupe
from lynkr.stages.exchange import Context, Exchange, Note

PORTS = Ports({"ollama": ProviderInfo("ollama", "ollama", "qwen", "http://o/api/chat")}, "ollama")
FILE = "\n".join(f"line {i}: value = compute({i}, cache)" for i in range(40))
FILE_V2 = FILE + "\nline 40: added"
REMINDER = "<system-reminder>\nThe todo list is empty. Use TodoWrite.\n</system-reminder>"


def user(*blocks: Any) -> Message:
    return Message("user", tuple(blocks))


def call(tool_id: str, name: str = "Read", **tool_input: Any) -> Message:
    block = ToolUseBlock(tool_id, name, tool_input or {"file_path": "/a.py"})
    return Message("assistant", (block,))


def result(tool_id: str, text: str) -> ToolResultBlock:
    return ToolResultBlock(tool_id, (TextBlock(text),))


def marker(first: str, subject: str, text: str) -> str:
    return (f"[same output as the earlier result of {first} ({subject}): "
            f"{PORTS.count_tokens(text):,} tokens omitted]")


def conversation(*turns: Message) -> Request:
    return Request("m", (user(TextBlock("go")), *turns, user(TextBlock("and now?"))), 1024)


def run(request: Request, config: DedupeConfig | None = None) -> Exchange:
    return dedupe(Exchange(request, Context("r1")), config or DedupeConfig(), PORTS)


SAME_READ = (call("t1"), user(result("t1", FILE)), call("t2"), user(result("t2", FILE)))
CHANGED_READ = (call("t1"), user(result("t1", FILE)), call("t2"), user(result("t2", FILE_V2)))
SAME_OUTPUT = (call("t1", "Bash", command="make test"), user(result("t1", FILE)),
               call("t2", "Bash", command="make check"), user(result("t2", FILE)))
OTHER_FILES = (call("t1"), user(result("t1", FILE)),
               call("t2", file_path="/b.py"), user(result("t2", FILE_V2)))
REMINDERS = (call("t1", "Bash", command="ls"), user(result("t1", "a"), TextBlock(REMINDER)),
             call("t2", "Bash", command="pwd"), user(result("t2", "/"), TextBlock(REMINDER)))


@pytest.mark.parametrize(
    ("turns", "config", "expected"),
    [
        pytest.param(SAME_READ, DedupeConfig(),
                     (*SAME_READ[:3], user(result("t2", marker("t1", "Read /a.py", FILE)))),
                     id="same-file-read-twice"),
        pytest.param(CHANGED_READ, DedupeConfig(), CHANGED_READ, id="file-changed-both-kept"),
        pytest.param(SAME_OUTPUT, DedupeConfig(),
                     (*SAME_OUTPUT[:3], user(result("t2", marker("t1", "Bash make test", FILE)))),
                     id="identical-output"),
        pytest.param(SAME_OUTPUT, DedupeConfig(same_output=False), SAME_OUTPUT,
                     id="same-output-off"),
        pytest.param(OTHER_FILES, DedupeConfig(), OTHER_FILES, id="different-files"),
        pytest.param(REMINDERS, DedupeConfig(),
                     (*REMINDERS[:3], user(result("t2", "/"))),
                     id="repeated-reminder-removed"),
        pytest.param(REMINDERS, DedupeConfig(system_reminders=False), REMINDERS,
                     id="reminders-off"),
        pytest.param(SAME_READ, DedupeConfig(min_tokens=10_000), SAME_READ,
                     id="below-min-tokens"),
    ],
)
def test_dedupe(turns: tuple[Message, ...], config: DedupeConfig,
                expected: tuple[Message, ...]) -> None:
    assert run(conversation(*turns), config).request == conversation(*expected)


def test_note_reports_tokens_saved() -> None:
    out = run(conversation(*SAME_READ))
    saved = PORTS.count_tokens(FILE) - PORTS.count_tokens(marker("t1", "Read /a.py", FILE))
    assert out.notes == (Note("dedupe", "shortened 1 repeats", saved),)


def test_no_duplicates() -> None:
    request = conversation(*OTHER_FILES)
    out = run(request)
    assert out.request is request
    assert out.notes == (Note("dedupe", "no duplicates"),)


def test_first_copy_never_altered_and_turns_never_emptied() -> None:
    first = user(result("t1", FILE))
    request = Request("m", (user(TextBlock(REMINDER)), call("t1"), first, call("t2"),
                            user(result("t2", FILE)), user(TextBlock(REMINDER))), 1024)
    out = run(request).request
    assert out.messages[2] is first
    assert out.messages[4] == user(result("t2", marker("t1", "Read /a.py", FILE)))
    assert out.messages[5] == user(TextBlock(REMINDER))  # a turn is never left empty


def test_decided_on_arrival_so_later_turns_extend_the_same_prefix() -> None:
    short = conversation(*SAME_READ)
    longer = Request("m", (*short.messages, call("t3"), user(result("t3", FILE))), 1024)
    once, later = run(short).request.messages, run(longer).request.messages
    assert later[: len(once)] == once


def test_idempotent() -> None:
    once = run(conversation(*SAME_READ, *REMINDERS))
    twice = dedupe(once, DedupeConfig(), PORTS)
    assert twice.request == once.request
    assert twice.notes[-1] == Note("dedupe", "no duplicates")


def test_three_reads_keep_only_the_first() -> None:
    turns = (*SAME_READ, call("t3"), user(result("t3", FILE)))
    out = run(conversation(*turns)).request
    texts = [b.text() for m in out.messages for b in m.content if isinstance(b, ToolResultBlock)]
    assert texts == [FILE, marker("t1", "Read /a.py", FILE), marker("t1", "Read /a.py", FILE)]
