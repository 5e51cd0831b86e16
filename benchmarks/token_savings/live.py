"""Live runs: the real Claude Code CLI → (recorder) → Lynkr → scripted fake model, on loopback.

The recorder is a small ASGI wrapper in front of Lynkr's own app: it keeps each
``POST /v1/messages`` body and its headers exactly as Lynkr received them from the CLI, then
hands the same bytes to Lynkr. The fake model (``tests/harness/fake_model.py``) keeps every
upstream body. The CLI runs with an isolated HOME and workspace under a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import orjson
import trio
from harness.claude_cli import find_claude
from harness.fake_model import FakeModel
from harness.proxy import provider_env
from harness.servers import run_in_thread, serve_asgi
from harness.wire import Reply
from hypercorn.trio import serve

from benchmarks.token_savings.scenarios import Scenario
from lynkr.config.settings import load_settings
from lynkr.pipeline.compile import compile_file, resolve
from lynkr.server.app import build_app, build_state
from lynkr.server.serve import hypercorn_config

MAX_MODEL_CALLS = 80  # per live session: a script that loops ends here
_DROP_HEADERS = {"host", "content-length", "connection", "accept-encoding", "x-api-key",
                 "authorization", "transfer-encoding"}


RECORDED_PATHS = ("/v1/messages", "/v1/chat/completions")


class Recorder:
    """ASGI wrapper keeping every chat request (its path, headers and parsed body)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" \
                or scope["path"] not in RECORDED_PATHS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]
                   if k.decode().lower() not in _DROP_HEADERS}
        self.requests.append({"path": scope["path"],
                              "query": scope.get("query_string", b"").decode(),
                              "headers": headers, "body": orjson.loads(body)})
        given = False

        async def replay() -> dict[str, Any]:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)


def lynkr_env(upstream: str, dialect: str, data_dir: Path) -> dict[str, str]:
    return {**provider_env(dialect, upstream), "LOG_LEVEL": "warning",
            "LYNKR_DB_PATH": str(data_dir / "lynkr.db")}


