"""`lynkr check`: the effective configuration with secrets masked, and where it probes."""

from __future__ import annotations

from pathlib import Path

import attrs
import orjson
import pytest

from lynkr.check import effective, mask, probe_url
from lynkr.cli import _check
from lynkr.config import ProviderSettings, load_settings
from lynkr.pipeline.compile import PipelineError
from lynkr.pipeline.effective import effective_pipeline

SECRET = "sk-proj-abcdefghijklmnop"


def test_effective_masks_the_key(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": SECRET},
        env_file=str(tmp_path / "none"),
    )
    shown = effective(settings)
    assert shown["provider"]["api_key"] == "sk-…op"
    assert SECRET not in orjson.dumps(shown).decode()
    assert "providers" not in shown
    assert shown["provider"]["endpoint"] == "https://api.openai.com/v1/chat/completions"
    assert shown["model_provider"] == "openai"
    assert shown["port"] == 8081


def test_check_prints_the_effective_pipeline(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The pipeline line names what the server would run: LYNKR_PIPELINE, not the default."""
    monkeypatch.setattr("lynkr.cli.probe", lambda provider: (True, "answers"))
    settings = load_settings(environ={"LYNKR_PIPELINE": "passthrough",
                                      "PROMPT_CACHE_ENABLED": "maybe"},
                             env_file=str(tmp_path / "none"))
    with pytest.raises(PipelineError, match="PROMPT_CACHE_ENABLED"):  # overlays are applied
        _check(settings)
    settings = attrs.evolve(settings, environ={})
    assert _check(settings) == 0
    out = capsys.readouterr().out
    pipeline = effective_pipeline(settings)
    assert f"pipeline: {pipeline.source} (" in out and "passthrough" in pipeline.source
    assert out.rstrip().endswith("ok: answers")


def test_effective_shows_the_workspace_tools_settings(tmp_path: Path) -> None:
    shown = effective(load_settings(environ={"WORKSPACE_ROOT": str(tmp_path),
                                             "POLICY_GIT_ALLOW_PUSH": "true"},
                                    env_file=str(tmp_path / "none")))
    assert (shown["workspace"]["root"], shown["workspace"]["git_allow_push"]) == (
        str(tmp_path.resolve()), True)
    assert effective(load_settings(environ={}, env_file=str(tmp_path / "none")))[
        "workspace"]["root"] is None


def test_effective_without_key(tmp_path: Path) -> None:
    shown = effective(load_settings(environ={}, env_file=str(tmp_path / "none")))
    assert shown["provider"]["api_key"] is None
    assert shown["provider"]["model"] == "qwen2.5-coder:7b"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (None, None),
        ("", ""),
        ("short", "***"),
        ("12345678", "***"),
        ("123456789", "123…89"),
        (SECRET, "sk-…op"),
    ],
)
def test_mask(value: str | None, masked: str | None) -> None:
    assert mask(value) == masked


@pytest.mark.parametrize(
    ("name", "endpoint", "url"),
    [
        ("ollama", "http://localhost:11434/api/chat", "http://localhost:11434/api/tags"),
        (
            "openai",
            "https://api.openai.com/v1/chat/completions",
            "https://api.openai.com/v1/models",
        ),
        (
            "openrouter",
            "https://openrouter.ai/api/v1/chat/completions",
            "https://openrouter.ai/api/v1/models",
        ),
        (
            "llamacpp",
            "http://localhost:8080/v1/chat/completions",
            "http://localhost:8080/v1/models",
        ),
        ("lmstudio", "http://box:1234/v1/chat/completions", "http://box:1234/v1/models"),
    ],
)
def test_probe_url(name: str, endpoint: str, url: str) -> None:
    assert probe_url(ProviderSettings(name=name, endpoint=endpoint, model="m")) == url


def test_effective_shows_the_web_tools(tmp_path: Path) -> None:
    shown = effective(load_settings(environ={
        "WEB_SEARCH_ENDPOINT": "http://user:secret@searxng:8080/search",
        "WEB_FETCH_ALLOWED_NETWORKS": "10.1.0.0/16"}, env_file=str(tmp_path / "none")))
    assert shown["web"]["tools"] == ["web_search", "web_fetch"]
    assert shown["web"]["allowed_networks"] == ["10.1.0.0/16"]
    assert "secret" not in shown["web"]["search_endpoint"]
    assert effective(load_settings(environ={}, env_file=str(tmp_path / "none")))["web"][
        "tools"] == []


@pytest.mark.parametrize(("environ", "backend", "line"), [
    ({}, "local", "shared state: local (this process"),
    ({"LYNKR_WORKERS": "3"}, "sqlite", "shared state: sqlite (workers share"),
    ({"REDIS_URL": "redis://:pw-0123456789@127.0.0.1:1/2"}, "redis",
     "shared state: redis redis://127.0.0.1:1/2: UNREACHABLE"),
])
def test_check_shows_the_shared_state_backend(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        environ: dict[str, str], backend: str, line: str) -> None:
    """Where limits, budgets, breakers, cache and sessions are shared; a Redis that does not
    answer is said so (not fatal: the server would serve from local state)."""
    monkeypatch.setattr("lynkr.cli.probe", lambda provider: (True, "answers"))
    settings = load_settings(environ={"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": SECRET,
                                      **environ}, env_file=str(tmp_path / "none"))
    assert effective(settings)["shared"]["backend"] == backend
    assert _check(settings) == 0
    out = capsys.readouterr().out
    assert line in out
    assert "pw-0123456789" not in out
