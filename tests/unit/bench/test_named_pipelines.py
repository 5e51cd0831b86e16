"""The named pipelines on the bundled sessions: effective cost under every pricing rule, local
prefill, and no tool removed that a session later calls (the issue's goals, as a regression
guard: a stage that breaks the cached prefix again fails here)."""

from __future__ import annotations

import pytest

from lynkr.bench.command import measure, plan
from lynkr.bench.cost import LOCAL, RULES
from lynkr.bench.sessions import find
from lynkr.pipeline.compile import compile_file, resolve
from lynkr.ports import estimate_tokens

GOALS = {"default": (0.80, 0.90), "max-savings": (0.60, 0.70)}  # every rule, local prefill


@pytest.fixture(scope="module")
def measured() -> dict[str, object]:
    pipelines = {name: compile_file(resolve(name)) for name in (*GOALS, "local-only")}
    return measure(plan(pipelines, None, False), find(), estimate_tokens, None)


@pytest.mark.parametrize("name", sorted(GOALS))
def test_effective_cost_goals(measured: dict[str, object], name: str) -> None:
    result = measured[name]
    ratios = result.totals.ratios(measured[f"passthrough@{result.backend}"].totals)
    priced, local = GOALS[name]
    assert all(ratios[r.name] <= priced for r in RULES), ratios
    assert ratios[LOCAL] <= local, ratios


@pytest.mark.parametrize("name", [*GOALS, "local-only"])
def test_no_tool_removed_that_a_session_calls_later(measured: dict[str, object],
                                                    name: str) -> None:
    assert [m for r in measured[name].results for m in r.missing_tools] == []


@pytest.mark.parametrize("name", [*GOALS, "local-only"])
def test_the_tool_list_and_system_never_change_within_a_session(measured: dict[str, object],
                                                               name: str) -> None:
    base = measured[f"passthrough@{measured[name].backend}"].totals
    totals = measured[name].totals
    for kind in ("tools", "system"):
        assert totals.breaks.get(kind, 0) == base.breaks.get(kind, 0), totals.breaks
