"""A minimal incremental Server-Sent Events decoder (the framing only, no JSON).

Bytes in, ``(event_name, data)`` pairs out. Handles LF and CRLF line ends, comment lines
(``: keep-alive``), multi-line ``data:`` fields and frames split anywhere across reads. Lines go
through a bounded ``LineBuffer`` (linear time); an event's data beyond ``max_line`` bytes raises
``FrameTooLarge`` too.
"""

from __future__ import annotations

from lynkr.formats.lines import DEFAULT_MAX_LINE_BYTES, LineBuffer


class SseDecoder:
    def __init__(self, max_line: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._lines = LineBuffer(max_line)
        self._event = b""
        self._data: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        """Return the complete events in ``chunk`` (plus what was buffered before)."""
        out: list[tuple[bytes, bytes]] = []
        for line in self._lines.feed(chunk):
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    out.append((self._event, b"\n".join(self._data)))
                self._event, self._data, self._size = b"", [], 0
            elif line.startswith(b"data:"):
                value = line[5:]
                self._size += len(value)
                if self._size > self._lines.max_line:
                    raise self._lines.too_large(self._size)
                self._data.append(value[1:] if value.startswith(b" ") else value)
            elif line.startswith(b"event:"):
                self._event = line[6:].strip()
            # comments (":...") and other fields (id:, retry:) are ignored
        return out

    def flush(self) -> list[tuple[bytes, bytes]]:
        """At end of input: an event whose terminating blank line never came."""
        return self.feed(b"\n\n") if self.pending else []

    @property
    def pending(self) -> bool:
        return bool(self._lines.pending or self._data)
