"""HoneyHive-compatible sessions and events API (API.md §5)."""
