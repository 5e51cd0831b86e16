"""Pipeline YAML compiles once into bound stages; every mistake is reported, with its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr.pipeline import PipelineError, compile_file, compile_text, resolve
from lynkr.pipeline.compile import REPO
from lynkr.stages import STAGES
from lynkr.stages.capability_filter import CapabilityFilterConfig
from lynkr.stages.egress import EgressConfig
from lynkr.stages.map_model import DEFAULT_LIMITS, MapModelConfig
from lynkr.stages.normalize import NormalizeConfig
from lynkr.stages.route import RouteConfig

SHIPPED = sorted(REPO.glob("*.yaml"))
KNOWN = "known stages: " + ", ".join(sorted(STAGES))


def problems(text: str, source: str = "p.yaml") -> list[str]:
    with pytest.raises(PipelineError) as info:
        compile_text(text, source)
    assert info.value.source == source
    assert str(info.value).startswith(f"{source}: {len(info.value.problems)} problem(s)")
    return info.value.problems


def test_shipped_pipelines_exist() -> None:
    assert {p.stem for p in SHIPPED} >= {"default", "passthrough"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_pipeline_compiles(path: Path) -> None:
    pipeline = compile_file(path)
    assert pipeline.name == path.stem
    assert pipeline.source == str(path)
    names = [s.name for s in pipeline.stages]
    assert names.index("route") < names.index("map_model")
    assert all(s.spec is STAGES[s.name] for s in pipeline.stages)


def test_default_pipeline_values() -> None:
    pipeline = compile_file(REPO / "default.yaml")
    tuned = {"tool_selection": {"max_description_tokens": 200,
                                "strip_schema_descriptions": True},
             "truncate_tool_results": {"limits": {"Read": 4000, "Bash": 1500, "Grep": 1000,
                                                  "default": 2000}}}
    assert [(s.name, s.config) for s in pipeline.stages] == [
        (name, STAGES[name].config(**tuned.get(name, {}))) for name in (
            "normalize", "route", "map_model", "capability_filter", "tool_selection",
            "truncate_tool_results", "compress_history", "dedupe", "memory_inject",
            "cache_breakpoints", "prompt_cache", "memory_extract")]
    lines = [s.line for s in pipeline.stages]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    assert pipeline.egress == EgressConfig()


def test_parameters_are_bound() -> None:
    pipeline = compile_text("""\
name: tuned
stages:
  - normalize:
      drop_empty_text: false
  - route: {provider: openai}
  - map_model:
      models: {"claude-*haiku*": "small"}
      max_output_tokens: {default: 4096}
  - capability_filter:
      schema_drop_keywords: {llamacpp: [format, pattern]}
  - egress:
      coalesce: false
      report_model: upstream
