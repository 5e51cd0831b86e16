"""Metrics recorded from a request's log fields, read back with prometheus-client's parser."""

from prometheus_client.parser import text_string_to_metric_families

from lynkr.observability.metrics import Metrics


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_one_request_is_recorded_everywhere_it_belongs() -> None:
    metrics = Metrics()
    metrics.record({
        "dialect": "anthropic", "provider": "ollama", "upstream_model": "qwen", "status": 200,
        "ms": 120.0, "ttfb_ms": 40.0, "route_reason": "configured provider",
        "stage_us": {"normalize": 12.0, "route": 3.0},
        "stage_tokens_removed": {"capability_filter": 40, "normalize": 0},
        "input_tokens": 1000, "output_tokens": 50, "cache": "miss",
    })
    got = samples(metrics)
    assert got[("lynkr_requests_total", (("dialect", "anthropic"), ("provider", "ollama"),
                                          ("status", "200")))] == 1
    assert got[("lynkr_tokens_total", (("direction", "input"), ("model", "qwen"),
                                        ("provider", "ollama")))] == 1000
    assert got[("lynkr_stage_tokens_removed_total", (("stage", "capability_filter"),))] == 40
    assert ("lynkr_stage_tokens_removed_total", (("stage", "normalize"),)) not in got
    assert got[("lynkr_prompt_cache_total", (("result", "miss"),))] == 1
    assert got[("lynkr_request_duration_seconds_count", (("dialect", "anthropic"),
                                                          ("provider", "ollama")))] == 1
    assert got[("lynkr_route_decisions_total", (("provider", "ollama"),
                                                 ("reason", "configured provider")))] == 1


def test_errors_are_counted_by_type() -> None:
    metrics = Metrics()
    metrics.record({"dialect": "openai_chat", "status": 429, "error_type": "rate_limit_error"})
    metrics.record({"dialect": "openai_chat", "status": 200, "stream_error": "cut"})
    got = samples(metrics)
    assert got[("lynkr_errors_total", (("dialect", "openai_chat"),
                                        ("type", "rate_limit_error")))] == 1
    assert got[("lynkr_errors_total", (("dialect", "openai_chat"), ("type", "stream_error")))] == 1


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.record({"dialect": "anthropic", "status": 200})
    assert not any(name == "lynkr_requests_total" for name, _ in samples(second))


def test_shed_requests_and_breaker_states() -> None:
    metrics = Metrics()
    metrics.shed_one("active_requests")
    metrics.shed_one("active_requests")
    metrics.shed_one("shutdown")
    metrics.breaker_states({"ollama": "open", "openai": "half_open", "anthropic": "closed"})
    got = samples(metrics)
    assert got[("lynkr_shed_total", (("reason", "active_requests"),))] == 2
    assert got[("lynkr_shed_total", (("reason", "shutdown"),))] == 1
    assert got[("lynkr_circuit_breaker_state", (("provider", "ollama"),))] == 2
    assert got[("lynkr_circuit_breaker_state", (("provider", "openai"),))] == 1
    assert got[("lynkr_circuit_breaker_state", (("provider", "anthropic"),))] == 0


def test_upstream_cache_figures_are_counted_and_priced_as_cache_reads() -> None:
    from lynkr.observability.cost import Price, PriceTable

    prices = PriceTable({"openai": (("gpt-4o*", Price(2.5, 10.0, 1.25)),)}, Price(3.0, 15.0))
    metrics = Metrics(prices=prices)
    metrics.record({"dialect": "anthropic", "provider": "openai", "upstream_model": "gpt-4o",
                    "status": 200, "input_tokens": 1_000_000, "output_tokens": 0,
                    "cache_read_tokens": 800_000, "cache_write_tokens": 0})
    got = samples(metrics)
    labels = (("kind", "read"), ("model", "gpt-4o"), ("provider", "openai"))
    assert got[("lynkr_upstream_cache_tokens_total", labels)] == 800_000
    assert ("lynkr_upstream_cache_tokens_total",
            (("kind", "write"), ("model", "gpt-4o"), ("provider", "openai"))) not in got
    cost = got[("lynkr_cost_usd_total", (("model", "gpt-4o"), ("provider", "openai")))]
    assert cost == 200_000 * 2.5 / 1e6 + 800_000 * 1.25 / 1e6
