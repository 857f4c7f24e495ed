"""Roost: one self-hosted server for process monitoring, stats, LLM traces and workflows."""

__version__ = "0.1.0"
