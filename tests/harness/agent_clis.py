"""Finding and running the real Codex CLI, opencode, llm and aider against a Lynkr URL.

Codex and opencode are npm packages, llm and aider PyPI ones, each in its own venv: tests/run.py
installs each (pinned) under .cache/; each run gets its own home and config directories under
the test's tmp_path, and talks to loopback only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import attrs

REPO = Path(__file__).resolve().parents[2]
CODEX_BIN = REPO / ".cache" / "codex" / "node_modules" / ".bin" / "codex"
OPENCODE_BIN = REPO / ".cache" / "opencode" / "node_modules" / ".bin" / "opencode"
LLM_BIN = REPO / ".cache" / "llm-venv" / "bin" / "llm"
AIDER_BIN = REPO / ".cache" / "aider-venv" / "bin" / "aider"


def find_cli(variable: str, local: Path, name: str) -> str | None:
    """``$variable``, else the copy tests/run.py installs, else ``name`` on PATH."""
    given = os.environ.get(variable)
    if given:
        return given
    if local.exists():
        return str(local)
    return shutil.which(name)


@attrs.frozen
class Run:
    returncode: int
    stdout: str
    stderr: str


def _base_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "NO_PROXY": "127.0.0.1,localhost",
    }


def codex_config(base_url: str) -> str:
    """Codex's documented custom-provider entry, and nothing else."""
    return ("model_provider = \"lynkr\"\n\n[model_providers.lynkr]\nname = \"Lynkr\"\n"
            f"base_url = \"{base_url}/v1\"\nwire_api = \"responses\"\n")


def run_codex(binary: str, base_url: str, prompt: str, workspace: Path, home: Path,
              model: str | None = None, args: tuple[str, ...] = (),
              timeout: float = 150) -> Run:
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(codex_config(base_url))
    env = {**_base_env(home), "CODEX_HOME": str(codex_home)}
    command = [binary, "exec", "--skip-git-repo-check",
               "--dangerously-bypass-approvals-and-sandbox", *args]
    if model:
        command += ["-m", model]
    completed = subprocess.run([*command, prompt], cwd=workspace, env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=timeout, check=False)
    return Run(completed.returncode, completed.stdout, completed.stderr)


def opencode_config(base_url: str) -> dict[str, object]:
    """opencode's documented OpenAI-compatible provider entry, pointed at Lynkr."""
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {"lynkr": {
            "npm": "@ai-sdk/openai-compatible",
            "name": "Lynkr",
            "options": {"baseURL": f"{base_url}/v1", "apiKey": "dummy"},
            "models": {"fake-model": {"name": "Fake model"}},
        }},
        "model": "lynkr/fake-model",
        "autoupdate": False,
        "share": "disabled",
    }


def run_opencode(binary: str, base_url: str, prompt: str, workspace: Path, home: Path,
                 timeout: float = 150) -> Run:
    config = home / ".config" / "opencode"
    config.mkdir(parents=True, exist_ok=True)
    (config / "opencode.json").write_text(json.dumps(opencode_config(base_url)))
    env = {**_base_env(home), "OPENCODE_DISABLE_AUTOUPDATE": "1",
           "OPENCODE_DISABLE_LSP_DOWNLOAD": "1", "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
           "OPENCODE_DISABLE_MODELS_FETCH": "1"}
    completed = subprocess.run([binary, "run", "--model", "lynkr/fake-model", prompt],
                               cwd=workspace, env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout, check=False)
    return Run(completed.returncode, completed.stdout, completed.stderr)


def llm_models(base_url: str) -> str:
    """llm's documented extra-openai-models.yaml entry for an OpenAI-compatible server."""
    return (f"- model_id: lynkr\n  model_name: fake-model\n  api_base: \"{base_url}/v1\"\n"
            "  supports_schema: true\n  supports_tools: true\n")


def run_llm(binary: str, base_url: str, args: tuple[str, ...], home: Path,
            timeout: float = 60) -> Run:
    home.mkdir(parents=True, exist_ok=True)
    (home / "extra-openai-models.yaml").write_text(llm_models(base_url))
    env = {**_base_env(home), "LLM_USER_PATH": str(home), "OPENAI_API_KEY": "dummy"}
    completed = subprocess.run([binary, "-m", "lynkr", *args], env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=timeout, check=False)
    return Run(completed.returncode, completed.stdout, completed.stderr)


def run_aider(binary: str, base_url: str, message: str, files: tuple[str, ...],
              workspace: Path, home: Path, timeout: float = 120) -> Run:
    """aider's documented OpenAI-compatible setup: OPENAI_API_BASE and an ``openai/`` model."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**_base_env(home), "OPENAI_API_BASE": f"{base_url}/v1", "OPENAI_API_KEY": "dummy",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # no model-price download from GitHub
    command = [binary, "--model", "openai/fake-model", "--no-git", "--yes-always",
               "--no-check-update", "--analytics-disable", "--no-show-model-warnings",
               "--no-pretty", "--message", message, *files]
    completed = subprocess.run(command, cwd=workspace, env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout, check=False)
    return Run(completed.returncode, completed.stdout, completed.stderr)
