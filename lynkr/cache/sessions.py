"""An in-process, bounded ``SessionStore``: the sessions used most recently, a few keys each.

Least recently used sessions are forgotten first once ``max_sessions`` hold state, and a session
keeps at most ``max_keys`` keys (its oldest key goes first). Forgetting is always safe: the
stages that read the store decide afresh when it has nothing. One event loop, no ``await``
inside an operation, so no two tasks interleave within one.
"""

from __future__ import annotations

from collections import OrderedDict


class MemorySessionStore:
    def __init__(self, max_sessions: int = 1024, max_keys: int = 16,
                 max_value_chars: int = 65_536) -> None:
        if max_sessions < 1 or max_keys < 1:
            raise ValueError("max_sessions and max_keys must be at least 1")
        self.max_sessions = max_sessions
        self.max_keys = max_keys
        self.max_value_chars = max_value_chars
        self._sessions: OrderedDict[str, OrderedDict[str, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    async def load(self, session: str) -> None:
        return None  # everything is here already

    def get(self, session: str, key: str) -> str | None:
        keys = self._sessions.get(session)
        if keys is None:
            return None
        self._sessions.move_to_end(session)
        return keys.get(key)

    def put(self, session: str, key: str, value: str) -> None:
        if len(value) > self.max_value_chars:  # too big to keep: as if forgotten
            return
        keys = self._sessions.get(session)
        if keys is None:
            keys = self._sessions[session] = OrderedDict()
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        self._sessions.move_to_end(session)
        keys[key] = value
        keys.move_to_end(key)
        while len(keys) > self.max_keys:
            keys.popitem(last=False)
