"""What the workspace tools share: the settings, the jail, the index and the store.

Guarantees: index work (listing, reading and parsing files) runs in a worker thread behind one
``CapacityLimiter``, and one refresh at a time; file reads for the tools go through the jail.
"""

from __future__ import annotations

from typing import Any

import trio

from lynkr.config.workspace import WorkspaceSettings
from lynkr.tools.workspace import git
from lynkr.tools.workspace.index import RefreshStats, WorkspaceIndex, walk_files
from lynkr.tools.workspace.jail import Jail, PathRefused
from lynkr.tools.workspace.store import WorkspaceStore
from lynkr.tools.workspace.summary import coverage, signals

MAX_MANIFEST_BYTES = 2 * 1024 * 1024


class Workspace:
    def __init__(self, settings: WorkspaceSettings, store: WorkspaceStore | None = None) -> None:
        if settings.root is None:
            raise ValueError("the workspace tools need WORKSPACE_ROOT")
        self.settings = settings
        self.jail = Jail(settings.root)
        self.root = str(self.jail.root)
        self.index = WorkspaceIndex(self.jail)
        self.store = store or WorkspaceStore(settings.db_path, self.root)
        self._limiter = trio.CapacityLimiter(1)
        self._refreshing = trio.Lock()
        self._git: bool | None = None

    async def is_git(self) -> bool:
        if self._git is None:
            self._git = await git.is_repository(self.root)
        return self._git

    async def list_files(self) -> list[str]:
        if await self.is_git():
            return await git.list_files(self.root)
        return await trio.to_thread.run_sync(walk_files, self.jail, limiter=self._limiter)

    async def refresh_index(self, *, full: bool = False) -> RefreshStats:
        async with self._refreshing:
            paths = await self.list_files()

            def work() -> RefreshStats:
                if full:
                    self.index.entries = {}
                return self.index.refresh(paths)

            return await trio.to_thread.run_sync(work, limiter=self._limiter)

    async def in_thread(self, work: Any) -> Any:
        return await trio.to_thread.run_sync(work, limiter=self._limiter)

    async def read_text(self, path: str, limit: int = MAX_MANIFEST_BYTES) -> str | None:
        """A file's text through the jail; None when it is missing, refused or unreadable."""

        def read() -> str | None:
            try:
                return self.jail.read_bytes(path, limit).decode("utf-8", errors="replace")
            except PathRefused:
                return None

        return await trio.to_thread.run_sync(read, limiter=self._limiter)

    async def project_signals(self) -> dict[str, Any]:
        """Frameworks, lint, tests and manifests (the index must be fresh)."""
        paths = sorted(self.index.entries)
        texts: dict[str, str | None] = {
            name: await self.read_text(name)
            for name in ("package.json", "pyproject.toml", "go.mod")
            if name in self.index.entries
        }
        for name in paths:
            if "/" not in name and name.startswith("requirements") and name.endswith(".txt"):
                texts[name] = await self.read_text(name)
        return signals(paths, lambda name: texts.get(name))

    async def coverage(self) -> list[dict[str, Any]]:
        texts = {p: await self.read_text(p) for p in self.settings.coverage_files}
        return coverage(self.settings.coverage_files, lambda name: texts.get(name))
