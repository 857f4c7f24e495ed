"""StatFlow routes: ``/v1/ingest``, ``/v1/stats``, ``/v1/auth/api-keys``, ``/v1/annotations``.

The three ingest routes are raw ASGI handlers served in front of FastAPI (``api/lean.py``):
msgspec decodes and type-checks a body in C, and only a body it refuses is re-validated item
by item to name the failing field. FastAPI's body models and middleware cost more than the
durable write itself (DESIGN.md §4). Everything else uses FastAPI's conveniences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated

import msgspec
import orjson
from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from roost.api.compat.statflow import errors, translate
from roost.api.compat.statflow.schemas import (
    MAX_ID,
    AnnotationCreateRequest,
    ApiKeyCreateRequest,
    StatHatImportRequest,
    ingest_batch_decoder,
    ingest_item_decoder,
)
from roost.api.deps import bearer_token, get_store, parse_json_model
from roost.api.lean import LeanHandler, LeanRequest, LeanResponse
from roost.api.responses import JSON
from roost.domain import keys as key_rules
from roost.domain.errors import InvalidInput, NotFound, Unauthorized
from roost.domain.keys import Scope
from roost.domain.stathat import parse_access_token, parse_aliases, parse_base_url
from roost.domain.stats import (
    MAX_BATCH_ITEMS,
    MAX_FUTURE_MS,
    PointGroup,
    group_points,
    parse_count_or_value_item,
    parse_ingest_item,
    parse_ingest_items,
    parse_timestamp,
)
from roost.domain.times import DAY, now_ms
from roost.services import access, stathat_import, stats
from roost.services import annotations as notes
from roost.services.access import Principal
from roost.services.stats import IngestResult
from roost.storage.store import Store

ACCEPTED = b'{"ok":true}'


# -- hot path: ingest --------------------------------------------------------------------


def _single_groups(body: bytes, now: int, variant: bool) -> list[PointGroup]:
    """One point as a group: msgspec for the plain shape, the domain validator otherwise."""
    if not variant:
        try:
            item = ingest_item_decoder.decode(body)
        except msgspec.MsgspecError:
            pass
        else:
            groups = translate.items_to_groups([item], now)
            if groups is not None:
                return groups
    document = _json(body)
    point = (
        parse_count_or_value_item(document, now=now)
        if variant
        else parse_ingest_item(document, now=now)
    )
    return group_points([point], [0])


def _batch_groups(body: bytes, now: int) -> tuple[list[PointGroup], list[tuple[int, str]]]:
    """The batch's valid points grouped by stat, and the errors of the rest."""
    try:
        batch = ingest_batch_decoder.decode(body)
    except msgspec.MsgspecError:
        pass
    else:
        _check_batch_size(len(batch.items))
        groups = translate.items_to_groups(batch.items, now)
        if groups is not None:
            return groups, []
    document = _json(body)
    if not isinstance(document, dict):
        raise InvalidInput("body", "must be a JSON object")
    items = document.get("items")
    if not isinstance(items, list):
        raise InvalidInput("items", "is required and must be a list")
    _check_batch_size(len(items))
    valid, positions, rejected = parse_ingest_items(items, now=now, prefix="items")
    return group_points(valid, positions), rejected


class BatchTooLarge(Exception):
    pass


def _check_batch_size(count: int) -> None:
    if count > MAX_BATCH_ITEMS:
        raise BatchTooLarge()


def _json(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "must be valid JSON") from None


async def _ingest(request: LeanRequest, shape: str) -> LeanResponse:
    """Shared by the three ingest routes; ``shape`` is "ingest", "stat" or "batch"."""
    try:
        key = request.bearer_token()
        if key is None or not key_rules.KEY_PATTERN.match(key):
            raise Unauthorized("missing or invalid API key")
        store: Store = request.state.store
        body = await request.body(store.settings.max_body_bytes)
        now = now_ms()
        key_hash = key_rules.hash_key(key)
        if shape != "batch":
            groups = _single_groups(body, now, variant=shape == "stat")
            await store.ingest(
                partial(stats.record_points, key_hash=key_hash, groups=groups, now=now)
            )
            return LeanResponse(ACCEPTED, 202)
        groups, rejected = _batch_groups(body, now)
        result: IngestResult = await store.ingest(
            partial(
                stats.record_points,
                key_hash=key_hash,
                groups=groups,
                now=now,
                field_prefix="items",
            )
        )
        rejected = sorted(rejected + list(result.rejected))
        return LeanResponse.json(
            {
                "ok": True,
                "accepted": result.accepted,
                "rejected": [{"index": index, "error": message} for index, message in rejected],
            },
            202,
        )
    except BatchTooLarge:
        return LeanResponse.json(
            {"error": f"items: at most {MAX_BATCH_ITEMS} per request", "field": "items"}, 413
        )
    except Exception as exc:
        response = errors.lean_from_exception(exc)
        if response is None:
            raise
        return response


