"""lynkr.config.variables against the code and the docs: every variable the code reads is in
``LYNKR`` and documented; every variable of the original is in the compatibility table of
docs/configuration.md with its status; the start-up warnings."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

import lynkr.config.settings as settings_module
from lynkr.config.memory import memory_settings
from lynkr.config.providers import PROVIDERS
from lynkr.config.settings import Env, load_settings
from lynkr.config.variables import LYNKR, ORIGINAL, environment_warnings
from lynkr.config.workspace import workspace_settings

REPO = Path(__file__).resolve().parents[3]
NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
# upper-case string literals in lynkr/ that are not variables Lynkr reads
NOT_READ = {
    "STOP_WORDS": "a constant's name in memory/query.py's __all__",
    "AWS_BEARER_TOKEN_BEDROCK": "set for boto3 from AWS_BEDROCK_API_KEY, never read",
    "NAME_OR_PATH": "a command-line metavar of lynkr bench",
    **dict.fromkeys(("GIT_TERMINAL_PROMPT", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_EDITOR",
                     "GIT_PAGER", "LC_ALL", "GIT_INDEX_FILE", "GIT_LITERAL_PATHSPECS"),
                    "set for the git processes of the workspace tools, never read"),
    "WEB_SEARCH": "a constant's name in tools/web/__init__.py's __all__",
    "WEB_FETCH": "a constant's name in tools/web/__init__.py's __all__",
}
CREDENTIALS = {  # the least each provider needs to load
    "openai": {"OPENAI_API_KEY": "k"}, "openrouter": {"OPENROUTER_API_KEY": "k"},
    "anthropic": {"ANTHROPIC_UPSTREAM_API_KEY": "k"},
    "azure-anthropic": {"AZURE_ANTHROPIC_API_KEY": "k",
                        "AZURE_ANTHROPIC_ENDPOINT": "https://r.services.ai.azure.com/anthropic/v1/messages"},
    "azure-openai": {"AZURE_OPENAI_API_KEY": "k", "AZURE_OPENAI_DEPLOYMENT": "d",
                     "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"},
    "databricks": {"DATABRICKS_API_KEY": "k", "DATABRICKS_API_BASE": "https://w.databricks.com"},
}


def literal_names() -> set[str]:
    names = set()
    for path in (REPO / "lynkr").rglob("*.py"):
        if path.name == "variables.py":  # the registry itself
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and NAME.match(node.value):
                names.add(node.value)
    return names - NOT_READ.keys()


class Recording(dict):  # type: ignore[type-arg]
    read: set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        Recording.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        Recording.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        Recording.read.add(key)  # type: ignore[arg-type]
        return super().__contains__(key)


def names_read_while_loading(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every name looked up while the settings load, for each provider (names built at run
    time, such as ``f"{prefix}_MODEL"``, included)."""
    original_init = Env.__init__

    def recording_init(self: Env, values: Any) -> None:
        original_init(self, Recording(values))

    monkeypatch.setattr(settings_module.Env, "__init__", recording_init)
    Recording.read = set()
    for provider in PROVIDERS:
        environ = {"MODEL_PROVIDER": provider, **CREDENTIALS.get(provider, {})}
        settings = load_settings(environ=environ, env_file="/nonexistent/.env")
        memory_settings(Env(settings.environ))
        workspace_settings(Env(settings.environ))
    return {n for n in Recording.read if isinstance(n, str) and n.isupper()}


def test_every_variable_the_code_reads_is_in_the_registry(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    code = literal_names() | names_read_while_loading(monkeypatch)
    assert sorted(code - LYNKR) == [], "read by the code but missing from variables.LYNKR"
    assert sorted(LYNKR - code) == [], "in variables.LYNKR but never read by the code"


def documented_names() -> set[str]:
    texts = [REPO.joinpath("README.md").read_text()] + [
        p.read_text() for p in (REPO / "docs").glob("*.md")]
    return {m for text in texts for m in re.findall(r"`([A-Z][A-Z0-9_]+)(?=[`=\s])", text)}


def test_every_variable_is_documented() -> None:
    assert sorted(LYNKR - documented_names()) == []


def compatibility_rows() -> list[str]:
    labels = {"same": "honoured", "differs": "honoured, differs",
              "unsupported": "**not supported**"}
    return [f"| `{o.name}` | {labels[o.status]} | {o.note.replace('|', '/')} |" for o in ORIGINAL]


def test_the_original_variables_table_in_the_docs_matches_the_code() -> None:
    text = (REPO / "docs" / "configuration.md").read_text()
    missing = [row for row in compatibility_rows() if row not in text]
    assert missing == [], "docs/configuration.md's table should have:\n" + "\n".join(
        compatibility_rows())


def test_unsupported_originals_and_misspellings_are_reported_others_are_not() -> None:
    lines = environment_warnings({
        "REQUEST_LOGGING_ENABLED": "false", "OLLAMA_MODLE": "llama3", "PATH": "/bin",
        "OLLAMA_MODEL": "llama3", "HOME": "/root", "AWS_CONFIG_FILE": "/x",
        "PROMPT_CACHE_ENABLD": "false", "MEMORY_ENABLED": "true", "SESSION_DB_PATH": "/x"})
    assert lines == [
        "OLLAMA_MODLE is not a Lynkr variable; did you mean OLLAMA_MODEL?",
        "PROMPT_CACHE_ENABLD is not a Lynkr variable; did you mean PROMPT_CACHE_ENABLED?",
        "REQUEST_LOGGING_ENABLED is not supported and has no effect: " + next(
            o.note for o in ORIGINAL if o.name == "REQUEST_LOGGING_ENABLED"),
        "SESSION_DB_PATH differs from the original Lynkr: " + next(
            o.note for o in ORIGINAL if o.name == "SESSION_DB_PATH")]


def test_clients_and_ollamas_own_variables_are_not_misspellings() -> None:
    assert environment_warnings({"OLLAMA_MODELS": "/m", "OPENAI_API_BASE": "http://x",
                                 "ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": "http://x",
                                 "OLLAMA_HOST": "0.0.0.0"}) == []


def test_every_original_variable_appears_once() -> None:
    names = [o.name for o in ORIGINAL]
    assert len(names) == len(set(names))
    honoured = {o.name for o in ORIGINAL if o.status != "unsupported"}
    assert sorted(honoured - LYNKR) == []  # honoured means read
