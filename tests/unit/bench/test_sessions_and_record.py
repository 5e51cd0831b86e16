"""Session files: the bundled form round-trips, shaping keeps structure and stability, the
recorder keeps no secret."""

from __future__ import annotations

from pathlib import Path

import attrs

from lynkr.bench.record import safe_headers, session_name
from lynkr.bench.sessions import Session, filler, find, load, save_bundled, shape_only

SYSTEM = "You are a careful agent. Use the tools.\n# Rules\n- be brief (2 lines)"


def request(*texts: str) -> dict[str, object]:
    return {"path": "/v1/messages", "headers": {"x-claude-code-session-id": "s"}, "body": {
        "model": "m", "system": [{"type": "text", "text": SYSTEM}],
        "tools": [{"name": "Bash", "description": "Runs a shell command.",
                   "input_schema": {"type": "object", "properties": {
                       "command": {"type": "string", "description": "The command"}}}}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>Remember things.</system-reminder>"},
            {"type": "text", "text": t}]} for t in texts]}}


def test_bundled_form_round_trips(tmp_path: Path) -> None:
    session = Session("s", "two turns", (request("hi"), request("hi", "more")))
    save_bundled(session, tmp_path / "s.json.gz")
    assert load(tmp_path / "s.json.gz") == session


def test_shape_only_replaces_prose_keeps_structure_and_is_stable() -> None:
    session = Session("s", "", (request("hi"), request("hi", "more")))
    shaped = shape_only(session)
    first, second = (r["body"] for r in shaped.requests)
    assert SYSTEM not in str(first) and "Runs a shell command" not in str(first)
    assert "Remember things" not in str(first)
    assert first["system"] == second["system"] and first["tools"] == second["tools"]
    assert first["messages"][0] == second["messages"][0]  # the same text, the same filler
    assert first["messages"][0]["content"][1]["text"] == "hi"  # the user's own words stay
    tool = first["tools"][0]
    assert tool["name"] == "Bash"
    assert list(tool["input_schema"]["properties"]) == ["command"]
    assert len(filler(SYSTEM)) == len(SYSTEM) and filler(SYSTEM).count("\n") == 2


def test_bundled_sessions_are_found() -> None:
    names = {s.name for s in find()}
    assert {"explore-edit", "long-session", "opencode-lowercase"} <= names
    long = next(s for s in find() if s.name == "long-session")
    assert len(long.requests) >= 40


def test_recorder_drops_every_secret_header() -> None:
    headers = [(b"Authorization", b"Bearer sk"), (b"x-api-key", b"sk-ant"), (b"api-key", b"az"),
               (b"cookie", b"c"), (b"x-goog-api-key", b"g"), (b"anthropic-version", b"1"),
               (b"x-session-id", b"ses_1"), (b"host", b"h")]
    assert safe_headers(headers) == {"anthropic-version": "1", "x-session-id": "ses_1"}


def test_session_names() -> None:
    assert session_name({"x-session-id": "ses/../1"}, {}) == "sid-ses_.._1"
    by_user = session_name({}, {"metadata": {"user_id": "u1"}, "messages": []})
    assert by_user.startswith("user-") and "u1" not in by_user
    start = session_name({}, {"messages": [{"role": "user", "content": "hi"}]})
    later = session_name({}, {"messages": [{"role": "user", "content": "hi"},
                                           {"role": "assistant", "content": "yo"}]})
    assert start == later and start.startswith("start-")
    assert attrs.has(Session)
