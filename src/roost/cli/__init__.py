"""The ``roost`` command line (Typer)."""
