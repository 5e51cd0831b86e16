"""Long-term memory: what users tell the assistant, remembered across sessions, per user and
workspace.

- ``store`` (``SqliteMemoryStore``): the ``MemoryStore`` port (``port``) on ``database`` (apsw,
  FTS5 with ``schema``'s migrations), every call in a worker thread;
- ``query`` and ``ranking``: pure FTS5 query building, rank fusion and the 30/40/30 score;
- ``vectors``: optional embedding similarity (``lynkr.embeddings``'s local or remote provider);
- ``surprise`` and ``model_extraction``: what to remember from a finished exchange, pure;
- ``secrets``: what is never stored (whose memories a request may see is
  ``lynkr.stages.memory_scope``, pure);
- ``tools``: ``memory_search``, ``memory_add``, ``memory_forget``, ``memory_stats``, for the
  server-side tool loop;
- ``build`` and ``commands``: the store a configuration asks for, and ``lynkr memory``.

The injection into requests is ``lynkr.stages.memory_injection`` (pure, below the pipeline).
"""
