"""Bedrock error codes (botocore ``ClientError``) → the errors a client is answered with.

    ValidationException            400 → 400 invalid_request_error ("prompt is too long" kept)
    AccessDeniedException          403 → 403 permission_error
    UnrecognizedClientException    403 → 401 authentication_error (a bad key or token)
    ResourceNotFoundException      404 → 404 not_found_error
    ModelTimeoutException          408 → 504 timeout_error
    ModelErrorException            424 → 500 api_error
    ThrottlingException, ModelNotReadyException, ServiceQuotaExceededException → 429
    InternalServerException        500 → 500 api_error
    ServiceUnavailableException    503 → 529 overloaded_error
"""

from __future__ import annotations

import re

from lynkr.model.errors import (
    BadRequest,
    LynkrError,
    NotFound,
    Overloaded,
    PermissionDenied,
    RateLimited,
    Unauthorized,
    UpstreamTimeout,
    from_upstream_status,
)

_TOO_LONG = re.compile(r"too long|too many (input )?tokens|context (window|length)|"
                       r"exceeds? the (maximum|context)", re.IGNORECASE)
_BY_CODE: dict[str, type[LynkrError]] = {
    "AccessDeniedException": PermissionDenied,
    "UnrecognizedClientException": Unauthorized,
    "InvalidSignatureException": Unauthorized,
    "ExpiredTokenException": Unauthorized,
    "ResourceNotFoundException": NotFound,
    "ModelTimeoutException": UpstreamTimeout,
    "ModelErrorException": LynkrError,
    "ThrottlingException": RateLimited,
    "ModelNotReadyException": RateLimited,
    "ServiceQuotaExceededException": RateLimited,
    "InternalServerException": LynkrError,
    "ServiceUnavailableException": Overloaded,
}


def bedrock_error(code: str, message: str, status: int, model_id: str) -> LynkrError:
    """The client's error for Bedrock's ``code`` (HTTP ``status``) on ``model_id``."""
    code = code[:1].upper() + code[1:]
    text = f"bedrock ({model_id}) answered {code or status}: {message or '(no message)'}"
    if code == "ValidationException":
        if _TOO_LONG.search(message):
            return BadRequest(f"prompt is too long: {text}")
        return BadRequest(text)
    kind = _BY_CODE.get(code)
    if kind is not None:
        return kind(text)
    return from_upstream_status(status or 500, text)