async def ingest(request: LeanRequest) -> LeanResponse:
    return await _ingest(request, "ingest")


async def ingest_stat(request: LeanRequest) -> LeanResponse:
    """``POST /v1/stat``: the ``{stat, count | value}`` variant of StatFlow's docs."""
    return await _ingest(request, "stat")


async def ingest_batch(request: LeanRequest) -> LeanResponse:
    return await _ingest(request, "batch")


HOT_ROUTES: dict[tuple[str, str], LeanHandler] = {
    ("POST", "/v1/ingest"): ingest,
    ("POST", "/v1/stat"): ingest_stat,
    ("POST", "/v1/ingest/batch"): ingest_batch,
}


# -- the rest ----------------------------------------------------------------------------


# Every expected failure, request validation included, answers in StatFlow's error body.
router = APIRouter(route_class=errors.RoostRoute)


@contextmanager
def _reading(request: Request, scope: Scope) -> Iterator[tuple[Connection, Principal]]:
    """One read transaction that authenticates the key and then serves the query.

    Reads run in FastAPI's threadpool once per request; authenticating on the same
    connection saves a second trip through the pool.
    """
    with get_store(request).read() as conn:
        principal = access.authenticate(conn, bearer_token(request)).require(scope)
        yield conn, principal


def _principal(scope: Scope) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        with _reading(request, scope) as (_, principal):
            return principal

    return dependency


def _limit(request: Request) -> int:
    return get_store(request).settings.max_body_bytes


Id = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/v1/stats")
def list_stats(request: Request) -> JSON:
    with _reading(request, Scope.READ) as (conn, principal):
        rows = stats.list_stats(conn, project_id=principal.project_id)
    return JSON({"stats": [translate.stat_public(row) for row in rows]})


@router.get("/v1/stats/{stat_id}")
def get_stat(request: Request, stat_id: Id) -> JSON:
    with _reading(request, Scope.READ) as (conn, principal):
        row = stats.get_stat(conn, project_id=principal.project_id, stat_id=stat_id)
    return JSON(translate.stat_public(row))


def _series_data(
    request: Request,
    stat_id: int,
    from_: str | None,
    to: str | None,
    resolution: str | None,
) -> stats.SeriesData:
    query = stats.parse_time_query(from_=from_, to=to, resolution=resolution, now=now_ms())
    with _reading(request, Scope.READ) as (conn, principal):
        return stats.read_series(
            conn, project_id=principal.project_id, stat_id=stat_id, query=query
        )


TimeParam = Annotated[str | None, Query(max_length=64)]
FromParam = Annotated[str | None, Query(alias="from", max_length=64)]


@router.get("/v1/stats/{stat_id}/data")
def stat_data(
    request: Request,
    stat_id: Id,
    from_: FromParam = None,
    to: TimeParam = None,
    resolution: TimeParam = None,
) -> JSON:
    data = _series_data(request, stat_id, from_, to, resolution)
    return JSON(translate.series_data_public(data))


