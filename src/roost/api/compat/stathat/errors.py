"""StatHat's answers (API.md §2.3, §2.4).

Ingest (``/ez``, ``/c``, ``/v``) answers ``{"status": <code>, "msg": "<reason>"}`` with HTTP 200
whatever happened: the real service did, the Ruby gem reads ``status`` from the body, and the
Node client only calls back when there is a body. ``ROOST_STATHAT_STRICT_STATUS`` sends the
same body with the real HTTP status. The export API (``/x/…``) answers ``{"msg": "<reason>"}``
with the real status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from roost.api.lean import BodyTooLarge, LeanResponse
from roost.api.responses import JSON
from roost.domain.errors import Forbidden, NotFound, RoostError, Unauthorized
from roost.domain.timeframes import InvalidTimeframe
from roost.storage.writer import QueueFull, WriterStopped

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "1"
OK = b'{"status":200,"msg":"ok"}'


class BatchTooLarge(Exception):
    """A JSON bulk post with more items than the batch path takes (413)."""


def status_of(exc: Exception) -> tuple[int, str] | None:
    """The status and reason for an expected failure; None for a real fault."""
    if isinstance(exc, Unauthorized):
        return 401, str(exc)
    if isinstance(exc, Forbidden):
        return 403, str(exc)
    if isinstance(exc, NotFound):
        return 404, str(exc)
    if isinstance(exc, BodyTooLarge):
        return 413, "request body too large"
    if isinstance(exc, QueueFull | WriterStopped):
        return 503, "the server is busy; retry shortly"
    if isinstance(exc, RoostError | InvalidTimeframe):
        return 400, str(exc)
    return None


# -- ingest ----------------------------------------------------------------------------------


def ingest_answer(
    status: int, message: str, *, strict: bool, extra: dict[str, Any] | None = None
) -> LeanResponse:
    body: dict[str, Any] = {"status": status, "msg": message}
    if extra:
        body.update(extra)
    if not strict:
        return LeanResponse.json(body)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    return LeanResponse.json(body, status, headers)


def ingest_failure(exc: Exception, *, strict: bool) -> LeanResponse:
    """Any failure of an ingest request; an unexpected one is logged and answered as a 500."""
    found = status_of(exc)
    if found is None:
        log.error("StatHat ingest failed", exc_info=exc)
        found = (500, "internal error")
    return ingest_answer(*found, strict=strict)


# -- export ----------------------------------------------------------------------------------


def export_error(status: int, message: str) -> JSON:
    return JSON({"msg": message}, status_code=status)


class ExportRoute(APIRoute):
    """Every expected failure of the export API, request validation included, as ``{"msg"}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                name = str((first.get("loc") or ("", "parameter"))[-1])
                return export_error(400, f"invalid {name}")
            except Unauthorized:
                return export_error(401, "invalid access token")
            except Exception as exc:
                found = status_of(exc)
                if found is None:
                    raise
                return export_error(*found)

        return guarded
