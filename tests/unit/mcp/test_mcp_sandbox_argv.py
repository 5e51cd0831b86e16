"""lynkr.mcp.sandbox: the bubblewrap and container command lines for each policy."""

from __future__ import annotations

import sys
from pathlib import Path

from lynkr.config.mcp import Mount, SandboxSettings
from lynkr.mcp.manifest import ServerSpec
from lynkr.mcp.sandbox import isolation_of, launch, own_root

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "SECRET_KEY": "k"}


def spec(**fields: object) -> ServerSpec:
    values: dict[str, object] = {
        "name": "s",
        "transport": "stdio",
        "source": "m.json: x",
        "command": "/usr/bin/env",
        "args": ("srv",),
    }
    values.update(fields)
    return ServerSpec(**values)  # type: ignore[arg-type]


def pairs(argv: tuple[str, ...], flag: str) -> list[tuple[str, ...]]:
    width = {"--setenv": 2, "--ro-bind": 2, "--bind": 2, "--tmpfs": 1, "-v": 1, "-e": 1}[flag]
    return [tuple(argv[i + 1 : i + 1 + width]) for i, a in enumerate(argv) if a == flag]


def test_no_isolation_runs_the_command_itself() -> None:
    plan = launch(spec(env={"A": "b"}), SandboxSettings(), ENV)
    assert (plan.command, plan.args, plan.env, plan.isolation) == (
        "/usr/bin/env",
        ("srv",),
        {"A": "b"},
        "none",
    )


def test_bwrap_default_policy(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    plan = launch(spec(env={"TOKEN": "t"}), SandboxSettings("bwrap", workspace=str(workspace)), ENV)
    argv = plan.args
    assert plan.command == "bwrap"
    assert plan.isolation == f"bwrap (no network, workspace {workspace} ro)"
    assert argv[:5] == ("--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL")
    assert "--share-net" not in argv
    assert ("/usr", "/usr") in pairs(argv, "--ro-bind")
    assert (str(workspace), str(workspace)) in pairs(argv, "--ro-bind")
    assert pairs(argv, "--bind") == []
    assert pairs(argv, "--tmpfs") == [("/tmp",), ("/home/u",)]
    assert "--clearenv" in argv
    assert dict(pairs(argv, "--setenv")) == {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/home/u",
        "TOKEN": "t",
    }
    assert argv[argv.index("--") + 1 :] == ("/usr/bin/env", "srv")
    assert argv[argv.index("--chdir") + 1] == str(workspace)


def test_bwrap_network_writable_workspace_and_extra_mounts(tmp_path: Path) -> None:
    sandbox = SandboxSettings(
        "bwrap",
        allow_network=True,
        workspace=str(tmp_path),
        workspace_writable=True,
        extra_mounts=(Mount("/srv/cache", "/cache", writable=True), Mount("/srv/ro", "/ro")),
        passthrough_env=("PATH",),
    )
    argv = launch(spec(), sandbox, ENV).args
    assert "--share-net" in argv
    assert pairs(argv, "--bind") == [(str(tmp_path), str(tmp_path)), ("/srv/cache", "/cache")]
    assert ("/srv/ro", "/ro") in pairs(argv, "--ro-bind")
    assert "SECRET_KEY" not in dict(pairs(argv, "--setenv"))


def test_a_servers_own_files_are_bound_read_only(tmp_path: Path) -> None:
    package = tmp_path / "app" / "node_modules" / "@scope" / "srv" / "dist" / "index.js"
    package.parent.mkdir(parents=True)
    package.write_text("")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin" / "srv").write_text("")
    assert own_root(package) == tmp_path / "app"
    assert own_root(venv / "bin" / "srv") == venv
    assert own_root(Path("/opt/tool/bin/tool")) == Path("/opt/tool")
    argv = launch(spec(command="node", args=(str(package),)), SandboxSettings("bwrap"), ENV).args
    assert (str(tmp_path / "app"),) * 2 in pairs(argv, "--ro-bind")
    python = launch(
        spec(command=sys.executable, args=("-m", "x")), SandboxSettings("bwrap"), ENV
    ).args
    real = Path(sys.executable).resolve()
    assert any(real.is_relative_to(bound) for bound, _ in pairs(python, "--ro-bind"))


def test_container_policy() -> None:
    sandbox = SandboxSettings("container", image="img:1", runtime="podman", workspace="/w")
    plan = launch(spec(env={"A": "b"}), sandbox, ENV)
    assert plan.command == "podman"
    assert plan.args == (
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
        "none",
        "-v",
        "/w:/workspace:ro",
        "-w",
        "/workspace",
        "-e",
        "A=b",
        "img:1",
        "/usr/bin/env",
        "srv",
    )
    assert plan.isolation == "container podman img:1 (no network, workspace /w ro)"


def test_which_servers_are_isolated() -> None:
    bwrap, none = SandboxSettings("bwrap"), SandboxSettings()
    assert isolation_of(spec(), bwrap) == "bwrap"
    assert isolation_of(spec(sandbox=False), bwrap) == "none"
    assert isolation_of(spec(sandbox=True), none) == "bwrap"
    assert isolation_of(spec(transport="http", command=None, url="http://x"), bwrap) == "none"
