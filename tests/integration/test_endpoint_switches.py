"""The original's METRICS_ENABLED and HEALTH_CHECK_ENABLED: false takes those endpoints away
(404), and nothing else."""

from __future__ import annotations

import httpx
import pytest
from harness.servers import serve_lynkr

PATHS = ("/metrics/prometheus", "/metrics/observability", "/metrics/circuit-breakers",
         "/health", "/v1/health", "/health/live", "/health/ready")


@pytest.mark.parametrize(("variable", "gone"), [
    ("METRICS_ENABLED", "/metrics/"), ("HEALTH_CHECK_ENABLED", "/health")])
def test_false_takes_those_paths_away(variable: str, gone: str) -> None:
    env = {"OLLAMA_ENDPOINT": "http://127.0.0.1:9", "LOG_LEVEL": "warning", variable: "false"}
    with serve_lynkr(env) as url:
        status = {path: httpx.get(url + path).status_code for path in PATHS}
    assert {p for p, code in status.items() if code == 404} == {
        p for p in PATHS if p.startswith(gone) or (gone == "/health" and p == "/v1/health")}
    assert all(code == 200 for p, code in status.items() if status[p] != 404), status


def test_both_on_by_default() -> None:
    with serve_lynkr({"OLLAMA_ENDPOINT": "http://127.0.0.1:9", "LOG_LEVEL": "warning"}) as url:
        assert {httpx.get(url + p).status_code for p in PATHS} == {200}
