"""An Ollama model without tool support (``/api/show`` lists no ``tools``), e.g. ``llama3``:
asked once at start-up; a request with tools loses them with a WARNING in ``x-lynkr-stages``,
or goes to the fallback provider when one is configured."""

from __future__ import annotations

import httpx
from harness.fake_model import FakeModel
from harness.servers import serve_asgi, serve_lynkr
from harness.wire import Reply

from lynkr.formats.ollama.show import capabilities, supports_tools

BODY = {"model": "claude-sonnet-4-5", "max_tokens": 100,
        "messages": [{"role": "user", "content": "list the files"}],
        "tools": [{"name": "Bash", "description": "Run a command",
                   "input_schema": {"type": "object",
                                    "properties": {"command": {"type": "string"}}}}]}
HEADERS = {"anthropic-version": "2023-06-01"}


def test_no_fallback_the_tools_are_dropped_with_a_warning_and_the_answer_comes() -> None:
    ollama = FakeModel([Reply(text="I cannot run commands.")], capabilities=["completion"])
    with serve_asgi(ollama) as upstream:
        env = {"OLLAMA_ENDPOINT": upstream, "OLLAMA_MODEL": "llama3", "LOG_LEVEL": "warning"}
        with serve_lynkr(env) as url:
            first = httpx.post(url + "/v1/messages", json=BODY, headers=HEADERS, timeout=20)
            second = httpx.post(url + "/v1/messages", json=BODY, headers=HEADERS, timeout=20)
    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["content"][-1]["text"] == "I cannot run commands."
    assert "WARNING: llama3 has no tool use on ollama" in first.headers["x-lynkr-stages"]
    assert ollama.shown == ["llama3"]  # asked once, at start-up
    assert [("tools" in c.body) for c in ollama.calls] == [False, False]


def test_with_a_fallback_a_request_with_tools_goes_there() -> None:
    ollama = FakeModel([Reply(text="from ollama")], capabilities=["completion"])
    openai = FakeModel([Reply(text="from openai")])
    with serve_asgi(ollama) as local, serve_asgi(openai) as hosted:
        env = {"MODEL_PROVIDER": "ollama", "OLLAMA_ENDPOINT": local, "OLLAMA_MODEL": "llama3",
               "LOG_LEVEL": "warning",
               "FALLBACK_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test",
               "OPENAI_ENDPOINT": hosted + "/v1/chat/completions"}
        with serve_lynkr(env) as url:
            tools = httpx.post(url + "/v1/messages", json=BODY, headers=HEADERS, timeout=20)
            plain = httpx.post(url + "/v1/messages", headers=HEADERS, timeout=20,
                               json={k: v for k, v in BODY.items() if k != "tools"})
    assert tools.json()["content"][-1]["text"] == "from openai"
    assert tools.headers["x-lynkr-route"].startswith("openai/gpt-4o")
    assert "ollama/llama3 cannot call tools" in tools.headers["x-lynkr-route"]
    assert [c.body["tools"][0]["function"]["name"] for c in openai.calls] == ["Bash"]
    assert plain.json()["content"][-1]["text"] == "from ollama"  # no tools: Ollama answers
    assert len(ollama.calls) == 1


def test_a_model_with_tools_or_an_ollama_without_capabilities_keeps_them() -> None:
    assert supports_tools({"capabilities": ["completion", "tools"]}) is True
    assert supports_tools({"capabilities": ["completion"]}) is False
    assert capabilities({"details": {}}) is None and supports_tools("not json") is None
    ollama = FakeModel([Reply(text="ok")], capabilities=["completion", "tools"])
    with serve_asgi(ollama) as upstream:
        env = {"OLLAMA_ENDPOINT": upstream, "OLLAMA_MODEL": "qwen3", "LOG_LEVEL": "warning"}
        with serve_lynkr(env) as url:
            response = httpx.post(url + "/v1/messages", json=BODY, headers=HEADERS, timeout=20)
    assert response.status_code == 200
    assert ollama.shown == ["qwen3"] and "tools" in ollama.calls[0].body
