"""Secrets are never remembered: API keys, tokens, passwords and private keys, found by pattern.

A text that matches any pattern is refused whole (not redacted): a memory that once held a key
is not worth keeping, and a half-redacted one would still tell where the key lives.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    ("OpenAI/Anthropic key", r"\bsk-(?:ant-|proj-|or-v1-)?[A-Za-z0-9_\-]{16,}"),
    ("AWS access key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("Google API key", r"\bAIza[0-9A-Za-z_\-]{30,}"),
    ("Stripe key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("JSON web token", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("bearer token", r"(?i)\bbearer\s+[A-Za-z0-9_\-.=+/]{16,}"),
    ("credentials in a URL", r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:[^\s@/]{3,}@"),
    # "password is X", "password: X", also with a few words between ("password for the VPN
    # is X"); a sentence about a password policy may be refused too, which costs nothing
    ("password", r"(?i)\b(?:password|passwd|pwd|passphrase)\b(?:\s+[\w\-.]+){0,4}?\s*"
                 r"(?:is|[:=])\s*\S{4,}"),
    ("secret assignment",
     r"(?i)\b(?:api[_\- ]?key|secret(?:[_\- ]?key)?|access[_\- ]?token|auth[_\- ]?token|"
     r"client[_\- ]?secret|token)\b(?:\s+[\w\-.]+){0,4}?\s*(?:is|[:=])\s*['\"]?"
     r"[A-Za-z0-9_\-./+=]{8,}"),
    ("long hex or base64 secret", r"\b(?=[A-Za-z0-9+/_\-]*\d)(?=[A-Za-z0-9+/_\-]*[A-Za-z])"
                                  r"[A-Za-z0-9+/_\-]{40,}={0,2}"),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _PATTERNS)


def secret_kind(text: str) -> str | None:
    """The kind of secret ``text`` seems to hold, or None when it looks clean."""
    for name, pattern in _COMPILED:
        if pattern.search(text):
            return name
    return None
