"""Settings → alerts: the project's rules, their state and history, and silences.

Members and owners create, enable, disable, delete and silence alerts; viewers only look. The
form becomes the same document ``POST /api/v1/alerts`` takes, checked by the same
``services.alert_rules.parse_alert``, so a rule made here passes exactly the API's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.alerts import STAT_KINDS, AlertKind, RunCondition, describe
from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import DAY, HOUR, MINUTE, WEEK, now_ms
from roost.services import alerts as alert_service
from roost.services import notifications
from roost.services import processes as process_service
from roost.services import stats as stat_service
from roost.services.alert_rules import parse_alert
from roost.storage.alerts import AlertRow, EventRow, SilenceRow, StateRow
from roost.storage.channels import ChannelRow
from roost.storage.series import SeriesRow
from roost.web import pages, params
from roost.web.pages import PageRoute, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LISTED = 200
EVENTS = 100
# The kinds the form makes; spend and exception alerts come through the API and are shown here.
FORM_KINDS = [AlertKind.THRESHOLD, AlertKind.DELTA, AlertKind.DEADMAN, AlertKind.RUN]
RUN_CONDITIONS = [condition.value for condition in RunCondition]
SILENCES = {
    "15m": 15 * MINUTE,
    "1h": HOUR,
    "4h": 4 * HOUR,
    "1d": DAY,
    "1w": WEEK,
}


@dataclass(frozen=True, slots=True)
class AlertLine:
    row: AlertRow
    condition: str  # describe(): when it fires, in words
    subject: str  # the stat or process it watches


@dataclass(frozen=True, slots=True)
class FormChoices:
    stats: list[SeriesRow]
    processes: list[str]
    channels: list[ChannelRow]


def _line(row: AlertRow, stats: dict[int, SeriesRow]) -> AlertLine:
    stat = stats.get(row.stat_id) if row.stat_id is not None else None
    counter = stat.kind == "counter" if stat is not None else None
    subject = stat.name if stat is not None else str(row.definition.get("process") or "")
    return AlertLine(row, describe(row.kind, row.definition, counter=counter), subject)


def _choices(conn: Connection, project_id: int) -> FormChoices:
    stats = stat_service.list_stats(conn, project_id=project_id)
    processes = process_service.list_processes(
        conn, project_id=project_id, name=None, before=None, limit=LISTED
    )
    channels = notifications.list_channels(conn, project_id=project_id, before=None, limit=LISTED)
    names = sorted({summary.process.name for summary in processes})
    return FormChoices(stats, names, channels)


def document_of_form(data: FormData) -> dict[str, Any]:
    """The form as an alert document (the API's shape); blank fields are left out."""

    def given(*names: str, rename: dict[str, str] | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in names:
            value = field(data, name)
            if value:
                found[(rename or {}).get(name, name)] = value
        return found

    kind = field(data, "kind")
    document: dict[str, Any] = {
        "kind": kind,
        "name": field(data, "name"),
        "channel_ids": [value for value in data.getlist("channel_ids") if isinstance(value, str)],
        **given("for"),
    }
    if kind == AlertKind.THRESHOLD:
        document.update(given("stat_id", "window", "operator", "value"))
    elif kind == AlertKind.DELTA:
        document.update(
            given(
                "stat_id",
                "window",
                "delta_operator",
                "percentage",
                "compare_to",
                rename={"delta_operator": "operator"},
            )
        )
    elif kind == AlertKind.DEADMAN:
        document.update(given("stat_id", "window"))
    elif kind == AlertKind.RUN:
        condition = field(data, "condition")
        document.update(given("process", "condition"))
        wanted = {
            RunCondition.MISSING: ("every", "grace"),
            RunCondition.TOO_LONG: ("max_duration",),
            RunCondition.TOO_SHORT: ("min_duration",),
            RunCondition.TOO_OFTEN: ("max_runs", "run_window"),
            RunCondition.FAILED: ("run_window",),
        }.get(condition, ())  # type: ignore[call-overload]
        document.update(given(*wanted, rename={"run_window": "window"}))
    return document


async def _list_page(
    request: Request, *, error: str = "", form: dict[str, str] | None = None
) -> Response:
    viewer = await pages.viewer(request)
    project_id = viewer.project_id

    def load(conn: Connection) -> tuple[list[AlertLine], FormChoices]:
        rows = alert_service.list_alerts(
            conn, project_id=project_id, before=None, limit=LISTED, states=None
        )
        choices = _choices(conn, project_id)
        stats = {stat.id: stat for stat in choices.stats}
        return [_line(row, stats) for row in rows], choices

    lines, choices = await pages.read(request, load)
    context = {
        "title": "Alerts · Roost",
        "nav": "settings",
        "section": "alerts",
        "lines": lines,
        "choices": choices,
        "kinds": [kind.value for kind in FORM_KINDS],
        "conditions": RUN_CONDITIONS,
        "error": error,
        "form": form or {},
    }
    return render(
        request, "settings_alerts.html", context, viewer=viewer, status=422 if error else 200
    )


@router.get("/settings/alerts")
async def alerts_page(request: Request) -> Response:
    return await _list_page(request)


@router.post("/settings/alerts")
async def create_alert(request: Request) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    # What was typed comes back with the error, so a bad field costs one correction.
    kept = {name: value for name, value in data.items() if isinstance(value, str)}
    kept.pop("csrf", None)
    kept["channel_ids"] = ",".join(
        value for value in data.getlist("channel_ids") if isinstance(value, str)
    )
    try:
        spec = parse_alert(document_of_form(data))
        row = await pages.store_of(request).write(
            partial(
                alert_service.create_alert,
                project_id=viewer.project_id,
                spec=spec,
                now=now_ms(),
            )
        )
    except InvalidInput as exc:
        return await _list_page(request, error=str(exc), form=kept)
    except NotFound as exc:  # a stat, process or channel deleted meanwhile
        return await _list_page(request, error=str(exc), form=kept)
    return pages.redirect(
        request, f"/settings/alerts/{row.id}", viewer=viewer, flash=f"Alert “{row.name}” created."
    )


@router.get("/settings/alerts/{alert_id}")
async def alert_page(request: Request, alert_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted, now = viewer.project_id, params.record_id(alert_id, "alert"), now_ms()

    def load(
        conn: Connection,
    ) -> tuple[AlertLine, list[StateRow], list[EventRow], list[SilenceRow], list[ChannelRow]]:
        row = alert_service.get_alert(conn, project_id=project_id, alert_id=wanted)
        stats = {stat.id: stat for stat in stat_service.list_stats(conn, project_id=project_id)}
        keys = alert_service.alert_keys(conn, project_id=project_id, alert_id=wanted)
        events = alert_service.list_events(
            conn, project_id=project_id, alert_id=wanted, before=None, limit=EVENTS
        )
        silences = alert_service.list_silences(
            conn, project_id=project_id, active_at=now, before=None, limit=LISTED
        )
        channels = notifications.list_channels(
            conn, project_id=project_id, before=None, limit=LISTED
        )
        return (
            _line(row, stats),
            [key for key in keys if key.key],
            events,
            [item for item in silences if item.alert_id in (None, wanted)],
            [channel for channel in channels if channel.id in row.channel_ids],
        )

    line, keys, events, silences, channels = await pages.read(request, load)
    context = {
        "title": f"{line.row.name} · Alerts · Roost",
        "nav": "settings",
        "section": "alerts",
        "line": line,
        "alert": line.row,
        "keys": keys,
        "keyed": line.row.kind not in STAT_KINDS and line.row.kind != AlertKind.RUN,
        "events": events,
        "silences": silences,
        "channels": channels,
        "silence_choices": list(SILENCES),
    }
    return render(request, "settings_alert.html", context, viewer=viewer)


@router.post("/settings/alerts/{alert_id}/enabled")
async def set_enabled(request: Request, alert_id: str) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    project_id, wanted = viewer.project_id, params.record_id(alert_id, "alert")
    enabled = field(data, "enabled") == "yes"

    def job(tx: Any) -> AlertRow:
        current = alert_service.get_alert(tx.conn, project_id=project_id, alert_id=wanted)
        spec = replace(alert_service.AlertSpec.of(current), enabled=enabled)
        return alert_service.update_alert(
            tx, project_id=project_id, alert_id=wanted, spec=spec, now=now_ms()
        )

    row = await pages.store_of(request).write(job)
    message = f"Alert “{row.name}” {'enabled' if enabled else 'disabled'}."
    back = pages.back_to(field(data, "back"), "/settings/alerts")
    return pages.redirect(request, back, viewer=viewer, flash=message)


@router.post("/settings/alerts/{alert_id}/delete")
async def delete_alert(request: Request, alert_id: str) -> Response:
    viewer = await pages.viewer(request)
    await pages.form(request, viewer.session)
    viewer.require_edit()
    await pages.store_of(request).write(
        partial(
            alert_service.delete_alert,
            project_id=viewer.project_id,
            alert_id=params.record_id(alert_id, "alert"),
        )
    )
    return pages.redirect(request, "/settings/alerts", viewer=viewer, flash="Alert deleted.")


@router.post("/settings/alerts/{alert_id}/silences")
async def silence_alert(request: Request, alert_id: str) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    wanted = params.record_id(alert_id, "alert")
    chosen = field(data, "for")
    if chosen not in SILENCES:
        raise NotFound("no such silence length")
    now = now_ms()
    await pages.store_of(request).write(
        partial(
            alert_service.create_silence,
            project_id=viewer.project_id,
            alert_id=wanted,
            until=now + SILENCES[chosen],
            reason=field(data, "reason")[:1000],
            now=now,
        )
    )
    return pages.redirect(
        request, f"/settings/alerts/{wanted}", viewer=viewer, flash=f"Silenced for {chosen}."
    )


@router.post("/settings/alerts/{alert_id}/silences/{silence_id}/delete")
async def remove_silence(request: Request, alert_id: str, silence_id: str) -> Response:
    viewer = await pages.viewer(request)
    await pages.form(request, viewer.session)
    viewer.require_edit()
    wanted = params.record_id(alert_id, "alert")
    await pages.store_of(request).write(
        partial(
            alert_service.delete_silence,
            project_id=viewer.project_id,
            silence_id=params.record_id(silence_id, "silence"),
        )
    )
    return pages.redirect(
        request, f"/settings/alerts/{wanted}", viewer=viewer, flash="Silence removed."
    )
