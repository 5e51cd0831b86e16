"""Run the whole test suite: installs the real Claude Code CLI where npm exists, then pytest.

    pip install -e '.[test]' && python tests/run.py [pytest arguments]

The CLI goes to .cache/claude-code (pinned version, installed once). Without npm the real-CLI
end-to-end tests are skipped, and this script says so; in CI (CI=true) they are required.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CLAUDE_CODE_VERSION = "2.1.330"
REPO = Path(__file__).resolve().parents[1]
PREFIX = REPO / ".cache" / "claude-code"
BIN = PREFIX / "node_modules" / ".bin" / "claude"


def installed_version() -> str | None:
    manifest = PREFIX / "node_modules" / "@anthropic-ai" / "claude-code" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def ensure_claude_cli() -> bool:
    if installed_version() == CLAUDE_CODE_VERSION and BIN.exists():
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("tests/run.py: npm not found: the real Claude Code CLI end-to-end tests will be "
              "SKIPPED (install Node.js and npm to run them)", flush=True)
        return False
    PREFIX.mkdir(parents=True, exist_ok=True)
    print(f"tests/run.py: installing @anthropic-ai/claude-code@{CLAUDE_CODE_VERSION} "
          f"into {PREFIX}", flush=True)
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(PREFIX),
         f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"], check=False)
    if result.returncode != 0 or not BIN.exists():
        print("tests/run.py: npm could not install the Claude Code CLI; its end-to-end tests "
              "will be SKIPPED", flush=True)
        return False
    return True


def main() -> int:
    env = dict(os.environ)
    if ensure_claude_cli():
        env["LYNKR_CLAUDE_BIN"] = str(BIN)
    elif env.get("CI"):
        print("tests/run.py: CI requires the Claude Code CLI", flush=True)
        return 1
    args = sys.argv[1:] or ["-q"]
    code = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=REPO, env=env,
                          check=False).returncode
    return 1 if code == 5 else code  # 5: no test ran, which is a failure here


if __name__ == "__main__":
    sys.exit(main())
