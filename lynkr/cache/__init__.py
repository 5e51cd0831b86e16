"""In-process implementations of the ``ResponseCache`` and ``SessionStore`` ports."""

from lynkr.cache.memory import MemoryCache
from lynkr.cache.sessions import MemorySessionStore

__all__ = ["MemoryCache", "MemorySessionStore"]
