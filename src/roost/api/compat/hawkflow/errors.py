"""HawkFlow's error bodies (API.md §1.6): ``{"status": <code>, "error": "<field>: <reason>"}``.

HawkFlow's JS, Go and PHP clients stop on 401 and retry anything else but 201 three times, so
every refusal of the key, whatever the reason, is a 401.
"""

from __future__ import annotations

import logging

from roost.api.lean import BodyTooLarge, LeanResponse
from roost.domain.errors import Forbidden, InvalidInput, RoostError, Unauthorized
from roost.storage.writer import QueueFull, WriterStopped

log = logging.getLogger(__name__)

CREATED = LeanResponse(b'{"status":201,"message":"created"}', 201)
RETRY_AFTER_SECONDS = "1"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> LeanResponse:
    return LeanResponse.json({"status": status, "error": message}, status, headers)


def from_exception(exc: Exception) -> LeanResponse:
    """The answer for any failure; an unexpected one is logged and answered with a 500."""
    if isinstance(exc, Unauthorized | Forbidden):
        return error(401, "unauthorized")
    if isinstance(exc, InvalidInput):
        return error(422, str(exc))
    if isinstance(exc, BodyTooLarge):
        return error(413, "body: request body too large")
    if isinstance(exc, QueueFull | WriterStopped):
        return error(503, "the server is busy; retry shortly", {"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(exc, RoostError):
        return error(422, str(exc))
    log.error("HawkFlow request failed", exc_info=exc)
    return error(500, "internal error")
