"""The optional model-written extraction's one call (``MEMORY_MODEL_EXTRACTION=true``): the
finished turn goes to the configured provider with ``model_extraction``'s instructions, and its
answer is parsed into candidates. Run by the memory worker in the background, bounded in time;
a provider that fails or answers nonsense costs nothing but a log line."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import trio

from lynkr.formats.fold import fold
from lynkr.memory.model_extraction import extraction_request, parse_extraction
from lynkr.model.content import TextBlock
from lynkr.model.errors import LynkrError
from lynkr.model.events import Event
from lynkr.model.memory import Candidate
from lynkr.ports import Answering, Upstream

log = logging.getLogger("lynkr.memory")
TIMEOUT_S = 60.0


class ModelExtractor:
    """Asks ``upstream``'s configured model what to remember from one exchange."""

    def __init__(self, upstream: Upstream, timeout_s: float = TIMEOUT_S) -> None:
        self.upstream = upstream
        self.model = upstream.info.model
        self.timeout_s = timeout_s

    async def __call__(self, user_text: str, answer: Sequence[object]) -> tuple[Candidate, ...]:
        answer_text = "\n".join(b.text for b in answer if isinstance(b, TextBlock))
        request = extraction_request(user_text, answer_text, self.model)
        call = self.upstream.prepare(request, Answering("msg_memory_extraction", self.model))
        events: list[Event] = []
        try:
            with trio.move_on_after(self.timeout_s) as waited:
                async with self.upstream.open(call) as batches:
                    async for batch in batches:
                        events.extend(batch)
        except LynkrError as exc:
            log.warning("model extraction failed", extra={"reason": exc.message})
            return ()
        if waited.cancelled_caught:
            log.warning("model extraction timed out", extra={"timeout_s": self.timeout_s})
            return ()
        text = "".join(b.text for b in fold(events).content if isinstance(b, TextBlock))
        return parse_extraction(text)
