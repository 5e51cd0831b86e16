"""The values symbol search and references answer with, shared by every parser."""

from __future__ import annotations

import attrs


@attrs.frozen
class Definition:
    name: str
    kind: str  # class, function, method, variable, type, interface, enum, module, ...
    line: int  # 1-based
    column: int  # 1-based, in bytes of the line's UTF-8
    container: str = ""  # the enclosing class or type, when there is one


@attrs.frozen
class Parsed:
    """One file's definitions, and which parser found them (``ast``, ``tree-sitter`` or
    ``heuristic`` when no parser knows the language or the real one failed on the file)."""

    parser: str
    definitions: tuple[Definition, ...]


@attrs.frozen
class Position:
    line: int
    column: int
