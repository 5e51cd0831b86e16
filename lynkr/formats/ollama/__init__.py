"""The Ollama native dialect: ``POST /api/chat`` with NDJSON streaming."""
