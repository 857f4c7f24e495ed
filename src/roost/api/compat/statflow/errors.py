"""StatFlow's error body is Roost's own: ``{"error": "<field>: <reason>", "field": "<field>"}``."""

from __future__ import annotations

from roost.api.errors import (
    RETRY_AFTER_SECONDS,
    ErrorParts,
    RoostRoute,
    error,
    from_exception,
    lean_from_exception,
    parts,
    parts_for,
)

__all__ = [
    "RETRY_AFTER_SECONDS",
    "ErrorParts",
    "RoostRoute",
    "error",
    "from_exception",
    "lean_from_exception",
    "parts",
    "parts_for",
]
