"""The dependency direction of DESIGN.md, checked on every ``lynkr`` import (even local ones).

model ← formats ← stages ← pipeline ← server/providers/... ; ports is importable by all and
imports only model. A layer not listed here fails the test until it is given its place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lynkr

PACKAGE = Path(lynkr.__file__).resolve().parent
LOW = ("model", "ports", "formats", "stages", "pipeline")
EVERYTHING = frozenset(
    {
        "lynkr",
        *LOW,
        "config",
        "observability",
        "providers",
        "memory",
        "storage",
        "resilience",
        "cache",
        "embeddings",
        "tools",
        "mcp",
        "auth",
        "governance",
        "shared",
        "server",
        "bench",
        "check",
        "cli",
        "__main__",
    }
)

# layer -> the layers it may import (itself included where it has more than one module)
ALLOWED: dict[str, frozenset[str]] = {
    "model": frozenset({"model"}),
    "ports": frozenset({"model"}),
    "formats": frozenset({"model", "formats", "ports"}),
    "stages": frozenset({"model", "formats", "stages", "ports"}),
    "pipeline": frozenset({"model", "formats", "stages", "pipeline", "ports", "config"}),
    "config": frozenset({"model", "ports", "config"}),
    "observability": frozenset({"model", "ports", "config", "observability"}),
    "providers": frozenset({*LOW, "config", "observability", "providers"}),
    "memory": frozenset({*LOW, "config", "observability", "storage", "embeddings", "memory"}),
    "storage": frozenset({*LOW, "config", "observability", "storage"}),
    "resilience": frozenset({*LOW, "config", "observability", "resilience"}),
    "cache": frozenset({"model", "ports", "cache"}),
    "embeddings": frozenset({*LOW, "config", "observability", "providers", "embeddings"}),
    "tools": frozenset({*LOW, "config", "observability", "providers", "memory", "storage", "tools",
                        "mcp"}),
    "mcp": frozenset({*LOW, "config", "observability", "tools", "mcp"}),
    "bench": frozenset({*LOW, "config", "observability", "providers", "cache", "bench"}),
    "auth": frozenset({"model", "ports", "config", "storage", "governance", "auth"}),
    "governance": frozenset({"model", "ports", "governance"}),
    # shared state in Redis: each port's Redis side beside (and falling back to) its local side
    "shared": frozenset({"model", "ports", "config", "governance", "cache", "resilience",
                         "shared"}),
    "server": EVERYTHING - {"cli", "__main__"},
    "check": frozenset({*LOW, "config", "observability", "providers", "lynkr"}),
    "cli": EVERYTHING - {"__main__"},
    "__main__": EVERYTHING,
    "lynkr": frozenset(),  # the package's own __init__ stays import-free
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    base = PACKAGE.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def lynkr_imports(path: Path) -> set[str]:
    return imports_in(
        path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py"
    )


def imports_in(text: str, name: str, *, is_package: bool = False) -> set[str]:
    """Every ``lynkr.*`` module ``text`` imports, at any depth, relative imports resolved."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if is_module(sub) else source)
    return {m for m in found if m == "lynkr" or m.startswith("lynkr.")}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "lynkr"


def bad_edges(module: str, imported: set[str]) -> list[str]:
    allowed = ALLOWED.get(layer(module))
    if allowed is None:
        return [f"{module} -> (layer {layer(module)!r} has no place in ALLOWED)"]
    return [f"{module} -> {i}" for i in sorted(imported) if layer(i) not in allowed]


def violations() -> list[str]:
    return [
        edge
        for path in sorted(PACKAGE.rglob("*.py"))
        for edge in bad_edges(module_name(path), lynkr_imports(path))
    ]


def test_imports_follow_the_layers() -> None:
    problems = violations()
    assert not problems, "imports against the dependency direction:\n" + "\n".join(problems)


def test_the_walk_sees_imports() -> None:
    """Guard against a walker that finds nothing: known edges must be seen."""
    stages = lynkr_imports(PACKAGE / "stages" / "route.py")
    assert {"lynkr.model.errors", "lynkr.ports", "lynkr.stages.exchange"} <= stages
    assert "lynkr.server.app" in lynkr_imports(PACKAGE / "cli.py")  # imported inside a function
    assert "lynkr.config.settings" in lynkr_imports(PACKAGE / "config" / "providers.py")


def test_a_violation_is_reported() -> None:
    text = (
        "import attrs\n"
        "from lynkr.model.request import Request\n"
        "from . import exchange\n"
        "from ..pipeline import compile\n"
        "def f():\n"
        "    from lynkr.server import app\n"
        "    import lynkr.config.settings\n"
    )
    imported = imports_in(text, "lynkr.stages.fake")
    assert imported == {
        "lynkr.model.request",
        "lynkr.stages.exchange",
        "lynkr.pipeline.compile",
        "lynkr.server.app",
        "lynkr.config.settings",
    }
    assert bad_edges("lynkr.stages.fake", imported) == [
        "lynkr.stages.fake -> lynkr.config.settings",
        "lynkr.stages.fake -> lynkr.pipeline.compile",
        "lynkr.stages.fake -> lynkr.server.app",
    ]
    assert bad_edges("lynkr.model.fake", {"lynkr.ports"}) == ["lynkr.model.fake -> lynkr.ports"]
    assert bad_edges("lynkr.ports", {"lynkr.formats.sse"}) == ["lynkr.ports -> lynkr.formats.sse"]
    assert bad_edges("lynkr.newthing.x", set()) == [
        "lynkr.newthing.x -> (layer 'newthing' has no place in ALLOWED)"
    ]


def test_no_stage_imports_another_stage() -> None:
    """Stages share code through ``formats`` or ``model``, never through each other."""
    from lynkr.stages import STAGES

    stage_modules = {spec.run.__module__ for spec in STAGES.values() if spec.run is not None}
    assert "lynkr.stages.tool_selection" in stage_modules
    crossings = [f"{module} -> {imported}"
                 for module in sorted(stage_modules)
                 for imported in sorted(lynkr_imports(PACKAGE.parent.joinpath(
                     *module.split(".")).with_suffix(".py")))
                 if imported in stage_modules and imported != module]
    assert crossings == []
