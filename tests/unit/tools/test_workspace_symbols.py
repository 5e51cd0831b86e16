"""Symbol definitions and occurrences: the real parsers (ast for Python, tree-sitter for
JavaScript, TypeScript and Go), the heuristic fallback, and malformed files (never a crash)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.tools.workspace import symbols, treesitter_symbols
from lynkr.tools.workspace.symbol_model import Position

# tree-sitter is the optional `workspace` extra: CI installs it (the test extra includes it),
# so there these tests must run; a local venv without it skips them, saying why
needs_tree_sitter = pytest.mark.skipif(
    not treesitter_symbols.available("typescript") and not os.environ.get("CI"),
    reason="tree-sitter grammars not installed (pip install 'lynkr[workspace]')",
)

PY = """\
import os
from pkg import helper as aid

LIMIT = 3

class Store:
    size: int = 0

    def load(self, key):
        return helper(key)

async def main():
    store = Store()
    store.load(LIMIT)
"""
TS = """\
import { greet } from "./greet";
export interface Shape { area(): number }
export type Id = string;
enum Color { Red }
export abstract class Base {}
export class Circle extends Base implements Shape {
  area() { return greet("r"); }
}
const square = (n: number) => n * n;
export const VERSION = "1";
function* ids() { yield 1 }
"""
JS = """\
const { greet } = require("./greet");
class Widget { render() { return greet(this.name) } }
function mount(el) { new Widget().render(el) }
let counter = 0;
module.exports = { mount };
"""
GO = """\
package shapes

import "fmt"

type Shape interface { Area() float64 }
type Square struct { Side float64 }
const Pi = 3.14
var Default = Square{1}

func (s Square) Area() float64 { return s.Side * s.Side }
func Describe(s Shape) string { return fmt.Sprint(s.Area()) }
"""
RUBY = """\
module Billing
  class Invoice
    def total?
    end
    def self.build
    end
  end
end
"""


def names(language: str, text: str) -> list[tuple[str, str]]:
    return [(d.name, d.kind) for d in symbols.parse(language, text).definitions]


def test_python_definitions_through_ast() -> None:
    parsed = symbols.parse("python", PY)
    assert parsed.parser == "ast"
    assert [(d.name, d.kind, d.line, d.column, d.container) for d in parsed.definitions] == [
        ("LIMIT", "variable", 4, 1, ""),
        ("Store", "class", 6, 7, ""),
        ("size", "variable", 7, 5, "Store"),
        ("load", "method", 9, 9, "Store"),
        ("main", "function", 12, 11, ""),
    ]


def test_python_occurrences_cover_names_attributes_and_imports() -> None:
    assert symbols.occurrences("python", PY, "load") == ("ast", (Position(14, 11),))
    assert symbols.occurrences("python", PY, "helper") == (
        "ast",
        (Position(2, 17), Position(10, 16)),
    )
    assert symbols.occurrences("python", PY, "Store")[1] == (Position(13, 13),)


@needs_tree_sitter
@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "typescript",
            TS,
            [
                ("Shape", "interface"),
                ("Id", "type"),
                ("Color", "enum"),
                ("Base", "class"),
                ("Circle", "class"),
                ("area", "method"),
                ("square", "function"),
                ("VERSION", "variable"),
                ("ids", "function"),
            ],
        ),
        (
            "javascript",
            JS,
            [
                ("Widget", "class"),
                ("render", "method"),
                ("mount", "function"),
                ("counter", "variable"),
            ],
        ),
        (
            "go",
            GO,
            [
                ("Shape", "type"),
                ("Square", "type"),
                ("Pi", "constant"),
                ("Default", "variable"),
                ("Area", "method"),
                ("Describe", "function"),
            ],
        ),
    ],
)
def test_tree_sitter_definitions(language: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert symbols.parse(language, text).parser == "tree-sitter"
    assert names(language, text) == expected


@needs_tree_sitter
def test_tree_sitter_occurrences_are_names_not_text() -> None:
    text = 'import { greet } from "./g";\n// greet in a comment\ngreet("greet");\nx.greet;\n'
    assert symbols.occurrences("typescript", text, "greet") == (
        "tree-sitter",
        (Position(1, 10), Position(3, 1), Position(4, 3)),
    )


@needs_tree_sitter
def test_methods_know_their_class() -> None:
    found = {d.name: d.container for d in symbols.parse("typescript", TS).definitions}
    assert found["area"] == "Circle"


def test_other_languages_use_the_heuristic() -> None:
    parsed = symbols.parse("ruby", RUBY)
    assert parsed.parser == "heuristic"
    assert names("ruby", RUBY) == [
        ("Billing", "module"),
        ("Invoice", "class"),
        ("total?", "function"),
        ("build", "function"),
    ]
    assert symbols.occurrences("ruby", "x = total? && total?\n", "total?")[1] == (
        Position(1, 5),
        Position(1, 15),
    )
    assert symbols.parse(None, "fn main() {}\n").definitions[0].name == "main"


MALFORMED = [
    (
        "python",
        "def broken(:\n    pass\nclass Survives:\n    pass\n",
        ["broken", "Survives"],
        "heuristic",
    ),
    ("python", "x = 1\0\ndef after_nul():\n  pass\n", ["after_nul"], "heuristic"),
    ("python", "(" * 5000 + "\ndef deep():\n  pass\n", ["deep"], "heuristic"),
    (
        "typescript",
        "export function ok() {}\nclass {{{ broken\nfunction later() {}\n",
        ["ok", "later"],
        "tree-sitter",
    ),
    (
        "go",
        "package x\nfunc Good() {}\nfunc (\ntype T struct {\n",
        ["Good", "T"],
        "tree-sitter+heuristic",
    ),
    ("javascript", "function a( {\n}}}}\nfunction b() {}\n", ["b"], "tree-sitter+heuristic"),
]


@pytest.mark.parametrize(("language", "text", "expected", "parser"), MALFORMED)
def test_malformed_files_still_give_their_definitions(
    language: str, text: str, expected: list[str], parser: str
) -> None:
    if parser.startswith("tree-sitter") and not treesitter_symbols.available(language):
        if os.environ.get("CI"):
            pytest.fail("tree-sitter must be installed in CI")
        pytest.skip("tree-sitter grammars not installed")
    parsed = symbols.parse(language, text)
    assert parsed.parser == parser
    found = [d.name for d in parsed.definitions]
    assert all(name in found for name in expected), found


def test_without_a_grammar_the_heuristic_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(treesitter_symbols, "available", lambda language: False)
    parsed = symbols.parse("typescript", TS)
    assert parsed.parser == "heuristic"
    assert {"Circle", "Shape", "square", "VERSION"} <= {d.name for d in parsed.definitions}
    assert symbols.occurrences("typescript", TS, "greet")[0] == "heuristic"


LANGUAGES = st.sampled_from(["python", "typescript", "tsx", "javascript", "go", "ruby", None])
SOURCE = st.text(
    alphabet=st.sampled_from(list("defclass funcimport(){}[]:;=\"'`\n\t #/\\*xyz_$?!.<>\0é")),
    max_size=300,
)


@given(LANGUAGES, SOURCE, st.sampled_from(["x", "def", "y_z", "$", "?"]))
def test_no_text_makes_a_parser_raise(language: str | None, text: str, name: str) -> None:
    parsed = symbols.parse(language, text)
    assert parsed.parser in ("ast", "tree-sitter", "tree-sitter+heuristic", "heuristic")
    parser, positions = symbols.occurrences(language, text, name)
    assert parser in ("ast", "tree-sitter", "heuristic")
    assert all(p.line >= 1 and p.column >= 1 for p in positions)
