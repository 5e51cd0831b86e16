"""Upstream line buffering: the bounded linear ``LineBuffer`` against the previous algorithm
(``buffer + chunk`` and a split on every read, quadratic in a line's length).

    python -m benchmarks.line_buffer [--sizes 1 4 16] [--rounds 3]

Feeds one line of N MiB in 64 KiB reads (what a misbehaving upstream sends), interleaving the
two implementations round by round, and prints each one's median time and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lynkr.formats.lines import LineBuffer

READ = b"z" * 65536


class Previous:
    """The line splitting the SSE and NDJSON decoders did before ``LineBuffer``."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer + chunk if self._buffer else chunk
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        return lines


def one(make: type, mib: int) -> float:
    buffer = make() if make is Previous else make(max_line=(mib + 1) << 20)
    started = time.perf_counter()
    for _ in range(mib * 16):
        buffer.feed(READ)
    lines = buffer.feed(b"\n")
    elapsed = time.perf_counter() - started
    assert len(lines) == 1 and len(lines[0]) == mib << 20
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for mib in args.sizes:
        times: dict[str, list[float]] = {"previous": [], "LineBuffer": []}
        for _ in range(args.rounds):
            times["previous"].append(one(Previous, mib))
            times["LineBuffer"].append(one(LineBuffer, mib))
        old, new = (statistics.median(times[k]) for k in ("previous", "LineBuffer"))
        print(f"{mib:>3} MiB line: previous {old * 1000:8.1f} ms, LineBuffer "
              f"{new * 1000:6.1f} ms, ratio {old / new:6.1f}x")


if __name__ == "__main__":
    main()
