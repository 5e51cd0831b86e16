"""Who is calling: the identity that owns what the proxy stores for a caller.

The credential the client presents (``Authorization``, ``x-api-key`` or ``api-key``), hashed:
two callers with different keys never see each other's stored conversations, and nothing a
client can set freely (``X-Request-ID``, a body field) decides ownership. A caller without any
credential is known by its address (``addr:``), so such callers on one host share. With
inbound keys on (``server/auth.py``), the caller is the key's name.
"""

from __future__ import annotations

import hashlib

from lynkr.server.asgi import Scope
from lynkr.server.auth import USER

CREDENTIAL_HEADERS = (b"authorization", b"x-api-key", b"api-key")


def caller_identity(scope: Scope) -> str:
    user = scope.get(USER)  # inbound keys on: the key's name (its header is gone by now)
    if user is not None:
        return "user:" + user
    for name in CREDENTIAL_HEADERS:
        for key, value in scope["headers"]:
            if key == name and value.strip():
                return "key:" + hashlib.sha256(value.strip()).hexdigest()[:32]
    client = scope.get("client") or ("unknown", 0)
    return f"addr:{client[0]}"
