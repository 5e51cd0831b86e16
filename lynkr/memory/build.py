"""The memory store a configuration asks for: its file, and an embedder when one is wanted.

``MEMORY_EMBEDDINGS``: ``off`` never embeds; ``auto`` (the default) fuses embeddings when
``EMBEDDINGS_PROVIDER`` names a provider (for ``local``, when sentence-transformers is
installed), not when one is only inferred from the chat provider, so a default Ollama without an
embeddings model costs nothing; ``on`` uses whichever provider ``/v1/embeddings`` would use and
says so at start-up when there is none.
"""

from __future__ import annotations

from lynkr.config.errors import SettingsError
from lynkr.config.memory import MemorySettings
from lynkr.config.settings import Settings
from lynkr.embeddings import build_embedder
from lynkr.embeddings.local import available
from lynkr.memory.store import SqliteMemoryStore
from lynkr.memory.vectors import TextEmbedder, from_embedder


def memory_embedder(settings: Settings, memory: MemorySettings) -> TextEmbedder | None:
    provider = settings.embeddings.provider
    if memory.embeddings == "off":
        return None
    explicit = memory.embeddings == "on" or settings.embeddings.chosen_by == "EMBEDDINGS_PROVIDER"
    usable = explicit and provider is not None and (provider != "local" or available())
    if not usable:
        if memory.embeddings == "on":
            raise SettingsError("MEMORY_EMBEDDINGS=on needs an embeddings provider: set "
                                "EMBEDDINGS_PROVIDER (local needs pip install "
                                "'lynkr[embeddings]')")
        return None
    embedder = build_embedder(settings)
    return None if embedder is None else from_embedder(embedder)


def build_memory_store(settings: Settings, memory: MemorySettings) -> SqliteMemoryStore:
    return SqliteMemoryStore(memory.db_path, memory, memory_embedder(settings, memory))
