"""lynkr.mcp.manifest: both formats read into the same values, and every mistake reported with
its file and location, all together, never raised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lynkr.mcp.manifest import Problem, ServerSpec, parse_manifest, read_manifests

ENV = {"TOKEN": "t0k", "HOME": "/home/u"}


def parse(document: Any) -> tuple[list[ServerSpec], list[str]]:
    text = document if isinstance(document, str) else json.dumps(document)
    servers, problems = parse_manifest(text, "m.json", ENV)
    return servers, [str(p) for p in problems]


def test_claude_code_mcp_json_stdio_and_http_with_variables_expanded() -> None:
    servers, problems = parse(
        {
            "mcpServers": {
                "time": {"command": "uvx", "args": ["mcp-server-time", "--tz", "${TZ:-UTC}"]},
                "gh": {
                    "type": "stdio",
                    "command": "gh-mcp",
                    "env": {"GITHUB_TOKEN": "${TOKEN}"},
                    "cwd": "${HOME}/src",
                },
                "docs": {
                    "type": "http",
                    "url": "https://mcp.example/mcp",
                    "headers": {"Authorization": "Bearer ${TOKEN}"},
                },
                "old": {"type": "sse", "url": "http://127.0.0.1:9/sse"},
                "bare": {"url": "https://x.example/mcp"},
            }
        }
    )
    assert problems == []
    assert servers == [
        ServerSpec(
            "time",
            "stdio",
            "m.json: mcpServers.time",
            command="uvx",
            args=("mcp-server-time", "--tz", "UTC"),
        ),
        ServerSpec(
            "gh",
            "stdio",
            "m.json: mcpServers.gh",
            command="gh-mcp",
            env={"GITHUB_TOKEN": "t0k"},
            cwd="/home/u/src",
        ),
        ServerSpec(
            "docs",
            "http",
            "m.json: mcpServers.docs",
            url="https://mcp.example/mcp",
            headers={"Authorization": "Bearer t0k"},
        ),
        ServerSpec("old", "sse", "m.json: mcpServers.old", url="http://127.0.0.1:9/sse"),
        ServerSpec("bare", "http", "m.json: mcpServers.bare", url="https://x.example/mcp"),
    ]


@pytest.mark.parametrize(
    "document",
    [
        {
            "servers": [
                {
                    "id": "time",
                    "command": "mcp-server-time",
                    "args": ["--x", 1],
                    "description": "clock",
                    "env": {"A": "b"},
                }
            ]
        },
        [
            {
                "name": "time",
                "command": "mcp-server-time",
                "args": ["--x", "1"],
                "description": "clock",
                "env": {"A": "b"},
            }
        ],
        {
            "servers": [
                {
                    "label": "time",
                    "transport": "stdio",
                    "command": "mcp-server-time",
                    "args": ["--x", "1"],
                    "description": "clock",
                    "env": {"A": "b"},
                }
            ]
        },
    ],
)
def test_the_original_format_by_id_name_or_label(document: Any) -> None:
    servers, problems = parse(document)
    assert problems == []
    assert [(s.name, s.command, s.args, s.env, s.description) for s in servers] == [
        ("time", "mcp-server-time", ("--x", "1"), {"A": "b"}, "clock")
    ]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            '{"mcpServers": {',
            "m.json: line 1 column 17: not JSON: Expecting property name enclosed in double quotes",
        ),
        ({"mcpServers": []}, "m.json: mcpServers: must be an object of servers by name"),
        ({"mcpServers": {"a": "cmd"}}, "m.json: mcpServers.a: a server must be an object, got str"),
        (
            {"mcpServers": {"a": {"args": ["x"]}}},
            'm.json: mcpServers.a: a stdio server needs a "command"',
        ),
        (
            {"mcpServers": {"a": {"command": "c", "args": "x y"}}},
            "m.json: mcpServers.a.args: must be a list of strings, got str",
        ),
        (
            {"mcpServers": {"a": {"command": "c", "args": ["ok", {"k": 1}]}}},
            "m.json: mcpServers.a.args[1]: must be a string, got dict",
        ),
        (
            {"mcpServers": {"a": {"command": "c", "env": {"K": None}}}},
            "m.json: mcpServers.a.env.K: must be a string, got NoneType",
        ),
        (
            {"mcpServers": {"a": {"command": "c", "env": {"K": "${MISSING}"}}}},
            "m.json: mcpServers.a.env.K: ${MISSING} is not set in the environment (write "
            "${MISSING:-default} for a default)",
        ),
        (
            {"mcpServers": {"a": {"type": "websocket", "url": "ws://x"}}},
            "m.json: mcpServers.a.type: unknown transport 'websocket' (stdio, http or sse)",
        ),
        (
            {"mcpServers": {"a": {"type": "http", "url": "ftp://x"}}},
            "m.json: mcpServers.a.url: an http server needs an http(s) \"url\", got 'ftp://x'",
        ),
        (
            {"mcpServers": {"a": {"command": "c", "sandbox": "yes"}}},
            "m.json: mcpServers.a.sandbox: must be true or false",
        ),
        (
            {"servers": {"a": {}}},
            'm.json: servers: expected {"mcpServers": {...}} or {"servers": [...]}',
        ),
        ({"servers": [{"command": "c"}]}, 'm.json: servers[0]: a server needs an "id" (or "name")'),
        (42, 'm.json: (top level): expected {"mcpServers": {...}} or {"servers": [...]}'),
    ],
)
def test_each_mistake_names_its_file_and_location(document: Any, expected: str) -> None:
    servers, problems = parse(document)
    assert servers == []
    assert problems == [expected]


def test_a_bad_server_never_hides_the_good_ones_and_all_problems_come_together() -> None:
    servers, problems = parse(
        {
            "mcpServers": {
                "bad1": {"command": 3},
                "good": {"command": "ok"},
                "bad2": {"type": "http"},
            }
        }
    )
    assert [s.name for s in servers] == ["good"]
    assert problems == [
        "m.json: mcpServers.bad1.command: must be a string, got int",
        'm.json: mcpServers.bad1: a stdio server needs a "command"',
        'm.json: mcpServers.bad2.url: an http server needs an http(s) "url", got None',
    ]


def test_directories_files_duplicates_and_missing_paths(tmp_path: Path) -> None:
    first = tmp_path / "dir" / "a.json"
    first.parent.mkdir()
    first.write_text(json.dumps({"servers": [{"id": "time", "command": "one"}]}))
    (tmp_path / "dir" / "b.json").write_text(
        json.dumps({"mcpServers": {"time": {"command": "two"}, "other": {"command": "three"}}})
    )
    (tmp_path / "dir" / "notes.txt").write_text("not a manifest")
    project = tmp_path / ".mcp.json"
    project.write_text(json.dumps({"mcpServers": {"proj": {"command": "p"}}}))
    found = read_manifests(
        [str(project), str(tmp_path / "dir"), str(tmp_path / "gone"), "~/.nowhere-default"],
        ENV,
        default_dirs=["~/.nowhere-default"],
    )
    assert [(s.name, s.command) for s in found.servers] == [
        ("proj", "p"),
        ("time", "one"),
        ("other", "three"),
    ]
    assert found.files == (str(project), str(first), str(tmp_path / "dir" / "b.json"))
    assert found.problems == (
        Problem(str(tmp_path / "gone"), "(path)", "no such file or directory"),
        Problem(
            str(tmp_path / "dir" / "b.json"),
            "mcpServers.time",
            f"server 'time' is already defined at {first}: servers[0]; this one is ignored",
        ),
    )
