"""The workspace index: which files the workspace has, their languages, and the symbols each
code file defines; kept in memory and refreshed incrementally.

Assumes: the caller lists the files (``git ls-files`` or a directory walk) and runs ``refresh``,
``search`` and ``references`` in a worker thread (they read files).
Guarantees: a refresh re-parses only files whose size or modification time changed and drops
files that are gone, so a search after it never names a removed file; every file is read
through the jail (a symlink leaving the root is skipped and counted); at most ``MAX_FILES``
files are indexed and files over ``MAX_PARSE_BYTES`` are counted, not parsed. Never raises for
a file's content.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

from lynkr.tools.workspace.jail import Jail, PathRefused
from lynkr.tools.workspace.languages import CODE, language_of
from lynkr.tools.workspace.symbol_model import Definition, Parsed
from lynkr.tools.workspace.symbols import occurrences, parse

MAX_FILES = 50_000
MAX_PARSE_BYTES = 1024 * 1024
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "dist",
        "build",
        "target",
        "vendor",
        ".next",
        ".cache",
        "coverage",
    }
)


@attrs.frozen
class FileEntry:
    path: str  # relative to the root, POSIX
    language: str | None
    size: int
    signature: tuple[int, int]  # (st_mtime_ns, st_size)
    parsed: Parsed | None = None  # code files within MAX_PARSE_BYTES


@attrs.frozen
class RefreshStats:
    files: int
    parsed: int  # parsed again in this refresh
    removed: int
    refused: int  # symlinks leaving the root, unreadable files
    truncated: bool  # more than MAX_FILES files


def walk_files(jail: Jail) -> list[str]:
    """Every file under the root outside the usual build and dependency folders (without
    git), as root-relative paths; symlinked directories are not entered."""
    found: list[str] = []
    for folder, dirs, files in os.walk(jail.root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        base = os.path.relpath(folder, jail.root)
        for name in sorted(files):
            found.append(name if base == "." else f"{base}/{name}".replace(os.sep, "/"))
            if len(found) > MAX_FILES:
                return found
    return found


class WorkspaceIndex:
    def __init__(self, jail: Jail) -> None:
        self.jail = jail
        self.entries: dict[str, FileEntry] = {}

    def refresh(self, paths: Iterable[str]) -> RefreshStats:
        fresh: dict[str, FileEntry] = {}
        parsed = refused = 0
        listed = list(paths)
        for path in listed[:MAX_FILES]:
            try:
                real = self.jail.resolve(path)
                info = real.stat()
            except (PathRefused, OSError):
                refused += 1
                continue
            if not real.is_file():
                continue
            signature = (info.st_mtime_ns, info.st_size)
            old = self.entries.get(path)
            if old is not None and old.signature == signature:
                fresh[path] = old
                continue
            entry = self._entry(path, signature)
            parsed += entry.parsed is not None
            fresh[path] = entry
        removed = len(self.entries.keys() - fresh.keys())
        self.entries = fresh
        return RefreshStats(len(fresh), parsed, removed, refused, len(listed) > MAX_FILES)

    def _entry(self, path: str, signature: tuple[int, int]) -> FileEntry:
        language = language_of(path)
        size = signature[1]
        if language not in CODE or size > MAX_PARSE_BYTES:
            return FileEntry(path, language, size, signature)
        text = self.read_text(path)
        if text is None:
            return FileEntry(path, language, size, signature)
        return FileEntry(path, language, size, signature, parse(language, text))

    def read_text(self, path: str) -> str | None:
        try:
            data = self.jail.read_bytes(path, MAX_PARSE_BYTES)
        except PathRefused:
            return None
        return data.decode("utf-8", errors="replace")

    def language_counts(self) -> dict[str, int]:
        counts = Counter(e.language for e in self.entries.values() if e.language)
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def parsers_used(self) -> dict[str, int]:
        counts = Counter(e.parsed.parser for e in self.entries.values() if e.parsed)
        return dict(sorted(counts.items()))

    def definitions(self, path_prefix: str = "") -> Iterable[tuple[FileEntry, Definition]]:
        for path in sorted(self.entries):
            entry = self.entries[path]
            if entry.parsed is not None and _under(path, path_prefix):
                for definition in entry.parsed.definitions:
                    yield entry, definition

    def search(
        self, query: str, *, language: str | None = None, path_prefix: str = "", limit: int = 50
    ) -> list[dict[str, Any]]:
        """Definitions named ``query``: exact matches first, then case-insensitive prefix
        matches, then names containing it."""
        wanted = query.lower()
        ranked = []
        for entry, found in self.definitions(path_prefix):
            if language and entry.language != language:
                continue
            name = found.name.lower()
            rank = (
                0
                if found.name == query
                else 1
                if name == wanted
                else 2
                if name.startswith(wanted)
                else 3
                if wanted in name
                else None
            )
            if rank is not None:
                ranked.append((rank, entry.path, found.line, entry, found))
        ranked.sort(key=lambda item: item[:3])
        return [_definition_row(entry, found) for *_, entry, found in ranked[:limit]]

    def references(
        self, symbol: str, *, path_prefix: str = "", limit: int = 50
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The definitions of ``symbol`` and the places it is used (definition sites left
        out), in path and line order."""
        definitions = [(e, d) for e, d in self.definitions() if d.name == symbol]
        sites = {(e.path, d.line, d.column) for e, d in definitions}
        used: list[dict[str, Any]] = []
        for path in sorted(self.entries):
            entry = self.entries[path]
            if (
                entry.language not in CODE
                or not _under(path, path_prefix)
                or entry.size > MAX_PARSE_BYTES
            ):
                continue
            text = self.read_text(path)
            if text is None or symbol not in text:
                continue
            parser, positions = occurrences(entry.language, text, symbol)
            lines = text.splitlines()
            for position in positions:
                if (path, position.line, position.column) in sites:
                    continue
                used.append(
                    {
                        "path": path,
                        "line": position.line,
                        "column": position.column,
                        "parser": parser,
                        "text": _line(lines, position.line),
                    }
                )
                if len(used) >= limit:
                    return [_definition_row(e, d) for e, d in definitions], used
        return [_definition_row(e, d) for e, d in definitions], used


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.strip("/")
    return not prefix or prefix == "." or path == prefix or path.startswith(prefix + "/")


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1].strip()[:200] if 0 < number <= len(lines) else ""


def _definition_row(entry: FileEntry, found: Definition) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": found.name,
        "kind": found.kind,
        "path": entry.path,
        "line": found.line,
        "column": found.column,
        "language": entry.language,
        "parser": entry.parsed.parser if entry.parsed else None,
    }
    if found.container:
        row["container"] = found.container
    return row
