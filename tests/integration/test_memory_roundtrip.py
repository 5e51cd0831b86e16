"""Long-term memory through the real server: a preference stated in one session reaches the
model's request in another, byte-stable across turns, for its user only, and never on the
answer's path."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import orjson
from harness.fake_model import FakeModel
from harness.proxy import UPSTREAM_KEY, provider_env
from harness.servers import lynkr_state, serve_asgi, serve_state
from harness.wire import Reply
from sse_client import stream_events

from lynkr.auth.store import KeyStore
from lynkr.memory.database import MemoryDatabase
from lynkr.server.state import AppState

CWD = "/home/dev/shop"
SYSTEM = [
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
    {
        "type": "text",
        "text": f"# Environment\n - Primary working directory: {CWD}\n - Platform: linux\n",
    },
]
PREFERENCE = "I prefer Python for data processing."
QUESTION = "What language should I use for data tasks?"


def user_id(device: str, session: str) -> str:
    return orjson.dumps({"device_id": device, "account_uuid": "", "session_id": session}).decode()


def body(
    messages: list[dict[str, Any]],
    device: str = "dev-ann",
    session: str = "s1",
    stream: bool = True,
) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "stream": stream,
        "system": SYSTEM,
        "metadata": {"user_id": user_id(device, session)},
        "messages": messages,
    }


def said(text: str) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [
            {
                "type": "text",
                "text": "<system-reminder>\nAs you answer the user's questions, you "
                "can use the following context.\n</system-reminder>\n",
            },
            {"type": "text", "text": text},
        ],
    }


def learnt(state: AppState, jobs: int, timeout: float = 10.0) -> None:
    """Wait (a real wait: the worker runs in the server's thread) until the background
    worker has learnt from ``jobs`` finished turns."""
    assert state.memory is not None
    deadline = time.monotonic() + timeout
    while state.memory.counts.learnt < jobs:
        assert time.monotonic() < deadline, state.memory.counts
        time.sleep(0.02)


def start(upstream: str, tmp_path: Path, **env: str) -> AppState:
    return lynkr_state(
        {
            **provider_env("anthropic", upstream),
            "LOG_LEVEL": "warning",
            "MEMORY_DB_PATH": str(tmp_path / "memory.db"),
            **env,
        }
    )


def sent_text(call_body: dict[str, Any]) -> str:
    return orjson.dumps(call_body["messages"]).decode()


def test_a_preference_from_one_session_reaches_the_next(tmp_path: Path) -> None:
    fake = FakeModel([Reply(text="Noted.")])
    with serve_asgi(fake) as upstream:
        state = start(upstream, tmp_path)
        with serve_state(state) as url, httpx.Client(timeout=30) as c:
            first, _, _ = stream_events(
                c, url, body([said(PREFERENCE)]), **{"x-claude-code-session-id": "s1"}
            )
            assert first.headers["x-lynkr-memory"] == "0 injected, 0 tokens"
            learnt(state, 1)
            second, _, _ = stream_events(
                c, url, body([said(QUESTION)], session="s2"), **{"x-claude-code-session-id": "s2"}
            )
            stranger, _, _ = stream_events(
                c,
                url,
                body([said(QUESTION)], device="dev-bob", session="s3"),
                **{"x-claude-code-session-id": "s3"},
            )
    assert "<lynkr-memory>" not in sent_text(fake.calls[0].body)
    asked = fake.calls[1].body["messages"][0]["content"]
    block = asked[0]["text"]
    assert block.startswith("<lynkr-memory>") and f"(preference) {PREFERENCE}" in block
    assert [b["text"] for b in asked[1:]] == [b["text"] for b in said(QUESTION)["content"]]
    assert fake.calls[1].body["system"] == fake.calls[0].body["system"]  # never the system
    tokens = second.headers["x-lynkr-memory"].split()[2]
    assert second.headers["x-lynkr-memory"] == f"1 injected, {tokens} tokens"
    assert "memory_inject=1 injected" in second.headers["x-lynkr-stages"]
    assert stranger.headers["x-lynkr-memory"] == "0 injected, 0 tokens"
    assert PREFERENCE not in sent_text(fake.calls[2].body)
    assert fake.calls[0].headers["x-api-key"] == UPSTREAM_KEY


def test_every_earlier_part_of_the_upstream_request_stays_byte_identical(tmp_path: Path) -> None:
    """Turn after turn of one session, with memories learnt meanwhile: each upstream request
    starts with the previous one's system, tools and messages, byte for byte."""
    fake = FakeModel([Reply(text="Noted.")])
    header = {"x-claude-code-session-id": "s2"}
    with serve_asgi(fake) as upstream:
        state = start(upstream, tmp_path)
        with serve_state(state) as url, httpx.Client(timeout=30) as c:
            stream_events(
                c, url, body([said(PREFERENCE)], session="s1"), **{"x-claude-code-session-id": "s1"}
            )
            learnt(state, 1)
            conversation = [said(QUESTION)]
            for n, text in enumerate(
                [
                    "Our CI runs on GitHub Actions and deploys with Helm.",
                    "Which language again for the data jobs?",
                    "We decided to use Postgres 16 for the warehouse.",
                ]
            ):
                stream_events(c, url, body(conversation, session="s2"), **header)
                learnt(state, 2 + n)  # what this session teaches is stored meanwhile
                conversation += [
                    {"role": "assistant", "content": [{"type": "text", "text": f"Answer {n}."}]},
                    said(text),
                ]
            stream_events(c, url, body(conversation, session="s2"), **header)
    assert state.memory is not None and state.memory.counts.stored >= 3
    calls = [orjson.loads(orjson.dumps(call.body)) for call in fake.calls[1:]]
    assert len(calls) == 4
    assert "<lynkr-memory>" in calls[0]["messages"][0]["content"][0]["text"]
    for before, after in pairwise(calls):
        assert orjson.dumps(after["system"]) == orjson.dumps(before["system"])
        assert orjson.dumps(after.get("tools")) == orjson.dumps(before.get("tools"))
        earlier = len(before["messages"])
        assert [orjson.dumps(_unmarked(m)) for m in after["messages"][:earlier]] == [
            orjson.dumps(_unmarked(m)) for m in before["messages"]
        ]


def _unmarked(message: dict[str, Any]) -> dict[str, Any]:
    """A message without the cache_control marks cache_breakpoints moves to the newest turns
    (they are not part of the cached prefix's content)."""
    content = message["content"]
    if isinstance(content, list):
        content = [{k: v for k, v in b.items() if k != "cache_control"} for b in content]
    return {**message, "content": content}


def test_memory_off_adds_nothing_and_learns_nothing(tmp_path: Path) -> None:
    fake = FakeModel([Reply(text="Noted.")])
    with serve_asgi(fake) as upstream:
        state = start(upstream, tmp_path, MEMORY_ENABLED="false")
        with serve_state(state) as url, httpx.Client(timeout=30) as c:
            first, _, _ = stream_events(c, url, body([said(PREFERENCE)]))
            second, _, _ = stream_events(c, url, body([said(QUESTION)], session="s2"))
    assert state.memory is None and state.ports.memory is None
    assert "x-lynkr-memory" not in first.headers
    assert "memory_inject=off (MEMORY_ENABLED=false)" in second.headers["x-lynkr-stages"]
    assert "<lynkr-memory>" not in sent_text(fake.calls[1].body)
    assert not (tmp_path / "memory.db").exists()


def test_model_written_extraction_adds_what_the_heuristic_misses(tmp_path: Path) -> None:
    """MEMORY_MODEL_EXTRACTION=true: after the answer, the configured model is asked (in the
    background) what to remember; its JSON answer is stored beside the heuristic's finds."""
    remembered = (
        '[{"type": "preference", "text": "The user dislikes short variable names.", '
        '"importance": 0.8, "subject": "variable names"}]'
    )

    def script(call_body: dict[str, Any]) -> Reply:
        asked = "long-term memory about a user" in orjson.dumps(call_body).decode()
        return Reply(text=remembered if asked else "Noted.")

    fake = FakeModel(script)
    with serve_asgi(fake) as upstream:
        state = start(upstream, tmp_path, MEMORY_MODEL_EXTRACTION="true")
        with serve_state(state) as url, httpx.Client(timeout=30) as c:
            stream_events(c, url, body([said("Short variable names drive me crazy.")]))
            learnt(state, 1)
            second, _, _ = stream_events(
                c, url, body([said("How should I name variables?")], session="s2")
            )
    extraction = [
        call
        for call in fake.calls
        if "long-term memory about a user" in orjson.dumps(call.body).decode()
    ]
    assert len(extraction) >= 1
    assert "Short variable names drive me crazy." in orjson.dumps(extraction[0].body).decode()
    assert second.headers["x-lynkr-memory"].startswith("1 injected")
    asked = [
        call
        for call in fake.calls
        if "How should I name variables?" in orjson.dumps(call.body).decode()
    ]
    assert "The user dislikes short variable names." in sent_text(asked[0].body)


ALICE_FACTS = (
    "My doctor is Dr. Emma Stone at the Riverside clinic.",
    "I live at 12 Harbour Road in Lisbon.",
    "I prefer Python for data processing.",
)
BOB_FACTS = (
    "My doctor is Dr. Raj Patel at the Hillview hospital.",
    "I live at 7 Mill Lane in Toronto.",
    "I prefer Rust for data processing.",
)
SECRET_LIKE = (
    "My password for the VPN is Tr0ub4dor&3xyz.",
    "The deploy token is ghp_abcdefghijklmnopqrstuvwxyz0123456789.",
)
ASKED = (
    "Who is my doctor?",
    "Where do I live?",
    "What language for data processing?",
    "What is my VPN password?",
    "What is the deploy token?",
)


def test_two_keys_never_see_each_others_memories(tmp_path: Path) -> None:
    """Keys on: the user is the key. Alice and Bob, in the same workspace and with the same
    Claude Code device, tell personal and secret-like facts; each asks every question; what
    reaches the model for one never holds the other's facts, and no secret is ever stored."""
    store = KeyStore(tmp_path / "keys.db")
    keys = {name: store.create(name, 1.0)[0] for name in ("alice", "bob")}
    store.close()
    fake = FakeModel([Reply(text="Noted.")])
    with serve_asgi(fake) as upstream:
        state = start(upstream, tmp_path, LYNKR_KEYS_DB_PATH=str(tmp_path / "keys.db"))
        with serve_state(state) as url, httpx.Client(timeout=30) as c:
            jobs = 0
            for name, facts in (("alice", ALICE_FACTS), ("bob", BOB_FACTS)):
                for n, fact in enumerate(facts + SECRET_LIKE):
                    session = f"{name}-tell-{n}"
                    stream_events(
                        c,
                        url,
                        body([said(fact)], session=session),
                        **{"x-api-key": keys[name], "x-claude-code-session-id": session},
                    )
                    jobs += 1
            learnt(state, jobs)
            asked: dict[str, list[str]] = {"alice": [], "bob": []}
            for name in asked:
                for n, question in enumerate(ASKED):
                    session = f"{name}-ask-{n}"
                    seen = len(fake.calls)
                    stream_events(
                        c,
                        url,
                        body([said(question)], session=session),
                        **{"x-api-key": keys[name], "x-claude-code-session-id": session},
                    )
                    asked[name].append(sent_text(fake.calls[seen].body))
    everything = " ".join(asked["alice"])
    assert all(fact not in everything for fact in BOB_FACTS)
    assert any(fact in everything for fact in ALICE_FACTS)  # recall works, for its owner
    everything = " ".join(asked["bob"])
    assert all(fact not in everything for fact in ALICE_FACTS)
    assert any(fact in everything for fact in BOB_FACTS)
    db = MemoryDatabase(tmp_path / "memory.db")
    stored = [m.text for user in ("key:alice", "key:bob") for m in db.export(user)]
    db.close()
    assert stored and not any("Tr0ub4dor" in t or "ghp_" in t for t in stored)
    assert {u for u, _, _ in MemoryDatabase(tmp_path / "memory.db").owners()} == {
        "key:alice",
        "key:bob",
    }
