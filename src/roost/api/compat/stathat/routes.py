"""StatHat routes: ingest ``/ez``, ``/c``, ``/v`` and the export API ``/x/{access_token}/…``.

The ingest routes are raw ASGI handlers served in front of FastAPI (``api/lean.py``), like
StatFlow's: they answer every call of a client that may post on each page view. A JSON bulk
post to ``/ez`` goes through the same batch path as ``/v1/ingest/batch``. The export API is
read by people and scripts, so it enjoys FastAPI's conveniences.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from roost.api.compat.stathat import alerts as stathat_alerts
from roost.api.compat.stathat import errors, schemas, translate
from roost.api.deps import get_store, read_body
from roost.api.lean import LeanHandler, LeanRequest, LeanResponse
from roost.api.responses import JSON
from roost.domain.alerts import STAT_KINDS
from roost.domain.errors import InvalidInput, NotFound
from roost.domain.keys import Scope
from roost.domain.stats import MAX_BATCH_ITEMS, Kind
from roost.domain.timeframes import DEFAULT, InvalidTimeframe, parse_timeframe
from roost.domain.times import SECOND, now_ms
from roost.services import access, notifications, stathat, stats
from roost.services import alerts as alert_service
from roost.services.access import Principal
from roost.services.alerts import AlertSpec
from roost.services.stathat import Window
from roost.services.stats import IngestResult
from roost.storage.alerts import AlertRow
from roost.storage.store import Store

OK = LeanResponse(errors.OK)
MAX_ID = 2**63 - 1


# -- hot path: ingest --------------------------------------------------------------------


async def _params(request: LeanRequest, store: Store) -> tuple[dict[str, str], bytes]:
    """The query string's fields, then the body's (which win); and the raw body."""
    body = b""
    if request.scope["method"] == "POST":
        body = await request.body(store.settings.max_body_bytes)
    params = translate.parse_form(request.scope.get("query_string", b""))
    if body and not translate.is_json(body, request.header(b"content-type")):
        params.update(translate.parse_form(body))
    return params, body


async def ez(request: LeanRequest) -> LeanResponse:
    """``/ez``: one point from a query string or form, or a JSON bulk ``{ezkey, data}``."""
    store: Store = request.state.store
    strict = request.state.settings.stathat_strict_status
    try:
        now = now_ms()
        params, body = await _params(request, store)
        given = next((params[f] for f in schemas.EZKEY_FIELDS if f in params), None)
        if body and translate.is_json(body, request.header(b"content-type")):
            return await _ez_bulk(store, translate.bulk_groups(body, now, given), now, strict)
        ezkey = translate.ezkey_of(given)
        groups = translate.form_groups(params, now)
        await store.ingest(partial(stathat.record_ez, ezkey=ezkey, groups=groups, now=now))
        return OK
    except errors.BatchTooLarge:
        message = f"data: at most {MAX_BATCH_ITEMS} items per request"
        return errors.ingest_answer(413, message, strict=strict)
    except ConnectionAbortedError:
        raise  # the client went away: nobody to answer (LeanDispatcher drops it)
    except Exception as exc:
        return errors.ingest_failure(exc, strict=strict)


async def _ez_bulk(store: Store, bulk: translate.Bulk, now: int, strict: bool) -> LeanResponse:
    result: IngestResult = await store.ingest(
        partial(
            stathat.record_ez, ezkey=bulk.ezkey, groups=bulk.groups, now=now, field_prefix="data"
        )
    )
    rejected = sorted(bulk.rejected + list(result.rejected))
    count = translate.accepted_items(bulk.items, rejected)
    extra: dict[str, object] = {"count": count}
    if rejected:
        first_per_item = dict(reversed(rejected))  # one reason per item: its first
        extra["errors"] = [{"index": i, "msg": m} for i, m in sorted(first_per_item.items())]
    if count == 0:
        return errors.ingest_answer(400, rejected[0][1], strict=strict, extra=extra)
    return errors.ingest_answer(200, "ok", strict=strict, extra=extra)


async def _classic(request: LeanRequest, kind: Kind) -> LeanResponse:
    store: Store = request.state.store
    strict = request.state.settings.stathat_strict_status
    try:
        now = now_ms()
        params, _ = await _params(request, store)
        ukey, key, value, ts = translate.classic_point(params, kind, now)
        await store.ingest(
            partial(
                stathat.record_classic,
                ukey=ukey,
                classic_key=key,
                kind=kind,
                value=value,
                ts=ts,
                now=now,
            )
        )
        return OK
    except ConnectionAbortedError:
        raise
    except Exception as exc:
        return errors.ingest_failure(exc, strict=strict)


async def count(request: LeanRequest) -> LeanResponse:
    """``/c``: a count for the stat whose classic key is ``key``."""
    return await _classic(request, Kind.COUNTER)


async def value(request: LeanRequest) -> LeanResponse:
    """``/v``: a value for the stat whose classic key is ``key``."""
    return await _classic(request, Kind.VALUE)


# Every client library picks its own method: Ruby GETs, Go, Node and Python POST.
HOT_ROUTES: dict[tuple[str, str], LeanHandler] = {
    (method, path): handler
    for path, handler in (("/ez", ez), ("/c", count), ("/v", value))
    for method in ("GET", "POST")
}


# -- export API ----------------------------------------------------------------------------

router = APIRouter(route_class=errors.ExportRoute)

# Checked by authentication: anything that is no key answers 401.
Token = Annotated[str, Path()]


@contextmanager
def _reading(request: Request, token: str, scope: Scope) -> Iterator[tuple[Connection, Principal]]:
    """One read transaction: the access token (an API key) first, then the query."""
    with get_store(request).read() as conn:
        principal = access.authenticate(conn, token).require(scope)
        yield conn, principal


def _stat_id(text: str) -> int:
    """A stat id from the path; anything that is not one is a stat that does not exist."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise NotFound("stat not found")
    return int(text)


