"""Lynkr: a self-hosted proxy that lets Claude Code, Cursor and OpenAI SDKs use any LLM provider."""

__version__ = "0.1.0"
__all__ = ["__version__"]
