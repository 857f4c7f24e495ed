"""HawkFlow.ai's ingest API: timed runs, metrics and exceptions (API.md §1)."""
