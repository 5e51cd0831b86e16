"""Wire dialects, sans-I/O: one module per dialect, pure converters and incremental parsers."""
