"""HoneyHive's error body: ``{"message": "<text>", "errorCode": "<CODE>"}``.

The SDK surfaces exactly these two keys; any status but 200 is a failure to it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from roost.api.deps import field_from_location
from roost.api.lean import BodyTooLarge, LeanResponse
from roost.api.responses import JSON
from roost.domain.errors import Forbidden, InvalidInput, NotFound, RoostError, Unauthorized
from roost.storage.writer import QueueFull, WriterStopped

RETRY_AFTER_SECONDS = "1"

ErrorParts = tuple[int, dict[str, Any], dict[str, str] | None]


def parts(status: int, code: str, message: str) -> ErrorParts:
    headers = None
    if status == 503:
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
    elif status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return status, {"message": message, "errorCode": code}, headers


def parts_for(exc: Exception) -> ErrorParts | None:
    """Status, body and headers for an expected failure; None when it is a real fault."""
    if isinstance(exc, InvalidInput):
        return parts(400, "VALIDATION_ERROR", str(exc))
    if isinstance(exc, Unauthorized):
        return parts(401, "UNAUTHORIZED", str(exc))
    if isinstance(exc, Forbidden):
        return parts(403, "FORBIDDEN", str(exc))
    if isinstance(exc, NotFound):
        return parts(404, "NOT_FOUND", str(exc))
    if isinstance(exc, BodyTooLarge):
        return parts(413, "PAYLOAD_TOO_LARGE", "request body too large")
    if isinstance(exc, QueueFull | WriterStopped):
        return parts(503, "SERVICE_UNAVAILABLE", "the server is busy; retry shortly")
    if isinstance(exc, RoostError):
        return parts(400, "VALIDATION_ERROR", str(exc))
    return None


def error(status: int, code: str, message: str) -> JSON:
    status, body, headers = parts(status, code, message)
    return JSON(body, status_code=status, headers=headers)


def lean_from_exception(exc: Exception) -> LeanResponse | None:
    found = parts_for(exc)
    return None if found is None else LeanResponse.json(found[1], found[0], found[2])


class HoneyHiveRoute(APIRoute):
    """Turns every expected failure, including request validation, into HoneyHive's body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                field = field_from_location(first.get("loc", ()))
                return error(400, "VALIDATION_ERROR", f"{field}: {first.get('msg', 'invalid')}")
            except Exception as exc:
                found = parts_for(exc)
                if found is None:
                    raise
                return JSON(found[1], status_code=found[0], headers=found[2])

        return guarded
