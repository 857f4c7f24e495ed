"""ActiveWorkflow's error body (API.md §4.2): ``{"error": "<short text>"}``.

401 and 404 carry ActiveWorkflow's exact texts; the original answers parameter errors
(``after`` not a date, ``limit`` not an integer) with a 500, and so does Roost, so existing
clients see what they expect. What the original has no answer for, because it is read-only,
is Roost's: 403 for a caller who may read but not write, 422 naming the field of a bad body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from roost.api.lean import BodyTooLarge
from roost.api.responses import JSON
from roost.domain.errors import Forbidden, InvalidInput, NotFound, RoostError, Unauthorized
from roost.storage.writer import QueueFull, WriterStopped

log = logging.getLogger(__name__)

UNAUTHORIZED = "401 Unauthorized"
NOT_FOUND = "404 Record not found"
FORBIDDEN = "403 Forbidden"
RETRY_AFTER_SECONDS = "1"


class ParameterInvalid(RoostError):
    """A query parameter the original validates (``after``, ``limit``): a 500, as there."""


def error(status: int, message: str, headers: dict[str, str] | None = None, **extra: str) -> JSON:
    return JSON({"error": message, **extra}, status_code=status, headers=headers)


def from_exception(exc: Exception) -> JSON:
    """The answer for any failure; an unexpected one is logged and answered with a 500."""
    if isinstance(exc, Unauthorized):
        return error(401, UNAUTHORIZED)
    if isinstance(exc, Forbidden):
        return error(403, FORBIDDEN)
    if isinstance(exc, NotFound):
        return error(404, NOT_FOUND)
    if isinstance(exc, ParameterInvalid):
        return error(500, str(exc))
    if isinstance(exc, InvalidInput):
        return error(422, str(exc), field=exc.field)
    if isinstance(exc, BodyTooLarge):
        return error(413, "body: request body too large", field="body")
    if isinstance(exc, QueueFull | WriterStopped):
        return error(503, "the server is busy; retry shortly", {"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(exc, RoostError):
        return error(422, str(exc))
    log.error("ActiveWorkflow request failed", exc_info=exc)
    return error(500, "internal error")


class ActiveWorkflowRoute(APIRoute):
    """Every failure of these routes, request validation included, in ActiveWorkflow's body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                # Only path ids are validated by FastAPI here: a malformed id names no record.
                return error(404, NOT_FOUND)
            except Exception as exc:
                return from_exception(exc)

        return guarded
