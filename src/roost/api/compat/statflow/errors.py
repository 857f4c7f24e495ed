"""StatFlow's error body: ``{"error": "<field>: <reason>", "field": "<field>"}``."""

from __future__ import annotations

from typing import Any

from roost.api.deps import BodyTooLarge
from roost.api.responses import JSON
from roost.domain.errors import Forbidden, InvalidInput, NotFound, RoostError, Unauthorized
from roost.storage.writer import QueueFull, WriterStopped

RETRY_AFTER_SECONDS = "1"


def error(status: int, message: str, *, field: str | None = None) -> JSON:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return JSON(body, status_code=status, headers=headers)


def from_exception(exc: Exception) -> JSON | None:
    """The response for an expected failure, or None when the exception is a real fault."""
    if isinstance(exc, InvalidInput):
        return error(422, str(exc), field=exc.field)
    if isinstance(exc, Unauthorized):
        return error(401, str(exc))
    if isinstance(exc, Forbidden):
        return error(403, str(exc))
    if isinstance(exc, NotFound):
        return error(404, str(exc))
    if isinstance(exc, BodyTooLarge):
        return error(413, "request body too large")
    if isinstance(exc, QueueFull | WriterStopped):
        return error(503, "the server is busy; retry shortly")
    if isinstance(exc, RoostError):
        return error(422, str(exc))
    return None