""")
    assert pipeline.name == "tuned"
    assert [s.config for s in pipeline.stages] == [
        NormalizeConfig(drop_empty_text=False),
        RouteConfig(provider="openai"),
        MapModelConfig(models={"claude-*haiku*": "small"}, max_output_tokens={"default": 4096}),
        CapabilityFilterConfig(schema_drop_keywords={"llamacpp": ("format", "pattern")}),
    ]
    assert pipeline.egress == EgressConfig(coalesce=False, report_model="upstream")


def test_empty_parameters_mean_defaults() -> None:
    pipeline = compile_text("stages:\n  - route:\n  - egress: {}\n")
    assert [s.config for s in pipeline.stages] == [RouteConfig()]
    assert pipeline.egress == EgressConfig()


def test_name_defaults_to_file_stem() -> None:
    assert compile_text("stages: [route, egress]", "/x/fast.yaml").name == "fast"


def test_unknown_stage_reports_place_and_known_stages() -> None:
    assert problems("stages:\n  - normalize\n  - route\n  - compress\n  - egress\n") == [
        f"p.yaml:4:5: unknown stage 'compress' ({KNOWN})"
    ]


def test_unknown_stage_with_parameters_reports_place() -> None:
    assert problems("stages:\n  - route\n  - dedup:\n      x: 1\n  - egress\n") == [
        f"p.yaml:3:5: unknown stage 'dedup' ({KNOWN})"
    ]


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        pytest.param(
            "normalize: {drop_empty_text: 3}",
            "p.yaml:3:5: invalid value for type, expected bool @ normalize.drop_empty_text",
            id="int-for-bool",
        ),
        pytest.param(
            "normalize: {drop_empty_text: 'yes'}",
            "p.yaml:3:5: invalid value for type, expected bool @ normalize.drop_empty_text",
            id="string-for-bool",
        ),
        pytest.param(
            "map_model: {max_output_tokens: {ollama: lots}}",
            "p.yaml:3:5: invalid value for type, expected int "
            "@ map_model.max_output_tokens['ollama']",
            id="string-for-int",
        ),
        pytest.param(
            "map_model: {max_output_tokens: {ollama: true}}",
            "p.yaml:3:5: invalid value for type, expected int "
            "@ map_model.max_output_tokens['ollama']",
            id="bool-for-int",
        ),
        pytest.param(
            "capability_filter: {schema_drop_keywords: {llamacpp: format}}",
            "p.yaml:3:5: invalid value for type, expected Sequence "
            "@ capability_filter.schema_drop_keywords['llamacpp']",
            id="string-for-list",
        ),
        pytest.param(
            "normalize: {bogus: 1}",
            "p.yaml:3:5: extra fields found (bogus) @ normalize",
            id="unknown-param",
        ),
        pytest.param(
            "normalize: [drop_empty_text]",
            "p.yaml:3:5: parameters of 'normalize' must be a mapping",
            id="params-not-mapping",
        ),
    ],
)
def test_bad_parameters(stage: str, expected: str) -> None:
    text = f"stages:\n  - route\n  - {stage}\n  - egress\n"
    assert problems(text) == [expected]


def test_several_mistakes_reported_together() -> None:
    found = problems("""\
stages:
  - normalize: {drop_empty_text: 3, bogus: 1}
  - map_model
  - route
  - compress
  - egress
  - capability_filter
