"""How a stdio MCP server is launched: as a plain child process, in bubblewrap, or in a container.

Assumes: ``SandboxSettings`` says which isolation is configured; the filesystem is looked at
(which directories exist, where a command lives) but nothing is started here.
Guarantees: with ``bwrap``, the server sees a read-only system (``/usr``, ``/bin``, ``/lib*``,
``/etc``), its own files read-only (the virtualenv or ``node_modules`` tree its command and
arguments live in), a private empty ``/tmp`` and home, no network unless
``MCP_SANDBOX_ALLOW_NETWORKING``, the workspace read-only unless
``MCP_SANDBOX_WORKSPACE_WRITABLE``, only the passthrough environment plus its manifest's
``env``, no capabilities, and it dies with Lynkr. With a container image, the same policy in
``docker run`` / ``podman run`` terms.
Never: falls back to running a server unisolated when isolation is configured: a missing
``bwrap`` or a broken container runtime makes the server fail to start, with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from lynkr.config.mcp import SandboxSettings
from lynkr.mcp.manifest import ServerSpec

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
CONTAINER_WORKSPACE = "/workspace"


@attrs.frozen
class Launch:
    """The process to spawn for a stdio server, and the isolation it runs under."""

    command: str
    args: tuple[str, ...]
    env: Mapping[str, str] | None  # None: the MCP SDK's safe default environment + spec.env
    cwd: str | None
    isolation: str  # for `lynkr mcp list` and the logs: "none", "bwrap (no network, ...)"


def isolation_of(spec: ServerSpec, sandbox: SandboxSettings) -> str:
    """``none``, ``bwrap`` or ``container`` for this server (HTTP servers are never wrapped)."""
    if spec.transport != "stdio" or spec.sandbox is False:
        return "none"
    if sandbox.isolation == "none" and spec.sandbox:
        return "bwrap"
    return sandbox.isolation


def launch(spec: ServerSpec, sandbox: SandboxSettings, environ: Mapping[str, str]) -> Launch:
    kind = isolation_of(spec, sandbox)
    assert spec.command is not None
    if kind == "bwrap":
        return bwrap_launch(spec, sandbox, environ)
    if kind == "container":
        return container_launch(spec, sandbox)
    return Launch(
        spec.command, spec.args, None if not spec.env else dict(spec.env), spec.cwd, "none"
    )


def _policy(sandbox: SandboxSettings) -> str:
    network = "network" if sandbox.allow_network else "no network"
    if sandbox.workspace is None:
        workspace = "no workspace"
    else:
        workspace = f"workspace {sandbox.workspace} {'rw' if sandbox.workspace_writable else 'ro'}"
    return f"{network}, {workspace}"


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def own_root(path: Path) -> Path:
    """The tree a server's file belongs to: above the outermost ``node_modules``, the
    virtualenv holding it, the prefix of a ``bin`` directory, else its own directory."""
    parts = path.parts
    if "node_modules" in parts:
        return Path(*parts[: parts.index("node_modules")])
    for parent in path.parents:
        if (parent / "pyvenv.cfg").is_file():
            return parent
    folder = path if path.is_dir() else path.parent
    return folder.parent if folder.name == "bin" else folder


def own_files(spec: ServerSpec, environ: Mapping[str, str]) -> list[str]:
    """The directories a server's command and path arguments live in, outside the system
    (each path as given and with its symbolic links resolved: a virtualenv's python is a link
    to its base interpreter)."""
    assert spec.command is not None
    found = shutil.which(spec.command, path=environ.get("PATH", os.defpath))
    roots: list[str] = []
    for raw in (found or spec.command, *spec.args):
        if not os.path.isabs(raw) and spec.cwd is not None:
            raw = os.path.join(spec.cwd, raw)
        if not os.path.isabs(raw) or not os.path.exists(raw):
            continue
        for path in (os.path.abspath(raw), os.path.realpath(raw)):
            root = str(own_root(Path(path)))
            if root != "/" and not _under(root, SYSTEM) and root not in roots:
                roots.append(root)
    return roots


def bwrap_launch(spec: ServerSpec, sandbox: SandboxSettings, environ: Mapping[str, str]) -> Launch:
    argv = ["--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL"]
    if sandbox.allow_network:
        argv.append("--share-net")
    for path in SYSTEM:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    home = environ.get("HOME") or "/tmp"
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    if home != "/tmp":
        argv += ["--tmpfs", home]
    for root in own_files(spec, environ):
        argv += ["--ro-bind", root, root]
    if sandbox.workspace is not None and os.path.isdir(sandbox.workspace):
        bind = "--bind" if sandbox.workspace_writable else "--ro-bind"
        argv += [bind, sandbox.workspace, sandbox.workspace]
    for mount in sandbox.extra_mounts:
        argv += ["--bind" if mount.writable else "--ro-bind", mount.host, mount.target]
    if spec.cwd is not None:
        argv += ["--ro-bind-try", spec.cwd, spec.cwd, "--chdir", spec.cwd]
    else:
        argv += ["--chdir", sandbox.workspace or "/"]
    argv.append("--clearenv")
    passed = {n: environ[n] for n in sandbox.passthrough_env if n in environ}
    for name, value in {**passed, "HOME": home, **spec.env}.items():
        argv += ["--setenv", name, value]
    assert spec.command is not None
    argv += ["--", spec.command, *spec.args]
    return Launch(
        "bwrap",
        tuple(argv),
        {"PATH": environ.get("PATH", os.defpath)},
        None,
        f"bwrap ({_policy(sandbox)})",
    )


def container_launch(spec: ServerSpec, sandbox: SandboxSettings) -> Launch:
    argv = [
        "run",
        "--rm",
        "-i",
        "--read-only",
        "--security-opt",
        "no-new-privileges",
        "--cap-drop",
        "ALL",
        "--tmpfs",
        "/tmp",
        "--network",
        "bridge" if sandbox.allow_network else "none",
    ]
    if sandbox.workspace is not None:
        mode = "rw" if sandbox.workspace_writable else "ro"
        argv += [
            "-v",
            f"{sandbox.workspace}:{CONTAINER_WORKSPACE}:{mode}",
            "-w",
            CONTAINER_WORKSPACE,
        ]
    for mount in sandbox.extra_mounts:
        argv += ["-v", f"{mount.host}:{mount.target}:{'rw' if mount.writable else 'ro'}"]
    for name, value in spec.env.items():
        argv += ["-e", f"{name}={value}"]
    assert spec.command is not None and sandbox.image is not None
    argv += [sandbox.image, spec.command, *spec.args]
    return Launch(
        sandbox.runtime,
        tuple(argv),
        None,
        None,
        f"container {sandbox.runtime} {sandbox.image} ({_policy(sandbox)})",
    )