@router.get("/x/{token}/statlist")
def statlist(
    request: Request, token: Token, offset: Annotated[int, Query(ge=0, le=2**31)] = 0
) -> JSON:
    with _reading(request, token, Scope.READ) as (conn, principal):
        rows = stathat.list_stats(conn, project_id=principal.project_id, offset=offset)
    return JSON([translate.stat_public(row) for row in rows])


@router.get("/x/{token}/stat")
def stat(
    request: Request, token: Token, name: Annotated[str, Query(min_length=1, max_length=255)]
) -> JSON:
    with _reading(request, token, Scope.READ) as (conn, principal):
        row = stathat.find_stat(conn, project_id=principal.project_id, name=name)
    return JSON(translate.stat_public(row))


@router.delete("/x/{token}/stats/{stat_id}")
async def delete_stat(request: Request, token: Token, stat_id: str) -> JSON:
    def check() -> Principal:
        with _reading(request, token, Scope.WRITE) as (_, principal):
            return principal

    principal = await run_in_threadpool(check)
    await get_store(request).write(
        partial(stathat.delete_stat, project_id=principal.project_id, stat_id=_stat_id(stat_id))
    )
    return JSON({"msg": "stat deleted."})


TimeframeParam = Annotated[str | None, Query(max_length=64)]


@router.get("/x/{token}/data/{ids:path}")
def data(
    request: Request,
    token: Token,
    ids: str,
    t: TimeframeParam = None,
    start: TimeframeParam = None,
    summary: TimeframeParam = None,
) -> JSON:
    """One dataset per stat id of the path, in path order; ``summary`` makes it one dataset."""
    frame = parse_timeframe(summary or t or DEFAULT)
    first, buckets = frame.window(now_ms(), _start(start))
    window = Window(first, buckets, frame.interval_ms)
    stat_ids = [_stat_id(part) for part in ids.split("/") if part]
    if not stat_ids:
        raise NotFound("stat not found")
    with _reading(request, token, Scope.READ) as (conn, principal):
        rows = stathat.get_stats(conn, project_id=principal.project_id, stat_ids=stat_ids)
        if summary:
            points = stathat.read_points(
                conn, project_id=principal.project_id, stats=rows, window=window
            )
            name = ", ".join(row.name for row in rows)
            return JSON(translate.dataset_public(name, frame, points))
        datasets = [
            translate.dataset_public(
                row.name,
                frame,
                stathat.read_points(
                    conn, project_id=principal.project_id, stats=[row], window=window
                ),
            )
            for row in rows
        ]
    return JSON(datasets)


