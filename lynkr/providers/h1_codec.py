"""HTTP/1.1 client framing without I/O: the request's bytes, the response head, the body.

Bytes in, values out, like h11, but shaped for one hot case: a streamed answer read a socket
read at a time. ``BodyDecoder.decode`` takes whatever one read returned and gives back all of
the body bytes in it at once (every complete and partial chunk of a chunked body joined), so
the caller parses and relays one batch per read instead of one per HTTP chunk.

Guarantees: a response head larger than ``max_head`` bytes, a chunk-size line longer than
``MAX_LINE``, a malformed size or a missing CRLF after a chunk raise ``ProtocolError`` (never a
silent misread); a body that ends before its framing says it is complete is ``incomplete``.
Never: decodes content encodings (the caller's client does), or allocates per HTTP chunk more
than the slice of its data.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

MAX_LINE = 4096  # a chunk-size line or a trailer line
NO_BODY_STATUS = frozenset({204, 304})
HEX = b"0123456789abcdefABCDEF"


class ProtocolError(Exception):
    """The upstream broke HTTP/1.1 framing."""


@attrs.frozen
class Head:
    status: int
    reason: bytes
    headers: tuple[tuple[bytes, bytes], ...]  # names lower-cased, values stripped
    keep_alive: bool  # the server lets the connection be reused after this response

    def get(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


def request_bytes(
    method: bytes, target: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> bytes:
    """The request head and body as one buffer (one write)."""
    lines = [method + b" " + target + b" HTTP/1.1"]
    lines.extend(name + b": " + value for name, value in headers)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def parse_head(data: bytes, max_head: int) -> tuple[Head, int] | None:
    """The final (non-1xx) response head at the start of ``data`` and where it ends; None when
    more bytes are needed."""
    start = 0
    while True:
        end = data.find(b"\r\n\r\n", start)
        if end < 0:
            if len(data) - start > max_head:
                raise ProtocolError(f"the response head is larger than {max_head} bytes")
            return None
        if end - start > max_head:
            raise ProtocolError(f"the response head is larger than {max_head} bytes")
        head = _head(data[start:end])
        start = end + 4
        if head.status >= 200 or head.status == 101:
            return head, start
        # 100 Continue, 103 Early Hints: informational, the real head follows


def _head(block: bytes) -> Head:
    lines = block.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if (
        len(parts) < 2
        or not parts[0].startswith(b"HTTP/1.")
        or not parts[1].isdigit()
        or len(parts[1]) != 3
    ):
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise ProtocolError(f"a malformed header line: {line[:80]!r}")
        headers.append((name.lower(), value.strip()))
    connection = b",".join(v for k, v in headers if k == b"connection").lower()
    if parts[0] == b"HTTP/1.0":
        keep_alive = b"keep-alive" in connection
    else:
        keep_alive = b"close" not in connection
    return Head(int(parts[1]), parts[2] if len(parts) > 2 else b"", tuple(headers), keep_alive)


class BodyDecoder:
    """A response body's framing: chunked, ``Content-Length`` or until the connection closes.

    ``decode(data)`` returns the body bytes in ``data`` (with what an earlier call left over);
    ``done`` once the body is complete; ``rest`` holds bytes that came after it (a pipelined
    response: the connection must not be reused then)."""

    def __init__(self, method: bytes, head: Head) -> None:
        self.done = False
        self.rest = b""
        self._held = b""
        self._remaining = 0  # bytes left in the current chunk (or of a Content-Length body)
        self._crlf = False  # a chunk's data ended: its CRLF comes next
        self._trailers = False  # after the last chunk: trailer lines up to an empty one
        self.until_close = False
        encoding = (head.get(b"transfer-encoding") or b"").lower()
        length = head.get(b"content-length")
        if method == b"HEAD" or head.status in NO_BODY_STATUS or head.status < 200:
            self.done = True
            self._mode = "none"
        elif encoding:
            if not encoding.endswith(b"chunked"):
                raise ProtocolError(f"an unsupported transfer-encoding: {encoding[:40]!r}")
            self._mode = "chunked"
        elif length is not None:
            if not length.isdigit():
                raise ProtocolError(f"a malformed content-length: {length[:40]!r}")
            self._mode = "length"
            self._remaining = int(length)
            self.done = self._remaining == 0
        else:
            self._mode = "close"
            self.until_close = True

    def decode(self, data: bytes) -> bytes:
        if self._held:
            data, self._held = self._held + data, b""
        if self.done:
            self.rest += data
            return b""
        if self._mode == "chunked":
            return self._chunked(data)
        if self._mode == "length":
            if len(data) < self._remaining:
                self._remaining -= len(data)
                return data
            body, self.rest = data[: self._remaining], data[self._remaining :]
            self._remaining, self.done = 0, True
            return body
        return data  # until close

    def incomplete(self) -> bool:
        """At the connection's end: whether the body was cut short."""
        return not self.done and not self.until_close

    def _chunked(self, data: bytes) -> bytes:
        out: list[bytes] = []
        pos, size = 0, len(data)
        while pos < size:
            if self._remaining:
                end = pos + self._remaining
                if end > size:
                    out.append(data[pos:] if pos else data)
                    self._remaining = end - size
                    pos = size
                    break
                out.append(data[pos:end])
                pos, self._remaining, self._crlf = end, 0, True
                continue
            if self._crlf:
                if size - pos < 2:
                    self._held = data[pos:]
                    break
                if data[pos : pos + 2] != b"\r\n":
                    raise ProtocolError("a chunk's data did not end with CRLF")
                pos, self._crlf = pos + 2, False
                continue
            line_end = data.find(b"\r\n", pos)
            if line_end < 0:
                if size - pos > MAX_LINE:
                    raise ProtocolError("a chunk-size or trailer line is too long")
                self._held = data[pos:]
                break
            line = data[pos:line_end]
            pos = line_end + 2
            if self._trailers:
                if not line:  # the empty line after the trailers: the body is complete
                    self.done, self.rest = True, data[pos:]
                    break
            else:
                self._size_line(line)
        return b"".join(out) if len(out) != 1 else out[0]

    def _size_line(self, line: bytes) -> None:
        digits = line.split(b";", 1)[0].strip()
        if not digits or len(digits) > 16 or digits.translate(None, HEX):
            raise ProtocolError(f"a malformed chunk size: {line[:40]!r}")
        chunk = int(digits, 16)
        if chunk == 0:
            self._trailers = True
        else:
            self._remaining = chunk
