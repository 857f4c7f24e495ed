"""Roost's own API under ``/api/v1``: one module per kind of record, one router each."""
