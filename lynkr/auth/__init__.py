"""Inbound API keys: who may use the proxy, under which name and limits."""
