"""prompt_cache's stream tap: the answer to a lookup that missed is stored once it went out
whole; a hit, a bypass or an uncacheable answer stores nothing. Declared in the registry, so
the pipeline lists it and the server only iterates taps."""

from __future__ import annotations

import attrs
from test_prompt_cache import ANSWER, exchange, ports

from lynkr.cache.memory import MemoryCache
from lynkr.model import ToolUseBlock
from lynkr.pipeline.compile import compile_text
from lynkr.stages import STAGES
from lynkr.stages.prompt_cache import PromptCacheConfig, prompt_cache, request_key, store_tap

CONFIG = PromptCacheConfig()


def test_a_miss_opens_a_tap_that_stores_the_whole_answer() -> None:
    cache = MemoryCache(8, 300)
    looked_up = prompt_cache(exchange(), CONFIG, ports(cache, now=5.0))
    tap = store_tap(looked_up, CONFIG, ports(cache, now=6.0))
    assert tap is not None and tap.wants_result
    tap.observe([])  # it only wants the whole answer
    tap.completed(ANSWER)
    assert cache.get(request_key(exchange()), 7.0) == ANSWER
    hit = prompt_cache(exchange(), CONFIG, ports(cache, now=8.0))
    assert hit.response is not None and hit.response.content == ANSWER.content


def test_an_uncacheable_answer_is_not_stored() -> None:
    cache = MemoryCache(8, 300)
    looked_up = prompt_cache(exchange(), CONFIG, ports(cache))
    tap = store_tap(looked_up, CONFIG, ports(cache))
    assert tap is not None
    tap.completed(attrs.evolve(ANSWER, content=(ToolUseBlock("t1", "Read", {}),),
                               stop_reason="tool_use"))
    assert cache.get(request_key(exchange()), 1.0) is None


def test_no_tap_for_a_hit_a_bypass_or_no_cache() -> None:
    cache = MemoryCache(8, 300)
    miss = prompt_cache(exchange(), CONFIG, ports(cache))
    store_tap(miss, CONFIG, ports(cache)).completed(ANSWER)  # type: ignore[union-attr]
    hit = prompt_cache(exchange(), CONFIG, ports(cache))
    bypass = prompt_cache(exchange(temperature=0.7), CONFIG, ports(cache))
    assert store_tap(hit, CONFIG, ports(cache)) is None
    assert store_tap(bypass, CONFIG, ports(cache)) is None
    assert store_tap(miss, CONFIG, ports(None)) is None


def test_the_pipeline_lists_the_stages_that_declare_taps() -> None:
    assert STAGES["prompt_cache"].tap is store_tap
    assert [n for n, spec in STAGES.items() if spec.tap is not None] == ["prompt_cache"]
    with_cache = compile_text("stages: [normalize, route, prompt_cache, egress]")
    without = compile_text("stages: [normalize, route, egress]")
    assert [s.name for s in with_cache.taps] == ["prompt_cache"]
    assert without.taps == ()
