"""prompt_cache's stream tap: the answer to a lookup that missed is stored once it went out
whole; a hit, a bypass or an uncacheable answer stores nothing. Declared in the registry, so
the pipeline lists it and the server only iterates taps."""

from __future__ import annotations

import attrs
import pytest
import trio
from test_prompt_cache import ANSWER, exchange, ports

from lynkr.cache.memory import MemoryCache
from lynkr.model import ToolUseBlock
from lynkr.pipeline.compile import compile_text
from lynkr.pipeline.runner import run_stages
from lynkr.stages import STAGES
from lynkr.stages.exchange import Context, Exchange
from lynkr.stages.prompt_cache import PromptCacheConfig, prompt_cache, request_key, store_tap
from lynkr.stages.registry import StageSpec
from lynkr.stages.route import RouteConfig

CONFIG = PromptCacheConfig()


async def test_a_miss_opens_a_tap_that_stores_the_whole_answer() -> None:
    cache = MemoryCache(8, 300)
    looked_up = await prompt_cache(exchange(), CONFIG, ports(cache, now=5.0))
    tap = store_tap(looked_up, CONFIG, ports(cache, now=6.0))
    assert tap is not None and tap.wants_result
    tap.observe([])  # it only wants the whole answer
    tap.completed(ANSWER)
    assert cache.lookup(request_key(exchange()), 7.0) == ANSWER
    hit = await prompt_cache(exchange(), CONFIG, ports(cache, now=8.0))
    assert hit.response is not None and hit.response.content == ANSWER.content


async def test_an_uncacheable_answer_is_not_stored() -> None:
    cache = MemoryCache(8, 300)
    looked_up = await prompt_cache(exchange(), CONFIG, ports(cache))
    tap = store_tap(looked_up, CONFIG, ports(cache))
    assert tap is not None
    tap.completed(attrs.evolve(ANSWER, content=(ToolUseBlock("t1", "Read", {}),),
                               stop_reason="tool_use"))
    assert cache.lookup(request_key(exchange()), 1.0) is None


async def test_no_tap_for_a_hit_a_bypass_or_no_cache() -> None:
    cache = MemoryCache(8, 300)
    miss = await prompt_cache(exchange(), CONFIG, ports(cache))
    store_tap(miss, CONFIG, ports(cache)).completed(ANSWER)  # type: ignore[union-attr]
    hit = await prompt_cache(exchange(), CONFIG, ports(cache))
    bypass = await prompt_cache(exchange(temperature=0.7), CONFIG, ports(cache))
    assert store_tap(hit, CONFIG, ports(cache)) is None
    assert store_tap(bypass, CONFIG, ports(cache)) is None
    assert store_tap(miss, CONFIG, ports(None)) is None


def test_the_pipeline_lists_the_stages_that_declare_taps() -> None:
    assert STAGES["prompt_cache"].tap is store_tap
    assert sorted(n for n, spec in STAGES.items() if spec.tap is not None) == [
        "memory_extract", "prompt_cache"]
    with_cache = compile_text("stages: [normalize, route, prompt_cache, egress]")
    without = compile_text("stages: [normalize, route, egress]")
    assert [s.name for s in with_cache.taps] == ["prompt_cache"]
    assert without.taps == ()


def test_a_tap_only_stage_watches_without_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stage of kind ``tap`` is listed and configured like any other, is skipped by the
    runner, and its tap is opened for each answer."""
    seen: list[object] = []

    class Counter:
        wants_result = False

        def observe(self, events: list[object]) -> None:
            seen.extend(events)

        def completed(self, response: object) -> None:
            return None

    spec = StageSpec("count_events", RouteConfig, None, "counts", kind="tap",
                     tap=lambda exchange, config, ports: Counter())
    monkeypatch.setitem(STAGES, "count_events", spec)
    pipeline = compile_text("stages: [normalize, route, count_events, egress]")
    assert [s.name for s in pipeline.stages] == ["normalize", "route", "count_events"]
    assert [s.name for s in pipeline.taps] == ["count_events"]
    start = exchange()
    done, timings = trio.run(run_stages, pipeline,
                             Exchange(start.request, Context("r")), ports(None))
    assert [t.stage for t in timings] == ["normalize", "route"]
    [bound] = pipeline.taps
    assert bound.spec.tap is not None
    tap = bound.spec.tap(done, bound.config, ports(None))
    assert tap is not None
    tap.observe(["event"])
    assert seen == ["event"]


def test_the_stage_declares_the_cache_it_needs() -> None:
    from lynkr.server.app import response_cache

    assert STAGES["prompt_cache"].wants_cache is not None
    on = compile_text("stages: [normalize, route, {prompt_cache: {max_entries: 3, "
                      "ttl_ms: 2000}}, egress]")
    off = compile_text("stages: [normalize, route, {prompt_cache: {enabled: false}}, egress]")
    cache = response_cache(on)
    assert cache is not None and (cache.max_entries, cache.ttl_s) == (3, 2.0)
    assert response_cache(off) is None
