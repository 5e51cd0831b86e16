"""A small Redis client on trio streams: RESP2 encoding and parsing, and a pool of connections.

Assumes: a Redis (or compatible) server speaking RESP2 at ``redis://[:password@]host:port/db``
(``rediss://`` is not supported: put Redis on loopback or a private network, or use a tunnel).
Guarantees: one command in flight per connection; a connection whose command was cancelled or
failed mid-reply is closed, never reused, so a reply can never be read by the wrong caller.
Every wait is bounded by ``timeout_s`` (connect and each command). Errors are
``RedisDown`` (the server cannot be reached or the connection broke) or ``RedisReplyError``
(the server answered with an error, e.g. a script bug).
Never: blocks the event loop (no threads, no synchronous sockets), retries on its own (the
``Link`` above decides what a failure means).

Why our own and not redis-py or coredis: measured on this machine (benchmarks/redis_clients.py,
docs/production.md), one command from one caller takes a quarter of the time of redis-py's
synchronous client in ``trio.to_thread`` (a thread hop per command) or of coredis (anyio, so
it runs under trio), and the three are even at 32 concurrent callers. We need a handful of
commands (EVALSHA, SCRIPT LOAD, GET, SET, DEL, HGETALL, HSET, PEXPIRE, PING, AUTH, SELECT) and
RESP2, and add no dependency.
"""

from __future__ import annotations

import urllib.parse

import attrs
import trio

Reply = bytes | int | list["Reply"] | None


class RedisDown(Exception):
    """Redis could not be reached, or the connection broke mid-command."""


class RedisReplyError(Exception):
    """Redis answered a command with an error reply (``-ERR ...``)."""


@attrs.frozen
class Address:
    host: str
    port: int
    db: int = 0
    password: str | None = None
    username: str | None = None

    @classmethod
    def parse(cls, url: str) -> Address:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError(f"REDIS_URL must start with redis:// (got {parts.scheme!r}://)")
        path = parts.path.strip("/")
        if path and not path.isdigit():
            raise ValueError(f"REDIS_URL: the database must be a number, got {path!r}")
        return cls(
            parts.hostname or "127.0.0.1",
            parts.port or 6379,
            int(path or 0),
            urllib.parse.unquote(parts.password) if parts.password else None,
            urllib.parse.unquote(parts.username) if parts.username else None,
        )

    def shown(self) -> str:
        """The address without its password (for logs and ``lynkr check``)."""
        return f"redis://{self.host}:{self.port}/{self.db}"


def encode(args: tuple[bytes | str | int | float, ...]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out += [b"$%d\r\n" % len(data), data, b"\r\n"]
    return b"".join(out)


class Incomplete(Exception):
    """The buffer does not hold a whole reply yet."""


def parse(buffer: bytes | bytearray, at: int = 0) -> tuple[Reply | RedisReplyError, int]:
    """One reply from ``buffer`` starting at ``at``, and where the next one starts."""
    end = buffer.find(b"\r\n", at)
    if end < 0:
        raise Incomplete
    kind, line = buffer[at : at + 1], bytes(buffer[at + 1 : end])
    start = end + 2
    if kind == b"+":
        return line, start
    if kind == b"-":
        return RedisReplyError(line.decode("utf-8", "replace")), start
    if kind == b":":
        return int(line), start
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, start
        if len(buffer) < start + size + 2:
            raise Incomplete
        return bytes(buffer[start : start + size]), start + size + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, start
        items: list[Reply] = []
        for _ in range(count):
            item, start = parse(buffer, start)
            if isinstance(item, RedisReplyError):
                raise item
            items.append(item)
        return items, start
    raise RedisDown(f"not a RESP reply: {bytes(buffer[at : at + 16])!r}")


class Connection:
    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def call(self, args: tuple[bytes | str | int | float, ...]) -> Reply:
        await self.stream.send_all(encode(args))
        while True:
            try:
                reply, used = parse(self.buffer)
            except Incomplete:
                data = await self.stream.receive_some(65536)
                if not data:
                    raise RedisDown("Redis closed the connection") from None
                self.buffer += data
                continue
            del self.buffer[:used]
            if isinstance(reply, RedisReplyError):
                raise reply
            return reply

    async def aclose(self) -> None:
        await self.stream.aclose()


class Pool:
    """Up to ``size`` connections to one Redis, opened on demand and kept while healthy."""

    def __init__(self, address: Address, size: int = 8, timeout_s: float = 0.5) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self.idle: list[Connection] = []
        self.slots = trio.Semaphore(size)
        self.closed = False

    async def _open(self) -> Connection:
        stream = await trio.open_tcp_stream(self.address.host, self.address.port)
        connection = Connection(stream)
        try:
            if self.address.password is not None:
                auth: tuple[str, ...] = (
                    (self.address.password,)
                    if self.address.username is None
                    else (self.address.username, self.address.password)
                )
                await connection.call(("AUTH", *auth))
            if self.address.db:
                await connection.call(("SELECT", self.address.db))
        except RedisReplyError as exc:  # a wrong password or database: as good as down
            await trio.aclose_forcefully(stream)
            raise RedisDown(f"{self.address.shown()} refused the connection: {exc}") from None
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return connection

    async def call(self, *args: bytes | str | int | float) -> Reply:
        """Run one command; ``RedisDown`` when Redis cannot answer within the timeout."""
        if self.closed:
            raise RedisDown(f"{self.address.shown()}: the pool is closed")
        async with self.slots:
            connection = self.idle.pop() if self.idle else None
            healthy = False
            try:
                with trio.fail_after(self.timeout_s):
                    if connection is None:
                        connection = await self._open()
                    reply = await connection.call(args)
                healthy = True
                return reply
            except RedisReplyError:
                healthy = True  # the connection is fine: the reply was whole
                raise
            except trio.TooSlowError:
                raise RedisDown(
                    f"{self.address.shown()}: no answer within {self.timeout_s * 1000:.0f} ms"
                ) from None
            except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise RedisDown(f"{self.address.shown()}: {exc or type(exc).__name__}") from None
            finally:
                if connection is not None:
                    if healthy and not self.closed:
                        self.idle.append(connection)
                    else:
                        await trio.aclose_forcefully(connection.stream)

    async def aclose(self) -> None:
        self.closed = True
        idle, self.idle = self.idle, []
        for connection in idle:
            await trio.aclose_forcefully(connection.stream)
