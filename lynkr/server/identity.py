"""Who is calling: the identity that owns what the proxy stores for a caller.

The credential the client presents (``Authorization``, ``x-api-key`` or ``api-key``), hashed:
two callers with different keys never see each other's stored conversations, and nothing a
client can set freely (``X-Request-ID``, a body field) decides ownership. A caller without any
credential is known by its address (``addr:``), so such callers on one host share.
"""

from __future__ import annotations

import hashlib

from lynkr.server.asgi import Scope

CREDENTIAL_HEADERS = (b"authorization", b"x-api-key", b"api-key")


def caller_identity(scope: Scope) -> str:
    for name in CREDENTIAL_HEADERS:
        for key, value in scope["headers"]:
            if key == name and value.strip():
                return "key:" + hashlib.sha256(value.strip()).hexdigest()[:32]
    client = scope.get("client") or ("unknown", 0)
    return f"addr:{client[0]}"
