"""``lynkr bench``: effective cost of pipelines on recorded sessions, and session recording."""
