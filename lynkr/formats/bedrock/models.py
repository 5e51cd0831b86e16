"""What Bedrock model ids can do, by prefix, and how their stop reasons read in Anthropic terms.

Model ids come plain (``anthropic.claude-…``), as cross-region inference profiles
(``us.anthropic.claude-…``, ``global.…``) or as ARNs ending in either; ``vendor_id`` strips the
geography and ARN so one table serves all three.
"""

from __future__ import annotations

_GEOS = ("us.", "eu.", "apac.", "ap.", "us-gov.", "global.", "jp.", "au.", "ca.")

# Converse tool use, per the Bedrock "supported models and model features" table. Ids not
# listed (Titan text, Llama 2/3.0, Mistral 7B/Mixtral, AI21 Jurassic, Cohere Command light...)
# get no tools: sending them is a ValidationException.
TOOL_PREFIXES = (
    "anthropic.claude-3", "anthropic.claude-opus", "anthropic.claude-sonnet",
    "anthropic.claude-haiku", "anthropic.claude-4",
    "amazon.nova", "meta.llama3-1", "meta.llama3-2-11b", "meta.llama3-2-90b", "meta.llama3-3",
    "meta.llama4", "mistral.mistral-large", "mistral.mistral-small", "mistral.pixtral",
    "mistral.devstral", "mistral.magistral", "cohere.command-r", "ai21.jamba",
    "writer.palmyra", "deepseek.", "openai.gpt-oss", "qwen.", "moonshot", "minimax.",
    "google.gemma", "zai.",
)

STOP_REASONS = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "guardrail_intervened": "refusal",
    "content_filtered": "refusal",
    "model_context_window_exceeded": "model_context_window_exceeded",
    "malformed_model_output": "end_turn",
    "malformed_tool_use": "end_turn",
}


def vendor_id(model_id: str) -> str:
    """``arn:…/us.anthropic.claude-x`` → ``anthropic.claude-x``."""
    tail = model_id.rsplit("/", 1)[-1].lower()
    for geo in _GEOS:
        if tail.startswith(geo):
            return tail[len(geo):]
    return tail


def is_claude(model_id: str) -> bool:
    return vendor_id(model_id).startswith("anthropic.claude")


def supports_tools(model_id: str) -> bool:
    vid = vendor_id(model_id)
    # an ARN of an application profile or a custom model says nothing: trust the user
    return vid.startswith(TOOL_PREFIXES) or "." not in vid


def stop_reason(reason: str | None) -> str:
    return STOP_REASONS.get(reason or "end_turn", "end_turn")
