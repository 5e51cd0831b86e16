"""The memory database's schema: its own file (``MEMORY_DB_PATH``), its own migrations.

``memories`` holds each memory; ``memory_fts`` is an FTS5 index over its text (Porter stemmer
over unicode61) plus one ``scope`` column of owner tokens, so that a search intersects the
user's posting list instead of filtering every match afterwards; triggers keep it in step.
``memory_vectors`` keeps optional embeddings. Append a migration; never edit a shipped one.
"""

from __future__ import annotations

import hashlib

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE memories (
        id INTEGER PRIMARY KEY,
        user TEXT NOT NULL,
        workspace TEXT NOT NULL,
        is_global INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL
            CHECK (kind IN ('preference', 'decision', 'fact', 'entity', 'relationship')),
        text TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        importance REAL NOT NULL,
        session_id TEXT,
        request_id TEXT,
        created_at REAL NOT NULL,
        last_used_at REAL NOT NULL,
        use_count INTEGER NOT NULL DEFAULT 0,
        scope TEXT NOT NULL
    );
    CREATE UNIQUE INDEX memories_unique_text ON memories (user, workspace, text);
    CREATE INDEX memories_user_used ON memories (user, last_used_at);
    CREATE INDEX memories_subject ON memories (user, subject) WHERE subject != '';
    CREATE VIRTUAL TABLE memory_fts USING fts5(
        text, scope, content='memories', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2');
    CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
        INSERT INTO memory_fts (rowid, text, scope) VALUES (new.id, new.text, new.scope);
    END;
    CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
        INSERT INTO memory_fts (memory_fts, rowid, text, scope)
            VALUES ('delete', old.id, old.text, old.scope);
    END;
    CREATE TRIGGER memories_au AFTER UPDATE OF text, scope ON memories BEGIN
        INSERT INTO memory_fts (memory_fts, rowid, text, scope)
            VALUES ('delete', old.id, old.text, old.scope);
        INSERT INTO memory_fts (rowid, text, scope) VALUES (new.id, new.text, new.scope);
    END;
    CREATE TABLE memory_vectors (
        id INTEGER PRIMARY KEY REFERENCES memories (id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        vector BLOB NOT NULL
    );
    CREATE TRIGGER memories_vectors_ad AFTER DELETE ON memories BEGIN
        DELETE FROM memory_vectors WHERE id = old.id;
    END;
    """,
)


def _token(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:20]
    return f"{prefix}{digest}"


def workspace_token(user: str, workspace: str) -> str:
    """The FTS token of one user's workspace (letters and digits only: one unicode61 token)."""
    return _token("w", user, workspace)


def global_token(user: str) -> str:
    """The FTS token of one user's global memories."""
    return _token("g", user)


def scope_column(user: str, workspace: str, is_global: bool) -> str:
    return global_token(user) if is_global else workspace_token(user, workspace)
