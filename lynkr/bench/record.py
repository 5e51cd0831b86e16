"""``LYNKR_RECORD_DIR``: every chat request, as received, appended to a per-session file that
``lynkr bench --sessions DIR`` replays.

One JSON object a line (``{"path", "headers", "body"}``) in ``<dir>/<session>.jsonl``; the
session is the client's session header, else ``metadata.user_id``, else a digest of the
conversation's start (as the stages key theirs). Secrets are never written: authentication
headers (``authorization``, ``x-api-key``, ``api-key``, cookies, and any header whose name says
key, token, secret, password or auth) are left out. The body is written as the client sent it
(it holds the conversation: point the directory somewhere private). Writes run in a worker
thread, so the event loop never waits on the disk.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import trio

RECORDED = ("/v1/messages", "/v1/chat/completions", "/v1/responses")
_SECRET = re.compile(r"auth|key|token|secret|password|cookie", re.I)
_SESSION_HEADERS = ("x-claude-code-session-id", "x-session-id")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's headers without anything that authenticates (and without hop-by-hop
    ones that mean nothing in a recording)."""
    out: dict[str, str] = {}
    for raw_key, raw_value in headers:
        key = raw_key.decode("latin-1").lower()
        if _SECRET.search(key) or key in ("host", "content-length", "connection",
                                          "transfer-encoding"):
            continue
        out[key] = raw_value.decode("latin-1")
    return out


def session_name(headers: dict[str, str], body: Any) -> str:
    for name in _SESSION_HEADERS:
        if headers.get(name):
            return "sid-" + _SAFE.sub("_", headers[name])[:80]
    if isinstance(body, dict):
        user = (body.get("metadata") or {}).get("user_id") \
            if isinstance(body.get("metadata"), dict) else None
        if isinstance(user, str) and user:
            return "user-" + hashlib.sha256(user.encode()).hexdigest()[:16]
        start = [body.get("system"), body.get("instructions"),
                 (body.get("messages") or body.get("input") or [None])[:1]]
        return "start-" + hashlib.sha256(orjson.dumps(start, default=str)).hexdigest()[:16]
    return "unknown"


class SessionRecorder:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # one append at a time (worker threads)

    async def record(self, path: str, headers: Iterable[tuple[bytes, bytes]],
                     body: bytes) -> None:
        if path not in RECORDED:
            return
        try:
            parsed = orjson.loads(memoryview(body))  # a ParsedBody is a bytes subclass
        except orjson.JSONDecodeError:
            return  # the route answers it with a 400; nothing worth replaying
        kept = safe_headers(headers)
        line = orjson.dumps({"path": path, "headers": kept, "body": parsed}) + b"\n"
        target = self.folder / f"{session_name(kept, parsed)}.jsonl"
        await trio.to_thread.run_sync(self._append, target, line)

    def _append(self, target: Path, line: bytes) -> None:
        with self._lock, target.open("ab") as out:
            out.write(line)
