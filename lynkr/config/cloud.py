"""Settings of the hosted providers: Anthropic, Azure Anthropic, Azure OpenAI, Databricks.

Each reads the original's variable names; every missing or malformed value is one line naming
its variable. A provider that is not the chosen one is still read (so ``lynkr check`` can show
it) but nothing is required of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.providers import ProviderSettings
    from lynkr.config.settings import Env

ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"
ANTHROPIC_VERSION = "2023-06-01"
AZURE_OPENAI_VERSION = "2024-10-21"
DATABRICKS_PATH = "/serving-endpoints/databricks-claude-sonnet-4-5/invocations"


def _make(**fields: object) -> ProviderSettings:
    from lynkr.config.providers import ProviderSettings

    return ProviderSettings(**fields)  # type: ignore[arg-type]


def _betas(env: Env, name: str) -> tuple[str, ...] | None:
    raw = env.str(name)
    if raw is None:
        return None  # the backend's capability table decides
    return tuple(b.strip() for b in raw.split(",") if b.strip())


def _timeout(env: Env, name: str) -> float:
    return env.int(name, 120_000, minimum=1) / 1000


def echo_flag(env: Env, name: str, default: bool | None) -> bool | None:
    raw = (env.str(name) or "").lower()
    if not raw:
        return default
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError(f"{name} must be true or false, got {raw!r}")
    return raw in ("true", "1", "yes")


def anthropic(env: Env, *, required: bool) -> ProviderSettings:
    key = env.str("ANTHROPIC_UPSTREAM_API_KEY")
    if required and not key:
        raise SettingsError("ANTHROPIC_UPSTREAM_API_KEY is required when "
                            "MODEL_PROVIDER=anthropic (the client's key is never forwarded)")
    endpoint = env.url("ANTHROPIC_UPSTREAM_ENDPOINT", ANTHROPIC_URL)
    if not endpoint.endswith("/v1/messages"):
        endpoint = endpoint.removesuffix("/v1") + "/v1/messages"
    return _make(name="anthropic", endpoint=endpoint,
                 model=env.str("ANTHROPIC_UPSTREAM_MODEL", "") or "", api_key=key,
                 read_timeout_s=_timeout(env, "ANTHROPIC_UPSTREAM_TIMEOUT_MS"),
                 num_ctx=0, api_version=ANTHROPIC_VERSION,
                 betas=_betas(env, "ANTHROPIC_UPSTREAM_BETAS"))


def azure_anthropic(env: Env, *, required: bool) -> ProviderSettings:
    raw = env.str("AZURE_ANTHROPIC_ENDPOINT")
    key = env.str("AZURE_ANTHROPIC_API_KEY")
    if required and not raw:
        raise SettingsError("AZURE_ANTHROPIC_ENDPOINT is required when "
                            "MODEL_PROVIDER=azure-anthropic (https://<resource>.services.ai."
                            "azure.com/anthropic/v1/messages)")
    if required and not key:
        raise SettingsError("AZURE_ANTHROPIC_API_KEY is required when "
                            "MODEL_PROVIDER=azure-anthropic")
    endpoint = ""
    if raw:
        endpoint = env.url("AZURE_ANTHROPIC_ENDPOINT", raw)
        if endpoint.endswith("/anthropic") or endpoint.endswith("/anthropic/v1"):
            endpoint = endpoint.removesuffix("/v1") + "/v1/messages"
        if not endpoint.endswith("/v1/messages"):
            raise SettingsError(f"AZURE_ANTHROPIC_ENDPOINT must end in /anthropic/v1/messages, "
                                f"got {endpoint!r}")
    return _make(name="azure-anthropic", endpoint=endpoint,
                 model=env.str("AZURE_ANTHROPIC_MODEL", "") or "", api_key=key,
                 read_timeout_s=_timeout(env, "AZURE_ANTHROPIC_TIMEOUT_MS"), num_ctx=0,
                 api_version=env.str("AZURE_ANTHROPIC_VERSION", ANTHROPIC_VERSION),
                 betas=_betas(env, "AZURE_ANTHROPIC_BETAS"))


def azure_openai(env: Env, *, required: bool) -> ProviderSettings:
    raw = env.str("AZURE_OPENAI_ENDPOINT")
    key = env.str("AZURE_OPENAI_API_KEY")
    deployment = env.str("AZURE_OPENAI_DEPLOYMENT")
    version = env.str("AZURE_OPENAI_API_VERSION", AZURE_OPENAI_VERSION) or AZURE_OPENAI_VERSION
    if required and not raw:
        raise SettingsError("AZURE_OPENAI_ENDPOINT is required when MODEL_PROVIDER=azure-openai "
                            "(https://<resource>.openai.azure.com)")
    if required and not key:
        raise SettingsError("AZURE_OPENAI_API_KEY is required when MODEL_PROVIDER=azure-openai")
    endpoint, model = "", deployment or ""
    if raw:
        endpoint, model = azure_chat_url(env.url("AZURE_OPENAI_ENDPOINT", raw), deployment,
                                         version, required)
    return _make(name="azure-openai", endpoint=endpoint, model=model, api_key=key,
                 read_timeout_s=_timeout(env, "AZURE_OPENAI_TIMEOUT_MS"), num_ctx=0,
                 api_version=version,
                 echo_reasoning=echo_flag(env, "AZURE_OPENAI_ECHO_REASONING", False),
                 thinking_control="reasoning_effort")


def azure_chat_url(endpoint: str, deployment: str | None, version: str, required: bool = True
                   ) -> tuple[str, str]:
    """(chat URL, model) from a resource URL + deployment, a full deployment URL or a v1 URL."""
    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/")
    query = parse_qs(parts.query)

    def build(new_path: str, params: dict[str, str]) -> str:
        return urlunsplit((parts.scheme, parts.netloc, new_path, urlencode(params), ""))

    if "/openai/v1" in path:
        base = path[: path.index("/openai/v1") + len("/openai/v1")]
        if required and not deployment:
            raise SettingsError("AZURE_OPENAI_DEPLOYMENT is required with a v1 "
                                "AZURE_OPENAI_ENDPOINT (…/openai/v1): it is the model name")
        return build(base + "/chat/completions", {}), deployment or ""
    if "/openai/deployments/" in path:
        name = path.split("/openai/deployments/", 1)[1].split("/", 1)[0]
        base = path[: path.index("/openai/deployments/")]
        if not name:
            raise SettingsError(f"AZURE_OPENAI_ENDPOINT names no deployment: {endpoint!r}")
        given = query.get("api-version", [version])[0]
        url = build(f"{base}/openai/deployments/{name}/chat/completions", {"api-version": given})
        return url, deployment or name
    if path not in ("", "/openai"):
        raise SettingsError(
            "AZURE_OPENAI_ENDPOINT must be a resource URL (https://<resource>.openai.azure.com), "
            f"a deployment URL (…/openai/deployments/<name>/chat/completions) or a v1 URL "
            f"(…/openai/v1), got {endpoint!r}")
    if not deployment:
        if required:
            raise SettingsError("AZURE_OPENAI_DEPLOYMENT is required when AZURE_OPENAI_ENDPOINT "
                                f"is a resource URL ({endpoint})")
        return "", ""
    url = build(f"/openai/deployments/{deployment}/chat/completions", {"api-version": version})
    return url, deployment


def databricks(env: Env, *, required: bool) -> ProviderSettings:
    base = env.str("DATABRICKS_API_BASE")
    key = env.str("DATABRICKS_API_KEY")
    if required and not base:
        raise SettingsError("DATABRICKS_API_BASE is required when MODEL_PROVIDER=databricks "
                            "(https://<workspace>.cloud.databricks.com)")
    if required and not key:
        raise SettingsError("DATABRICKS_API_KEY is required when MODEL_PROVIDER=databricks")
    path = env.str("DATABRICKS_ENDPOINT_PATH", DATABRICKS_PATH) or DATABRICKS_PATH
    if not path.startswith("/"):
        raise SettingsError(f"DATABRICKS_ENDPOINT_PATH must start with /, got {path!r}")
    endpoint = env.url("DATABRICKS_API_BASE", base).removesuffix("/") + path if base else ""
    parts = path.strip("/").split("/")
    name = parts[1] if len(parts) > 2 and parts[0] == "serving-endpoints" else path
    if path.endswith("/v1/messages"):  # the Anthropic Messages route: model = endpoint name
        name = "databricks-claude-sonnet-4-5"
    return _make(name="databricks", endpoint=endpoint,
                 model=env.str("DATABRICKS_MODEL", name) or name, api_key=key,
                 read_timeout_s=_timeout(env, "DATABRICKS_TIMEOUT_MS"), num_ctx=0,
                 echo_reasoning=echo_flag(env, "DATABRICKS_ECHO_REASONING", False),
                 thinking_control="reasoning_effort" if "gpt-oss" in path
                 else "databricks" if "claude" in path else "")


BUILDERS = {
    "anthropic": anthropic,
    "azure-anthropic": azure_anthropic,
    "azure-openai": azure_openai,
    "databricks": databricks,
}
