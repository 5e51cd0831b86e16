"""The runner: stages in order, each timed; a set response stops the run; async stages awaited."""

from __future__ import annotations

from typing import Any

import attrs
import trio

from lynkr.model import Message, Request, Response, TextBlock, Usage
from lynkr.pipeline import Pipeline, StageTiming, compile_file, run_stages
from lynkr.pipeline.compile import REPO, BoundStage
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages import StageSpec
from lynkr.stages.egress import EgressConfig
from lynkr.stages.exchange import Context, Exchange, Note, Route

PORTS = Ports({"ollama": ProviderInfo("ollama", "ollama", "qwen", "http://o/api/chat")}, "ollama")
REQUEST = Request("claude-sonnet-4-5", (Message("user", (TextBlock("hi"),)),), 128000)
ANSWER = Response(
    id="msg_cached",
    model="claude-sonnet-4-5",
    content=(TextBlock("from cache"),),
    stop_reason="end_turn",
    usage=Usage(input_tokens=10, output_tokens=3),
)


@attrs.frozen
class TagConfig:
    tag: str = ""


def tag(exchange: Exchange, config: TagConfig, ports: Ports) -> Exchange:
    return exchange.noted(config.tag, f"ran {config.tag}")


async def slow_tag(exchange: Exchange, config: TagConfig, ports: Ports) -> Exchange:
    await trio.sleep(0)
    return exchange.noted(config.tag, f"awaited {config.tag}")


def answer(exchange: Exchange, config: TagConfig, ports: Ports) -> Exchange:
    return exchange.noted(config.tag, "cache hit", response=ANSWER)


def bound(name: str, run: Any, line: int = 1) -> BoundStage:
    return BoundStage(name, StageSpec(name, TagConfig, run, "test stage"), TagConfig(name), line)


def pipeline(*stages: BoundStage) -> Pipeline:
    return Pipeline("test", "<test>", stages, EgressConfig())


def start() -> Exchange:
    return Exchange(REQUEST, Context("req-1"))


async def test_stages_run_in_order_and_each_is_timed() -> None:
    out, timings = await run_stages(
        pipeline(bound("a", tag), bound("b", tag), bound("c", tag)), start(), PORTS
    )
    assert out.notes == (Note("a", "ran a"), Note("b", "ran b"), Note("c", "ran c"))
    assert [t.stage for t in timings] == ["a", "b", "c"]
    assert all(isinstance(t, StageTiming) and t.micros >= 0 for t in timings)


async def test_a_response_stops_the_run() -> None:
    stages = pipeline(bound("a", tag), bound("cache", answer), bound("c", tag))
    out, timings = await run_stages(stages, start(), PORTS)
    assert out.response == ANSWER
    assert out.notes == (Note("a", "ran a"), Note("cache", "cache hit"))
    assert [t.stage for t in timings] == ["a", "cache"]


async def test_async_stages_are_awaited() -> None:
    out, timings = await run_stages(pipeline(bound("a", tag), bound("b", slow_tag)), start(), PORTS)
    assert out.notes == (Note("a", "ran a"), Note("b", "awaited b"))
    assert [t.stage for t in timings] == ["a", "b"]


async def test_empty_pipeline_returns_the_exchange() -> None:
    before = start()
    out, timings = await run_stages(pipeline(), before, PORTS)
    assert out is before
    assert timings == ()


async def test_default_pipeline_end_to_end() -> None:
    default = compile_file(REPO / "default.yaml")
    out, timings = await run_stages(default, start(), PORTS)
    assert out.route == Route("ollama", "qwen", "configured provider")
    assert out.request.cache_key is not None  # cache_breakpoints: the session's cache key
    assert out.request == attrs.evolve(REQUEST, model="qwen", max_tokens=8192,
                                       cache_key=out.request.cache_key)
    assert [n.stage for n in out.notes] == [
        "normalize", "route", "map_model", "capability_filter", "tool_selection",
        "truncate_tool_results", "compress_history", "dedupe", "memory_inject",
        "cache_breakpoints", "prompt_cache"]
    assert [t.stage for t in timings] == [n.stage for n in out.notes]
    assert out.response is None


async def napping(exchange: Exchange, config: TagConfig, ports: Ports) -> Exchange:
    await trio.sleep(0.02)
    return exchange


async def test_timing_is_the_stage_own_time() -> None:
    _, timings = await run_stages(
        pipeline(bound("quick", tag), bound("nap", napping)), start(), PORTS
    )
    quick, nap = timings
    assert nap.stage == "nap" and nap.micros >= 20_000
    assert quick.stage == "quick" and quick.micros < nap.micros
