"""Run the whole test suite: installs the real agent CLIs (and npm's MCP reference server)
where npm exists, then pytest.

    pip install -e '.[test]' && python tests/run.py [pytest arguments]

Each CLI goes to its own folder under .cache/ (pinned version, installed once): the Claude Code
CLI, the OpenAI Codex CLI and opencode with npm, and llm and aider with pip, each in a venv of
its own. Without
npm their end-to-end tests are skipped, and this script says so; in CI (CI=true) they are
required.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import attrs

REPO = Path(__file__).resolve().parents[1]


@attrs.frozen
class Cli:
    package: str
    version: str
    folder: str  # under .cache/
    binary: str  # in node_modules/.bin
    variable: str  # the environment variable the tests read its path from

    @property
    def prefix(self) -> Path:
        return REPO / ".cache" / self.folder

    @property
    def bin(self) -> Path:
        return self.prefix / "node_modules" / ".bin" / self.binary

    def installed_version(self) -> str | None:
        manifest = self.prefix / "node_modules" / self.package / "package.json"
        try:
            return json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            return None


CLIS = (
    Cli("@anthropic-ai/claude-code", "2.1.330", "claude-code", "claude", "LYNKR_CLAUDE_BIN"),
    Cli("@openai/codex", "0.171.0", "codex", "codex", "LYNKR_CODEX_BIN"),
    Cli("opencode-ai", "1.18.33", "opencode", "opencode", "LYNKR_OPENCODE_BIN"),
    # not an agent: the reference MCP server, run by Lynkr in tests/integration/test_mcp_*.py
    Cli("@modelcontextprotocol/server-everything", "2026.8.31", "mcp-everything",
        "mcp-server-everything", "LYNKR_MCP_EVERYTHING_BIN"),
)


def ensure(cli: Cli) -> bool:
    if cli.installed_version() == cli.version and cli.bin.exists():
        return True
    npm = shutil.which("npm")
    if npm is None:
        print(f"tests/run.py: npm not found: the {cli.package} end-to-end tests will be "
              "SKIPPED (install Node.js and npm to run them)", flush=True)
        return False
    cli.prefix.mkdir(parents=True, exist_ok=True)
    print(f"tests/run.py: installing {cli.package}@{cli.version} into {cli.prefix}", flush=True)
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(cli.prefix),
         f"{cli.package}@{cli.version}"], check=False)
    if result.returncode != 0 or not cli.bin.exists():
        print(f"tests/run.py: npm could not install {cli.package}; its end-to-end tests "
              "will be SKIPPED", flush=True)
        return False
    return True


@attrs.frozen
class PipTool:
    """A PyPI client in a venv of its own under .cache/ (its pins never touch ours)."""

    package: str
    version: str
    binary: str
    variable: str

    @property
    def venv(self) -> Path:
        return REPO / ".cache" / f"{self.binary}-venv"

    @property
    def bin(self) -> Path:
        return self.venv / "bin" / self.binary

    def installed(self) -> bool:
        marker = self.venv / f".{self.package}-{self.version}"
        return marker.exists() and self.bin.exists()


# each pins versions of its own (aider dozens): never installed into the project's environment
PIP_TOOLS = (PipTool("llm", "0.36", "llm", "LYNKR_LLM_BIN"),
             PipTool("aider-chat", "0.86.2", "aider", "LYNKR_AIDER_BIN"))


def ensure_pip(tool: PipTool) -> bool:
    if tool.installed():
        return True
    print(f"tests/run.py: installing {tool.package}=={tool.version} into {tool.venv}",
          flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", "--clear", str(tool.venv)],
                          check=False)
    pip = [str(tool.venv / "bin" / "python"), "-m", "pip", "install", "-q",
           f"{tool.package}=={tool.version}"]
    if made.returncode != 0 or subprocess.run(pip, check=False).returncode != 0:
        print(f"tests/run.py: pip could not install {tool.package}; its end-to-end tests "
              "will be SKIPPED", flush=True)
        return False
    (tool.venv / f".{tool.package}-{tool.version}").touch()
    return True


def main() -> int:
    env = dict(os.environ)
    for cli in CLIS:
        if ensure(cli):
            env[cli.variable] = str(cli.bin)
        elif env.get("CI"):
            print(f"tests/run.py: CI requires {cli.package}", flush=True)
            return 1
    for tool in PIP_TOOLS:
        if ensure_pip(tool):
            env[tool.variable] = str(tool.bin)
        elif env.get("CI"):
            print(f"tests/run.py: CI requires {tool.package}", flush=True)
            return 1
    redis = env.get("LYNKR_REDIS_SERVER") or shutil.which("redis-server")
    if redis is None:
        if env.get("CI"):
            print("tests/run.py: CI requires redis-server (apt-get install redis-server)",
                  flush=True)
            return 1
        print("tests/run.py: redis-server not found: the shared-state tests (Redis, several "
              "processes) will be SKIPPED (apt-get install redis-server to run them)", flush=True)
    else:
        env["LYNKR_REDIS_SERVER"] = redis
    args = sys.argv[1:] or ["-q"]
    code = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=REPO, env=env,
                          check=False).returncode
    return 1 if code == 5 else code  # 5: no test ran, which is a failure here


if __name__ == "__main__":
    sys.exit(main())
