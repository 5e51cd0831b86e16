"""What stages and adapters may reach, as small Protocols and plain values.

Stages get state only through a ``Ports`` record built once at start-up; tests build their own.
Providers meet the server through ``Upstream`` (prepare a call purely, open it for canonical
events), and whatever watches an answer on its way out is a ``StreamTap``.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Literal, Protocol

import attrs

from lynkr.model.content import ToolUseBlock
from lynkr.model.events import Event, Usage
from lynkr.model.limits import Decision
from lynkr.model.memory import ExtractionJob, Recalled, Scope
from lynkr.model.request import Request
from lynkr.model.response import Response

Family = Literal["openai", "ollama", "anthropic", "bedrock"]


@attrs.frozen
class ProviderInfo:
    """What the pipeline knows of a configured provider (no secrets, no clients)."""

    name: str  # "ollama", "openai", "openrouter", "llamacpp", "lmstudio", ...
    family: Family
    model: str  # default model sent upstream
    endpoint: str
    context_window: int = 200_000
    local: bool = False  # runs on the user's machine (llama.cpp, LM Studio, Ollama)


class TokenCounter(Protocol):
    def __call__(self, text: str) -> int: ...


# cl100k's pre-tokenizer, approximated with the stdlib ``re``: contractions, words with one
# leading non-letter, 1-3 digits, punctuation runs, newline runs, other whitespace.
_PIECES = re.compile(
    r"'(?:[sdmt]|ll|ve|re)\b|[^\r\n\w]?[^\W\d_]+|\d{1,3}| ?[^\s\w]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Weights fitted by least squares on relative error against cl100k_base counts of English prose,
# Markdown, Python, JSON and shell output (tests/unit/test_token_counter.py keeps the samples).
_WORD, _LONG_CHAR, _DIGITS, _PUNCT, _PUNCT_CHAR, _SPACE = 0.99, 0.037, 1.0, 0.91, 0.23, 1.55
_LATIN, _OTHER_SCRIPT, _CJK = 1.0, 0.25, 0.75  # extra per non-ASCII character


def estimate_tokens(text: str) -> int:
    """A calibrated estimate of the tokens of ``text`` (within about 10% of cl100k_base on English
    prose, code, JSON and shell output; Claude's tokenizer counts code a little higher).

    Each pre-token piece costs a fitted weight by kind: a word 1 (plus a little per letter past
    six), a group of up to three digits 1, a punctuation run 0.9 plus 0.23 per extra character, a
    whitespace run 1.55; non-ASCII characters cost extra (accented Latin 1, CJK 0.75, other
    scripts 0.25 each).
    """
    total = _piece_estimate(text)
    if not text.isascii():
        for char in text:
            code = ord(char)
            if code > 127:
                total += _LATIN if code < 0x250 else _CJK if code >= 0x2E80 else _OTHER_SCRIPT
    return round(total)


def _piece_estimate(text: str) -> float:
    total = 0.0
    for piece in _PIECES.findall(text):
        last = piece[-1]
        if last.isalpha():
            total += _WORD + _LONG_CHAR * max(0, len(piece) - 7)
        elif last.isdigit():
            total += _DIGITS
        elif last.isspace() and piece.isspace():
            total += _SPACE
        else:
            total += _PUNCT + _PUNCT_CHAR * max(0, len(piece.strip()) - 1)
    return total


def cl100k_counter() -> Callable[[str], int] | None:
    """An exact cl100k_base counter when the optional ``bpe-openai`` package is installed (it ships
    its vocabulary, so it works offline); None otherwise."""
    with warnings.catch_warnings():  # it loads its vocabulary with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import bpe_openai  # type: ignore[import-not-found]
        except ImportError:
            return None
        encoding = bpe_openai.get_encoding("cl100k_base")
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def rough_tokens(size: int) -> int:
    """Tokens in ``size`` bytes of JSON, roughly (one per four): free to compute, for the hot
    path only (the input count a stream reports until the upstream gives its own);
    ``estimate_tokens`` is the calibrated count everything else uses."""
    return size // 4


@attrs.frozen
class ParseContext:
    """What a stream parser needs besides the bytes: the answer's id and model as the client
    sees them, the input count to report until the upstream says, and the tool-use ids the
    conversation already holds (a new tool call never reuses one)."""

    message_id: str
    model: str
    input_estimate: int = 0
    taken_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, request: Request, message_id: str, model: str, body_size: int) -> ParseContext:
        taken = frozenset(b.id for m in request.messages if m.role == "assistant"
                          for b in m.content if isinstance(b, ToolUseBlock))
        return cls(message_id, model, rough_tokens(body_size), taken)


@attrs.frozen
class Answering:
    """How the answer presents itself: the id and model name the client is told."""

    message_id: str
    model: str


@attrs.frozen
class UpstreamCall:
    """One upstream request, prepared purely: what a transport sends, and how to read it."""

    target: str  # the URL; for Bedrock the model id
    body: bytes
    headers: Mapping[str, str]
    context: ParseContext
    operation: str = "POST"  # Bedrock: converse, converse_stream, invoke, invoke_stream


EventBatches = AsyncIterator[list[Event]]  # the canonical events of one answer, a read at a time


class Upstream(Protocol):
    """A model provider: ``prepare`` is pure (request in, call value out); ``open`` is the only
    I/O, sending the call and yielding canonical events. An error before the first event is
    raised as a ``LynkrError``; one in the middle ends the batches with a ``StreamError``."""

    @property
    def info(self) -> ProviderInfo: ...

    def prepare(self, request: Request, answering: Answering) -> UpstreamCall: ...

    def open(self, call: UpstreamCall) -> AbstractAsyncContextManager[EventBatches]: ...

    async def aclose(self) -> None: ...


class StreamTap(Protocol):
    """Watches one answer on its way to the client, never delaying or changing it.

    ``observe`` sees each batch of events as it is written; ``completed`` gets the folded answer
    once the whole stream has gone out without an error (only when ``wants_result``).
    """

    wants_result: bool

    def observe(self, events: list[Event]) -> None: ...

    def completed(self, response: Response) -> None: ...


class ResponseCache(Protocol):
    """Whole answers by request key; ``now`` is in seconds (from ``Ports.now``). ``get`` is
    awaited (a shared cache asks Redis: ``shared/answers.py``); ``put`` never waits."""

    async def get(self, key: str, now: float) -> Response | None: ...

    def put(self, key: str, response: Response, now: float) -> None: ...


class SessionStore(Protocol):
    """Small decisions a stage takes once per session and reproduces later (which tools a
    session keeps, where its history was compacted), as text under ``(session, key)``.

    Bounded and lossy by contract: ``get`` may answer None for anything, at any time (evicted,
    restarted, another replica); a stage then decides afresh and the request is still valid.
    ``load`` is awaited once before a request's stages run, with the request's session: a
    shared store (``shared/sessions.py``) brings that session's decisions close, so the
    stages' ``get`` never waits."""

    async def load(self, session: str) -> None: ...

    def get(self, session: str, key: str) -> str | None: ...

    def put(self, session: str, key: str, value: str) -> None: ...


class MemoryPort(Protocol):
    """Long-term memory as the pipeline sees it (``lynkr.memory.service`` implements it).

    ``recall`` reads (in a worker thread, bounded by the injection's token budget);
    ``extract_later`` only hands a finished exchange to a background worker and returns at
    once: False when it was dropped (queue full, shutting down), never blocking."""

    default_user: str  # MEMORY_DEFAULT_USER: whose memories when a request names nobody

    async def recall(self, scope: Scope, text: str, *,
                     exclude_session: str | None = None) -> tuple[Recalled, ...]: ...

    def extract_later(self, job: ExtractionJob) -> bool: ...


class RateLimiter(Protocol):
    """Per-key request and token limits (``governance/limits.py`` in-process,
    ``shared/limits.py`` in Redis, shared by every process).

    ``admit`` takes one request from the key's allowance or says how long to wait (awaited: a
    shared limiter asks Redis); ``charge`` books the tokens the upstream reported once the
    answer is done, without waiting. ``now`` is in seconds (a shared limiter uses its own clock).
    """

    async def admit(self, key: str, rpm: int | None, tpm: int | None, now: float) -> Decision: ...

    def charge(self, key: str, tokens: int, now: float) -> None: ...


class BreakerBoard(Protocol):
    """Circuit-breaker trips shared between processes (``shared/breakers.py`` on Redis; no
    board: each process's breakers are its own).

    ``opened`` answers a trip some process published and still open: (its failure count,
    seconds it stays open), or None; ``publish`` announces a trip (``open_for_s`` > 0) or a
    breaker closed again (0), without waiting."""

    async def opened(self, provider: str) -> tuple[int, float] | None: ...

    def publish(self, provider: str, failures: int, open_for_s: float) -> None: ...


@attrs.frozen
class UsageEntry:
    """Usage an upstream reported for one answer (or the part of it not booked yet), as it is
    booked: who (inbound key, "" when keys are off), which session ("" when none), which model
    (``provider/model``), tokens by kind, its cost in US dollars (0.0 when the model has no
    price), and when (wall-clock seconds). ``requests`` is 1 for an answer's first booking and
    0 for a later part of the same answer."""

    key: str
    session: str
    model: str
    usage: Usage
    cost_usd: float
    at: float
    requests: int = 1

    @property
    def tokens(self) -> int:
        u = self.usage
        return (u.input_tokens + u.output_tokens + u.cache_read_input_tokens
                + u.cache_creation_input_tokens)


@attrs.frozen
class Spend:
    """What a key or a session has spent in a window: tokens of every kind, and US dollars."""

    tokens: int = 0
    usd: float = 0.0


@attrs.frozen
class UsageRow:
    """One line of the usage report: a key's spend on one model in one UTC day."""

    key: str
    model: str  # "" for usage booked before models were recorded
    day: float  # the UTC day's start, wall-clock seconds
    requests: int
    usage: Usage
    tokens: int  # every kind (usage booked before kinds were recorded counts only here)
    cost_usd: float


class UsageLedger(Protocol):
    """Usage per key, session, model and UTC day, for budgets and ``lynkr usage``
    (``auth/ledger.py`` on SQLite, shared by every process on the file; Redis for replicas).

    ``record`` adds an entry to its day; ``spent`` sums a key's days (or one session's of that
    key) from ``since``, a UTC day's start; ``report`` lists per key, model and day from
    ``since``. Times are wall-clock seconds (budgets are calendar windows).

    Called on the event loop (``spent`` before a request starts, ``record`` as an answer goes
    out), like ``RateLimiter``: an implementation must answer at once, so a networked one
    keeps a local view and exchanges with its store in the background. ``load`` is awaited
    before a request's budgets are checked, with its key and session: a shared ledger
    (``shared/ledger.py``) brings their sums for the current month close then."""

    async def load(self, key: str, session: str | None, now: float) -> None: ...

    def record(self, entry: UsageEntry) -> None: ...

    def spent(self, key: str, since: float, session: str | None = None) -> Spend: ...

    def report(self, since: float = 0.0) -> list[UsageRow]: ...


@attrs.frozen
class Ports:
    providers: Mapping[str, ProviderInfo]
    default_provider: str
    count_tokens: Callable[[str], int] = estimate_tokens
    cache: ResponseCache | None = None  # None: no response cache configured
    now: Callable[[], float] = time.monotonic  # the clock stages read through (seconds)
    sessions: SessionStore | None = None  # None: no memory across requests
    # model name -> the most tokens it can write in one answer (None: unknown)
    output_limit: Callable[[str], int | None] = lambda model: None
    # (provider, model) -> whether the model can call tools (None: unknown; Ollama's /api/show)
    tool_support: Callable[[str, str], bool | None] = lambda provider, model: None
    memory: MemoryPort | None = None  # None: long-term memory is off (MEMORY_ENABLED=false)


class InHand:
    """Event batches already in hand, read like an upstream's (a whole answer, a replay)."""

    def __init__(self, *batches: list[Event]) -> None:
        self._batches = list(batches)

    def __aiter__(self) -> InHand:
        return self

    async def __anext__(self) -> list[Event]:
        if not self._batches:
            raise StopAsyncIteration
        return self._batches.pop(0)
