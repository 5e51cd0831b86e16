"""`lynkr pipeline lint|show` and the one-line settings error, through lynkr.cli.main."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lynkr.cli import main
from lynkr.pipeline.compile import REPO
from lynkr.stages import STAGES
from lynkr.stages.map_model import DEFAULT_LIMITS

GOOD = "name: mine\nstages:\n  - normalize\n  - route\n  - map_model\n  - egress\n"
BAD = "stages:\n  - normalize\n  - compress\n  - map_model\n  - egress\n"


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env and no ./pipelines picked up from the checkout
    for name in ("MODEL_PROVIDER", "LYNKR_ENV_FILE", "LYNKR_PIPELINE", "PORT", "LOG_LEVEL",
                 "PROMPT_CACHE_ENABLED", "PREFER_OLLAMA", "FALLBACK_PROVIDER"):
        monkeypatch.delenv(name, raising=False)


def test_lint_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    assert main(["pipeline", "lint", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: ok (4 stages: normalize, route, map_model, egress)\n"
    assert err == ""


@pytest.mark.parametrize("path", sorted(REPO.glob("*.yaml")), ids=lambda p: p.stem)
def test_lint_shipped(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "lint", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: ok (")


def test_lint_failing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    assert main(["pipeline", "lint", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"lynkr: {path}: 3 problem(s) in the pipeline:",
        f"  {path}:3:5: unknown stage 'compress' (known stages: {', '.join(sorted(STAGES))})",
        f"  {path}:2:3: stage 'map_model' (line 4) needs a route: put 'route' before it",
        f"  {path}:2:3: the pipeline has no 'route' stage; every request needs a route",
    ]


def test_lint_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "lint", str(tmp_path / "absent.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_show_prints_every_parameter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    assert main(["pipeline", "show", str(path)]) == 0
    out = capsys.readouterr().out
    first, _, rest = out.partition("\n")
    assert first == f"# {path}"
    assert yaml.safe_load(rest) == {
        "name": "mine",
        "stages": [
            {"normalize": {"fill_missing_tool_results": True, "drop_empty_text": True}},
            {"route": {"provider": None, "tiers": [], "fallbacks": []}},
            {"map_model": {"models": {}, "max_output_tokens": DEFAULT_LIMITS,
                           "anthropic_default": 32000}},
            {"egress": {"coalesce": True, "report_model": "client", "ping_interval_s": 10.0}},
        ],
    }
    assert rest.index("normalize") < rest.index("route") < rest.index("map_model")


def test_show_default_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# {REPO / 'default.yaml'}\n")
    shown = yaml.safe_load(out)
    assert shown["name"] == "default"
    assert [next(iter(s)) for s in shown["stages"]] == [
        "normalize",
        "route",
        "map_model",
        "capability_filter",
        "tool_selection",
        "truncate_tool_results",
        "compress_history",
        "dedupe",
        "memory_inject",
        "cache_breakpoints",
        "prompt_cache",
        "memory_extract",
        "egress",
    ]
    assert shown["stages"][3]["capability_filter"] == {
        "strip_billing_header": True,
        "drop_thinking_history": True,
        "schema_drop_keywords": {},
    }


def test_show_named_pipeline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "show", "passthrough"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["stages"][3]["capability_filter"]["strip_billing_header"] is False


def test_show_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "show", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lynkr: nope: 1 problem(s) in the pipeline:\n")
    assert "no pipeline file or named pipeline 'nope'" in err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORT", "abc", "lynkr: PORT must be a whole number, got 'abc'"),
        (
            "MODEL_PROVIDER",
            "nope",
            "lynkr: MODEL_PROVIDER must be one of ollama, openai, "
            "openrouter, llamacpp, lmstudio, anthropic, azure-anthropic, azure-openai, "
            "databricks, bedrock, got 'nope'",
        ),
        (
            "LOG_LEVEL",
            "loud",
            "lynkr: LOG_LEVEL must be one of debug, info, warning, error, got 'loud'",
        ),
    ],
)
@pytest.mark.parametrize("command", ["check", "start"])
def test_settings_error_is_one_line(
    command: str,
    variable: str,
    value: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert main([command]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == message + "\n"


def test_settings_error_from_dotenv_in_cwd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("MODEL_PROVIDER=openai\n")
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        "lynkr: OPENAI_API_KEY is required when MODEL_PROVIDER=openai\n"
    )


def test_show_is_the_effective_pipeline_with_the_environment(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """LYNKR_PIPELINE names the file; the original's variables change its parameters."""
    monkeypatch.setenv("LYNKR_PIPELINE", "max-savings")
    monkeypatch.setenv("PROMPT_CACHE_ENABLED", "false")
    monkeypatch.setenv("SMART_TOOL_SELECTION_TOKEN_BUDGET", "1234")
    monkeypatch.setenv("PREFER_OLLAMA", "true")
    monkeypatch.setenv("MODEL_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("FALLBACK_PROVIDER", "ollama")
    assert main(["pipeline", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# {REPO / 'max-savings.yaml'}\n")
    stages = {next(iter(s)): next(iter(s.values())) for s in yaml.safe_load(out)["stages"]}
    assert stages["prompt_cache"]["enabled"] is False
    assert stages["tool_selection"]["token_budget"] == 1234
    own = {next(iter(s)): next(iter(s.values())) for s in yaml.safe_load(
        (REPO / "max-savings.yaml").read_text())["stages"] if isinstance(s, dict)}
    assert stages["tool_selection"]["max_tools"] == own["tool_selection"]["max_tools"]
    assert [(t["provider"], t["max_tools"]) for t in stages["route"]["tiers"]] == [
        ("ollama", 3), ("openai", None)]
    assert stages["route"]["fallbacks"] == ["ollama"]


def test_show_of_a_named_file_gets_the_overlays_too(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROMPT_CACHE_TTL_MS", "777")
    assert main(["pipeline", "show", "default"]) == 0
    stages = {next(iter(s)): next(iter(s.values()))
              for s in yaml.safe_load(capsys.readouterr().out)["stages"]}
    assert stages["prompt_cache"]["ttl_ms"] == 777


def test_show_reports_a_bad_overlay(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROMPT_CACHE_ENABLED", "maybe")
    assert main(["pipeline", "show"]) == 2
    assert "PROMPT_CACHE_ENABLED: expected true or false" in capsys.readouterr().err
