"""HawkFlow's ingest routes: ``/v1/start``, ``/v1/end``, ``/v1/metrics``, ``/v1/exception``.

All are raw ASGI handlers served in front of FastAPI (``api/lean.py``): HawkFlow's clients give
up after one second and report a run per request, so these paths carry the same load as
StatFlow's ingest. The body is parsed as JSON whatever its Content-Type, because HawkFlow's JS
client sends ``text/plain`` (a typo in its header name). Success is exactly 201: HawkFlow's JS,
Go and PHP clients retry any other answer.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from fastapi import APIRouter

from roost.api.compat.hawkflow import errors, schemas, translate
from roost.api.lean import LeanHandler, LeanRequest, LeanResponse
from roost.domain import keys as key_rules
from roost.domain.errors import InvalidInput, RoostError, Unauthorized
from roost.domain.times import now_ms
from roost.storage.store import Store
from roost.storage.writer import Job

# Every ingest route is lean; the router exists so the registry treats HawkFlow like any
# product (its read side is Roost's own /api/v1).
router = APIRouter()


def _api_key(request: LeanRequest) -> str:
    key = (
        request.header(b"x-hawkflow-api-key")
        or request.header(b"hawkflow-api-key")  # Ruby, Java, .NET and old Python clients
        or request.bearer_token()
    )
    key = key.strip() if key else None
    if not key or not key_rules.KEY_PATTERN.match(key):
        raise Unauthorized("missing or invalid API key")
    return key


def _document(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "must be valid JSON") from None


JobMaker = Callable[[object, str, int, Store], Job]


def _handler(make_job: JobMaker) -> LeanHandler:
    async def handle(request: LeanRequest) -> LeanResponse:
        try:
            key_hash = key_rules.hash_key(_api_key(request))
            store: Store = request.state.store
            document = _document(await request.body(store.settings.max_body_bytes))
            failure = await store.ingest(make_job(document, key_hash, now_ms(), store))
            if isinstance(failure, RoostError):
                raise failure
            return errors.CREATED
        except ConnectionAbortedError:
            raise
        except Exception as exc:
            return errors.from_exception(exc)

    return handle


def _retry_window_ms(store: Store) -> int:
    return int(store.settings.run_retry_window_seconds * 1000)


def _start(document: object, key_hash: str, now: int, store: Store) -> Job:
    request = schemas.parse_run(document, end=False)
    window = _retry_window_ms(store)
    return translate.start_job(request, key_hash=key_hash, now=now, retry_window_ms=window)


def _end(document: object, key_hash: str, now: int, store: Store) -> Job:
    request = schemas.parse_run(document, end=True)
    window = _retry_window_ms(store)
    return translate.end_job(request, key_hash=key_hash, now=now, retry_window_ms=window)


def _metrics(document: object, key_hash: str, now: int, store: Store) -> Job:
    return translate.metrics_job(schemas.parse_metrics(document), key_hash=key_hash, now=now)


def _exception(document: object, key_hash: str, now: int, store: Store) -> Job:
    return translate.exception_job(schemas.parse_exception(document), key_hash=key_hash, now=now)


start = _handler(_start)
end = _handler(_end)

HOT_ROUTES: dict[tuple[str, str], LeanHandler] = {
    ("POST", "/v1/start"): start,
    ("POST", "/v1/end"): end,
    # Older Python, Ruby, Java and .NET clients.
    ("POST", "/v1/timed/start"): start,
    ("POST", "/v1/timed/end"): end,
    ("POST", "/v1/metrics"): _handler(_metrics),
    ("POST", "/v1/exception"): _handler(_exception),
}
