"""Log lines: bounded fields, no secrets."""

from __future__ import annotations

import logging

import orjson

from lynkr.config.secrets import Scrubber
from lynkr.observability.logs import MAX_FIELD_CHARS, JsonFormatter


def record(**fields: object) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "lynkr.request", "levelname": "INFO",
                                  "msg": "request", **fields})


def test_a_huge_client_value_makes_a_bounded_line() -> None:
    line = JsonFormatter().format(record(client_model="m" * (1 << 20),
                                         stages={"x": "s" * 10_000}))
    assert len(line) < 3 * MAX_FIELD_CHARS + 500
    data = orjson.loads(line)
    assert data["client_model"].endswith(f"(+{(1 << 20) - MAX_FIELD_CHARS} chars)")


def test_configured_secrets_and_url_passwords_are_scrubbed() -> None:
    formatter = JsonFormatter(Scrubber(["sk-live-abcdef123"]))
    line = formatter.format(record(error="openai answered 401: bad key sk-live-abcdef123 "
                                         "via http://u:p4ssw0rd@proxy:3128"))
    assert "sk-live-abcdef123" not in line and "p4ssw0rd" not in line
    assert "[redacted]" in line and "http://u:***@proxy:3128" in line
