"""open_toolboxes: only configured boxes, none in client/passthrough mode, closed at the end."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from lynkr.config.memory import MemorySettings
from lynkr.config.settings import load_settings
from lynkr.memory.store import SqliteMemoryStore
from lynkr.tools.assemble import open_toolboxes


def settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings(environ={"MODEL_PROVIDER": "ollama", **env}, env_file="/nonexistent/.env")


async def test_no_box_is_configured_by_default() -> None:
    async with trio.open_nursery() as nursery:
        assert await open_toolboxes(settings(), nursery) == ()
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("mode", "names"), [("server", ["workspace"]), ("client", []), ("passthrough", [])]
)
async def test_a_workspace_root_opens_the_workspace_box_in_server_mode(
    tmp_path: Path, mode: str, names: list[str]
) -> None:
    config = settings(
        WORKSPACE_ROOT=str(tmp_path), TOOL_EXECUTION_MODE=mode, LYNKR_DB_PATH=str(tmp_path / "db")
    )
    async with trio.open_nursery() as nursery:
        boxes = await open_toolboxes(config, nursery)
        assert [box.name for box in boxes] == names
        assert all(
            tool.name.startswith(("workspace_", "project_"))
            for box in boxes
            for tool in box.tools()
        )
        nursery.cancel_scope.cancel()  # the server stops: the boxes are closed


@pytest.mark.parametrize(("mode", "names"), [("server", ["memory"]), ("client", [])])
async def test_memory_gives_its_box_in_server_mode(
    tmp_path: Path, mode: str, names: list[str]
) -> None:
    store = SqliteMemoryStore(tmp_path / "memory.db", MemorySettings())
    async with trio.open_nursery() as nursery:
        boxes = await open_toolboxes(settings(TOOL_EXECUTION_MODE=mode), nursery, store)
        assert [box.name for box in boxes] == names
        assert [t.name for box in boxes for t in box.tools()] == (
            ["memory_search", "memory_add", "memory_forget", "memory_stats"] if names else []
        )
        nursery.cancel_scope.cancel()
    store.close()
