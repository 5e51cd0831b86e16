"""Per-key limits on what a client may spend: rate limits (and, later, budgets)."""
