"""The memory_extract tap: a finished turn is handed off whole, nothing else is done."""

from __future__ import annotations

import attrs

from lynkr.cache.sessions import MemorySessionStore
from lynkr.model import Message, Request, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.events import TextDelta, Usage
from lynkr.model.memory import ExtractionJob, Scope
from lynkr.model.response import Response
from lynkr.pipeline.compile import compile_text
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages import STAGES
from lynkr.stages.exchange import MEMORY_TURN, Context, Exchange
from lynkr.stages.memory_extract import STORE_KEY, MemoryExtractConfig, extraction_tap

PROVIDERS = {
    "anthropic": ProviderInfo("anthropic", "anthropic", "claude-x", "https://a/v1/messages")
}
SYSTEM = (TextBlock("You are Claude Code.\n - Primary working directory: /home/ann/shop\n"),)
CONFIG = MemoryExtractConfig()
TURN = Message("user", (TextBlock("I prefer Python for data processing."),))


class FakeMemory:
    default_user = "default"

    def __init__(self) -> None:
        self.jobs: list[ExtractionJob] = []

    async def recall(
        self, scope: Scope, text: str, *, exclude_session: str | None = None
    ) -> tuple[()]:
        raise AssertionError("extraction never recalls on the answer's path")

    def extract_later(self, job: ExtractionJob) -> bool:
        self.jobs.append(job)
        return True


def exchange(*messages: Message, **context: object) -> Exchange:
    request = Request(model="claude-x", max_tokens=100, system=SYSTEM, messages=messages)
    context = {"session_id": "s1", **context}
    return Exchange(request, Context("req_7", **context))  # type: ignore[arg-type]


def answer(stop: str = "end_turn") -> Response:
    return Response("msg_1", "claude-x", (TextBlock("Noted."),), stop, Usage(10, 2))


def test_a_finished_turn_is_handed_to_the_worker_whole() -> None:
    fake = FakeMemory()
    tap = extraction_tap(
        exchange(TURN, user="bob"), CONFIG, Ports(PROVIDERS, "anthropic", memory=fake)
    )
    assert tap is not None and tap.wants_result
    tap.observe([TextDelta(0, "Noted.")])
    assert fake.jobs == []  # nothing while the answer streams
    tap.completed(answer())
    (job,) = fake.jobs
    assert job.scope == Scope("key:bob", "/home/ann/shop")
    assert job.request.messages == (TURN,)
    assert job.answer == (TextBlock("Noted."),)
    assert (job.session, job.request_id) == ("sid:s1", "req_7")


def test_a_tool_call_is_not_the_end_of_the_turn() -> None:
    fake = FakeMemory()
    ports = Ports(PROVIDERS, "anthropic", memory=fake)
    calling = attrs.evolve(answer("tool_use"), content=(ToolUseBlock("t1", "Bash", {}),))
    tap = extraction_tap(exchange(TURN), CONFIG, ports)
    assert tap is not None
    tap.completed(calling)
    assert fake.jobs == []
    every = extraction_tap(exchange(TURN), MemoryExtractConfig(every_answer=True), ports)
    assert every is not None
    every.completed(calling)
    assert len(fake.jobs) == 1


def test_nothing_to_learn_from() -> None:
    fake = FakeMemory()
    ports = Ports(PROVIDERS, "anthropic", memory=fake)
    assert extraction_tap(exchange(TURN), CONFIG, Ports(PROVIDERS, "anthropic")) is None
    cached = attrs.evolve(exchange(TURN), response=answer())  # served by the response cache
    assert extraction_tap(cached, CONFIG, ports) is None
    only_results = Message("user", (ToolResultBlock("t1", (TextBlock("ok"),)),))
    assert extraction_tap(exchange(only_results), CONFIG, ports) is None


def test_a_tap_only_stage_in_the_yaml() -> None:
    spec = STAGES["memory_extract"]
    assert (spec.kind, spec.run, spec.tap) == ("tap", None, extraction_tap)
    pipeline = compile_text("stages: [normalize, route, memory_inject, memory_extract, egress]")
    assert [s.name for s in pipeline.taps] == ["memory_extract"]


def test_a_turn_is_learnt_from_once() -> None:
    fake = FakeMemory()
    ports = Ports(PROVIDERS, "anthropic", memory=fake, sessions=MemorySessionStore())
    first = extraction_tap(exchange(TURN), CONFIG, ports)
    assert first is not None
    first.completed(attrs.evolve(answer("tool_use"), content=(ToolUseBlock("t1", "Bash", {}),)))
    # the turn goes on (its tool's result): it was not learnt from yet, so it is watched again
    results = Message("user", (ToolResultBlock("t1", (TextBlock("ok"),)),))
    calling = Message("assistant", (ToolUseBlock("t1", "Bash", {}),))
    going_on = extraction_tap(exchange(TURN, calling, results), CONFIG, ports)
    assert going_on is not None
    going_on.completed(answer())
    assert len(fake.jobs) == 1
    # the same turn again (a retry, a regeneration): no tap, no fold, no job
    assert extraction_tap(exchange(TURN), CONFIG, ports) is None
    assert extraction_tap(exchange(TURN, calling, results), CONFIG, ports) is None
    # another session with the same words is its own turn; so is the next turn here
    assert extraction_tap(exchange(TURN, session_id="s2"), CONFIG, ports) is not None
    later = Message("user", (TextBlock("We deploy with Helm."),))
    assert extraction_tap(exchange(TURN, Message("assistant", (TextBlock("Noted."),)), later),
                          CONFIG, ports) is not None
    # learning from every answer learns from the repeats too
    assert extraction_tap(exchange(TURN), MemoryExtractConfig(every_answer=True),
                          ports) is not None


def test_a_dropped_job_leaves_the_turn_to_learn_from() -> None:
    class Full(FakeMemory):
        def extract_later(self, job: ExtractionJob) -> bool:
            return False  # the queue was full

    ports = Ports(PROVIDERS, "anthropic", memory=Full(), sessions=MemorySessionStore())
    tap = extraction_tap(exchange(TURN), CONFIG, ports)
    assert tap is not None
    tap.completed(answer())
    assert extraction_tap(exchange(TURN), CONFIG, ports) is not None


def test_the_turn_key_memory_inject_left_is_the_one_recorded() -> None:
    fake = FakeMemory()
    sessions = MemorySessionStore()
    ports = Ports(PROVIDERS, "anthropic", memory=fake, sessions=sessions)
    injected = attrs.evolve(exchange(TURN), annotations={MEMORY_TURN: "key-from-inject"})
    tap = extraction_tap(injected, CONFIG, ports)
    assert tap is not None
    tap.completed(answer())
    assert sessions.get("sid:s1", STORE_KEY) == '"key-from-inject"'
    assert extraction_tap(injected, CONFIG, ports) is None
