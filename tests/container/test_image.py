"""The built container image, run for real: `.ci/container.sh` builds it with podman, mounts it
(`podman image mount`) and runs this file with LYNKR_IMAGE_ROOT (the mounted tree, with /proc,
/dev, /tmp and a /data volume mounted into it) and LYNKR_IMAGE_INSPECT (`podman image inspect`).

The image's own entrypoint and command run under `chroot` as the image's user, with the image's
environment and working directory: the way a runtime would start it, without one (CI machines
cannot start containers). Skipped when those variables are absent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.fake_model import FakeModel
from harness.servers import serve_asgi
from harness.wire import Reply
from integration.test_cli_process import free_port, wait_live

ROOT = os.environ.get("LYNKR_IMAGE_ROOT")
pytestmark = pytest.mark.skipif(
    not ROOT, reason="no image mounted: .ci/container.sh builds and mounts it")


@pytest.fixture(scope="module")
def inspect() -> dict[str, Any]:
    return json.loads(Path(os.environ["LYNKR_IMAGE_INSPECT"]).read_text())[0]


@pytest.fixture(scope="module")
def config(inspect: dict[str, Any]) -> dict[str, Any]:
    return inspect["Config"]


def image_env(config: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in config["Env"])


def in_image(config: dict[str, Any], env: dict[str, str], command: list[str]) -> list[str]:
    """``command`` as the image's user, in its tree and working directory, with ``env`` only."""
    user = config["User"]
    return ["chroot", f"--userspec={user}:{user}", ROOT, "env", "-i",  # type: ignore[list-item]
            f"--chdir={config['WorkingDir']}", *(f"{k}={v}" for k, v in env.items()), *command]


def test_image_config_is_non_root_with_health_check_volume_and_exec_form(
        inspect: dict[str, Any], config: dict[str, Any]) -> None:
    assert config["User"] not in ("", "0", "root")
    assert "/data" in config["Volumes"]
    assert inspect["Healthcheck"]["Test"][0] == "CMD"  # exec form: no shell needed
    assert "/health/live" in " ".join(inspect["Healthcheck"]["Test"])
    assert config["Entrypoint"] == ["lynkr"] and config["Cmd"] == ["start"]
    assert config["StopSignal"] == "SIGTERM"
    env = image_env(config)
    assert env["LYNKR_DB_PATH"].startswith("/data/")
    assert Path(ROOT, env["LYNKR_PRICES"].lstrip("/")).is_file()  # type: ignore[arg-type]
    assert Path(ROOT, "app/pipelines/default.yaml").is_file()  # type: ignore[arg-type]
    site = list(Path(ROOT, "opt/lynkr/lib").glob("python3*/site-packages"))  # type: ignore[arg-type]
    assert site and (site[0] / "boto3").is_dir()  # the bedrock extra
    assert not (site[0] / "torch").exists()  # embeddings only when asked for


def test_lynkr_starts_as_the_image_user_proxies_and_stops_on_sigterm(
        inspect: dict[str, Any], config: dict[str, Any]) -> None:
    port = free_port()
    fake = FakeModel([Reply(text="hello from the fake model")])
    with serve_asgi(fake) as upstream:
        env = image_env(config) | {
            "PORT": str(port), "LYNKR_HOST": "127.0.0.1", "MODEL_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-test", "OPENAI_ENDPOINT": upstream + "/v1/chat/completions",
            "API_RETRY_MAX_RETRIES": "0"}
        user = config["User"]
        process = subprocess.Popen(in_image(config, env, config["Entrypoint"] + config["Cmd"]),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_live(url, process)
            status = Path(f"/proc/{process.pid}/status").read_text()
            uids = next(line for line in status.splitlines() if line.startswith("Uid:"))
            assert uids.split()[1:] == [user] * 4  # real, effective, saved, filesystem
            health = subprocess.run(in_image(config, env, inspect["Healthcheck"]["Test"][1:]),
                                    capture_output=True, text=True, timeout=20)
            assert health.returncode == 0, health.stderr
            response = httpx.post(url + "/v1/messages", timeout=20, headers={
                "anthropic-version": "2023-06-01"}, json={
                "model": "claude-x", "max_tokens": 50,
                "messages": [{"role": "user", "content": "hi"}]})
            assert response.status_code == 200, response.text
            assert response.json()["content"][0]["text"] == "hello from the fake model"
            assert fake.calls and fake.calls[0].headers["authorization"] == "Bearer sk-test"
            stored = httpx.post(url + "/v1/responses", timeout=20, json={
                "model": "gpt-4o", "input": "hi again"})  # kept in SQLite under /data
            assert stored.status_code == 200, stored.text
            metrics = httpx.get(url + "/metrics/prometheus").text
            assert 'lynkr_cost_usd_total{model="gpt-4o",provider="openai"}' in metrics
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
            _, stderr = process.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr[-3000:]
    assert Path(ROOT, "data", "lynkr.db").is_file()  # type: ignore[arg-type]
