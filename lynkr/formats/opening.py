"""The answer's ``message_start``, emitted exactly once and before anything else.

Every upstream stream parser opens the canonical stream the same way, on its first feed or at
its close (an empty body still opens, then reports the cut); this is that rule, once.
"""

from __future__ import annotations

from lynkr.model.events import Event, MessageStart, Usage


class Opening:
    __slots__ = ("_start",)

    def __init__(self, message_id: str, model: str, input_estimate: int = 0) -> None:
        self._start: MessageStart | None = MessageStart(message_id, model,
                                                        Usage(input_tokens=input_estimate))

    def events(self) -> list[Event]:
        """A new list holding ``message_start`` the first time, empty after."""
        start, self._start = self._start, None
        return [start] if start is not None else []
