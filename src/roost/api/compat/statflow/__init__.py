"""StatFlow-compatible stats API (API.md §3)."""
