"""``/api/v1/alerts`` and ``/api/v1/silences``: rules, their state and history, and silences."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response

from roost.api.deps import get_store, parse_json_model, read_body
from roost.api.native.common import (
    MAX_ID,
    Before,
    Id,
    Limit,
    authorised,
    choices,
    native_router,
    page,
    reading,
)
from roost.api.responses import JSON
from roost.domain.alerts import State
from roost.domain.errors import InvalidInput
from roost.domain.keys import Scope
from roost.domain.times import format_iso, now_ms, parse_time
from roost.services import alerts
from roost.services.alert_rules import document_of, parse_alert
from roost.services.alerts import AlertSpec
from roost.storage.alerts import AlertRow, EventRow, SilenceRow, StateRow

router = native_router("alerts")


def _iso(ms: int | None) -> str | None:
    return None if ms is None else format_iso(ms)


def key_public(row: StateRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "subject": row.label,
        "state": row.state,
        "value": row.value,
        "fired_at": _iso(row.fired_at),
    }


def alert_public(row: AlertRow, keys: list[StateRow] | None = None) -> dict[str, Any]:
    answer = {
        "id": row.id,
        **document_of(AlertSpec.of(row)),
        "state": row.state,
        "last_value": row.last_value,
        "last_evaluated_at": _iso(row.last_evaluated_at),
        "fired_at": _iso(row.fired_at),
        "created_at": format_iso(row.created_at),
        "updated_at": format_iso(row.updated_at),
    }
    if keys is not None:
        # Spend and exception alerts fire per user, session or group: which ones, and how.
        answer["keys"] = [key_public(key) for key in keys if key.key]
    return answer


def event_public(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "time": format_iso(row.at),
        "from": row.from_state,
        "to": row.to_state,
        "value": row.value,
        "key": row.key or None,
        "subject": row.label,
        "notified": row.notified,
        "silenced": row.silenced,
    }


def silence_public(row: SilenceRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "alert_id": row.alert_id,
        "until": format_iso(row.until),
        "reason": row.reason,
        "created_at": format_iso(row.created_at),
    }


async def _document(request: Request, limit: int) -> Any:
    try:
        return orjson.loads(await read_body(request, limit))
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "must be valid JSON") from None


@router.post("/alerts", status_code=201)
async def create_alert(request: Request) -> JSON:
    """Add an alert (write scope); its stat, process and channels must be this project's."""
    principal = await authorised(request, Scope.WRITE)
    store = get_store(request)
    spec = parse_alert(await _document(request, store.settings.max_body_bytes))
    row = await store.write(
        partial(alerts.create_alert, project_id=principal.project_id, spec=spec, now=now_ms())
    )
    return JSON(alert_public(row, []), status_code=201)


@router.get("/alerts")
def list_alerts(
    request: Request, limit: Limit = 50, before: Before = None, state: str | None = None
) -> JSON:
    """Alerts, newest first (read scope); ``state=firing`` (comma-separated) filters."""
    states = choices(state, "state", [item.value for item in State])
    with reading(request) as (conn, principal):
        found = alerts.list_alerts(
            conn, project_id=principal.project_id, before=before, limit=limit + 1, states=states
        )
    return JSON(page([alert_public(row) for row in found], limit))


@router.get("/alerts/{alert_id}")
def get_alert(request: Request, alert_id: Id) -> JSON:
    with reading(request) as (conn, principal):
        row = alerts.get_alert(conn, project_id=principal.project_id, alert_id=alert_id)
        keys = alerts.alert_keys(conn, project_id=principal.project_id, alert_id=alert_id)
    return JSON(alert_public(row, keys))


@router.patch("/alerts/{alert_id}")
async def update_alert(request: Request, alert_id: Id) -> JSON:
    """Change some fields (write scope); the rest stay. A changed condition starts from ok."""
    principal = await authorised(request, Scope.WRITE)
    store = get_store(request)
    changes = await _document(request, store.settings.max_body_bytes)
    if not isinstance(changes, dict):
        raise InvalidInput("body", "must be a JSON object")

    def job(tx: Any) -> AlertRow:
        current = alerts.get_alert(tx.conn, project_id=principal.project_id, alert_id=alert_id)
        document = document_of(AlertSpec.of(current))
        if "kind" in changes and changes["kind"] != current.kind:
            # Another kind has other fields: only the common ones carry over.
            document = {
                name: document[name]
                for name in ("name", "channel_ids", "enabled", "for", "repeat_every")
            }
        document.update(changes)
        spec = parse_alert({name: value for name, value in document.items() if value is not None})
        return alerts.update_alert(
            tx, project_id=principal.project_id, alert_id=alert_id, spec=spec, now=now_ms()
        )

    row = await store.write(job)
    return JSON(alert_public(row))


@router.delete("/alerts/{alert_id}", status_code=204)
async def delete_alert(request: Request, alert_id: Id) -> Response:
    principal = await authorised(request, Scope.WRITE)
    await get_store(request).write(
        partial(alerts.delete_alert, project_id=principal.project_id, alert_id=alert_id)
    )
    return Response(status_code=204)


@router.get("/alerts/{alert_id}/events")
def list_events(request: Request, alert_id: Id, limit: Limit = 50, before: Before = None) -> JSON:
    """Every state change of the alert (and each re-notification), newest first."""
    with reading(request) as (conn, principal):
        found = alerts.list_events(
            conn, project_id=principal.project_id, alert_id=alert_id, before=before, limit=limit + 1
        )
    return JSON(page([event_public(row) for row in found], limit))


# -- silences --


class SilenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    until: str | int | float
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""


@router.post("/silences", status_code=201)
async def create_silence(request: Request) -> JSON:
    """Hold notifications back until ``until`` (for one alert, or all without ``alert_id``)."""
    principal = await authorised(request, Scope.WRITE)
    store = get_store(request)
    body = await parse_json_model(request, SilenceCreate, store.settings.max_body_bytes)
    try:
        until = parse_time(body.until)
    except ValueError as exc:
        raise InvalidInput("until", str(exc)) from None
    now = now_ms()
    if until <= now:
        raise InvalidInput("until", "must be in the future")
    row = await store.write(
        partial(
            alerts.create_silence,
            project_id=principal.project_id,
            alert_id=body.alert_id,
            until=until,
            reason=body.reason,
            now=now,
        )
    )
    return JSON(silence_public(row), status_code=201)


@router.get("/silences")
def list_silences(
    request: Request, limit: Limit = 50, before: Before = None, active: bool = True
) -> JSON:
    """Silences, newest first; only running ones unless ``active=false``."""
    with reading(request) as (conn, principal):
        found = alerts.list_silences(
            conn,
            project_id=principal.project_id,
            active_at=now_ms() if active else None,
            before=before,
            limit=limit + 1,
        )
    return JSON(page([silence_public(row) for row in found], limit))


@router.delete("/silences/{silence_id}", status_code=204)
async def delete_silence(request: Request, silence_id: Id) -> Response:
    principal = await authorised(request, Scope.WRITE)
    await get_store(request).write(
        partial(alerts.delete_silence, project_id=principal.project_id, silence_id=silence_id)
    )
    return Response(status_code=204)
