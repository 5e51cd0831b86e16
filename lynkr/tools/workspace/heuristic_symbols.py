"""Definitions and name occurrences by regular expressions: for languages without a parser
here (Ruby, Rust, Java, ...) and for files the real parser could not read.

Guarantees: never raises, whatever the text (any string, broken encodings already replaced);
patterns are linear (no nested quantifiers), so a hostile file cannot make them backtrack.
"""

from __future__ import annotations

import re

from lynkr.tools.workspace.symbol_model import Definition, Position

_IDENT = r"[A-Za-z_$][\w$]*"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("function", re.compile(r"^\s*(?:async\s+)?def\s+(?:self\.)?([A-Za-z_]\w*[?!=]?)")),
    (
        "class",
        re.compile(
            r"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?"
            r"(?:public\s+|private\s+|protected\s+)?(?:final\s+)?(?:data\s+)?"
            rf"class\s+({_IDENT})"
        ),
    ),
    ("module", re.compile(r"^\s*module\s+([A-Z]\w*)")),
    (
        "function",
        re.compile(
            r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\*?\s*"
            rf"({_IDENT})"
        ),
    ),
    ("function", re.compile(rf"^\s*func\s+(?:\([^)]*\)\s*)?({_IDENT})")),
    (
        "function",
        re.compile(
            r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?"
            rf"fn\s+({_IDENT})"
        ),
    ),
    (
        "type",
        re.compile(
            r"^\s*(?:export\s+)?(?:pub(?:\([^)]*\))?\s+)?"
            rf"(?:interface|trait|struct|enum|type|protocol|object)\s+({_IDENT})"
        ),
    ),
    ("variable", re.compile(rf"^\s*(?:export\s+)?(?:const|let|var)\s+({_IDENT})\s*[:=]")),
)


def definitions(text: str) -> tuple[Definition, ...]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in PATTERNS:
            match = pattern.match(line)
            if match:
                column = len(line[: match.start(1)].encode()) + 1
                found.append(Definition(match.group(1), kind, number, column))
                break
    return tuple(found)


def occurrences(text: str, name: str) -> tuple[Position, ...]:
    if not name:
        return ()
    word = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
    return tuple(
        Position(number, len(line[: match.start()].encode()) + 1)
        for number, line in enumerate(text.splitlines(), start=1)
        for match in word.finditer(line)
    )
