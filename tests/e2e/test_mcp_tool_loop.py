"""A real MCP server in the server-side tool loop, with real clients: Lynkr starts
mcp-server-time (PyPI) from a ``.mcp.json`` at start-up (``open_toolboxes``), the scripted
model calls ``mcp_time_convert_time``, then the client's own tool, then answers; the Claude Code
CLI and the anthropic SDK each see one answer, and the next turn keeps the prefix."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anthropic
import orjson
import pytest
from harness.claude_cli import run_claude
from harness.fake_model import Call, FakeModel
from harness.proxy import provider_env
from harness.sdk_clients import track
from harness.servers import lynkr_state, serve_asgi, serve_state
from harness.wire import Reply, ToolCall

from lynkr.mcp.box import McpBox

pytestmark = pytest.mark.e2e
TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
CONVERT = {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
BASH = {
    "name": "Bash",
    "description": "Run a shell command.",
    "input_schema": {
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
    },
}


def _calls(message: dict[str, Any]) -> list[str]:
    return [c["function"]["name"] for c in message.get("tool_calls") or ()]


def scripted(steps: list[Reply]) -> Callable[[dict[str, Any]], Reply]:
    def script(body: dict[str, Any]) -> Reply:
        if not body.get("tools"):
            return Reply(text="ok")  # the CLI's side requests
        done = sum(1 for m in body["messages"] if m["role"] == "assistant" and _calls(m))
        return steps[min(done, len(steps) - 1)]

    return script


@contextmanager
def lynkr_with_mcp(tmp_path: Path, steps: list[Reply]) -> Iterator[tuple[str, FakeModel]]:
    manifest = tmp_path / ".mcp.json"
    manifest.write_text(json.dumps({"mcpServers": {"time": TIME}}))
    fake = FakeModel(scripted(steps))
    with serve_asgi(fake) as upstream:
        env = {
            **provider_env("openai", upstream),
            "LOG_LEVEL": "warning",
            "API_RETRY_MAX_RETRIES": "0",
            "MCP_MANIFEST_DIRS": str(manifest),
        }
        state = lynkr_state(env)
        with serve_state(state) as url:
            [box] = [b for b in state.toolboxes if isinstance(b, McpBox)]
            deadline = time.monotonic() + 60  # offered from a session's first request on
            while box.supervisor.handles["time"].state != "ready":
                assert time.monotonic() < deadline, box.supervisor.handles["time"].last_error
                time.sleep(0.1)
            yield url, fake


def _without_cache_marks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_cache_marks(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_marks(v) for v in value]
    return value


def assert_loop_and_prefix(loop_call: Call, next_call: Call) -> None:
    """The loop's second model call carries the real server's answer; the client's next turn
    repeats that call byte for byte (the MCP leg included)."""
    before, after = loop_call.body, next_call.body
    assert _calls(before["messages"][-2]) == ["mcp_time_convert_time"]
    result = json.loads(before["messages"][-1]["content"])
    assert result["target"]["datetime"].endswith("T21:00:00+09:00")  # mcp-server-time's answer
    names = [t["function"]["name"] for t in before["tools"]]
    assert "Bash" in names  # the client's tools first, then the box's
    assert names[-3:] == [
        "mcp_time_convert_time",
        "mcp_time_get_current_time",
        "workspace_mcp_call",
    ]
    assert orjson.dumps(after["tools"]) == orjson.dumps(before["tools"])
    n = len(before["messages"])
    assert orjson.dumps(_without_cache_marks(after["messages"][:n])) == orjson.dumps(
        _without_cache_marks(before["messages"])
    )


def test_claude_code_with_an_mcp_server_run_by_lynkr(tmp_path: Path, claude_bin: str) -> None:
    workspace, home = tmp_path / "ws", tmp_path / "home"
    workspace.mkdir()
    home.mkdir()
    target = workspace / "tokyo.txt"
    steps = [
        Reply(
            text="Converting.",
            tool_calls=(ToolCall("mcp_time_convert_time", CONVERT, id="call_m1"),),
        ),
        Reply(
            tool_calls=(
                ToolCall(
                    "Bash",
                    {"command": f"echo 21:00 > {target}", "description": "write"},
                    id="call_b1",
                ),
            )
        ),
        Reply(text="Noon UTC is 21:00 in Tokyo; written to tokyo.txt."),
    ]
    with lynkr_with_mcp(tmp_path, steps) as (url, fake):
        result = run_claude(claude_bin, url, "what time is noon UTC in Tokyo?", workspace, home)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.result["result"] == "Noon UTC is 21:00 in Tokyo; written to tokyo.txt."
    assert target.read_text() == "21:00\n"
    assert [u["name"] for u in result.tool_uses()] == ["Bash"]  # the client ran only its own
    main = [c for c in fake.calls if c.body.get("tools")]
    assert len(main) == 3
    assert_loop_and_prefix(main[1], main[2])


def test_the_anthropic_sdk_with_an_mcp_server_run_by_lynkr(tmp_path: Path) -> None:
    steps = [
        Reply(
            text="Converting.",
            tool_calls=(ToolCall("mcp_time_convert_time", CONVERT, id="call_m1"),),
        ),
        Reply(tool_calls=(ToolCall("Bash", {"command": "date"}, id="call_b1"),)),
        Reply(text="21:00 in Tokyo."),
    ]
    with lynkr_with_mcp(tmp_path, steps) as (url, fake):
        sdk = track(anthropic.Anthropic(base_url=url, api_key="dummy", max_retries=0))
        history: list[Any] = [{"role": "user", "content": "noon UTC in Tokyo?"}]
        with sdk.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            tools=[BASH],
            messages=history,
            extra_headers={"x-session-id": "mcp-sdk"},
        ) as stream:
            first = stream.get_final_message()
        assert [b.type for b in first.content] == [
            "text",
            "server_tool_use",
            "lynkr_tool_result",
            "tool_use",
        ]
        assert first.content[1].name == "mcp_time_convert_time"
        [use] = [b for b in first.content if b.type == "tool_use"]
        history += [
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "Wed"}],
            },
        ]
        second = sdk.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            tools=[BASH],
            messages=history,
            extra_headers={"x-session-id": "mcp-sdk"},
        )
    assert second.content[0].text == "21:00 in Tokyo."
    assert len(fake.calls) == 3
    assert_loop_and_prefix(fake.calls[1], fake.calls[2])
