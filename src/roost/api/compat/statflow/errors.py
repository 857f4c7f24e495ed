"""StatFlow's error body: ``{"error": "<field>: <reason>", "field": "<field>"}``."""

from __future__ import annotations

from typing import Any

from roost.api.lean import BodyTooLarge, LeanResponse
from roost.api.responses import JSON
from roost.domain.errors import Forbidden, InvalidInput, NotFound, RoostError, Unauthorized
from roost.storage.writer import QueueFull, WriterStopped

RETRY_AFTER_SECONDS = "1"

ErrorParts = tuple[int, dict[str, Any], dict[str, str] | None]


def parts(status: int, message: str, *, field: str | None = None) -> ErrorParts:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    headers = None
    if status == 503:
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
    elif status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return status, body, headers


def error(status: int, message: str, *, field: str | None = None) -> JSON:
    status, body, headers = parts(status, message, field=field)
    return JSON(body, status_code=status, headers=headers)


def parts_for(exc: Exception) -> ErrorParts | None:
    """Status, body and headers for an expected failure; None when it is a real fault."""
    if isinstance(exc, InvalidInput):
        return parts(422, str(exc), field=exc.field)
    if isinstance(exc, Unauthorized):
        return parts(401, str(exc))
    if isinstance(exc, Forbidden):
        return parts(403, str(exc))
    if isinstance(exc, NotFound):
        return parts(404, str(exc))
    if isinstance(exc, BodyTooLarge):
        return parts(413, "request body too large")
    if isinstance(exc, QueueFull | WriterStopped):
        return parts(503, "the server is busy; retry shortly")
    if isinstance(exc, RoostError):
        return parts(422, str(exc))
    return None


def from_exception(exc: Exception) -> JSON | None:
    found = parts_for(exc)
    return None if found is None else JSON(found[1], status_code=found[0], headers=found[2])


def lean_from_exception(exc: Exception) -> LeanResponse | None:
    found = parts_for(exc)
    return None if found is None else LeanResponse.json(found[1], found[0], found[2])
