"""AWS Bedrock settings under the original's names (``AWS_BEDROCK_*``).

Credentials: ``AWS_BEDROCK_API_KEY`` (a Bedrock API key, sent as ``Authorization: Bearer``; it is
what boto3 would read from ``AWS_BEARER_TOKEN_BEDROCK``), else the usual AWS chain (environment,
shared config and credentials files, SSO, instance roles). Nothing is required of Bedrock unless
it is the chosen provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs

from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.providers import ProviderSettings
    from lynkr.config.settings import Env

DEFAULT_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"
CLAUDE_APIS = ("invoke", "converse")


@attrs.frozen
class BedrockSettings:
    region: str = "us-east-1"
    model: str = DEFAULT_MODEL
    api_key: str | None = attrs.field(default=None, repr=False)
    endpoint_url: str | None = None  # None: boto3's regional endpoint
    read_timeout_s: float = 120.0
    max_concurrency: int = 8
    claude_api: str = "invoke"  # invoke | converse, for Claude model ids
    # explicit keys (from the environment or .env); None: boto3's own credential chain
    access_key_id: str | None = attrs.field(default=None, repr=False)
    secret_access_key: str | None = attrs.field(default=None, repr=False)
    session_token: str | None = attrs.field(default=None, repr=False)
    profile: str | None = None  # AWS_PROFILE

    @property
    def endpoint(self) -> str:
        return self.endpoint_url or f"https://bedrock-runtime.{self.region}.amazonaws.com"

    def as_provider(self) -> ProviderSettings:
        """The provider-neutral view the rest of the server reads (model, endpoint, ...)."""
        from lynkr.config.providers import ProviderSettings

        return ProviderSettings(name="bedrock", endpoint=self.endpoint, model=self.model,
                                api_key=self.api_key, read_timeout_s=self.read_timeout_s,
                                num_ctx=0)


def bedrock_settings(env: Env, *, required: bool) -> BedrockSettings:
    region = env.str("AWS_BEDROCK_REGION") or env.str("AWS_REGION") or \
        env.str("AWS_DEFAULT_REGION") or "us-east-1"
    if not all(part.isalnum() for part in region.split("-")):
        raise SettingsError(f"AWS_BEDROCK_REGION must be an AWS region like us-east-1, "
                            f"got {region!r}")
    model = env.str("AWS_BEDROCK_MODEL_ID", DEFAULT_MODEL) or DEFAULT_MODEL
    if any(c.isspace() for c in model):
        raise SettingsError(f"AWS_BEDROCK_MODEL_ID must be a model id, inference profile or "
                            f"ARN without spaces, got {model!r}")
    endpoint = env.str("AWS_BEDROCK_ENDPOINT")
    if endpoint is not None:
        endpoint = env.url("AWS_BEDROCK_ENDPOINT", endpoint)
        if not urlsplit(endpoint).netloc:
            raise SettingsError(f"AWS_BEDROCK_ENDPOINT names no host: {endpoint!r}")
    claude_api = env.choice("AWS_BEDROCK_CLAUDE_API", "invoke", CLAUDE_APIS)
    key_id, secret = env.str("AWS_ACCESS_KEY_ID"), env.str("AWS_SECRET_ACCESS_KEY")
    if required and bool(key_id) != bool(secret):
        missing = "AWS_SECRET_ACCESS_KEY" if key_id else "AWS_ACCESS_KEY_ID"
        raise SettingsError(f"{missing} is required with the other AWS access key variable "
                            f"when MODEL_PROVIDER=bedrock")
    return BedrockSettings(
        region=region,
        model=model,
        api_key=env.str("AWS_BEDROCK_API_KEY"),
        endpoint_url=endpoint,
        read_timeout_s=env.int("AWS_BEDROCK_TIMEOUT_MS", 120_000, minimum=1) / 1000,
        max_concurrency=env.int("AWS_BEDROCK_MAX_CONCURRENCY", 8, minimum=1),
        claude_api=claude_api,
        access_key_id=key_id,
        secret_access_key=secret,
        session_token=env.str("AWS_SESSION_TOKEN"),
        profile=env.str("AWS_PROFILE"),
    )
