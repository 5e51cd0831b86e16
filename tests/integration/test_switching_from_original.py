"""A user of the original Lynkr switching over: its simplest setup (a ``.env`` with only the two
Databricks variables) started with a bare ``lynkr``; variables that do nothing here, and
misspelled ones, reported at start-up and by ``lynkr check``."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
from harness.fake_databricks import DatabricksGuard
from harness.fake_model import FakeModel
from harness.servers import serve_asgi
from harness.wire import Reply
from test_cli_process import base_env, free_port, wait_live

TOKEN = "dapi1234567890abcdef"


def test_the_originals_simplest_databricks_env_with_a_bare_lynkr(tmp_path: Path) -> None:
    fake = FakeModel([Reply(text="Hello from Databricks.")], DatabricksGuard(TOKEN))
    port = free_port()
    with serve_asgi(fake) as upstream:
        # the original README's .env, PORT aside (a free one for the test)
        (tmp_path / ".env").write_text(
            f"DATABRICKS_API_BASE={upstream}\nDATABRICKS_API_KEY={TOKEN}\n")
        process = subprocess.Popen([sys.executable, "-m", "lynkr"], cwd=tmp_path,
                                   env=base_env(tmp_path, PORT=str(port)),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_live(url, process)
            response = httpx.post(url + "/v1/messages", timeout=20, headers={
                "anthropic-version": "2023-06-01"}, json={
                "model": "claude-sonnet-4-5", "max_tokens": 100,
                "messages": [{"role": "user", "content": "hi"}]})
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
            _, stderr = process.communicate(timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["content"][-1]["text"] == "Hello from Databricks."
    assert fake.rejected == []
    [call] = fake.calls
    assert call.path == "/serving-endpoints/databricks-claude-sonnet-4-5/invocations"
    assert "provider databricks: MODEL_PROVIDER is not set; DATABRICKS_API_BASE and " \
           "DATABRICKS_API_KEY are set" in stderr


def test_check_reports_unsupported_and_misspelled_variables(tmp_path: Path) -> None:
    dead = free_port()
    env = base_env(tmp_path, OLLAMA_ENDPOINT=f"http://127.0.0.1:{dead}",
                   OLLAMA_MODLE="llama3", REQUEST_LOGGING_ENABLED="true",
                   TOOL_EXECUTION_MODE="server", LOAD_SHEDDING_HEAP_THRESHOLD="0.9")
    result = subprocess.run([sys.executable, "-m", "lynkr", "check"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=30)
    lines = result.stdout.splitlines()
    assert "warning: OLLAMA_MODLE is not a Lynkr variable; did you mean OLLAMA_MODEL?" in lines
    warned = {line.split()[1] for line in lines if line.startswith("warning: ")}
    assert warned == {"OLLAMA_MODLE", "REQUEST_LOGGING_ENABLED", "LOAD_SHEDDING_HEAP_THRESHOLD"}
    # honoured now: shown among the effective settings instead of warned about
    assert '"mode": "server"' in result.stdout
    assert "provider ollama: MODEL_PROVIDER is not set and no provider's credentials are set" \
        in result.stdout


def test_a_misspelling_behind_a_start_up_error_is_pointed_out(tmp_path: Path) -> None:
    env = base_env(tmp_path, MODEL_PROVIDER="openai", OPENAI_APIKEY="sk-test")
    result = subprocess.run([sys.executable, "-m", "lynkr", "start"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "lynkr: OPENAI_API_KEY is required when MODEL_PROVIDER=openai",
        "lynkr: warning: OPENAI_APIKEY is not a Lynkr variable; did you mean OPENAI_API_KEY?"]
