"""What Lynkr knows of each vendor, in one declarative table.

A new vendor of a known wire family is one entry here (plus its settings builder): its family,
how it authenticates, whether it runs on the user's machine, the context window of a model
the window table does not know, how ``lynkr check`` probes it, the ``anthropic-beta`` values it
accepts and any fixed headers. Code branches on these facts, never on a vendor's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from lynkr.ports import Family

Auth = Literal["bearer", "x-api-key", "api-key", "aws"]
# how ``lynkr check`` finds a cheap GET: the chat path swapped for the models list, Ollama's
# tags, Databricks' serving-endpoint state, Azure OpenAI's models, or any answer (Bedrock)
Probe = Literal["models", "ollama_tags", "databricks_endpoint", "azure_models", "reachable"]


@attrs.frozen
class Vendor:
    family: Family
    auth: Auth
    local: bool = False
    context_window: int = 128_000  # for a model the window table does not know
    probe: Probe = "models"
    # anthropic-beta values the backend accepts; None: all (the real API)
    betas: frozenset[str] | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)  # fixed extra headers
    # OpenAI-dialect reasoning models take developer messages and max_completion_tokens
    reasoning_models: tuple[str, ...] = ()
    # whether its model list names the configured model (Azure names deployments instead)
    lists_models: bool = True
    # OpenAI dialect: the body names the model and asks for usage in the stream (a Databricks
    # serving endpoint is the model, and refuses both)
    names_model: bool = True
    # how to ask for reasoning when the user sets nothing ("": not at all); local servers let
    # the user choose with a variable (OLLAMA_THINK, LLAMACPP_THINKING, LMSTUDIO_THINKING)
    thinking_control: str = ""
    # its model list (GET …/models) gives each model's output limit, learned at start-up
    publishes_output_limits: bool = False


AZURE_BETAS = frozenset((
    "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
    "fine-grained-tool-streaming-2025-05-14", "token-efficient-tools-2025-02-19",
    "context-1m-2025-08-07", "effort-2025-11-24", "structured-outputs-2025-11-13",
    "advanced-tool-use-2025-11-20", "output-128k-2025-02-19", "files-api-2025-04-14",
    "prompt-caching-2024-07-31", "mcp-client-2025-11-20", "code-execution-2025-08-25"))
DATABRICKS_BETAS = frozenset(("interleaved-thinking-2025-05-14", "context-1m-2025-08-07",
                              "fine-grained-tool-streaming-2025-05-14"))
OPENAI_REASONING = ("o1", "o3", "o4", "gpt-5")

VENDORS: dict[str, Vendor] = {
    "ollama": Vendor("ollama", "bearer", local=True, context_window=32_768,
                     probe="ollama_tags"),
    "llamacpp": Vendor("openai", "bearer", local=True, context_window=32_768),
    "lmstudio": Vendor("openai", "bearer", local=True, context_window=32_768),
    "openai": Vendor("openai", "bearer", reasoning_models=OPENAI_REASONING,
                     thinking_control="reasoning_effort"),
    "openrouter": Vendor("openai", "bearer", headers={"http-referer": "https://github.com/lynkr",
                                                      "x-title": "Lynkr"},
                         thinking_control="openrouter", publishes_output_limits=True),
    "azure-openai": Vendor("openai", "api-key", probe="azure_models",
                           reasoning_models=OPENAI_REASONING, lists_models=False,
                           thinking_control="reasoning_effort"),
    "anthropic": Vendor("anthropic", "x-api-key", context_window=200_000),
    "azure-anthropic": Vendor("anthropic", "x-api-key", context_window=200_000,
                              betas=AZURE_BETAS),
    # Claude endpoints speak Anthropic's dialect (see ``family_of``), others OpenAI's
    "databricks": Vendor("openai", "bearer", probe="databricks_endpoint",
                         betas=DATABRICKS_BETAS, names_model=False),
    "bedrock": Vendor("bedrock", "aws", context_window=200_000, probe="reachable"),
}


def vendor(name: str) -> Vendor:
    return VENDORS[name]


def family_of(name: str, endpoint: str) -> Family:
    """The wire family a provider speaks at ``endpoint`` (an Anthropic Messages path is
    Anthropic's dialect whatever the vendor)."""
    if endpoint.endswith("/v1/messages"):
        return "anthropic"
    return VENDORS[name].family
