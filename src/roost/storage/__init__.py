"""Storage: the only layer that writes SQL. SQLite (embedded default) or PostgreSQL."""
