"""Commands run for the workspace tools: output capped (the rest drained), the whole process
group killed at the timeout, a detached child not holding the call open, no stdin."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import trio

from lynkr.tools.workspace.process import ProcessFailed, run_command


async def test_output_exit_code_and_streams(tmp_path: os.PathLike[str]) -> None:
    result = await run_command(["sh", "-c", "pwd; echo oops >&2; exit 3"], str(tmp_path), 10)
    assert (result.returncode, result.stdout, result.stderr, result.dropped) == (
        3,
        f"{tmp_path}\n",
        "oops\n",
        0,
    )
    assert not result.ok and not result.timed_out


async def test_output_beyond_the_cap_is_drained_and_counted() -> None:
    result = await run_command(
        ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x"], "/", 20, cap=1000
    )
    assert (len(result.stdout), result.dropped, result.returncode) == (1000, 2_999_000, 0)


async def test_the_timeout_kills_the_whole_group(tmp_path: os.PathLike[str]) -> None:
    marker = os.path.join(tmp_path, "child.pid")
    started = time.monotonic()
    result = await run_command(
        ["sh", "-c", f"sleep 60 & echo $! > {marker}; wait"], str(tmp_path), 0.5
    )
    assert result.timed_out and result.returncode is None
    assert time.monotonic() - started < 10
    child = int(Path(marker).read_text())
    for _ in range(50):  # the child was killed with its group, not left running
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        await trio.sleep(0.05)
    else:
        pytest.fail("the background child outlived the timeout")


async def test_a_detached_child_does_not_hold_the_call_open() -> None:
    started = time.monotonic()
    result = await run_command(["sh", "-c", "(sleep 30 &); echo done"], "/", 20)
    assert (result.returncode, result.stdout) == (0, "done\n")
    assert time.monotonic() - started < 10


async def test_no_stdin_and_no_git_prompts() -> None:
    result = await run_command(["sh", "-c", "cat; echo $GIT_TERMINAL_PROMPT"], "/", 10)
    assert (result.returncode, result.stdout) == (0, "0\n")


async def test_a_missing_program_is_a_clear_error() -> None:
    with pytest.raises(ProcessFailed, match="/no/such/program: No such file"):
        await run_command(["/no/such/program"], "/", 5)
