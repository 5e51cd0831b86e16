"""lynkr.mcp.supervisor on trio's virtual clock: a server that cannot start is retried after
1, 2, 4 ... seconds up to MCP_RESTART_MAX_DELAY_MS, forever, and calls meanwhile answer at
once that it is not available."""

from __future__ import annotations

import logging

import pytest
import trio
import trio.testing

from lynkr.config.mcp import McpSettings
from lynkr.mcp.manifest import ServerSpec
from lynkr.mcp.supervisor import ServerHandle

GHOST = ServerSpec(
    "ghost", "stdio", "m.json: mcpServers.ghost", command="/nonexistent/lynkr-test-server"
)


@pytest.fixture
def clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def test_restarts_back_off_to_the_ceiling_and_never_give_up(
    clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    handle = ServerHandle(GHOST, McpSettings(restart_max_delay_s=8.0), {})
    caplog.set_level(logging.WARNING, logger="lynkr.mcp")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(handle.run)
        await handle.wait_settled()
        assert handle.state == "restarting"
        assert handle.last_error == "command not found: /nonexistent/lynkr-test-server"
        start = trio.current_time()
        outcome = await handle.call("anything", {})
        assert trio.current_time() == start  # answered at once, not at the call timeout
        assert outcome.is_error
        assert outcome.text == (
            "MCP server 'ghost' is not available (restarting; next start "
            "in 1 s): command not found: /nonexistent/lynkr-test-server"
        )
        while handle.restarts < 8:
            await trio.sleep(0.5)
        nursery.cancel_scope.cancel()
    delays = [r.args[2] for r in caplog.records if r.msg.startswith("MCP server %s stopped")]
    assert delays[:7] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    assert len(delays) >= 8 and handle.attempts == len(delays)
