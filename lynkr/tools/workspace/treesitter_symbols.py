"""JavaScript, TypeScript (and TSX) and Go definitions and name occurrences through
tree-sitter, when the optional ``workspace`` extra is installed (``pip install
'lynkr[workspace]'``: tree-sitter and three grammar wheels, about 1.2 MB, no other
dependencies).

Assumes: the grammars may be missing: ``available(language)`` says whether one loaded.
Guarantees: tree-sitter never rejects a file: a malformed one parses with error nodes, and
definitions and names outside them are still found. Positions are 1-based (columns in bytes).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from lynkr.tools.workspace.symbol_model import Definition, Position

# language -> (grammar module, function returning the language pointer)
GRAMMARS = {
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
}
# node type -> kind of the definition its ``name`` field names
DEFINITIONS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "method_definition": "method",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "method_declaration": "method",
    "type_spec": "type",
    "type_alias": "type",
}
VALUE_DEFINITIONS = {"variable_declarator", "const_spec", "var_spec"}
FUNCTION_VALUES = {
    "arrow_function",
    "function_expression",
    "function",
    "class",
    "generator_function",
}
CONTAINERS = {"class_declaration", "abstract_class_declaration", "interface_declaration"}
NAMES = {
    "identifier",
    "type_identifier",
    "property_identifier",
    "field_identifier",
    "shorthand_property_identifier",
    "shorthand_property_identifier_pattern",
    "package_identifier",
}
TOP = {
    "program",
    "source_file",
    "export_statement",
    "lexical_declaration",
    "variable_declaration",
    "const_declaration",
    "var_declaration",
}


@cache
def _parser(language: str) -> Any | None:
    try:
        tree_sitter = importlib.import_module("tree_sitter")
        module_name, function = GRAMMARS[language]
        grammar: Callable[[], Any] = getattr(importlib.import_module(module_name), function)
    except (ImportError, KeyError, AttributeError):
        return None
    return tree_sitter.Parser(tree_sitter.Language(grammar()))


def available(language: str) -> bool:
    return language in GRAMMARS and _parser(language) is not None


def _nodes(root: Any) -> Iterator[Any]:
    """Every node, depth first, without recursion (deep files cannot overflow the stack)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _text(node: Any) -> str:
    return bytes(node.text or b"").decode("utf-8", errors="replace")


def _container(node: Any) -> str:
    parent = node.parent
    while parent is not None:
        if parent.type in CONTAINERS:
            named = parent.child_by_field_name("name")
            return _text(named) if named is not None else ""
        if parent.type == "method_declaration":  # Go: the receiver's type
            break
        parent = parent.parent
    return ""


def _is_top_level(node: Any) -> bool:
    parent = node.parent
    while parent is not None and parent.type in TOP | {"const_spec", "var_spec"}:
        if parent.type in ("program", "source_file"):
            return True
        parent = parent.parent
    return False


def _definition(node: Any) -> Definition | None:
    kind = DEFINITIONS.get(node.type)
    if kind is None and node.type in VALUE_DEFINITIONS:
        value = node.child_by_field_name("value")
        if value is not None and value.type in FUNCTION_VALUES:
            kind = "function"
        elif _is_top_level(node):
            kind = "constant" if node.type == "const_spec" else "variable"
    if kind is None:
        return None
    name = node.child_by_field_name("name")
    if name is None or name.type not in NAMES:
        return None
    row, column = name.start_point
    return Definition(_text(name), kind, row + 1, column + 1, _container(node))


def _tree(language: str, text: str) -> Any:
    parser = _parser(language)
    if parser is None:
        raise LookupError(f"no tree-sitter grammar for {language}")
    return parser.parse(text.encode("utf-8", errors="replace"))


def definitions(language: str, text: str) -> tuple[tuple[Definition, ...], bool]:
    """The definitions, and whether the file has syntax errors (parts of it may be missed)."""
    root = _tree(language, text).root_node
    found = (
        _definition(node)
        for node in _nodes(root)
        if node.type in DEFINITIONS or node.type in VALUE_DEFINITIONS
    )
    return tuple(d for d in found if d is not None), bool(root.has_error)


def occurrences(language: str, text: str, name: str) -> tuple[Position, ...]:
    wanted = name.encode()
    found = {
        Position(n.start_point[0] + 1, n.start_point[1] + 1)
        for n in _nodes(_tree(language, text).root_node)
        if n.type in NAMES and n.text == wanted
    }
    return tuple(sorted(found, key=lambda p: (p.line, p.column)))
