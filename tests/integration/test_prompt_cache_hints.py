"""Provider prompt caches used on purpose, through the real server: a per-session
prompt_cache_key to OpenAI, cache_prompt and a stable slot to llama.cpp, the upstream's cache
figures in the client's own usage fields and in metrics; LYNKR_RECORD_DIR recording without
secrets, replayed by ``lynkr bench``."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
from harness.proxy import proxy
from harness.wire import Reply
from prometheus_client.parser import text_string_to_metric_families

from lynkr.bench.command import main as bench

HEADERS = {"x-api-key": "sk-ant-secret", "anthropic-version": "2023-06-01"}


def body(text: str, *history: dict[str, object]) -> dict[str, object]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": False,
            "system": "Be brief.", "messages": [*history, {"role": "user", "content": text}],
            "tools": [{"name": "bash", "description": "Run a command.", "input_schema": {
                "type": "object", "properties": {"command": {"type": "string"}}}}]}


def test_openai_gets_one_cache_key_per_session_and_its_cache_figures_reach_the_client(
        tmp_path: Path) -> None:
    replies = [Reply(text="one", prompt_tokens=2000, cached_tokens=0),
               Reply(text="two", prompt_tokens=2100, cached_tokens=1920),
               Reply(text="three", prompt_tokens=900, cached_tokens=0)]
    with proxy("openai", replies, "default", OPENAI_PROMPT_CACHE_KEY="true") as (url, fake), \
            httpx.Client() as c:
        session = {**HEADERS, "x-claude-code-session-id": "sess-1"}
        first = c.post(f"{url}/v1/messages", json=body("hi"), headers=session)
        second = c.post(f"{url}/v1/messages", json=body(
            "more", {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "one"}), headers=session)
        other = c.post(f"{url}/v1/messages", json=body("hello"),
                       headers={**HEADERS, "x-claude-code-session-id": "sess-2"})
        metrics = c.get(f"{url}/metrics/prometheus").text
    keys = [call.body.get("prompt_cache_key") for call in fake.calls]
    assert keys[0] and keys[0] == keys[1] != keys[2]
    assert "sess-1" not in keys[0]  # a digest, never the session id itself
    assert first.json()["usage"]["cache_read_input_tokens"] == 0
    usage = second.json()["usage"]
    assert (usage["cache_read_input_tokens"], usage["input_tokens"]) == (1920, 180)
    assert other.status_code == 200
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(metrics) for s in family.samples}
    read = [v for (name, labels), v in samples.items()
            if name == "lynkr_upstream_cache_tokens_total" and ("kind", "read") in labels]
    assert read == [1920.0]


def test_deepseek_cache_hits_reach_an_openai_client() -> None:
    reply = Reply(text="ok", prompt_tokens=1000, cached_tokens=896,
                  cache_field="prompt_cache_hit_tokens")
    with proxy("openai", [reply]) as (url, _fake), httpx.Client() as c:
        answer = c.post(f"{url}/v1/chat/completions", json={
            "model": "deepseek-chat", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer x"})
    usage = answer.json()["usage"]
    assert usage["prompt_tokens"] == 1000
    assert usage["prompt_tokens_details"]["cached_tokens"] == 896


def test_llamacpp_gets_cache_prompt_and_a_stable_slot_per_session() -> None:
    with proxy("llamacpp", [Reply(text="a"), Reply(text="b"), Reply(text="c")], "default",
               LLAMACPP_SLOTS="4") as (url, fake), httpx.Client() as c:
        for session in ("s-1", "s-1", "s-2"):
            c.post(f"{url}/v1/messages", json=body("hi"),
                   headers={**HEADERS, "x-claude-code-session-id": session})
    slots = [(call.body["cache_prompt"], call.body["id_slot"]) for call in fake.calls]
    assert slots[0] == slots[1] and slots[0][0] is True
    assert all(0 <= slot < 4 for _, slot in slots)


def test_recorded_sessions_keep_no_secret_and_replay_with_lynkr_bench(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    with proxy("openai", [Reply(text="one"), Reply(text="two")], "default",
               LYNKR_RECORD_DIR=str(folder)) as (url, _fake), httpx.Client() as c:
        headers = {**HEADERS, "authorization": "Bearer sk-live-secret",
                   "x-claude-code-session-id": "abc"}
        c.post(f"{url}/v1/messages", json=body("hi"), headers=headers)
        c.post(f"{url}/v1/messages", json=body(
            "more", {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "one"}), headers=headers)
    files = list(folder.glob("*.jsonl"))
    assert [f.name for f in files] == ["sid-abc.jsonl"]
    text = files[0].read_text()
    assert "sk-ant-secret" not in text and "sk-live-secret" not in text
    lines = [orjson.loads(line) for line in text.splitlines()]
    assert [len(line["body"]["messages"]) for line in lines] == [1, 3]
    report = tmp_path / "report.md"
    out = tmp_path / "out.txt"
    with out.open("w") as sink:
        assert bench(["--sessions", str(folder), "--pipeline", "default",
                      "--report", str(report)], out=sink) == 0
    assert "| default" in out.read_text()
    assert "![effective cost](report.svg)" in report.read_text()
    assert report.with_suffix(".svg").read_text().startswith("<svg")
