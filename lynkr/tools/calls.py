"""Running the model's calls to Lynkr's tools: each within its time and output bounds, all of
one model turn at once.

Assumes: each call names a tool of the session's offered set, owned by one of ``boxes``.
Guarantees: every call gets a ``tool_result`` (in the order of the calls); a call that fails
in any way (unknown tool, a box gone, input that is not a JSON object, a box that raises, a
call over ``TOOL_TIMEOUT_MS``, or over the box's own bound for the tool when it declares one
with ``timeout_s``) gets one with ``is_error`` that says why, never an exception;
a result longer than ``TOOL_RESULT_MAX_CHARS`` is cut, and says so. Each call's report (tool,
box, time, outcome) is returned for the log and the metrics.
Never: lets a call outlive the request (calls run in a nursery inside the request's).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs
import trio

from lynkr.config.tools import ToolLoopSettings
from lynkr.model.content import TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.tools.port import ToolBox, ToolContext, ToolOutcome

log = logging.getLogger("lynkr.tools")


_GRACE_S = 5.0


@runtime_checkable
class TimedBox(Protocol):
    """A box that says how long each of its tools may take (instead of ``TOOL_TIMEOUT_MS``)."""

    def timeout_s(self, tool: str) -> float: ...


@attrs.frozen
class CallReport:
    tool: str
    box: str
    seconds: float
    outcome: str  # "ok", "error" (the box said is_error), "timeout", "failed" (it raised)


def cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[cut: {len(text) - limit} more characters (TOOL_RESULT_MAX_CHARS)]"


async def run_calls(
    calls: Sequence[ToolUseBlock],
    owners: Mapping[str, str],
    boxes: Mapping[str, ToolBox],
    context: ToolContext,
    settings: ToolLoopSettings,
    bad_inputs: Mapping[str, str] | None = None,
) -> tuple[list[ToolResultBlock], list[CallReport]]:
    """Each call's result (in order) and report; the calls run concurrently."""
    results: list[ToolResultBlock | None] = [None] * len(calls)
    reports: list[CallReport | None] = [None] * len(calls)
    bad = bad_inputs or {}

    async def one(i: int, call: ToolUseBlock) -> None:
        box_name = owners.get(call.name, "")
        started = trio.current_time()
        if call.id in bad:
            outcome, kind = (
                ToolOutcome(
                    f"{call.name}: the arguments are not a JSON object: {bad[call.id]!r}", True
                ),
                "error",
            )
        else:
            outcome, kind = await _run_one(boxes.get(box_name), call, context, settings)
        seconds = trio.current_time() - started
        results[i] = ToolResultBlock(
            call.id, (TextBlock(cut(outcome.text, settings.result_max_chars)),), outcome.is_error
        )
        reports[i] = CallReport(call.name, box_name or "none", seconds, kind)

    async with trio.open_nursery() as nursery:
        for i, call in enumerate(calls):
            nursery.start_soon(one, i, call)
    return [r for r in results if r is not None], [r for r in reports if r is not None]


async def _run_one(
    box: ToolBox | None, call: ToolUseBlock, context: ToolContext, settings: ToolLoopSettings
) -> tuple[ToolOutcome, str]:
    if box is None:
        return ToolOutcome(
            f"{call.name} is not available any more (its tool box is not running)", True
        ), "error"
    timeout = settings.call_timeout_s
    if isinstance(box, TimedBox):  # the box bounds its own tools (a test run takes longer):
        timeout = box.timeout_s(call.name) + _GRACE_S  # its own message comes first
    with trio.move_on_after(timeout) as scope:
        try:
            outcome = await box.run(call.name, call.input, context)
        except Exception as exc:  # a box's bug: the model reads it, the request goes on
            log.exception(
                "tool %s raised",
                call.name,
                extra={"request_id": context.request_id, "tool": call.name},
            )
            return ToolOutcome(
                f"{call.name} failed inside Lynkr: {type(exc).__name__}: {exc}", True
            ), "failed"
    if scope.cancelled_caught:
        return ToolOutcome(
            f"{call.name} did not finish within {timeout:g}s (TOOL_TIMEOUT_MS); it was stopped",
            True,
        ), "timeout"
    return outcome, "error" if outcome.is_error else "ok"
