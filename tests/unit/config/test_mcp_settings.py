"""lynkr.config.mcp: the original's MCP_* variables and defaults, and which isolation they
select."""

from __future__ import annotations

import pytest

from lynkr.config.errors import SettingsError
from lynkr.config.mcp import DEFAULT_PASSTHROUGH, McpSettings, Mount, mcp_settings
from lynkr.config.settings import Env


def settings(**values: str) -> McpSettings:
    return mcp_settings(Env(values))


def test_defaults_are_the_originals() -> None:
    mcp = settings()
    assert mcp.manifest_paths == ("~/.claude/mcp",)
    assert (mcp.sandbox.isolation, mcp.sandbox.workspace) == ("none", None)
    assert mcp.sandbox.passthrough_env == DEFAULT_PASSTHROUGH
    assert (mcp.call_timeout_s, mcp.start_timeout_s, mcp.restart_max_delay_s) == (25, 30, 60)


@pytest.mark.parametrize(
    ("values", "isolation"),
    [
        ({}, "none"),
        ({"MCP_SANDBOX_IMAGE": "img"}, "container"),  # the original: enabled (default) + image
        ({"MCP_SANDBOX_ENABLED": "true"}, "bwrap"),
        ({"MCP_SANDBOX_ENABLED": "true", "MCP_SANDBOX_IMAGE": "img"}, "container"),
        ({"MCP_SANDBOX_ENABLED": "false", "MCP_SANDBOX_IMAGE": "img"}, "none"),
    ],
)
def test_which_isolation(values: dict[str, str], isolation: str) -> None:
    assert settings(**values).sandbox.isolation == isolation


def test_lists_paths_and_mounts() -> None:
    mcp = settings(
        MCP_SERVER_MANIFEST="/etc/m.json",
        MCP_MANIFEST_DIRS="/a;/b,/c:/d",
        WORKSPACE_ROOT="/w",
        MCP_SANDBOX_EXTRA_MOUNTS="/x:/y,/p:/q:rw",
        MCP_SANDBOX_PASSTHROUGH_ENV="PATH, LANG",
    )
    assert mcp.manifest_paths == ("/etc/m.json", "/a", "/b", "/c", "/d")
    assert mcp.sandbox.workspace == "/w"
    assert mcp.sandbox.extra_mounts == (Mount("/x", "/y"), Mount("/p", "/q", writable=True))
    assert mcp.sandbox.passthrough_env == ("PATH", "LANG")
    assert settings(MCP_MANIFEST_DIRS="").manifest_paths == ()
    assert (
        settings(WORKSPACE_ROOT="/w", MCP_SANDBOX_MOUNT_WORKSPACE="false").sandbox.workspace is None
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"MCP_SANDBOX_EXTRA_MOUNTS": "/x"},
            "MCP_SANDBOX_EXTRA_MOUNTS entries are host:target[:ro|rw], got '/x'",
        ),
        (
            {"MCP_SANDBOX_EXTRA_MOUNTS": "/x:/y:rx"},
            "MCP_SANDBOX_EXTRA_MOUNTS entries are host:target[:ro|rw], got '/x:/y:rx'",
        ),
        (
            {"MCP_SANDBOX_ENABLED": "maybe"},
            "MCP_SANDBOX_ENABLED must be true or false, got 'maybe'",
        ),
        ({"MCP_CALL_TIMEOUT_MS": "5"}, "MCP_CALL_TIMEOUT_MS must be at least 100, got 5"),
    ],
)
def test_bad_values_name_their_variable(values: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings(**values)
    assert str(error.value) == message
