"""How much memory the process uses against the limit it lives under (cgroup v2, v1, or RAM)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from pathlib import Path

UNLIMITED = 1 << 60


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return UNLIMITED
    try:
        return int(text)
    except ValueError:
        return None


def memory_limit(root: Path = Path("/sys/fs/cgroup")) -> int:
    """The container's memory limit in bytes, else the machine's RAM."""
    for candidate in (root / "memory.max", root / "memory" / "memory.limit_in_bytes"):
        value = _read_int(candidate)
        if value is not None and value < UNLIMITED:
            return value
    return ram_bytes()


def ram_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return UNLIMITED


def rss_bytes(status: Path = Path("/proc/self/status")) -> int:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def release_memory() -> None:
    """Give freed memory back to the system: a full collection, then glibc's ``malloc_trim``
    (CPython's allocator and glibc keep freed pages, so resident memory would otherwise stay
    at its peak long after the work that needed it ended)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return
    trim(0)
