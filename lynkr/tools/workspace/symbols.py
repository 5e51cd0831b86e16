"""Choosing the parser for a file: the standard library's ``ast`` for Python, tree-sitter
for JavaScript, TypeScript and Go (when installed), the heuristic for everything else.

Guarantees: ``parse`` and ``occurrences`` never raise for any text: a file the real parser
rejects (a Python syntax error, NUL bytes, nesting too deep) falls back to the heuristic; a
file tree-sitter parses with errors gets the heuristic's definitions added
(``tree-sitter+heuristic``); the answer says which parser found what.
"""

from __future__ import annotations

from lynkr.tools.workspace import heuristic_symbols, python_symbols, treesitter_symbols
from lynkr.tools.workspace.symbol_model import Parsed, Position

HEURISTIC = "heuristic"


def parser_for(language: str | None) -> str:
    if language == "python":
        return "ast"
    if language is not None and treesitter_symbols.available(language):
        return "tree-sitter"
    return HEURISTIC


def parse(language: str | None, text: str) -> Parsed:
    kind = parser_for(language)
    try:
        if kind == "ast":
            return Parsed(kind, python_symbols.definitions(text))
        if kind == "tree-sitter" and language is not None:
            found, broken = treesitter_symbols.definitions(language, text)
            if not broken:
                return Parsed(kind, found)
            # a syntax error can hide what follows it: add what the heuristic sees there
            seen = {(d.name, d.line) for d in found}
            extra = tuple(
                d for d in heuristic_symbols.definitions(text) if (d.name, d.line) not in seen
            )
            return Parsed(
                f"{kind}+{HEURISTIC}" if extra else kind,
                tuple(sorted(found + extra, key=lambda d: (d.line, d.column))),
            )
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    return Parsed(HEURISTIC, heuristic_symbols.definitions(text))


def occurrences(language: str | None, text: str, name: str) -> tuple[str, tuple[Position, ...]]:
    """Where ``name`` is used in ``text`` (definition sites included), and by which parser."""
    kind = parser_for(language)
    try:
        if kind == "ast":
            return kind, python_symbols.occurrences(text, name)
        if kind == "tree-sitter" and language is not None:
            return kind, treesitter_symbols.occurrences(language, text, name)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    return HEURISTIC, heuristic_symbols.occurrences(text, name)
