"""The OpenAI Chat Completions dialect (upstream side here; client side in the next issue)."""
