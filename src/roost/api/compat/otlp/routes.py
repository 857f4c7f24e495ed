"""``POST /v1/traces`` (the OTLP/HTTP default path) and ``POST /opentelemetry/v1/traces``
(where the HoneyHive SDK sends its spans).

Raw ASGI handlers in front of FastAPI (``api/lean.py``): a batch of spans is decoded in C
(protobuf) or by orjson (JSON), mapped to events and written in one job of the group commit;
the 200 goes out only after the commit. Spans that cannot be stored are left out and counted
in OTLP's ``partial_success``.
"""

from __future__ import annotations

import zlib
from functools import partial

import orjson
from fastapi import APIRouter

from roost.api.compat.otlp import errors, translate
from roost.api.compat.otlp.errors import PROTOBUF, UnsupportedEncoding
from roost.api.compat.otlp.schemas import (
    Decoded,
    Undecodable,
    decode_json,
    decode_protobuf,
    protobuf_response,
)
from roost.api.lean import BodyTooLarge, LeanHandler, LeanRequest, LeanResponse
from roost.domain import keys as key_rules
from roost.domain.errors import Unauthorized
from roost.domain.times import now_ms
from roost.services import traces
from roost.storage.store import Store

# A gzip body may inflate to this many times the body limit, and no further.
MAX_INFLATION = 4
EMPTY_JSON = b"{}"


def _is_protobuf(request: LeanRequest, body: bytes) -> bool:
    content_type = (request.header(b"content-type") or "").lower()
    if "protobuf" in content_type:
        return True
    if "json" in content_type:
        return False
    # No usable Content-Type: JSON starts with "{" (whitespace aside), protobuf never does.
    return body.lstrip()[:1] != b"{"


def _inflate(body: bytes, encoding: str | None, limit: int) -> bytes:
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise UnsupportedEncoding(f"Content-Encoding {encoding!r} is not supported; use gzip")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise Undecodable("is not valid gzip") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge()
    return data


async def export_traces(request: LeanRequest) -> LeanResponse:
    protobuf = "protobuf" in (request.header(b"content-type") or "").lower()
    try:
        key = request.bearer_token()
        if key is None or not key_rules.KEY_PATTERN.match(key):
            raise Unauthorized("missing or invalid API key")
        store: Store = request.state.store
        limit = store.settings.max_body_bytes
        body = await request.body(limit)
        body = _inflate(body, request.header(b"content-encoding"), limit * MAX_INFLATION)
        protobuf = _is_protobuf(request, body)
        decoded: Decoded = decode_protobuf(body) if protobuf else decode_json(body)
        now = now_ms()
        source = request.header(b"x-source")
        events = translate.spans_to_events(decoded.spans, source=source)
        rejected = decoded.rejected
        batch = traces.prepare(events, received_at=now, rejected=rejected)
        # Even a request with no span to store checks its key.
        await store.ingest(
            partial(traces.record_events, key_hash=key_rules.hash_key(key), batch=batch)
        )
    except Exception as exc:
        response = errors.lean_from_exception(exc, protobuf=protobuf)
        if response is None:
            raise
        return response
    message = "; ".join(rejected[:10])
    if protobuf:
        return LeanResponse(protobuf_response(len(rejected), message), media_type=PROTOBUF)
    if rejected:
        partial_success = {"rejectedSpans": len(rejected), "errorMessage": message}
        return LeanResponse(orjson.dumps({"partialSuccess": partial_success}))
    return LeanResponse(EMPTY_JSON)


HOT_ROUTES: dict[tuple[str, str], LeanHandler] = {
    ("POST", "/v1/traces"): export_traces,
    ("POST", "/opentelemetry/v1/traces"): export_traces,
}

# Nothing of OTLP is served by FastAPI; the registry still wants a router.
router = APIRouter()
