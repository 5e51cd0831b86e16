"""A minimal incremental Server-Sent Events decoder (the framing only, no JSON).

Bytes in, ``(event_name, data)`` pairs out. Handles LF and CRLF line ends, comment lines
(``: keep-alive``), multi-line ``data:`` fields and frames split anywhere across reads.
"""

from __future__ import annotations


class SseDecoder:
    def __init__(self) -> None:
        self._buffer = b""
        self._event = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        """Return the complete events in ``chunk`` (plus what was buffered before)."""
        buffer = self._buffer + chunk if self._buffer else chunk
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        out: list[tuple[bytes, bytes]] = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    out.append((self._event, b"\n".join(self._data)))
                self._event, self._data = b"", []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
            elif line.startswith(b"event:"):
                self._event = line[6:].strip()
            # comments (":...") and other fields (id:, retry:) are ignored
        return out

    def flush(self) -> list[tuple[bytes, bytes]]:
        """At end of input: an event whose terminating blank line never came."""
        out = self.feed(b"\n\n") if (self._buffer or self._data) else []
        return out

    @property
    def pending(self) -> bool:
        return bool(self._buffer or self._data)
