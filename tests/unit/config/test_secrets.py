"""Secrets out of client answers and logs: URL credentials masked, configured keys scrubbed."""

from __future__ import annotations

import pytest

from lynkr.config.secrets import REDACTED, Scrubber, configured_secrets, mask_url
from lynkr.config.settings import load_settings


@pytest.mark.parametrize(("url", "masked"), [
    ("http://user:pw@host:11434/api/chat", "http://user:***@host:11434/api/chat"),
    ("https://:tok3n@example.com/v1", "https://:***@example.com/v1"),
    ("https://example.com/v1?api-version=2024&api-key=abc123",
     "https://example.com/v1?api-version=2024&api-key=***"),
    ("https://h/x?key=AIzaSecret&alt=sse", "https://h/x?key=***&alt=sse"),
    ("http://localhost:11434/api/chat", "http://localhost:11434/api/chat"),
    ("user@example.com wrote", "user@example.com wrote"),
])
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_scrubber_removes_configured_keys_and_url_passwords_anywhere() -> None:
    scrub = Scrubber(["sk-live-0123456789", None, "abc"])  # "abc": too short to redact safely
    body = ('{"error":{"message":"Incorrect API key provided: sk-live-0123456789. See '
            'http://admin:hunter22@10.0.0.5:8080/v1 and abc"}}')
    clean = scrub(body)
    assert "sk-live-0123456789" not in clean and "hunter22" not in clean
    assert clean.count(REDACTED) == 1 and "http://admin:***@10.0.0.5:8080/v1" in clean
    assert clean.endswith('and abc"}}')


def test_configured_secrets_cover_keys_and_endpoint_passwords(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings({
        "MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test-secret-1",
        "OLLAMA_ENDPOINT": "http://ops:s3cretpass@gpu-box:11434",
    }, env_file=str(tmp_path / "none.env"))
    found = {s for s in configured_secrets(settings) if s}
    assert {"sk-test-secret-1", "s3cretpass"} <= found
    scrub = Scrubber(configured_secrets(settings))
    assert scrub("key sk-test-secret-1 at http://ops:s3cretpass@gpu-box:11434") == \
        f"key {REDACTED} at http://ops:***@gpu-box:11434"
