"""Python definitions and name occurrences through the standard library's ``ast``.

Assumes: source text; raises ``SyntaxError``/``ValueError``/``RecursionError`` for what
``ast.parse`` cannot read (the caller falls back to the heuristic parser).
Guarantees: positions are the name's own position (``def NAME``), 1-based.
"""

from __future__ import annotations

import ast

from lynkr.tools.workspace.symbol_model import Definition, Position

_KINDS = {ast.ClassDef: "class", ast.FunctionDef: "function", ast.AsyncFunctionDef: "function"}


def _name_column(lines: list[str], node: ast.stmt, name: str) -> int:
    line = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
    data = line.encode()
    start = data.find(name.encode(), node.col_offset)
    return (start if start >= 0 else node.col_offset) + 1


def definitions(text: str) -> tuple[Definition, ...]:
    tree = ast.parse(text)
    lines = text.splitlines()
    found: list[Definition] = []

    def visit(body: list[ast.stmt], container: str, in_class: bool) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                kind = _KINDS[type(node)]
                if kind == "function" and in_class:
                    kind = "method"
                found.append(
                    Definition(
                        node.name,
                        kind,
                        node.lineno,
                        _name_column(lines, node, node.name),
                        container,
                    )
                )
                inner = f"{container}.{node.name}" if container else node.name
                visit(node.body, inner, isinstance(node, ast.ClassDef))
            elif isinstance(node, ast.Assign | ast.AnnAssign) and (in_class or not container):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        found.append(
                            Definition(
                                target.id,
                                "variable",
                                target.lineno,
                                target.col_offset + 1,
                                container,
                            )
                        )

    visit(tree.body, "", False)
    return tuple(found)


def occurrences(text: str, name: str) -> tuple[Position, ...]:
    """Every place ``name`` is used as a name, an attribute or an imported name."""
    tree = ast.parse(text)
    found: set[Position] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            found.add(Position(node.lineno, node.col_offset + 1))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == name
            and node.end_lineno is not None
            and node.end_col_offset is not None
        ):
            found.add(Position(node.end_lineno, node.end_col_offset - len(name.encode()) + 1))
        elif isinstance(node, ast.alias) and name in (node.name.split(".")[-1], node.asname):
            found.add(Position(node.lineno, node.col_offset + 1))
    return tuple(sorted(found, key=lambda p: (p.line, p.column)))