@contextmanager
def serve_lynkr_recorded(env: dict[str, str], pipeline: str) -> Iterator[tuple[str, Recorder,
                                                                                 Any]]:
    """Lynkr on a free loopback port with ``pipeline`` (a name or a path), behind a Recorder;
    yields (url, recorder, app state)."""
    settings = load_settings(environ=dict(env), env_file="/nonexistent/.env")
    state = build_state(settings, compile_file(resolve(pipeline)))
    config = hypercorn_config(settings, bind="127.0.0.1:0")
    config.graceful_timeout = 0.5
    recorder = Recorder(build_app(state))

    async def start(stop: trio.Event, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await serve(recorder, config, shutdown_trigger=stop.wait,  # type: ignore[arg-type]
                    task_status=task_status)

    with run_in_thread(start, "lynkr") as url:
        yield url, recorder, state


@attrs.frozen
class LiveRun:
    scenario: str
    pipeline: str
    anthropic: list[dict[str, Any]]  # what Lynkr received from the CLI
    upstream: list[dict[str, Any]]  # what the fake model received from Lynkr
    results: list[str]  # the CLI's final answer of each prompt
    failure: str | None  # None: the CLI succeeded and the workspace check passed
    seconds: float


def _cli(binary: str, url: str, prompt: str, workspace: Path, home: Path, resume: bool,
         timeout: float) -> tuple[int, list[dict[str, Any]], str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "dummy", "IS_SANDBOX": "1",
           "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    argv = [binary, *(["-c"] if resume else []), "-p", prompt, "--permission-mode",
            "bypassPermissions", "--output-format", "stream-json", "--verbose"]
    done = subprocess.run(argv, cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    events = [orjson.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, events, done.stderr


OPENCODE = Path(__file__).resolve().parents[2] / ".cache/opencode/node_modules/.bin/opencode"


def find_opencode() -> str | None:
    """$LYNKR_OPENCODE_BIN, else the copy under .cache/opencode (npm ``opencode-ai``), else
    ``opencode`` on PATH."""
    given = os.environ.get("LYNKR_OPENCODE_BIN")
    if given:
        return given
    return str(OPENCODE) if OPENCODE.exists() else shutil.which("opencode")


def _opencode(binary: str, url: str, prompt: str, workspace: Path, home: Path, resume: bool,
              timeout: float) -> tuple[int, str, str]:
    """``opencode run`` with its documented OpenAI-compatible provider pointed at Lynkr."""
    config = home / ".config" / "opencode"
    config.mkdir(parents=True, exist_ok=True)
    (config / "opencode.json").write_text(orjson.dumps({
        "$schema": "https://opencode.ai/config.json",
        "provider": {"lynkr": {"npm": "@ai-sdk/openai-compatible", "name": "Lynkr",
                               "options": {"baseURL": f"{url}/v1", "apiKey": "dummy"},
                               "models": {"fake-model": {"name": "Fake model"}}}},
        "model": "lynkr/fake-model", "autoupdate": False, "share": "disabled"}).decode())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_CACHE_HOME": str(home / ".cache"), "XDG_STATE_HOME": str(home / ".local/state"),
           "NO_PROXY": "127.0.0.1,localhost", "OPENCODE_DISABLE_AUTOUPDATE": "1",
           "OPENCODE_DISABLE_LSP_DOWNLOAD": "1", "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
           "OPENCODE_DISABLE_MODELS_FETCH": "1"}
    argv = [binary, "run", *(["-c"] if resume else []), "--model", "lynkr/fake-model", prompt]
    done = subprocess.run(argv, cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    return done.returncode, done.stdout, done.stderr


def _prompt(scenario: Scenario, binary: str, url: str, prompt: str, workspace: Path,
            home: Path, resume: bool, timeout: float) -> tuple[str | None, str]:
    """(failure or None, the client's final answer) of one prompt."""
    if scenario.client == "opencode":
        code, stdout, stderr = _opencode(binary, url, prompt, workspace, home, resume, timeout)
        if code != 0:
            return f"opencode exit {code}, stderr {stderr[-500:]!r}", ""
        return None, stdout.strip()
    code, events, stderr = _cli(binary, url, prompt, workspace, home, resume, timeout)
    finals = [e for e in events if e.get("type") == "result"]
    if code != 0 or not finals or finals[-1].get("is_error"):
        return f"CLI exit {code}, result {finals[-1:]!r}, stderr {stderr[-500:]!r}", ""
    return None, str(finals[-1].get("result", ""))


def run_live(scenario: Scenario, pipeline: str, root: Path, dialect: str = "openai",
             timeout: float = 240) -> LiveRun:
    """Run ``scenario`` end to end through Lynkr with ``pipeline`` in a fresh ``root``."""
    binary = find_opencode() if scenario.client == "opencode" else find_claude()
    if binary is None:
        raise RuntimeError(f"no {scenario.client} CLI: run `python tests/run.py` once or set "
                           "LYNKR_CLAUDE_BIN / LYNKR_OPENCODE_BIN")
    workspace, home = root / "ws", root / "home"
    workspace.mkdir(parents=True)
    home.mkdir()
    scenario.prepare(workspace)
    started = time.perf_counter()
    fake: FakeModel

    def script(body: dict[str, Any]) -> Reply:
        if len(fake.calls) > MAX_MODEL_CALLS:
            return Reply(text="FAILED: too many model calls")
        return scenario.reply(body, workspace)

    fake = FakeModel(script)
    results: list[str] = []
    failure: str | None = None
    with serve_asgi(fake) as upstream, \
            serve_lynkr_recorded(lynkr_env(upstream, dialect, root), pipeline) as (url, rec, _):
        for index, prompt in enumerate(scenario.prompts):
            try:
                failed, answer = _prompt(scenario, binary, url, prompt, workspace, home,
                                         index > 0, timeout)
            except subprocess.TimeoutExpired:
                failure = f"prompt {index + 1}: the CLI timed out after {timeout:.0f} s"
                break
            if failed:
                failure = f"prompt {index + 1}: {failed}"
                break
            results.append(answer)
        anthropic = list(rec.requests)
    if failure is None:
        bad = [r for r in results if r.startswith("FAILED")]
        failure = f"the scripted model gave up: {bad[0]}" if bad \
            else scenario.check(workspace, results)
    return LiveRun(scenario.name, pipeline, anthropic, [c.body for c in fake.calls], results,
                   failure, time.perf_counter() - started)
