"""Keeping secrets out of what clients and logs see: pure functions over text.

``mask_url`` hides the password of a URL's userinfo (``http://user:pw@host`` →
``http://user:***@host``) and the values of credential-like query parameters. A ``Scrubber``
built from the configured keys (``configured_secrets``) replaces each of them, and every URL
credential, wherever they appear in a text: an upstream error body that echoes the proxy's key
leaves as ``[redacted]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from lynkr.config.settings import Settings

REDACTED = "[redacted]"
MIN_SECRET = 6  # shorter values would redact ordinary words

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s:@]*):[^@\s/]*@")
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&](?:api[-_]?key|key|token|access_token|sig|signature|password|secret|code)=)"
    r"[^&#\s]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with its userinfo password and credential query values masked."""
    return _QUERY_SECRET.sub(r"\g<name>***", _USERINFO.sub(r"\g<scheme>\g<user>:***@", url))


def url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class Scrubber:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        kept = sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, kept))) if kept else None

    def __call__(self, text: str) -> str:
        """``text`` without any configured secret or URL credential."""
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        if "://" in text:
            text = mask_url(text)
        return text


def configured_secrets(settings: Settings) -> list[str | None]:
    """Every key and URL password the settings hold (providers, embeddings, Bedrock, Redis)."""
    out: list[str | None] = []
    for provider in settings.providers.values():
        out += [provider.api_key, url_password(provider.endpoint)]
    out += [settings.embeddings.api_key, url_password(settings.embeddings.endpoint)]
    bedrock = settings.bedrock
    out += [bedrock.api_key, bedrock.access_key_id, bedrock.secret_access_key,
            bedrock.session_token, url_password(bedrock.endpoint)]
    if settings.shared.redis_url:
        out.append(url_password(settings.shared.redis_url))
    return out


def scrub_mapping(values: Mapping[str, object], scrub: Scrubber) -> dict[str, object]:
    """Log fields with every string value scrubbed."""
    return {k: scrub(v) if isinstance(v, str) else v for k, v in values.items()}
