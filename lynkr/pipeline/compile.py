"""Pipeline YAML → a tuple of bound stages, with every mistake reported at once.

The file names an ordered list of stages, each either a bare name or a one-key mapping of the
name to its parameters::

    stages:
      - normalize
      - route
      - map_model:
          models: {"claude-*haiku*": "qwen2.5-coder:1.5b"}
      - capability_filter
      - egress

Mistakes (unknown stage, unknown or mistyped parameter, a stage that needs a route before one is
set, a missing or misplaced egress) are collected with ``file:line:column`` and raised together
as one ``PipelineError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import cattrs
import yaml

from lynkr.stages import STAGES, StageSpec
from lynkr.stages.egress import EgressConfig

_converter = cattrs.Converter(forbid_extra_keys=True)


def _strict(kind: type, what: str) -> Any:
    def hook(value: Any, _type: Any) -> Any:
        if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
            return value
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise TypeError(f"expected {what}, got {value!r}")
    return hook


for _kind, _what in ((str, "a string"), (int, "a whole number"), (float, "a number"),
                     (bool, "true or false")):
    _converter.register_structure_hook(_kind, _strict(_kind, _what))


def _string_list(value: Any, _type: Any) -> tuple[str, ...]:
    """A list of strings, kept as a tuple (configs are frozen values, compared with ==)."""
    if isinstance(value, str):  # cattrs would split "format" into letters
        raise TypeError(f"expected a list of strings, got {value!r}")
    return tuple(_converter.structure(v, str) for v in value)


_converter.register_structure_hook_func(
    lambda t: t in (Sequence[str], tuple[str, ...]), _string_list)
PACKAGED = Path(__file__).resolve().parent.parent / "builtin_pipelines"
REPO = Path(__file__).resolve().parents[2] / "pipelines"


class PipelineError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the pipeline:\n{listing}")


@attrs.frozen
class BoundStage:
    name: str
    spec: StageSpec
    config: Any
    line: int


@attrs.frozen
class Pipeline:
    name: str
    source: str
    stages: tuple[BoundStage, ...]
    egress: EgressConfig

    @property
    def taps(self) -> tuple[BoundStage, ...]:
        """The stages that declare a stream tap (tap-only ones included), in pipeline order."""
        return tuple(s for s in self.stages if s.spec.tap is not None)

    def describe(self) -> dict[str, Any]:
        """The normalised form: every stage with all its parameters (defaults filled in)."""
        items: list[Any] = [{s.name: _converter.unstructure(s.config)} for s in self.stages]
        items.append({"egress": _converter.unstructure(self.egress)})
        return {"name": self.name, "stages": items}


def resolve(name_or_path: str | None) -> Path:
    """A pipeline path: an existing file, else a name looked up in ./pipelines, the repository's
    pipelines/ and the copies shipped in the package."""
    value = name_or_path or "default"
    path = Path(value)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    for folder in (Path.cwd() / "pipelines", REPO, PACKAGED):
        candidate = folder / f"{value.removesuffix('.yaml')}.yaml"
        if candidate.exists():
            return candidate
    raise PipelineError(value, [f"no pipeline file or named pipeline {value!r} "
                                f"(looked in ./pipelines, {REPO} and {PACKAGED})"])


def compile_file(path: str | Path) -> Pipeline:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineError(str(path), [f"cannot read: {exc.strerror}"]) from None
    return compile_text(text, str(path))


def compile_text(text: str, source: str = "<pipeline>") -> Pipeline:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise PipelineError(source, [f"not valid YAML: {exc}"]) from None
    problems: list[str] = []

    def problem(node: yaml.Node | None, message: str) -> None:
        where = f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}" if node \
            else source
        problems.append(f"{where}: {message}")

    if not isinstance(root, yaml.MappingNode):
        raise PipelineError(source, [f"{source}: expected a mapping with a 'stages' list"])
    top = {k.value: v for k, v in root.value}
    for key in top:
        if key not in ("name", "description", "stages"):
            problem(root, f"unknown top-level key {key!r} (expected name, description, stages)")
    stages_node = top.get("stages")
    if not isinstance(stages_node, yaml.SequenceNode):
        problem(stages_node or root, "'stages' must be a list of stage names")
        raise PipelineError(source, problems)
    bound = _bind_all(stages_node, problem)
    egress = _check_order(bound, stages_node, problem)
    if problems:
        raise PipelineError(source, problems)
    name_node = top.get("name")
    name = name_node.value if isinstance(name_node, yaml.ScalarNode) else Path(source).stem
    return Pipeline(name, source, tuple(b for b in bound if b.spec.kind != "egress"), egress)


def _bind_all(stages_node: yaml.SequenceNode, problem: Any) -> list[BoundStage]:
    known = ", ".join(sorted(STAGES))
    bound: list[BoundStage] = []
    for item in stages_node.value:
        if isinstance(item, yaml.ScalarNode):
            name, params_node = item.value, None
        elif isinstance(item, yaml.MappingNode) and len(item.value) == 1:
            name, params_node = item.value[0][0].value, item.value[0][1]
        else:
            problem(item, "each stage is a name, or a one-key mapping of name to parameters")
            continue
        spec = STAGES.get(name)
        if spec is None:
            problem(item, f"unknown stage {name!r} (known stages: {known})")
            continue
        params = yaml.SafeLoader("").construct_document(params_node) \
            if params_node is not None else {}
        if params is None:  # `- route:` with nothing after the colon
            params = {}
        if not isinstance(params, dict):
            problem(item, f"parameters of {name!r} must be a mapping")
            continue
        try:
            config: Any = _converter.structure(params, spec.config)
        except cattrs.BaseValidationError as exc:
            for message in cattrs.transform_error(exc, path=name):
                problem(item, message)
            config = None  # still counts for the order checks below
        except (TypeError, ValueError) as exc:
            problem(item, f"{name}: {exc}")
            config = None
        bound.append(BoundStage(name, spec, config, item.start_mark.line + 1))
    return bound


def _check_order(bound: list[BoundStage], node: yaml.SequenceNode, problem: Any
                 ) -> EgressConfig:
    routed = False
    seen: set[str] = set()
    egress: EgressConfig | None = None
    for position, stage in enumerate(bound):
        if stage.name in seen:
            problem(node, f"stage {stage.name!r} appears twice (line {stage.line})")
        seen.add(stage.name)
        if stage.spec.needs_route and not routed:
            problem(node, f"stage {stage.name!r} (line {stage.line}) needs a route: "
                          f"put 'route' before it")
        routed = routed or stage.spec.sets_route
        if stage.spec.kind == "egress":
            if position != len(bound) - 1:
                problem(node, f"'egress' (line {stage.line}) must be the last stage")
            egress = stage.config or EgressConfig()
    if not routed:
        problem(node, "the pipeline has no 'route' stage; every request needs a route")
    if egress is None:
        problem(node, "the pipeline has no 'egress' stage; end it with '- egress'")
        egress = EgressConfig()
    return egress
