"""`lynkr start` and `lynkr check` as real processes, configured only by the environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OLLAMA_", "OPENAI_", "MODEL_", "LYNKR_"))}
    env.update(extra)
    return env


def wait_live(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(url + "/health/live", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("lynkr did not come up")


def test_start_on_embedded_defaults_then_sigterm_exits_0(tmp_path: Path) -> None:
    port, dead = free_port(), free_port()
    env = base_env(tmp_path, PORT=str(port), OLLAMA_ENDPOINT=f"http://127.0.0.1:{dead}",
                   API_RETRY_MAX_RETRIES="0")
    process = subprocess.Popen([sys.executable, "-m", "lynkr", "start"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_live(url, process)
        assert httpx.get(url + "/health/ready").json() == {"status": "ready"}
        response = httpx.post(url + "/v1/messages", json={
            "model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]},
            headers={"anthropic-version": "2023-06-01"})
        assert response.status_code == 502
        message = response.json()["error"]["message"]
        assert "ollama is not answering" in message and f"127.0.0.1:{dead}" not in message
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate(timeout=10)
    assert "qwen2.5-coder:7b" in stderr  # the default model is announced at start-up
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("env", "fragment"), [
    ({"PORT": "eighty"}, "PORT must be a whole number"),
    ({"MODEL_PROVIDER": "openai"}, "OPENAI_API_KEY is required"),
    ({"LYNKR_PIPELINE": "no-such-pipeline"}, "no-such-pipeline"),
])
def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path, env: dict[str, str],
                                                  fragment: str) -> None:
    result = subprocess.run([sys.executable, "-m", "lynkr", "start"], cwd=tmp_path,
                            env=base_env(tmp_path, **env), capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_check_masks_secrets_and_reports_an_unreachable_provider(tmp_path: Path) -> None:
    dead = free_port()
    env = base_env(tmp_path, MODEL_PROVIDER="llamacpp", LLAMACPP_API_KEY="secret-key-12345",
                   LLAMACPP_ENDPOINT=f"http://127.0.0.1:{dead}")
    result = subprocess.run([sys.executable, "-m", "lynkr", "check"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "secret-key-12345" not in result.stdout
    assert "sec…45" in result.stdout
    assert "FAIL" in result.stdout and f"127.0.0.1:{dead}" in result.stdout


def test_workers_run_the_pipeline_given_on_the_command_line(tmp_path: Path) -> None:
    """``--workers 2 --pipeline max-savings``: every worker runs max-savings (its
    system_prompt stage is not in the default pipeline), not what the environment names."""
    from harness.fake_model import FakeModel
    from harness.servers import serve_asgi
    from harness.wire import Reply

    port = free_port()
    with serve_asgi(FakeModel([Reply(text="ok")])) as upstream:
        env = base_env(tmp_path, PORT=str(port), OLLAMA_ENDPOINT=upstream,
                       LYNKR_PIPELINE="default", LYNKR_DB_PATH=str(tmp_path / "db"))
        process = subprocess.Popen(
            [sys.executable, "-m", "lynkr", "start", "--workers", "2", "--pipeline",
             "max-savings"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_live(url, process)
            notes = []
            for _ in range(8):  # a new connection each: the workers share the socket
                response = httpx.post(url + "/v1/messages", json={
                    "model": "claude-x", "max_tokens": 10, "stream": False,
                    "messages": [{"role": "user", "content": "hi"}]},
                    headers={"anthropic-version": "2023-06-01"}, timeout=10)
                assert response.status_code == 200, response.text
                notes.append(response.headers["x-lynkr-stages"])
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
            _, stderr = process.communicate(timeout=10)
    assert all("system_prompt=" in n for n in notes), notes
    assert "pipeline max-savings" in stderr
    assert "Traceback" not in stderr
