"""The per-session decision store in Redis: the ``SessionStore`` port shared by every process.

Assumes: ``Link`` for I/O; stages read the store synchronously (``get``) while the request's
pipeline runs, so the server ``load``s the request's session first (one ``HGETALL``).
Guarantees: a session is one hash (key -> value) that expires ``ttl_s`` after its last write;
``load`` copies it into the in-process ``MemorySessionStore`` (the mirror ``get`` reads), and
``put`` writes the mirror at once and Redis in the background, so a decision taken by one
process is reproduced byte for byte by any other that serves the session's next turn. The
mirror's bounds (sessions, keys, value size) apply; a value too big for it is not shared.
While Redis is unreachable the mirror alone serves, as the in-process store does.
Never: fails a request because Redis is down; a decision missing is decided afresh (the port's
contract).
"""

from __future__ import annotations

from lynkr.cache.sessions import MemorySessionStore
from lynkr.shared.link import Link, Unavailable

SESSION_TTL_S = 7 * 86_400  # a week after the last decision: a long-lived agent session


class RedisSessionStore:
    def __init__(self, link: Link, local: MemorySessionStore, ttl_s: float = SESSION_TTL_S) -> None:
        self.link, self.local, self.ttl_s = link, local, ttl_s

    async def load(self, session: str) -> None:
        try:
            reply = await self.link.call("sessions", "HGETALL", self.link.key("session", session))
        except Unavailable:
            return
        if isinstance(reply, list):
            for index in range(0, len(reply) - 1, 2):
                key, value = reply[index], reply[index + 1]
                if isinstance(key, bytes) and isinstance(value, bytes):
                    self.local.put(session, key.decode(), value.decode())

    def get(self, session: str, key: str) -> str | None:
        return self.local.get(session, key)

    def put(self, session: str, key: str, value: str) -> None:
        self.local.put(session, key, value)
        if len(value) <= self.local.max_value_chars:
            name = self.link.key("session", session)
            self.link.post("sessions", "HSET", name, key, value)
            self.link.post("sessions", "PEXPIRE", name, int(self.ttl_s * 1000))
