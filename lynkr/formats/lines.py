"""Linear-time, bounded line buffering for upstream byte streams (SSE, NDJSON).

Bytes in, complete lines out. A line split over many reads is kept as a list of pieces and
joined once, when its end arrives, so a long line costs time proportional to its length (not
its length squared, as ``buffer + chunk`` on every read would). A line longer than
``max_line`` bytes raises ``FrameTooLarge`` as soon as that is known, before it is held whole.
"""

from __future__ import annotations

from lynkr.model.errors import FrameTooLarge

DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024


class LineBuffer:
    def __init__(self, max_line: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self._pieces: list[bytes] = []
        self._pending = 0  # bytes held in _pieces

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines ``chunk`` completes (without their ``\\n``; a ``\\r`` stays)."""
        end = chunk.rfind(b"\n")
        if end < 0:
            self._hold(chunk)
            return []
        head, tail = chunk[:end], chunk[end + 1:]
        lines = head.split(b"\n")
        if self._pieces:
            self._pieces.append(lines[0])
            lines[0] = b"".join(self._pieces)
            self._pieces, self._pending = [], 0
        for line in lines:
            if len(line) > self.max_line:
                raise self.too_large(len(line))
        if tail:
            self._hold(tail)
        return lines

    def rest(self) -> bytes:
        """What is held after the last line end (at end of input)."""
        out = b"".join(self._pieces)
        self._pieces, self._pending = [], 0
        return out

    @property
    def pending(self) -> bool:
        return self._pending > 0

    def _hold(self, piece: bytes) -> None:
        if piece:
            self._pending += len(piece)
            if self._pending > self.max_line:
                raise self.too_large(self._pending)
            self._pieces.append(piece)

    def too_large(self, size: int) -> FrameTooLarge:
        return FrameTooLarge(f"the upstream sent a line of more than {self.max_line} bytes "
                             f"(at least {size}); the limit is UPSTREAM_MAX_LINE_BYTES")
