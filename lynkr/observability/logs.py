"""Structured JSON logs, one object a line, with the request id where there is one.

A log line stays readable and safe whatever a client or an upstream sent: a string field
longer than ``MAX_FIELD_CHARS`` is cut (a 1 MiB model name must not make a 2 MiB line), and
the line is scrubbed of the configured secrets and URL credentials (``configure(scrub=)``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import orjson

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
MAX_FIELD_CHARS = 2000


def clip(value: Any, limit: int = MAX_FIELD_CHARS) -> Any:
    """``value`` with every string in it (one level of mappings deep) cut to ``limit``."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}…(+{len(value) - limit} chars)"
    if isinstance(value, dict):
        return {k: clip(v, limit) if isinstance(v, str) else v for k, v in value.items()}
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, scrub: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": clip(record.getMessage()),
        }
        out.update({k: clip(v) for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        line = orjson.dumps(out, default=str).decode()
        return line if self.scrub is None else self.scrub(line)


def configure(level: str, scrub: Callable[[str], str] | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(scrub))
    root = logging.getLogger("lynkr")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
