"""Azure OpenAI's checks on a chat request: the deployment path with a dated ``api-version``
(or the v1 path without one and the deployment as ``model``) and the ``api-key`` header;
errors in Azure's OpenAI-style shape. Its streams open with a ``choices: []`` chunk carrying
``prompt_filter_results``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson

PROMPT_FILTER_CHUNK = b"data: " + orjson.dumps({
    "choices": [], "created": 0, "id": "", "model": "", "object": "",
    "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
        "hate": {"filtered": False, "severity": "safe"}}}]}) + b"\n\n"


def azure_error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message}}


class AzureOpenAIGuard:
    def __init__(self, key: str, deployment: str, version: str = "2024-10-21") -> None:
        self.key, self.deployment, self.version = key, deployment, version

    def __call__(self, path: str, query: str, headers: dict[str, str], body: dict[str, Any]
                 ) -> tuple[int, dict[str, Any]] | None:
        if headers.get("api-key") != self.key or "authorization" in headers:
            return azure_error(401, "401", "Access denied due to invalid subscription key or "
                                           "wrong API endpoint.")
        params = parse_qs(query)
        if path == "/openai/v1/chat/completions":
            if "api-version" in params:
                return azure_error(400, "BadRequest", "api-version is not allowed on /v1")
            if body.get("model") != self.deployment:
                return azure_error(404, "DeploymentNotFound",
                                   f"The API deployment for this resource does not exist "
                                   f"({body.get('model')}).")
            return None
        if path != f"/openai/deployments/{self.deployment}/chat/completions":
            return azure_error(404, "DeploymentNotFound", f"Resource not found: {path}")
        if params.get("api-version") != [self.version]:
            return azure_error(404, "404", "Resource not found (missing or unknown "
                                           "api-version)")
        return None