@router.get("/v1/stats/{stat_id}/export")
def stat_export(
    request: Request,
    stat_id: Id,
    format: TimeParam = "csv",
    from_: FromParam = None,
    to: TimeParam = None,
    resolution: TimeParam = None,
) -> Response:
    if format not in (None, "", "csv"):
        return errors.error(400, "format: unknown format; use csv", field="format")
    data = _series_data(request, stat_id, from_, to, resolution)
    filename = f"stat-{stat_id}.csv"
    return Response(
        translate.series_data_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- API keys ----------------------------------------------------------------------------


@router.post("/v1/auth/api-keys", status_code=201)
async def create_api_key(request: Request) -> JSON:
    principal = await run_in_threadpool(_principal(Scope.ADMIN), request)
    body = await parse_json_model(request, ApiKeyCreateRequest, _limit(request))
    scopes = key_rules.parse_scopes(body.scopes)
    name = access.validate_key_name(body.name)
    aliases = parse_aliases(body.aliases)
    new = await get_store(request).write(
        partial(
            access.create_key,
            project_id=principal.project_id,
            name=name,
            scopes=scopes,
            now=now_ms(),
            aliases=aliases,
        )
    )
    return JSON({**translate.key_public(new.row, aliases), "key": new.secret}, status_code=201)


@router.get("/v1/auth/api-keys")
def list_api_keys(request: Request) -> JSON:
    with _reading(request, Scope.ADMIN) as (conn, principal):
        rows = access.list_keys(conn, project_id=principal.project_id)
        aliases = access.list_aliases(conn, project_id=principal.project_id)
    return JSON({"keys": [translate.key_public(row, aliases.get(row.id, ())) for row in rows]})


@router.delete("/v1/auth/api-keys/{key_id}", status_code=204)
async def revoke_api_key(request: Request, key_id: Id) -> Response:
    principal = await run_in_threadpool(_principal(Scope.ADMIN), request)
    await get_store(request).write(
        partial(access.revoke_key, project_id=principal.project_id, key_id=key_id, now=now_ms())
    )
    return Response(status_code=204)


# -- annotations -------------------------------------------------------------------------


@router.post("/v1/annotations", status_code=201)
async def create_annotation(request: Request) -> JSON:
    principal = await run_in_threadpool(_principal(Scope.WRITE), request)
    body = await parse_json_model(request, AnnotationCreateRequest, _limit(request))
    now = now_ms()
    text = notes.validate_text(body.text)
    ts = parse_timestamp(body.time, "time", now)
    for index, stat_id in enumerate(body.stat_ids):
        if not 1 <= stat_id <= MAX_ID:
            raise InvalidInput(f"stat_ids[{index}]", f"unknown stat {stat_id}")
    row = await get_store(request).write(
        partial(
            notes.add_annotation,
            project_id=principal.project_id,
            ts=ts,
            text=text,
            series_ids=body.stat_ids,
            now=now,
        )
    )
    return JSON(translate.annotation_public(row), status_code=201)


@router.get("/v1/annotations")
def list_annotations(request: Request, from_: FromParam = None, to: TimeParam = None) -> JSON:
    # By default the last 30 days, plus the day ahead that annotation times may point to.
    now = now_ms()
    start, end = stats.parse_range(
        from_=from_, to=to, now=now + MAX_FUTURE_MS, default_span=30 * DAY + MAX_FUTURE_MS
    )
    with _reading(request, Scope.READ) as (conn, principal):
        rows = notes.list_annotations(conn, project_id=principal.project_id, start=start, end=end)
    return JSON({"annotations": [translate.annotation_public(row) for row in rows]})


@router.delete("/v1/annotations/{annotation_id}", status_code=204)
async def delete_annotation(request: Request, annotation_id: Id) -> Response:
    principal = await run_in_threadpool(_principal(Scope.WRITE), request)
    await get_store(request).write(
        partial(
            notes.delete_annotation,
            project_id=principal.project_id,
            annotation_id=annotation_id,
        )
    )
    return Response(status_code=204)


# -- StatHat import ----------------------------------------------------------------------


@router.post("/v1/import/stathat", status_code=202)
async def start_stathat_import(request: Request) -> JSON:
    """Queue an import from a StatHat-compatible export API; the server runs it in the
    background (``GET /v1/import/stathat/status`` follows it)."""
    principal = await run_in_threadpool(_principal(Scope.WRITE), request)
    body = await parse_json_model(request, StatHatImportRequest, _limit(request))
    token = parse_access_token(body.access_token)
    base_url = parse_base_url(body.base_url)
    try:
        row = await get_store(request).write(
            partial(
                stathat_import.create_import,
                project_id=principal.project_id,
                access_token=token,
                base_url=base_url,
                now=now_ms(),
            )
        )
    except stathat_import.ImportRunning as exc:
        return errors.error(409, str(exc))
    request.app.state.stathat_imports.wake()
    return JSON(translate.import_public(row), status_code=202)


@router.get("/v1/import/stathat/status")
def stathat_import_status(
    request: Request, id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> JSON:
    """The project's latest StatHat import, or the one of ``?id=``."""
    with _reading(request, Scope.READ) as (conn, principal):
        row = stathat_import.get_import(conn, project_id=principal.project_id, import_id=id)
    if row is None:
        raise NotFound("no StatHat import found")
    return JSON(translate.import_public(row))
