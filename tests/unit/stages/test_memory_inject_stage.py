"""The memory_inject stage: recalled once per turn, for the right user and workspace, and
reproduced byte for byte from the session store on every later request."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr.cache import MemorySessionStore
from lynkr.formats.anthropic.request import render_request
from lynkr.model import Message, Request, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.memory import ExtractionJob, Memory, Recalled, Scope
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.exchange import MEMORY_ANNOTATION, Context, Exchange
from lynkr.stages.memory_injection import OPEN, MemoryInjectConfig, memory_inject

PROVIDERS = {
    "anthropic": ProviderInfo("anthropic", "anthropic", "claude-x", "https://a/v1/messages")
}
SYSTEM = (TextBlock("You are Claude Code.\n - Primary working directory: /home/ann/shop\n"),)
CONFIG = MemoryInjectConfig()


def memory(id_: int, text: str, kind: str = "fact") -> Memory:
    return Memory(id_, kind, text, 0.5, "u", "w", False, 0.0, 0.0)  # type: ignore[arg-type]


PREF = memory(1, "I prefer Python for data processing", "preference")
CI = memory(2, "CI runs on GitHub Actions")
LEAD = memory(3, "Alice leads payments", "entity")


class FakeMemory:
    """A ``MemoryPort`` answering what the test says, recording every call."""

    default_user = "default"

    def __init__(self, *answers: Memory) -> None:
        self.answers = list(answers)
        self.recalls: list[tuple[Scope, str, str | None]] = []
        self.jobs: list[ExtractionJob] = []

    async def recall(
        self, scope: Scope, text: str, *, exclude_session: str | None = None
    ) -> tuple[Recalled, ...]:
        self.recalls.append((scope, text, exclude_session))
        return tuple(Recalled(m, 1.0, 1.0, 1.0, 1.0) for m in self.answers)

    def extract_later(self, job: ExtractionJob) -> bool:
        self.jobs.append(job)
        return True


def user(*blocks: object) -> Message:
    return Message("user", tuple(TextBlock(b) if isinstance(b, str) else b for b in blocks))


def exchange(
    *messages: Message,
    session: str | None = "s1",
    key_user: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Exchange:
    request = Request(
        model="claude-x", max_tokens=100, system=SYSTEM, messages=messages, metadata=metadata
    )
    return Exchange(request, Context("req_1", session_id=session, user=key_user))


def ports(fake: FakeMemory | None, sessions: MemorySessionStore | None = None) -> Ports:
    return Ports(
        PROVIDERS,
        "anthropic",
        memory=fake,
        sessions=MemorySessionStore() if sessions is None else sessions,
    )


async def test_memories_go_into_the_newest_turn_with_the_header() -> None:
    fake = FakeMemory(PREF, CI)
    turn = user("<system-reminder>ctx</system-reminder>", "What language for data tasks?")
    out = await memory_inject(exchange(turn), CONFIG, ports(fake))
    ((scope, text, excluded),) = fake.recalls
    assert scope == Scope("default", "/home/ann/shop")
    assert "What language for data tasks?" in text and "ctx" not in text
    assert excluded == "sid:s1"  # what this session taught is already in its conversation
    block, *rest = out.request.messages[0].content
    assert tuple(rest) == turn.content
    assert isinstance(block, TextBlock) and block.text.startswith(OPEN)
    assert block.cache_control is None
    assert "I prefer Python for data processing" in block.text
    assert out.request.system == SYSTEM
    tokens = int(out.annotations[MEMORY_ANNOTATION].split()[2])
    assert out.annotations[MEMORY_ANNOTATION] == f"2 injected, {tokens} tokens" and tokens > 10
    assert out.notes[-1].summary.startswith("2 injected")


async def test_a_later_request_repeats_the_turn_byte_for_byte_and_decides_the_new_one() -> None:
    fake, store = FakeMemory(PREF), MemorySessionStore()
    first_turn = user("What language for data tasks?")
    first = await memory_inject(exchange(first_turn), CONFIG, ports(fake, store))
    fake.answers = [CI, LEAD]  # what would be recalled now differs
    marked = user(TextBlock("What language for data tasks?", cache_control={"type": "ephemeral"}))
    answer = Message("assistant", (TextBlock("Python."),))
    second = await memory_inject(
        exchange(marked, answer, user("and for CI?")), CONFIG, ports(fake, store)
    )
    assert len(fake.recalls) == 2  # the first turn was not recalled for again
    assert second.request.messages[0].content[0] == first.request.messages[0].content[0]
    assert second.request.messages[0].content[1] == marked.content[0]  # its mark kept
    assert OPEN not in second.request.messages[1].content[0].text  # type: ignore[union-attr]
    assert "CI runs on GitHub Actions" in second.request.messages[2].content[0].text  # type: ignore[union-attr]
    assert "1 earlier turn(s) kept" in second.notes[-1].summary


async def test_a_tool_round_keeps_the_turn_as_decided_without_recalling() -> None:
    fake, store = FakeMemory(PREF), MemorySessionStore()
    turn = user("What language for data tasks?")
    first = await memory_inject(exchange(turn), CONFIG, ports(fake, store))
    fake.answers = []
    loop = exchange(
        turn,
        Message("assistant", (ToolUseBlock("t1", "Bash", {"c": "ls"}),)),
        user(ToolResultBlock("t1", (TextBlock("a.py"),))),
    )
    again = await memory_inject(loop, CONFIG, ports(fake, store))
    assert len(fake.recalls) == 1
    assert again.request.messages[0] == first.request.messages[0]
    assert again.annotations[MEMORY_ANNOTATION] == first.annotations[MEMORY_ANNOTATION]
    assert "as decided earlier" in again.notes[-1].summary


async def test_a_turn_given_nothing_stays_without_memories() -> None:
    fake, store = FakeMemory(), MemorySessionStore()
    turn = user("hello there")
    first = await memory_inject(exchange(turn), CONFIG, ports(fake, store))
    assert first.request.messages == (turn,)
    assert first.annotations[MEMORY_ANNOTATION] == "0 injected, 0 tokens"
    fake.answers = [PREF]  # learnt meanwhile
    loop = exchange(
        turn,
        Message("assistant", (ToolUseBlock("t1", "Bash", {}),)),
        user(ToolResultBlock("t1", (TextBlock("ok"),))),
    )
    again = await memory_inject(loop, CONFIG, ports(fake, store))
    assert again.request.messages[0] == turn and len(fake.recalls) == 1


async def test_a_side_request_between_does_not_reopen_the_turn() -> None:
    """Claude Code's side requests (a title, a summary) share the session: the main turn,
    decided with nothing, stays without memories after one."""
    fake, store = FakeMemory(), MemorySessionStore()
    turn = user("hello there")
    await memory_inject(exchange(turn), CONFIG, ports(fake, store))
    fake.answers = [PREF]
    await memory_inject(
        exchange(user("Write a title for: hello there")), CONFIG, ports(fake, store)
    )
    loop = exchange(
        turn,
        Message("assistant", (ToolUseBlock("t1", "Bash", {}),)),
        user(ToolResultBlock("t1", (TextBlock("ok"),))),
    )
    again = await memory_inject(loop, CONFIG, ports(fake, store))
    assert again.request.messages[0] == turn
    assert again.annotations[MEMORY_ANNOTATION] == "0 injected, 0 tokens"
    assert len(fake.recalls) == 2


async def test_whose_memories_the_key_then_the_client_then_the_default() -> None:
    fake = FakeMemory()
    await memory_inject(exchange(user("hi all"), key_user="alice"), CONFIG, ports(fake))
    await memory_inject(
        exchange(
            user("hi all"),
            metadata={
                "user_id": orjson.dumps(
                    {"device_id": "dev9", "account_uuid": "", "session_id": "x"}
                ).decode()
            },
        ),
        CONFIG,
        ports(fake),
    )
    await memory_inject(exchange(user("hi all"), session="s2"), CONFIG, ports(fake))
    assert [r[0].user for r in fake.recalls] == ["key:alice", "device:dev9", "default"]


async def test_same_session_memories_on_request() -> None:
    fake = FakeMemory()
    await memory_inject(
        exchange(user("hi all")), MemoryInjectConfig(same_session=True), ports(fake)
    )
    assert fake.recalls[0][2] is None


async def test_memory_off_changes_nothing() -> None:
    start = exchange(user("What language for data tasks?"))
    out = await memory_inject(start, CONFIG, ports(None))
    assert out.request == start.request
    assert MEMORY_ANNOTATION not in out.annotations
    assert out.notes[-1].summary == "off (MEMORY_ENABLED=false)"


async def test_a_lost_session_value_only_stops_reproducing() -> None:
    """An evicted decision: the earlier turn is sent as the client sent it (one cache miss),
    never given memories it was not given when it was the newest."""
    fake, store = FakeMemory(PREF), MemorySessionStore()
    turn = user("What language for data tasks?")
    await memory_inject(exchange(turn), CONFIG, ports(fake, store))
    later = exchange(turn, Message("assistant", (TextBlock("Python."),)), user("thanks, CI?"))
    out = await memory_inject(later, CONFIG, ports(fake, MemorySessionStore()))
    assert out.request.messages[0] == turn
    assert OPEN in out.request.messages[2].content[0].text  # type: ignore[union-attr]


# The property, through the stage and a real session store: a session where each request
# appends to the last, with different memories recalled on every request; the upstream
# request must repeat the previous one's message bytes as its prefix.

turn_texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
).filter(lambda t: t.strip() and "<system-reminder>" not in t)
recalls = st.lists(st.sampled_from([PREF, CI, LEAD]), max_size=3, unique=True)


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[list[Message], list[Memory]]]:
    steps = []
    for n in range(draw(st.integers(1, 6))):
        if n and draw(st.booleans()):
            call = f"call_{n}"
            appended = [
                Message("assistant", (ToolUseBlock(call, "Bash", {"n": n}),)),
                user(ToolResultBlock(call, (TextBlock(f"out {n}"),))),
            ]
        else:
            appended = ([Message("assistant", (TextBlock(f"answer {n}"),))] if n else []) + [
                user(f"<system-reminder>{n}</system-reminder>", draw(turn_texts))
            ]
        steps.append((appended, draw(recalls)))
    return steps


def upstream_messages(request: Request) -> list[bytes]:
    return [orjson.dumps(m) for m in render_request(request)["messages"]]


@settings(max_examples=100, deadline=None)
@given(sessions())
async def test_every_earlier_message_is_byte_identical_on_the_next_request(
    steps: list[tuple[list[Message], list[Memory]]],
) -> None:
    store, fake = MemorySessionStore(), FakeMemory()
    conversation: list[Message] = []
    previous: list[bytes] = []
    for appended, recalled in steps:
        conversation += appended
        fake.answers = recalled
        out = await memory_inject(exchange(*conversation), CONFIG, ports(fake, store))
        sent = upstream_messages(out.request)
        assert sent[: len(previous)] == previous
        previous = sent
