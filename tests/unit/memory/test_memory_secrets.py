"""Secrets are recognised by pattern (and ordinary text is not)."""

from __future__ import annotations

import pytest

from lynkr.memory.secrets import secret_kind

KEY_BODY = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"


@pytest.mark.parametrize(("text", "kind"), [
    (f"my key is sk-ant-{KEY_BODY}", "OpenAI/Anthropic key"),
    (f"OPENAI_API_KEY=sk-proj-{KEY_BODY}", "OpenAI/Anthropic key"),
    ("aws AKIAIOSFODNN7EXAMPLE in the env", "AWS access key"),
    (f"token ghp_{KEY_BODY}abcdef", "GitHub token"),
    ("xoxb-123456789012-abcdefghij", "Slack token"),
    (f"AIza{KEY_BODY}xyzab", "Google API key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...", "private key"),
    ("-----BEGIN RSA PRIVATE KEY-----", "private key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "JSON web token"),
    ("Authorization: Bearer abcdefghijklmnop1234", "bearer token"),
    ("postgres://admin:hunter22@db.internal/app", "credentials in a URL"),
    ("my password is hunter2!", "password"),
    ("PASSWORD=correct-horse", "password"),
    ("api_key: 'abcd1234efgh5678'", "secret assignment"),
    ("the client secret = 9f8e7d6c5b4a3210", "secret assignment"),
    ("stripe sk_live_abcdefghijklmnop1234", "Stripe key"),
    ("0123456789abcdef0123456789abcdef0123456789", "long hex or base64 secret"),
])
def test_secrets_are_found(text: str, kind: str) -> None:
    assert secret_kind(text) == kind


@pytest.mark.parametrize("text", [
    "I prefer Python for data processing",
    "We decided to use PostgreSQL 16 for the billing service",
    "The password reset flow lives in auth/reset.py",
    "Use a token bucket for rate limiting",
    "My API key is stored in 1Password, never in the repo",
    "Alice is the tech lead of the payments team",
    "src/lynkr/memory/database_migrations_and_schema_versions.py",
])
def test_ordinary_text_is_not_a_secret(text: str) -> None:
    assert secret_kind(text) is None


def test_a_password_or_token_named_a_few_words_before_its_value() -> None:
    assert secret_kind("My password for the VPN is Tr0ub4dor&3xyz.") == "password"
    assert secret_kind("our token for the staging api is abcd1234efgh") == "secret assignment"
    assert secret_kind("The password policy requires twelve characters.") is None
