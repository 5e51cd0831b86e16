"""The real Claude Code CLI against two Lynkr processes that share state only through one real
redis-server (each with a key database of its own, as on two hosts): a budget spent through
one is refused by the other, in the CLI's own words."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest
from harness.claude_cli import run_claude
from harness.fake_model import FakeModel
from harness.redis_server import redis_server
from harness.servers import serve_asgi
from harness.wire import Reply
from integration.test_shared_state import environment, lynkr, make_keys

pytestmark = pytest.mark.e2e


def test_a_budget_spent_on_one_host_stops_claude_code_on_another(
    tmp_path: Path, claude_bin: str
) -> None:
    key = make_keys(tmp_path / "keys.db", alice={"budget_tokens": 100})["alice"]
    home, workspace = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    workspace.mkdir()
    model = FakeModel([Reply("All good.")])
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(tmp_path))
        upstream = stack.enter_context(serve_asgi(model))
        env = environment(tmp_path, upstream, REDIS_URL=redis.url)
        urls = []
        for host in ("a", "b"):
            shutil.copy(tmp_path / "keys.db", tmp_path / f"keys-{host}.db")
            own = {**env, "LYNKR_KEYS_DB_PATH": str(tmp_path / f"keys-{host}.db")}
            urls.append(stack.enter_context(lynkr(tmp_path, host, own))[0])
        good = run_claude(claude_bin, urls[0], "say hi", workspace, home, api_key=key)
        served = len(model.calls)
        spent = run_claude(claude_bin, urls[1], "say hi again", workspace, home, api_key=key)
    assert good.returncode == 0 and good.result["is_error"] is False, good.stderr[-2000:]
    assert served >= 1 and len(model.calls) == served  # host b never called the provider
    assert spent.result["is_error"] is True and spent.result["api_error_status"] == 429
    assert "budget of key 'alice' is spent" in spent.result["result"]
