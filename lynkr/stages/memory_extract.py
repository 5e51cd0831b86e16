"""memory_extract: learn from each finished turn, after its answer has gone to the client.

A stream tap only (no request function). Assumes: ``ports.memory`` is the long-term memory
(None: memory is off and nothing is watched); the server calls the tap's ``completed`` once
the whole answer has been written without an error.
Guarantees: the turn's final answer (its stop reason is not ``tool_use``: the model has
finished with the user's newest typed turn) is handed, with the request as it went upstream,
to the memory's background worker as one ``ExtractionJob``, for the request's user and
workspace (``memory_scope``) and session; the worker scores it with the surprise heuristic
and stores what is worth keeping. The hand-off is a non-blocking put on a bounded queue:
nothing is computed, read or written on the answer's path.
A turn is learnt from once: the session records the newest typed turn's key
(``memory_injection.turn_key``) once its final answer has been handed over, and a later request
whose newest turn is the same (a retry, a regenerated answer, a client that repeats the turn)
gets no tap, so neither the answer's fold nor the worker's scoring is paid again.
Never: delays, changes or withholds a byte of the answer, learns from an answer served from
the response cache, from a stream that ended in an error, or from a request without a typed
user turn.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import attrs

from lynkr.model.events import Event
from lynkr.model.memory import ExtractionJob
from lynkr.model.response import Response
from lynkr.ports import MemoryPort, Ports
from lynkr.stages.exchange import MEMORY_TURN, Exchange
from lynkr.stages.memory_injection import newest_turn, turn_key
from lynkr.stages.memory_scope import exchange_scope
from lynkr.stages.session import recall, remember, session_key

STORE_KEY = "memory_extract"  # the session's newest turn learnt from: its turn key


@attrs.frozen
class MemoryExtractConfig:
    # learn from every answer, also the intermediate ones of a tool loop (off: only the
    # answer that ends the user's turn)
    every_answer: bool = False


class ExtractionTap:
    """Hands the folded answer to the memory's background worker, and nothing else."""

    wants_result = True

    def __init__(self, memory: MemoryPort, job: ExtractionJob, every_answer: bool,
                 learnt: Callable[[], None]) -> None:
        self._memory, self._job, self._every_answer = memory, job, every_answer
        self._learnt = learnt  # records the turn as learnt from

    def observe(self, events: list[Event]) -> None:
        return None

    def completed(self, response: Response) -> None:
        if response.stop_reason == "tool_use" and not self._every_answer:
            return
        if self._memory.extract_later(attrs.evolve(self._job, answer=response.content)):
            self._learnt()


def extraction_tap(
    exchange: Exchange, config: MemoryExtractConfig, ports: Ports
) -> ExtractionTap | None:
    """The tap for one answer, or None when there is nothing to learn from."""
    if ports.memory is None or exchange.response is not None:
        return None  # memory off, or an answer from the response cache
    messages = exchange.request.messages
    index = newest_turn(messages)
    if index is None:
        return None
    # memory_inject's key for the same turn when it ran (one digest a request, not two)
    key = exchange.annotations.get(MEMORY_TURN) or turn_key(messages[index])
    if not config.every_answer and recall(ports, exchange, STORE_KEY) == key:
        return None  # this turn's answer was learnt from already
    job = ExtractionJob(
        exchange_scope(exchange, ports.memory.default_user),
        exchange.request,
        (),
        session_key(exchange),
        exchange.context.request_id,
    )
    return ExtractionTap(ports.memory, job, config.every_answer,
                         partial(remember, ports, exchange, STORE_KEY, key))
