"""MCP server manifests, in the two formats users already have, read into ``ServerSpec`` values.

- the original Lynkr's: a JSON file ``{"servers": [{"id": ..., "command": ..., "args": [...],
  "env": {...}}]}`` (or the list alone), the name taken from ``id``, ``name`` or ``label``;
- Claude Code's ``.mcp.json`` and Claude Desktop's ``claude_desktop_config.json``:
  ``{"mcpServers": {"name": {"command", "args", "env"} | {"type": "http", "url", "headers"}}}``,
  with Claude Code's ``${VAR}`` and ``${VAR:-default}`` expanded in command, args, env, url and
  headers.

Assumes: nothing about the files (any may be missing, unreadable, not JSON, or wrong).
Guarantees: every problem is a ``Problem`` naming its file and location (a JSON path, or the
line and column of a syntax error), all of them reported together; a bad server never hides the
good ones beside it; the first definition of a name wins and later ones are reported.
Never: raises for a bad file, or starts anything (parsing is pure; ``read_manifests`` only reads).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

Transport = Literal["stdio", "http", "sse"]
TRANSPORTS: Mapping[str, Transport] = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamablehttp": "http",
    "sse": "sse",
}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@attrs.frozen
class ServerSpec:
    """One MCP server as a manifest declares it."""

    name: str
    transport: Transport
    source: str  # "file: location", where it was declared
    command: str | None = None  # stdio
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = attrs.field(factory=dict)
    cwd: str | None = None
    url: str | None = None  # http / sse
    headers: Mapping[str, str] = attrs.field(factory=dict)
    description: str = ""
    sandbox: bool | None = None  # per-server override of the configured isolation (stdio only)


@attrs.frozen
class Problem:
    file: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.message}"


@attrs.frozen
class Manifests:
    servers: tuple[ServerSpec, ...] = ()
    problems: tuple[Problem, ...] = ()
    files: tuple[str, ...] = ()  # every manifest file read, in order


class _Reader:
    """Collects the problems of one file while its servers are read."""

    def __init__(self, file: str, environ: Mapping[str, str]) -> None:
        self.file = file
        self.environ = environ
        self.problems: list[Problem] = []

    def problem(self, location: str, message: str) -> None:
        self.problems.append(Problem(self.file, location, message))

    def expand(self, value: str, location: str) -> str:
        def one(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.environ:
                return self.environ[name]
            if default is not None:
                return default
            self.problem(
                location,
                f"${{{name}}} is not set in the environment (write "
                f"${{{name}:-default}} for a default)",
            )
            return ""

        return _VARIABLE.sub(one, value)

    def string(self, entry: Mapping[str, Any], key: str, where: str) -> str | None:
        value = entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(f"{where}.{key}", f"must be a string, got {type(value).__name__}")
            return None
        return self.expand(value, f"{where}.{key}")

    def strings(self, entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = entry.get(key, [])
        if not isinstance(value, list):
            self.problem(f"{where}.{key}", f"must be a list of strings, got {type(value).__name__}")
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str | int | float) and not isinstance(item, bool):
                out.append(self.expand(str(item), f"{where}.{key}[{i}]"))
            else:
                self.problem(f"{where}.{key}[{i}]", f"must be a string, got {type(item).__name__}")
        return tuple(out)

    def mapping(self, entry: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
        value = entry.get(key, {})
        if not isinstance(value, dict):
            self.problem(
                f"{where}.{key}", f"must be an object of strings, got {type(value).__name__}"
            )
            return {}
        out = {}
        for name, item in value.items():
            if isinstance(item, str | int | float) and not isinstance(item, bool):
                out[str(name)] = self.expand(str(item), f"{where}.{key}.{name}")
            else:
                self.problem(
                    f"{where}.{key}.{name}", f"must be a string, got {type(item).__name__}"
                )
        return out

    def server(self, name: str, entry: Any, where: str) -> ServerSpec | None:
        if not isinstance(entry, dict):
            self.problem(where, f"a server must be an object, got {type(entry).__name__}")
            return None
        before = len(self.problems)
        kind = entry.get("type", entry.get("transport"))
        url = self.string(entry, "url", where)
        command = self.string(entry, "command", where)
        if kind is None:
            kind = "http" if url and not command else "stdio"
        transport = TRANSPORTS.get(str(kind).lower()) if isinstance(kind, str) else None
        if transport is None:
            self.problem(f"{where}.type", f"unknown transport {kind!r} (stdio, http or sse)")
            return None
        sandbox = entry.get("sandbox")
        if sandbox is not None and not isinstance(sandbox, bool):
            self.problem(f"{where}.sandbox", "must be true or false")
        description = entry.get("description")
        spec = ServerSpec(
            name=name,
            transport=transport,
            source=f"{self.file}: {where}",
            command=command,
            args=self.strings(entry, "args", where),
            env=self.mapping(entry, "env", where),
            cwd=self.string(entry, "cwd", where),
            url=url,
            headers=self.mapping(entry, "headers", where),
            description=description if isinstance(description, str) else "",
            sandbox=sandbox if isinstance(sandbox, bool) else None,
        )
        if transport == "stdio" and not command:
            self.problem(where, 'a stdio server needs a "command"')
        if transport != "stdio" and not (url and url.startswith(("http://", "https://"))):
            self.problem(
                f"{where}.url", f'an {transport} server needs an http(s) "url", got {url!r}'
            )
        return spec if len(self.problems) == before else None


def parse_manifest(
    text: str, file: str, environ: Mapping[str, str]
) -> tuple[list[ServerSpec], list[Problem]]:
    """The servers one manifest file declares, and its problems."""
    reader = _Reader(file, environ)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        reader.problem(f"line {exc.lineno} column {exc.colno}", f"not JSON: {exc.msg}")
        return [], reader.problems
    found: list[ServerSpec | None] = []
    if isinstance(document, dict) and "mcpServers" in document:
        servers = document["mcpServers"]
        if not isinstance(servers, dict):
            reader.problem("mcpServers", "must be an object of servers by name")
        else:
            found = [reader.server(str(n), e, f"mcpServers.{n}") for n, e in servers.items()]
    elif isinstance(document, dict | list):
        entries = document.get("servers") if isinstance(document, dict) else document
        where = "servers" if isinstance(document, dict) else ""
        if not isinstance(entries, list):
            reader.problem(
                where or "(top level)", 'expected {"mcpServers": {...}} or {"servers": [...]}'
            )
            entries = []
        for i, entry in enumerate(entries):
            at = f"{where}[{i}]"
            name = (
                entry.get("id", entry.get("name", entry.get("label")))
                if isinstance(entry, dict)
                else None
            )
            if name is None or not str(name).strip():
                reader.problem(at, 'a server needs an "id" (or "name")')
                continue
            found.append(reader.server(str(name).strip(), entry, at))
    else:
        reader.problem("(top level)", 'expected {"mcpServers": {...}} or {"servers": [...]}')
    return [s for s in found if s is not None], reader.problems


def manifest_files(
    paths: Iterable[str], *, default_dirs: Iterable[str] = ()
) -> tuple[list[Path], list[Problem]]:
    """The JSON files under ``paths`` (a file is taken as it is; a directory gives its
    ``*.json`` files by name). A missing path is a problem unless it is a default."""
    files: list[Path] = []
    problems: list[Problem] = []
    defaults = {os.path.expanduser(d) for d in default_dirs}
    for raw in paths:
        path = Path(os.path.expanduser(raw))
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            try:
                files.extend(
                    sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and p.is_file())
                )
            except OSError as exc:
                problems.append(Problem(str(path), "(directory)", f"unreadable: {exc}"))
        elif str(path) not in defaults:
            problems.append(Problem(str(path), "(path)", "no such file or directory"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems


def read_manifests(
    paths: Iterable[str], environ: Mapping[str, str], *, default_dirs: Iterable[str] = ()
) -> Manifests:
    """Every server of every manifest under ``paths``, and every problem found on the way."""
    files, problems = manifest_files(paths, default_dirs=default_dirs)
    servers: dict[str, ServerSpec] = {}
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(file), "(file)", f"unreadable: {exc}"))
            continue
        found, file_problems = parse_manifest(text, str(file), environ)
        problems.extend(file_problems)
        for spec in found:
            first = servers.get(spec.name)
            if first is not None:
                file_name, _, location = spec.source.partition(": ")
                problems.append(
                    Problem(
                        file_name,
                        location,
                        f"server {spec.name!r} is already "
                        f"defined at {first.source}; this one is ignored",
                    )
                )
                continue
            servers[spec.name] = spec
    return Manifests(tuple(servers.values()), tuple(problems), tuple(str(f) for f in files))
