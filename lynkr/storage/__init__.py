"""SQLite state through apsw: one file under data/, WAL mode, writes off the event loop."""