def _start(raw: str | None) -> int | None:
    """``start`` in unix seconds (whole or not), as milliseconds."""
    if raw is None or raw == "":
        return None
    try:
        seconds = float(raw)
    except ValueError:
        raise InvalidTimeframe("invalid start") from None
    if not 0 <= seconds < 253_402_300_800:
        raise InvalidTimeframe("invalid start")
    return int(seconds * SECOND)


# -- alerts: StatHat's shape over Roost's alert engine (alerts.py) --------------------------

MAX_ALERTS = 1000


def _stat_names(conn: Connection, project_id: int, stat_ids: list[int]) -> dict[int, str]:
    names = {}
    for stat_id in sorted(set(stat_ids)):
        with suppress(NotFound):  # a deleted stat: its alert stays, with no name
            names[stat_id] = stats.get_stat(conn, project_id=project_id, stat_id=stat_id).name
    return names


def _stathat_alert(conn: Connection, project_id: int, alert_id: str) -> AlertRow:
    """One of the project's threshold, delta or deadman alerts; anything else is not found."""
    if not alert_id.isdigit() or not 1 <= int(alert_id) <= MAX_ID:
        raise NotFound("alert not found")
    row = alert_service.get_alert(conn, project_id=project_id, alert_id=int(alert_id))
    if row.kind not in STAT_KINDS:
        raise NotFound("alert not found")
    return row


@router.get("/x/{token}/alerts")
def list_alerts(request: Request, token: Token) -> JSON:
    with _reading(request, token, Scope.READ) as (conn, principal):
        rows = [
            row
            for row in alert_service.list_alerts(
                conn, project_id=principal.project_id, before=None, limit=MAX_ALERTS, states=None
            )
            if row.kind in STAT_KINDS
        ]
        names = _stat_names(conn, principal.project_id, [row.stat_id or 0 for row in rows])
    return JSON([stathat_alerts.alert_public(row, names.get(row.stat_id or 0)) for row in rows])


@router.get("/x/{token}/alerts/{alert_id}")
def get_alert(request: Request, token: Token, alert_id: str) -> JSON:
    with _reading(request, token, Scope.READ) as (conn, principal):
        row = _stathat_alert(conn, principal.project_id, alert_id)
        names = _stat_names(conn, principal.project_id, [row.stat_id or 0])
    return JSON(stathat_alerts.alert_public(row, names.get(row.stat_id or 0)))


@router.post("/x/{token}/alerts")
async def create_alert(request: Request, token: Token) -> JSON:
    """Form, JSON or query-string fields; the alert notifies every channel of the project
    (StatHat mailed the account; Roost's channels are where its notices go)."""
    store = get_store(request)
    raw = await read_body(request, store.settings.max_body_bytes)
    params: dict[str, Any] = dict(request.query_params)
    if translate.is_json(raw, request.headers.get("content-type")):
        try:
            found = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidInput("body", "must be valid JSON") from None
        if not isinstance(found, dict):
            raise InvalidInput("body", "must be a JSON object")
        params.update(found)
    elif raw:
        params.update(translate.parse_form(raw))

    def prepare() -> tuple[Principal, AlertSpec, str]:
        with _reading(request, token, Scope.WRITE) as (conn, principal):
            stat_id = stathat_alerts.stat_id_of(params)
            [row] = stathat.get_stats(conn, project_id=principal.project_id, stat_ids=[stat_id])
            channels = notifications.list_channels(
                conn, project_id=principal.project_id, before=None, limit=50
            )
            spec = stathat_alerts.spec_of(
                params, stat_name=row.name, channel_ids=[channel.id for channel in channels]
            )
            return principal, spec, row.name

    principal, spec, stat_name = await run_in_threadpool(prepare)
    created = await store.write(
        partial(
            alert_service.create_alert, project_id=principal.project_id, spec=spec, now=now_ms()
        )
    )
    return JSON(stathat_alerts.alert_public(created, stat_name))


@router.delete("/x/{token}/alerts/{alert_id}")
async def delete_alert(request: Request, token: Token, alert_id: str) -> JSON:
    def check() -> tuple[Principal, int]:
        with _reading(request, token, Scope.WRITE) as (conn, principal):
            return principal, _stathat_alert(conn, principal.project_id, alert_id).id

    principal, found = await run_in_threadpool(check)
    await get_store(request).write(
        partial(alert_service.delete_alert, project_id=principal.project_id, alert_id=found)
    )
    return JSON({"msg": "alert deleted."})
