"""Token savings of the named pipelines on recorded Claude Code sessions (benchmarks/README.md)."""
