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
    for name in ("MODEL_PROVIDER", "LYNKR_ENV_FILE", "LYNKR_PIPELINE", "PORT", "LOG_LEVEL"):
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
        "cache_breakpoints",
        "prompt_cache",
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
