"""The web box with the real Claude Code CLI: the model (scripted) reads a page through
Lynkr's ``web_fetch``; Claude Code shows one coherent answer and the call it did not run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness.claude_cli import run_claude
from harness.fake_model import FakeModel
from harness.fake_searxng import FakeSearxng
from harness.proxy import provider_env
from harness.servers import serve_asgi, serve_lynkr
from harness.web_pages import Pages
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e


def test_claude_code_reads_a_page_through_lynkr(tmp_path: Path, claude_bin: str) -> None:
    workspace, home = tmp_path / "ws", tmp_path / "home"
    workspace.mkdir()
    home.mkdir()
    site = Pages()
    with serve_asgi(site, name="pages") as pages, serve_asgi(FakeSearxng()) as search:
        site.port = int(pages.rsplit(":", 1)[1])

        def script(body: dict[str, Any]) -> Reply:
            if not body.get("tools"):
                return Reply(text="ok")  # Claude Code's side requests (titles, ...)
            results = [m for m in body["messages"] if m["role"] == "tool"]
            if not results:
                call = ToolCall("web_fetch", {"url": pages + "/page"}, id="call_w1")
                return Reply(text="Reading it.", tool_calls=(call,))
            return Reply(text="The page says: Welcome.")

        fake = FakeModel(script)
        with serve_asgi(fake) as upstream:
            env = {
                **provider_env("openai", upstream),
                "LOG_LEVEL": "warning",
                "WEB_SEARCH_ENDPOINT": search + "/search",
                "WEB_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",
            }
            with serve_lynkr(env) as url:
                result = run_claude(claude_bin, url, "what does the page say?", workspace, home)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.result["result"] == "The page says: Welcome.", result.result
    assert result.tool_uses() == []  # Claude Code ran nothing itself
    shown = [
        b for e in result.events if e.get("type") == "assistant" for b in e["message"]["content"]
    ]
    assert [b["type"] for b in shown if b["type"] != "text"] == [
        "server_tool_use",
        "lynkr_tool_result",
    ]
    assert site.hosts == [f"127.0.0.1:{site.port}"]
    tool_result = next(m for m in fake.calls[-1].body["messages"] if m["role"] == "tool")
    assert "# Welcome" in tool_result["content"]
