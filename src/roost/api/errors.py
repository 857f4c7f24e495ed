"""Roost's own error body, ``{"error": "<field>: <reason>", "field": "<field>"}``.

StatFlow's wire shape and Roost's native ``/api/v1`` share it; products with another shape
(HawkFlow, HoneyHive …) keep their own ``errors.py`` and map the same domain exceptions.
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


class RoostRoute(APIRoute):
    """Turns every expected failure, including request validation, into Roost's error body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                field = field_from_location(first.get("loc", ()))
                return error(422, f"{field}: {first.get('msg', 'invalid')}", field=field)
            except Exception as exc:
                response = from_exception(exc)
                if response is None:
                    raise
                return response

        return guarded
