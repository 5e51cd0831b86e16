"""Long-term memory benchmarks: recall@5 and retrieval latency on a generated corpus, and the
surprise heuristic's precision and recall on labelled conversation turns (see README.md)."""
