"""The pipeline reloader on a real state and real files, in virtual time: a good file swaps
pipeline and version together, the same bytes are no new version, a broken file changes
nothing and logs each mistake with its place, and the watcher waits for a change to hold
still before it loads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from lynkr.config.settings import load_settings
from lynkr.server.app import build_state, response_cache
from lynkr.server.reload import PipelineReloader
from lynkr.server.state import AppState

ALPHA = "name: alpha\nstages:\n  - normalize\n  - route\n  - egress\n"
BETA = (
    "name: beta\nstages:\n  - normalize\n  - route\n  - map_model\n  - prompt_cache\n  - egress\n"
)
BROKEN = "name: beta\nstages:\n  - normalize\n  - map_model:\n      modles: {}\n  - egress\n"


def state_on(path: Path, **env: str) -> AppState:
    settings = load_settings(
        environ={
            "MODEL_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-x",
            "LYNKR_PIPELINE": str(path),
            **env,
        },
        env_file="/nonexistent/.env",
    )
    return build_state(settings)


async def test_a_good_file_swaps_pipeline_version_and_cache_together(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(ALPHA)
    state = state_on(path)
    reloader = PipelineReloader(state, response_cache)
    first = state.pipeline_version
    assert first.startswith("alpha@") and first.endswith("#1") and state.ports.cache is None
    assert await reloader.reload("test") == "unchanged"
    path.write_text(ALPHA + "# a comment is a new text, so a new version\n")
    assert await reloader.reload("test") == "reloaded"
    assert state.pipeline_version.startswith("alpha@") and state.pipeline_version.endswith("#2")
    assert state.pipeline_version != first.replace("#1", "#2")
    path.write_text(BETA)
    assert await reloader.reload("test") == "reloaded"
    assert state.pipeline.name == "beta" and state.pipeline_version.endswith("#3")
    assert [s.name for s in state.pipeline.stages][-1] == "prompt_cache"
    assert state.ports.cache is not None  # the new pipeline's prompt_cache has its cache
    assert state.loaded is not None and state.loaded.pipeline is state.pipeline


async def test_a_broken_file_changes_nothing_and_logs_each_mistake(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(ALPHA)
    state = state_on(path)
    reloader = PipelineReloader(state, response_cache)
    pipeline, version = state.pipeline, state.pipeline_version
    path.write_text(BROKEN)
    with caplog.at_level(logging.ERROR, logger="lynkr.pipeline"):
        assert await reloader.reload("test") == "failed"
    assert state.pipeline is pipeline and state.pipeline_version == version
    problems = [
        getattr(r, "problem", None) for r in caplog.records if r.getMessage() == "pipeline problem"
    ]
    assert len(problems) == 3, problems  # each with its file:line:column
    assert problems[0].startswith(f"{path}:4:5: ") and "modles" in problems[0]
    assert problems[1].startswith(f"{path}:3:3: ") and "needs a route" in problems[1]
    assert problems[2].startswith(f"{path}:3:3: ") and "no 'route' stage" in problems[2]
    path.write_bytes(b"\xff\xfe not text")
    assert await reloader.reload("test") == "failed"
    path.unlink()
    assert await reloader.reload("test") == "failed"
    assert state.pipeline is pipeline
    metrics = state.metrics.registry
    assert metrics.get_sample_value("lynkr_pipeline_reloads_total", {"outcome": "failed"}) == 3.0


async def test_the_watcher_loads_a_change_once_it_holds_still(
    tmp_path: Path, autojump_clock: object
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(ALPHA)
    state = state_on(path, LYNKR_PIPELINE_WATCH="true")
    # compiled inline: in a thread, a loaded machine's slow compile would let the virtual clock
    # jump past the times this test checks
    reloader = PipelineReloader(state, response_cache, compile_with=inline)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(reloader.watch, 1.0)
        await trio.sleep(0.5)
        path.write_text(BETA)  # seen at t=1, still the same at t=2: loaded then
        await trio.sleep(1.0)
        assert state.pipeline.name == "alpha"
        await trio.testing.wait_all_tasks_blocked()
        while state.pipeline.name != "beta":
            await trio.sleep(0.1)
        assert 2.0 <= trio.current_time() < 3.0
        path.write_text(ALPHA)
        await trio.sleep(0.6)  # t in (2.6, 3.6): a second write before it settles
        path.write_text(ALPHA + "# edited again\n")
        while state.pipeline.name != "alpha":
            await trio.sleep(0.1)
        assert state.pipeline_version.endswith("#3")  # the half-way text was never loaded
        nursery.cancel_scope.cancel()


async def inline(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)
