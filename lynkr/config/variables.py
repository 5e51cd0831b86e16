"""Every environment variable Lynkr reads, and every variable of the original (Node.js) Lynkr with
what it does here: the source of the compatibility table in docs/configuration.md and of the
warnings ``lynkr start`` and ``lynkr check`` give about the environment.

``LYNKR`` is checked against the code by tests/unit/config/test_variables.py (a static scan of
``lynkr/`` plus the names read while loading the settings for every provider), so a variable
added to the code without a line here fails the suite; so does one missing from the docs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

Status = Literal["same", "differs", "unsupported"]


@attrs.frozen
class Original:
    name: str
    status: Status  # same: honoured as the original did; differs: honoured, see note
    note: str = ""  # differs: what differs; unsupported: what to use instead
    noted_when_set: bool = False  # differs: setting it does less than it did: say so


_POLICY = "no server-side agent loop or git tools: the client runs its tools and asks before " \
    "pushing (docs/tools.md)"
_WEB_ENDPOINT = "no default: web_search and web_fetch are offered only when it is set (the " \
    "original assumed a SearxNG at http://localhost:8888/search); see docs/tools.md"
_WEB_HOSTS = "limits web_fetch to these names (`*.example.com` for subdomains); unset, any " \
    "public host; loopback, private and metadata addresses are refused either way " \
    "(WEB_FETCH_ALLOWED_NETWORKS)"
_MEMORY = "the original's default; memories are per user and workspace (docs/memory.md)"

ORIGINAL: tuple[Original, ...] = (
    Original("PORT", "differs", "default 8081 (the original's table said 8080, its guides "
             "8081); set PORT=8080 to keep the old port"),
    Original("WORKSPACE_ROOT", "differs", "no default: the workspace tools (docs/tools.md) are "
             "offered only when it is set (the original used the current directory)"),
    Original("MODEL_PROVIDER", "differs", "unset: the first provider whose credentials are set "
             "(Databricks first, the original's default), else a local Ollama; start-up says "
             "which"),
    Original("MODEL_DEFAULT", "same"),
    Original("DATABRICKS_API_BASE", "same"),
    Original("DATABRICKS_API_KEY", "same"),
    Original("DATABRICKS_ENDPOINT_PATH", "same"),
    Original("AZURE_ANTHROPIC_ENDPOINT", "same"),
    Original("AZURE_ANTHROPIC_API_KEY", "same"),
    Original("AZURE_ANTHROPIC_VERSION", "same"),
    Original("AZURE_OPENAI_ENDPOINT", "same"),
    Original("AZURE_OPENAI_DEPLOYMENT", "same"),
    Original("OPENROUTER_API_KEY", "same"),
    Original("OPENROUTER_MODEL", "same"),
    Original("OPENROUTER_ENDPOINT", "same"),
    Original("OPENROUTER_MAX_TOOLS_FOR_ROUTING", "same"),
    Original("OPENROUTER_EMBEDDINGS_MODEL", "same"),
    Original("OPENAI_API_KEY", "same"),
    Original("OPENAI_MODEL", "same"),
    Original("OPENAI_ENDPOINT", "same"),
    Original("OPENAI_ORGANIZATION", "same"),
    Original("OLLAMA_ENDPOINT", "same"),
    Original("OLLAMA_MODEL", "same"),
    Original("OLLAMA_TIMEOUT_MS", "same"),
    Original("OLLAMA_MAX_TOOLS_FOR_ROUTING", "same"),
    Original("OLLAMA_EMBEDDINGS_MODEL", "same"),
    Original("OLLAMA_EMBEDDINGS_ENDPOINT", "same"),
    Original("LLAMACPP_ENDPOINT", "same"),
    Original("LLAMACPP_MODEL", "same"),
    Original("LLAMACPP_TIMEOUT_MS", "same"),
    Original("LLAMACPP_API_KEY", "same"),
    Original("LLAMACPP_EMBEDDINGS_ENDPOINT", "same"),
    Original("AWS_BEDROCK_API_KEY", "same"),
    Original("AWS_BEDROCK_REGION", "same"),
    Original("AWS_BEDROCK_MODEL_ID", "same"),
    Original("EMBEDDINGS_PROVIDER", "same"),
    Original("PREFER_OLLAMA", "same"),
    Original("FALLBACK_ENABLED", "same"),
    Original("FALLBACK_PROVIDER", "differs", "no default: without it nothing is tried after the "
             "routed provider fails (the original fell back to databricks)"),
    Original("PROMPT_CACHE_ENABLED", "same"),
    Original("PROMPT_CACHE_TTL_MS", "same"),
    Original("PROMPT_CACHE_MAX_ENTRIES", "same"),
    Original("TOOL_EXECUTION_MODE", "differs", "`server` (the default) offers only the tool "
             "boxes that are configured, never one the client has, and only to requests that "
             "carry tools; the client's tools always stay the client's (docs/tools.md)"),
    Original("POLICY_MAX_STEPS", "same"),
    Original("POLICY_GIT_ALLOW_PUSH", "same"),
    Original("POLICY_GIT_REQUIRE_TESTS", "differs", "without POLICY_GIT_TEST_COMMAND, a commit "
             "needs a passing workspace_test_run on the same files (the original let it "
             "through)"),
    Original("POLICY_GIT_TEST_COMMAND", "same"),
    Original("WEB_SEARCH_ENDPOINT", "differs", _WEB_ENDPOINT),
    Original("WEB_SEARCH_ALLOWED_HOSTS", "differs", _WEB_HOSTS),
    Original("MCP_SERVER_MANIFEST", "differs", "also reads Claude Code's `.mcp.json` "
             "(`mcpServers`) format (docs/mcp.md)"),
    Original("MCP_MANIFEST_DIRS", "differs", "a file may be named too (a `.mcp.json`); `,` `;` "
             "and `:` all separate entries"),
    Original("MCP_SANDBOX_ENABLED", "differs", "`true` without MCP_SANDBOX_IMAGE runs stdio "
             "servers in bubblewrap (the original then ran them unisolated); unset, as the "
             "original: a container only when MCP_SANDBOX_IMAGE is set"),
    Original("MCP_SANDBOX_IMAGE", "same"),
    Original("WORKSPACE_TEST_COMMAND", "differs", "unset: detected from the project's files "
             "(npm test, go test ./..., cargo test, pytest, rspec)"),
    Original("WORKSPACE_TEST_TIMEOUT_MS", "same"),
    Original("WORKSPACE_TEST_COVERAGE_FILES", "same"),
    Original("API_RETRY_MAX_RETRIES", "same"),
    Original("API_RETRY_INITIAL_DELAY", "same"),
    Original("API_RETRY_MAX_DELAY", "same"),
    Original("CIRCUIT_BREAKER_FAILURE_THRESHOLD", "same"),
    Original("CIRCUIT_BREAKER_SUCCESS_THRESHOLD", "same"),
    Original("CIRCUIT_BREAKER_TIMEOUT", "same"),
    Original("LOAD_SHEDDING_MEMORY_THRESHOLD", "differs", "the process's resident memory over "
             "the container's limit (cgroup), else the machine's RAM"),
    Original("LOAD_SHEDDING_HEAP_THRESHOLD", "unsupported", "Python has no separate heap limit: "
             "LOAD_SHEDDING_MEMORY_THRESHOLD covers the process's memory"),
    Original("LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD", "same"),
    Original("GRACEFUL_SHUTDOWN_TIMEOUT", "same"),
    Original("METRICS_ENABLED", "same"),
    Original("HEALTH_CHECK_ENABLED", "same"),
    Original("REQUEST_LOGGING_ENABLED", "unsupported", "LOG_LEVEL=warning leaves out the "
             "per-request log lines"),
    Original("MEMORY_ENABLED", "differs", _MEMORY + "; the memory_inject and memory_extract "
             "stages of the pipeline"),
    Original("MEMORY_RETRIEVAL_LIMIT", "differs", _MEMORY + "; also within "
             "MEMORY_MAX_INJECT_TOKENS"),
    Original("MEMORY_SURPRISE_THRESHOLD", "same"),
    Original("MEMORY_MAX_AGE_DAYS", "differs", "unused this long (the original never pruned)"),
    Original("MEMORY_MAX_COUNT", "differs", "per user (the original never pruned)"),
    Original("SESSION_DB_PATH", "differs", "the SQLite file of stored Responses conversations "
             "(LYNKR_DB_PATH wins); there is no separate session store", noted_when_set=True),
)

# Lynkr's own variables (the original's honoured ones included), checked against the code.
LYNKR: frozenset[str] = frozenset({
    "ANTHROPIC_UPSTREAM_API_KEY", "ANTHROPIC_UPSTREAM_BETAS", "ANTHROPIC_UPSTREAM_ENDPOINT",
    "ANTHROPIC_UPSTREAM_MODEL", "ANTHROPIC_UPSTREAM_TIMEOUT_MS",
    "API_RETRY_INITIAL_DELAY", "API_RETRY_MAX_DELAY", "API_RETRY_MAX_RETRIES",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_BEDROCK_API_KEY", "AWS_BEDROCK_CLAUDE_API",
    "AWS_BEDROCK_ENDPOINT", "AWS_BEDROCK_MAX_CONCURRENCY", "AWS_BEDROCK_MODEL_ID",
    "AWS_BEDROCK_REGION", "AWS_BEDROCK_TIMEOUT_MS",
    "AZURE_ANTHROPIC_API_KEY", "AZURE_ANTHROPIC_BETAS", "AZURE_ANTHROPIC_ENDPOINT",
    "AZURE_ANTHROPIC_MODEL", "AZURE_ANTHROPIC_TIMEOUT_MS", "AZURE_ANTHROPIC_VERSION",
    "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_ECHO_REASONING", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_TIMEOUT_MS",
    "CIRCUIT_BREAKER_FAILURE_THRESHOLD", "CIRCUIT_BREAKER_SUCCESS_THRESHOLD",
    "CIRCUIT_BREAKER_TIMEOUT",
    "DATABRICKS_API_BASE", "DATABRICKS_API_KEY", "DATABRICKS_ECHO_REASONING",
    "DATABRICKS_ENDPOINT_PATH", "DATABRICKS_MODEL", "DATABRICKS_TIMEOUT_MS",
    "EMBEDDINGS_PROVIDER", "FALLBACK_ENABLED", "FALLBACK_PROVIDER", "GRACEFUL_SHUTDOWN_TIMEOUT",
    "LLAMACPP_API_KEY", "LLAMACPP_EMBEDDINGS_ENDPOINT", "LLAMACPP_ENDPOINT", "LLAMACPP_MODEL",
    "LLAMACPP_THINKING", "LLAMACPP_TIMEOUT_MS", "LLAMACPP_ECHO_REASONING", "LLAMACPP_SLOTS",
    "LMSTUDIO_API_KEY", "LMSTUDIO_ENDPOINT", "LMSTUDIO_MODEL", "LMSTUDIO_THINKING",
    "LMSTUDIO_TIMEOUT_MS", "LMSTUDIO_ECHO_REASONING",
    "LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD", "LOAD_SHEDDING_MEMORY_THRESHOLD",
    "LOCAL_EMBEDDINGS_BATCH_SIZE", "LOCAL_EMBEDDINGS_DEVICE", "LOCAL_EMBEDDINGS_MODEL",
    "LOG_LEVEL", "LYNKR_DB_PATH", "LYNKR_ENV_FILE", "LYNKR_HOST", "LYNKR_PIPELINE",
    "LYNKR_PIPELINE_WATCH", "LYNKR_PIPELINE_WATCH_INTERVAL_MS",
    "LYNKR_PRICES", "LYNKR_WORKERS", "LYNKR_RECORD_DIR", "MAX_REQUEST_BODY_BYTES",
    "LYNKR_AUTH", "LYNKR_KEYS_DB_PATH", "LYNKR_SESSION_BUDGET_TOKENS",
    "LYNKR_SESSION_BUDGET_USD", "LYNKR_SESSION_BUDGET_WINDOW",
    "REDIS_URL", "LYNKR_REDIS_TIMEOUT_MS", "LYNKR_REDIS_PREFIX", "PROMETHEUS_MULTIPROC_DIR",
    "MEMORY_DB_PATH", "MEMORY_DEFAULT_USER", "MEMORY_EMBEDDINGS", "MEMORY_ENABLED",
    "MEMORY_IMPORTANCE_HALF_LIFE_DAYS", "MEMORY_MAX_AGE_DAYS", "MEMORY_MAX_COUNT",
    "MEMORY_MAX_INJECT_TOKENS", "MEMORY_MODEL_EXTRACTION", "MEMORY_RETRIEVAL_LIMIT",
    "MEMORY_SURPRISE_THRESHOLD",
    "MODEL_DEFAULT", "MODEL_PROVIDER", "METRICS_ENABLED", "HEALTH_CHECK_ENABLED",
    "OLLAMA_API_KEY", "OLLAMA_EMBEDDINGS_ENDPOINT", "OLLAMA_EMBEDDINGS_MODEL",
    "OLLAMA_ENDPOINT", "OLLAMA_MAX_TOOLS_FOR_ROUTING", "OLLAMA_MODEL", "OLLAMA_NUM_CTX",
    "OLLAMA_THINK", "OLLAMA_TIMEOUT_MS", "OLLAMA_ECHO_REASONING",
    "OPENAI_API_KEY", "OPENAI_EMBEDDINGS_MODEL", "OPENAI_ENDPOINT", "OPENAI_MODEL",
    "OPENAI_ORGANIZATION", "OPENAI_TIMEOUT_MS", "OPENAI_ECHO_REASONING",
    "OPENAI_PROMPT_CACHE_KEY",
    "OPENROUTER_API_KEY", "OPENROUTER_EMBEDDINGS_MODEL", "OPENROUTER_ENDPOINT",
    "OPENROUTER_MAX_TOOLS_FOR_ROUTING", "OPENROUTER_MODEL", "OPENROUTER_TIMEOUT_MS",
    "OPENROUTER_ECHO_REASONING",
    "PORT", "PREFER_OLLAMA", "PROMPT_CACHE_ENABLED", "PROMPT_CACHE_MAX_ENTRIES",
    "PROMPT_CACHE_TTL_MS", "RESPONSES_RETENTION_MS", "SESSION_DB_PATH",
    "SHUTDOWN_DRAIN_DELAY_MS", "SMART_TOOL_SELECTION_TOKEN_BUDGET", "TOOL_TRUNCATION_ENABLED",
    "TOOL_EXECUTION_MODE", "POLICY_MAX_STEPS", "TOOL_TIMEOUT_MS", "TOOL_RESULT_MAX_CHARS",
    "UPSTREAM_CONNECT_TIMEOUT_MS", "UPSTREAM_KEEPALIVE_MS", "UPSTREAM_MAX_CONNECTIONS",
    "HEALTH_DEEP_MIN_INTERVAL_MS", "MAX_JSON_DEPTH", "REQUEST_BODY_TIMEOUT_MS",
    "RESPONSES_MAX_BYTES", "RESPONSES_MAX_BYTES_PER_CALLER", "UPSTREAM_ANSWER_MS_PER_TOKEN",
    "UPSTREAM_ANSWER_TIMEOUT_MS", "UPSTREAM_ERROR_BODY_BYTES", "UPSTREAM_MAX_ANSWER_BYTES",
    "UPSTREAM_MAX_LINE_BYTES", "UPSTREAM_POOL_TIMEOUT_MS", "UPSTREAM_TRANSPORT",
    "WORKSPACE_ROOT", "WORKSPACE_DB_PATH", "WORKSPACE_TEST_COMMAND", "WORKSPACE_TEST_TIMEOUT_MS",
    "WORKSPACE_TEST_COVERAGE_FILES", "POLICY_GIT_ALLOW_PUSH", "POLICY_GIT_REQUIRE_TESTS",
    "POLICY_GIT_TEST_COMMAND",
    "WEB_FETCH_ALLOWED_NETWORKS", "WEB_FETCH_BODY_PREVIEW_MAX", "WEB_FETCH_MAX_BYTES",
    "WEB_FETCH_MAX_REDIRECTS", "WEB_SEARCH_ALLOWED_HOSTS", "WEB_SEARCH_ENDPOINT",
    "WEB_SEARCH_TIMEOUT_MS",
    # MCP servers (lynkr/config/mcp.py, docs/mcp.md)
    "MCP_SERVER_MANIFEST", "MCP_MANIFEST_DIRS", "MCP_SANDBOX_ENABLED", "MCP_SANDBOX_IMAGE",
    "MCP_SANDBOX_RUNTIME", "MCP_SANDBOX_ALLOW_NETWORKING", "MCP_SANDBOX_MOUNT_WORKSPACE",
    "MCP_SANDBOX_WORKSPACE_WRITABLE", "MCP_SANDBOX_PASSTHROUGH_ENV", "MCP_SANDBOX_EXTRA_MOUNTS",
    "MCP_CALL_TIMEOUT_MS", "MCP_START_TIMEOUT_MS", "MCP_RESTART_MAX_DELAY_MS",
    "MCP_PING_INTERVAL_MS", "MCP_MAX_OUTPUT_CHARS",
})

# variables of the clients and of Ollama itself, often set in the same shell: never "misspelt"
OTHER_PROGRAMS = frozenset({
    "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL", "ANTHROPIC_LOG", "OPENAI_BASE_URL", "OPENAI_API_BASE",
    "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OLLAMA_HOST", "OLLAMA_MODELS", "OLLAMA_KEEP_ALIVE",
    "OLLAMA_NUM_PARALLEL", "OLLAMA_MAX_LOADED_MODELS", "OLLAMA_MAX_QUEUE", "OLLAMA_ORIGINS",
    "OLLAMA_DEBUG", "OLLAMA_FLASH_ATTENTION", "OLLAMA_CONTEXT_LENGTH", "OLLAMA_KV_CACHE_TYPE",
    "OLLAMA_LOAD_TIMEOUT", "OLLAMA_NOPRUNE", "OLLAMA_GPU_OVERHEAD", "OLLAMA_LLM_LIBRARY",
})
_BY_NAME = {o.name: o for o in ORIGINAL}
# a set variable is looked at only when it starts like one of ours (PATH or HOME never are)
_FAMILIES = frozenset(name.split("_", 1)[0] + "_" for name in LYNKR | _BY_NAME.keys()
                      if "_" in name) - {"AWS_"}


def environment_warnings(environ: Mapping[str, str]) -> list[str]:
    """One line for each set variable of the original that does nothing here (or less than it
    did), and for each name that looks like a misspelling of a known one."""
    known = LYNKR | _BY_NAME.keys()
    lines = []
    environ = {k: v for k, v in environ.items() if k not in OTHER_PROGRAMS}
    for name in sorted(environ):
        original = _BY_NAME.get(name)
        if original is not None and original.status == "unsupported":
            lines.append(f"{name} is not supported and has no effect: {original.note}")
        elif original is not None and original.noted_when_set:
            lines.append(f"{name} differs from the original Lynkr: {original.note}")
        elif name not in known and name.startswith(tuple(_FAMILIES)):
            guess = suggestion(name, known)
            if guess:
                lines.append(f"{name} is not a Lynkr variable; did you mean {guess}?")
    return lines


def suggestion(name: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    return close[0] if close else None
