"""OTLP's error body: a ``google.rpc.Status`` in the request's own encoding.

``{"code": <gRPC code>, "message": "…"}`` for JSON requests; for protobuf ones the same two
fields encoded as protobuf (``googleapis-common-protos`` is not a runtime dependency just for
these two fields, so they are written here: field 1 a varint, field 2 a length-delimited string).
"""

from __future__ import annotations

import orjson

from roost.api.lean import BodyTooLarge, LeanResponse
from roost.domain.errors import Forbidden, InvalidInput, NotFound, RoostError, Unauthorized
from roost.storage.writer import QueueFull, WriterStopped

RETRY_AFTER_SECONDS = "1"
PROTOBUF = b"application/x-protobuf"

# gRPC status codes (OTLP/HTTP reuses them in Status.code).
INVALID_ARGUMENT = 3
NOT_FOUND = 5
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
UNAVAILABLE = 14
UNAUTHENTICATED = 16


class UnsupportedEncoding(Exception):
    """A Content-Encoding other than gzip or identity (415)."""


def _parts(exc: Exception) -> tuple[int, int, str] | None:
    if isinstance(exc, UnsupportedEncoding):
        return 415, INVALID_ARGUMENT, str(exc)
    if isinstance(exc, InvalidInput):
        return 400, INVALID_ARGUMENT, str(exc)
    if isinstance(exc, Unauthorized):
        return 401, UNAUTHENTICATED, str(exc)
    if isinstance(exc, Forbidden):
        return 403, PERMISSION_DENIED, str(exc)
    if isinstance(exc, NotFound):
        return 404, NOT_FOUND, str(exc)
    if isinstance(exc, BodyTooLarge):
        return 413, RESOURCE_EXHAUSTED, "request body too large"
    if isinstance(exc, QueueFull | WriterStopped):
        return 503, UNAVAILABLE, "the server is busy; retry shortly"
    if isinstance(exc, RoostError):
        return 400, INVALID_ARGUMENT, str(exc)
    return None


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def status_protobuf(code: int, message: str) -> bytes:
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def lean_from_exception(exc: Exception, *, protobuf: bool) -> LeanResponse | None:
    found = _parts(exc)
    if found is None:
        return None
    status, code, message = found
    headers = None
    if status == 503:
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
    elif status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    if protobuf:
        return LeanResponse(status_protobuf(code, message), status, headers, PROTOBUF)
    return LeanResponse(orjson.dumps({"code": code, "message": message}), status, headers)
