"""The SQLite backend (the default): one file, WAL, one writer with group commit."""
