"""Scope resolution: the user and the workspace of a request."""

from __future__ import annotations

import orjson
import pytest

from lynkr.model import Message, Request, TextBlock
from lynkr.model.memory import Scope
from lynkr.stages.memory_scope import scope_of, user_of, workspace_of

CC_USER = orjson.dumps({"device_id": "dev123", "account_uuid": "", "session_id": "s-1"}).decode()


def request(*, user_id: str | None = None, system: str = "", first: str = "hi") -> Request:
    return Request(model="m", max_tokens=10, system=(TextBlock(system),) if system else (),
                   metadata={"user_id": user_id} if user_id is not None else None,
                   messages=(Message("system", (TextBlock(first),)) if "directory" in first
                             else Message("user", (TextBlock(first),)),
                             Message("user", (TextBlock("go"),))))


@pytest.mark.parametrize(("user_id", "key_user", "expected"), [
    (CC_USER, None, "device:dev123"),
    (orjson.dumps({"device_id": "d", "account_uuid": "acc-9", "session_id": "x"}).decode(), None,
     "account:acc-9"),
    (orjson.dumps({"session_id": "x"}).decode(), None, "fallback"),
    ("{not json", None, "{not json"),
    ("sdk-user-42", None, "sdk-user-42"),
    ("   ", None, "fallback"),
    (None, None, "fallback"),
    (CC_USER, "team-a", "key:team-a"),
])
def test_user(user_id: str | None, key_user: str | None, expected: str) -> None:
    assert user_of(request(user_id=user_id), key_user, "fallback") == expected


def test_the_session_id_never_splits_a_user() -> None:
    other_session = orjson.dumps({"device_id": "dev123", "account_uuid": "",
                                  "session_id": "s-2"}).decode()
    assert user_of(request(user_id=CC_USER), None, "d") == user_of(
        request(user_id=other_session), None, "d")


@pytest.mark.parametrize(("kwargs", "headers", "expected"), [
    ({"first": "# Environment\n - Primary working directory: /home/dev/project\n - Is a git"},
     {}, "/home/dev/project"),
    ({"system": "Here is useful information\nWorking directory: /srv/app/\nPlatform: linux"},
     {}, "/srv/app"),
    ({"first": "<environment_context>\n  <cwd>/work/repo</cwd>\n</environment_context>"}, {},
     "/work/repo"),
    ({"first": "Working directory: /a"}, {"x-lynkr-workspace": "/from/header/"}, "/from/header"),
    ({}, {}, ""),
])
def test_workspace(kwargs: dict[str, str], headers: dict[str, str], expected: str) -> None:
    assert workspace_of(request(**kwargs), headers) == expected


def test_scope() -> None:
    got = scope_of(request(user_id=CC_USER, system="Working directory: /p"), {},
                   default_user="d")
    assert got == Scope("device:dev123", "/p")
