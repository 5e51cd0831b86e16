"""Long-term memory settings: the original's ``MEMORY_*`` variables and defaults, plus new ones.

Read from ``Settings.environ`` (``memory_settings(Env(settings.environ))``), so nothing else in
the configuration has to know about memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from lynkr.config.cloud import echo_flag

if TYPE_CHECKING:
    from lynkr.config.settings import Env

EMBEDDING_MODES = ("off", "auto", "on")


@attrs.frozen
class MemorySettings:
    enabled: bool = True  # MEMORY_ENABLED
    retrieval_limit: int = 5  # MEMORY_RETRIEVAL_LIMIT: memories injected at most per request
    surprise_threshold: float = 0.3  # MEMORY_SURPRISE_THRESHOLD: store above this score
    max_age_days: int = 90  # MEMORY_MAX_AGE_DAYS: pruned after this long unused
    max_count: int = 10_000  # MEMORY_MAX_COUNT: per user; the least important go first
    # new in Lynkr (Python)
    db_path: str = "data/memory.db"  # MEMORY_DB_PATH
    max_inject_tokens: int = 1500  # MEMORY_MAX_INJECT_TOKENS: budget of the injected block
    default_user: str = "default"  # MEMORY_DEFAULT_USER: when a request names no user
    embeddings: str = "auto"  # MEMORY_EMBEDDINGS: off | auto (when configured) | on
    importance_half_life_days: float = 30.0  # MEMORY_IMPORTANCE_HALF_LIFE_DAYS
    model_extraction: bool = False  # MEMORY_MODEL_EXTRACTION: also ask the model (off)



def memory_settings(env: Env) -> MemorySettings:
    return MemorySettings(
        enabled=echo_flag(env, "MEMORY_ENABLED", True) is True,
        retrieval_limit=env.int("MEMORY_RETRIEVAL_LIMIT", 5, minimum=0),
        surprise_threshold=env.number("MEMORY_SURPRISE_THRESHOLD", 0.3, 0.0, 1.0),
        max_age_days=env.int("MEMORY_MAX_AGE_DAYS", 90, minimum=1),
        max_count=env.int("MEMORY_MAX_COUNT", 10_000, minimum=1),
        db_path=env.str("MEMORY_DB_PATH", "data/memory.db") or "data/memory.db",
        max_inject_tokens=env.int("MEMORY_MAX_INJECT_TOKENS", 1500, minimum=50),
        default_user=env.str("MEMORY_DEFAULT_USER", "default") or "default",
        embeddings=env.choice("MEMORY_EMBEDDINGS", "auto", EMBEDDING_MODES),
        importance_half_life_days=env.number("MEMORY_IMPORTANCE_HALF_LIFE_DAYS", 30.0,
                                                    1.0, 3650.0),
        model_extraction=echo_flag(env, "MEMORY_MODEL_EXTRACTION", False) is True,
    )
