"""MCP server settings: the original's ``MCP_*`` variables and defaults, plus new ones.

Read from ``Settings.environ`` (``mcp_settings(Env(settings.environ))``), so nothing else in the
configuration has to know about MCP servers.

Isolation (``sandbox``) follows the original where it can: ``MCP_SANDBOX_ENABLED`` left unset
isolates stdio servers only when ``MCP_SANDBOX_IMAGE`` names a container image (the original's
rule: enabled *and* an image); ``MCP_SANDBOX_ENABLED=true`` without an image runs them in
bubblewrap; ``false`` runs them as plain child processes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

import attrs

from lynkr.config.cloud import echo_flag
from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.settings import Env

Isolation = Literal["none", "bwrap", "container"]
DEFAULT_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TERM", "HOME")


@attrs.frozen
class Mount:
    host: str
    target: str
    writable: bool = False


@attrs.frozen
class SandboxSettings:
    isolation: Isolation = "none"
    image: str | None = None  # MCP_SANDBOX_IMAGE: the container image (isolation "container")
    runtime: str = "docker"  # MCP_SANDBOX_RUNTIME: docker | podman (any docker-like CLI)
    allow_network: bool = False  # MCP_SANDBOX_ALLOW_NETWORKING
    workspace: str | None = None  # WORKSPACE_ROOT, when set and MCP_SANDBOX_MOUNT_WORKSPACE
    workspace_writable: bool = False  # MCP_SANDBOX_WORKSPACE_WRITABLE
    passthrough_env: tuple[str, ...] = DEFAULT_PASSTHROUGH  # MCP_SANDBOX_PASSTHROUGH_ENV
    extra_mounts: tuple[Mount, ...] = ()  # MCP_SANDBOX_EXTRA_MOUNTS: host:target:ro|rw,...


@attrs.frozen
class McpSettings:
    server_manifest: str | None = None  # MCP_SERVER_MANIFEST: one manifest file
    manifest_dirs: tuple[str, ...] = ("~/.claude/mcp",)  # MCP_MANIFEST_DIRS
    sandbox: SandboxSettings = attrs.field(factory=SandboxSettings)
    # new in Lynkr (Python)
    # MCP_CALL_TIMEOUT_MS: one tool call, a server start included; under the tool loop's own
    # TOOL_TIMEOUT_MS (30 s), so the model reads this box's answer, which names the server
    call_timeout_s: float = 25.0
    start_timeout_s: float = 30.0  # MCP_START_TIMEOUT_MS: spawn/connect + initialize + list
    restart_max_delay_s: float = 60.0  # MCP_RESTART_MAX_DELAY_MS: the backoff's ceiling
    ping_interval_s: float = 30.0  # MCP_PING_INTERVAL_MS: liveness check of a ready server
    max_output_chars: int = 100_000  # MCP_MAX_OUTPUT_CHARS: a tool result is cut beyond this

    @property
    def manifest_paths(self) -> tuple[str, ...]:
        return (
            (self.server_manifest, *self.manifest_dirs)
            if self.server_manifest
            else self.manifest_dirs
        )


def split_list(raw: str) -> tuple[str, ...]:
    """The original documented ``;`` and showed ``:`` in its FAQ, and its code split on ``,``:
    all three separate entries here."""
    for sep in (";", ":"):
        raw = raw.replace(sep, ",")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def parse_mounts(raw: str) -> tuple[Mount, ...]:
    mounts = []
    for entry in (e.strip() for e in raw.split(",") if e.strip()):
        parts = entry.split(":")
        if len(parts) == 2:
            parts.append("ro")
        if len(parts) != 3 or parts[2] not in ("ro", "rw") or not all(parts[:2]):
            raise SettingsError(
                f"MCP_SANDBOX_EXTRA_MOUNTS entries are host:target[:ro|rw], got {entry!r}"
            )
        mounts.append(Mount(os.path.expanduser(parts[0]), parts[1], parts[2] == "rw"))
    return tuple(mounts)


def sandbox_settings(env: Env) -> SandboxSettings:
    image = env.str("MCP_SANDBOX_IMAGE")
    enabled = echo_flag(env, "MCP_SANDBOX_ENABLED", None)
    isolation: Isolation = "none"
    if image and enabled is not False:
        isolation = "container"
    elif enabled:
        isolation = "bwrap"
    mounted = echo_flag(env, "MCP_SANDBOX_MOUNT_WORKSPACE", True)
    root = env.str("WORKSPACE_ROOT")
    passthrough = env.str("MCP_SANDBOX_PASSTHROUGH_ENV")
    return SandboxSettings(
        isolation=isolation,
        image=image,
        runtime=env.str("MCP_SANDBOX_RUNTIME", "docker") or "docker",
        allow_network=bool(echo_flag(env, "MCP_SANDBOX_ALLOW_NETWORKING", False)),
        workspace=os.path.abspath(root) if mounted and root else None,
        workspace_writable=bool(echo_flag(env, "MCP_SANDBOX_WORKSPACE_WRITABLE", False)),
        passthrough_env=tuple(p.strip() for p in passthrough.split(",") if p.strip())
        if passthrough
        else DEFAULT_PASSTHROUGH,
        extra_mounts=parse_mounts(env.str("MCP_SANDBOX_EXTRA_MOUNTS") or ""),
    )


def mcp_settings(env: Env) -> McpSettings:
    dirs = env.values.get("MCP_MANIFEST_DIRS")
    return McpSettings(
        server_manifest=env.str("MCP_SERVER_MANIFEST"),
        # set but empty: no directory at all (as the original); unset: ~/.claude/mcp
        manifest_dirs=("~/.claude/mcp",) if dirs is None else split_list(dirs),
        sandbox=sandbox_settings(env),
        call_timeout_s=env.int("MCP_CALL_TIMEOUT_MS", 25_000, minimum=100) / 1000,
        start_timeout_s=env.int("MCP_START_TIMEOUT_MS", 30_000, minimum=100) / 1000,
        restart_max_delay_s=env.int("MCP_RESTART_MAX_DELAY_MS", 60_000, minimum=100) / 1000,
        ping_interval_s=env.int("MCP_PING_INTERVAL_MS", 30_000, minimum=0) / 1000,
        max_output_chars=env.int("MCP_MAX_OUTPUT_CHARS", 100_000, minimum=1000),
    )