""")
    assert found == [
        "p.yaml:2:5: invalid value for type, expected bool @ normalize.drop_empty_text",
        "p.yaml:2:5: extra fields found (bogus) @ normalize",
        f"p.yaml:5:5: unknown stage 'compress' ({KNOWN})",
        "p.yaml:2:3: stage 'map_model' (line 3) needs a route: put 'route' before it",
        "p.yaml:2:3: 'egress' (line 6) must be the last stage",
    ]


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        pytest.param(
            ["normalize", "map_model", "route", "egress"],
            ["stage 'map_model' (line 4) needs a route: put 'route' before it"],
            id="map-model-before-route",
        ),
        pytest.param(
            ["route", "capability_filter", "normalize"],
            ["the pipeline has no 'egress' stage; end it with '- egress'"],
            id="missing-egress",
        ),
        pytest.param(
            ["route", "egress", "normalize"],
            ["'egress' (line 4) must be the last stage"],
            id="egress-not-last",
        ),
        pytest.param(
            ["route", "normalize", "normalize", "egress"],
            ["stage 'normalize' appears twice (line 5)"],
            id="duplicate-stage",
        ),
        pytest.param(
            ["route", "egress", "egress"],
            ["'egress' (line 4) must be the last stage", "stage 'egress' appears twice (line 5)"],
            id="duplicate-egress",
        ),
        pytest.param(
            ["normalize", "egress"],
            ["the pipeline has no 'route' stage; every request needs a route"],
            id="no-route",
        ),
    ],
)
def test_order_mistakes(stages: list[str], expected: list[str]) -> None:
    text = "name: x\nstages:\n" + "".join(f"  - {s}\n" for s in stages)
    assert problems(text) == [f"p.yaml:3:3: {e}" for e in expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "stages: [route, egress]\nfoo: 1\n",
            ["p.yaml:1:1: unknown top-level key 'foo' (expected name, description, stages)"],
            id="unknown-top-level-key",
        ),
        pytest.param(
            "name: x\n", ["p.yaml:1:1: 'stages' must be a list of stage names"], id="no-stages"
        ),
        pytest.param(
            "stages: route\n",
            ["p.yaml:1:9: 'stages' must be a list of stage names"],
            id="stages-not-a-list",
        ),
        pytest.param(
            "- route\n", ["p.yaml: expected a mapping with a 'stages' list"], id="not-a-mapping"
        ),
        pytest.param(
            "stages:\n  - route\n  - {normalize: {}, egress: {}}\n  - egress\n",
            ["p.yaml:3:5: each stage is a name, or a one-key mapping of name to parameters"],
            id="two-key-stage",
        ),
    ],
)
def test_shape_mistakes(text: str, expected: list[str]) -> None:
    assert problems(text) == expected


def test_invalid_yaml() -> None:
    [found] = problems("stages: [route\n")
    assert found.startswith("not valid YAML: ")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PipelineError) as info:
        compile_file(tmp_path / "absent.yaml")
    assert info.value.problems == ["cannot read: No such file or directory"]


def test_reordering_lines_reorders_stages() -> None:
    a = compile_text(
        "stages:\n  - normalize\n  - route\n  - capability_filter\n  - map_model\n  - egress\n"
    )
    b = compile_text(
        "stages:\n  - route\n  - map_model\n  - capability_filter\n  - normalize\n  - egress\n"
    )
    assert [s.name for s in a.stages] == ["normalize", "route", "capability_filter", "map_model"]
    assert [s.name for s in b.stages] == ["route", "map_model", "capability_filter", "normalize"]
    removed = compile_text("stages:\n  - route\n  - egress\n")
    assert [s.name for s in removed.stages] == ["route"]


def test_describe_gives_every_default() -> None:
    described = compile_text(
        "name: small\nstages:\n  - route\n  - map_model:\n      models: {a: b}\n  - egress\n"
    ).describe()
    assert described == {
        "name": "small",
        "stages": [
            {"route": {"provider": None, "tiers": [], "fallbacks": []}},
            {"map_model": {"models": {"a": "b"}, "max_output_tokens": DEFAULT_LIMITS,
                           "anthropic_default": 32000}},
            {"egress": {"coalesce": True, "report_model": "client", "ping_interval_s": 10.0}},
        ],
    }


def test_describe_of_default_recompiles_to_the_same_pipeline() -> None:
    import yaml

    pipeline = compile_file(REPO / "default.yaml")
    again = compile_text(yaml.safe_dump(pipeline.describe(), sort_keys=False), "again.yaml")
    assert [(s.name, s.config) for s in again.stages] == [
        (s.name, s.config) for s in pipeline.stages
    ]
    assert again.egress == pipeline.egress


def test_resolve_names_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve(None) == REPO / "default.yaml"
    assert resolve("default") == REPO / "default.yaml"
    assert resolve("passthrough.yaml") == REPO / "passthrough.yaml"
    own = tmp_path / "mine.yaml"
    own.write_text("stages: [route, egress]\n")
    assert resolve(str(own)) == own
    local = tmp_path / "pipelines"
    local.mkdir()
    (local / "default.yaml").write_text("stages: [route, egress]\n")
    assert resolve("default") == Path.cwd() / "pipelines" / "default.yaml"  # ./pipelines first


@pytest.mark.parametrize("name", ["nope", "nope.yaml", "../default/x"])
def test_resolve_unknown_name(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError) as info:
        resolve(name)
    [message] = info.value.problems
    assert message.startswith(f"no pipeline file or named pipeline {name!r}")
