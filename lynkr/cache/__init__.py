"""Implementations of the ``ResponseCache`` port (in-process by default)."""

from lynkr.cache.memory import MemoryCache

__all__ = ["MemoryCache"]
