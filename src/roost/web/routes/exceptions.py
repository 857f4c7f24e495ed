"""Exception groups: the list (sortable, filterable), one group (occurrences over time, the
latest traceback laid out, recent occurrences) and its triage buttons."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.processes import ExceptionStatus
from roost.domain.times import now_ms
from roost.services import exceptions as exception_service
from roost.services import processes as process_service
from roost.storage.exceptions import GroupRow
from roost.web import frames, pages, params, timeline
from roost.web.pages import PageRoute, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_GROUPS = 500
RECENT = 20
# Occurrences read for the chart; a group seen more often shows its newest ones.
CHART_OCCURRENCES = 5000
STATUSES = tuple(status.value for status in ExceptionStatus)
SORTS: dict[str, tuple[str, bool]] = {
    "last_seen": ("last_seen", True),
    "first_seen": ("first_seen", True),
    "count": ("count", True),
    "type": ("type", False),
    "process": ("process_name", False),
}


def _matching(rows: list[GroupRow], text: str) -> list[GroupRow]:
    needle = text.lower()
    if not needle:
        return rows
    return [row for row in rows if needle in row.type.lower() or needle in row.message.lower()]


@router.get("/exceptions")
async def group_list(request: Request) -> Response:
    viewer = await pages.viewer(request)
    query = request.query_params
    status = query.get("status", "open")
    status = status if status in (*STATUSES, "all") else "open"
    process = params.text(query.get("process"), 250)
    text = params.text(query.get("q"))
    sort = query.get("sort", "last_seen")
    sort = sort if sort in SORTS else "last_seen"
    project_id = viewer.project_id

    def load(conn: Connection) -> list[GroupRow]:
        return exception_service.list_groups(
            conn,
            project_id=project_id,
            statuses=None if status == "all" else [status],
            process_name=process or None,
            before=None,
            limit=MAX_GROUPS,
        )

    rows = _matching(await pages.read(request, load), text)
    column, descending = SORTS[sort]
    rows.sort(key=lambda row: getattr(row, column), reverse=descending)
    context = {
        "title": "Exceptions · Roost",
        "nav": "exceptions",
        "groups": rows,
        "status": status,
        "statuses": STATUSES,
        "process": process,
        "q": text,
        "sort": sort,
        "sorts": list(SORTS),
        "limit": MAX_GROUPS,
    }
    return render(request, "exceptions.html", context, viewer=viewer)


@router.get("/exceptions/{group_id}")
async def group_page(request: Request, group_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, params.record_id(group_id, "exception group")
    now = now_ms()

    def load(conn: Connection) -> dict[str, Any]:
        group = exception_service.get_group(conn, project_id=project_id, group_id=wanted)
        recent = exception_service.list_occurrences(
            conn, project_id=project_id, group_id=wanted, before=None, limit=CHART_OCCURRENCES
        )
        process_ids = {row.process_id for row in recent[:RECENT]}
        names = {
            pid: process_service.get_process(conn, project_id=project_id, process_id=pid)
            for pid in process_ids
        }
        return {"group": group, "recent": recent, "processes": names}

    context = await pages.read(request, load)
    recent = context["recent"]
    latest = recent[0] if recent else None
    context.update(
        {
            "title": f"{context['group'].type} · Exceptions · Roost",
            "nav": "exceptions",
            "latest": latest,
            "layout": frames.lay_out(latest.text) if latest else None,
            "recent": recent[:RECENT],
            "histogram": timeline.occurrences_histogram([row.occurred_at for row in recent], now),
            "chart_width": timeline.WIDTH,
            "statuses": STATUSES,
        }
    )
    return render(request, "exception.html", context, viewer=viewer)


@router.post("/exceptions/{group_id}/status")
async def set_status(request: Request, group_id: str) -> Response:
    """Resolve, reopen or ignore (members and owners); back to the group with a message."""
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    wanted = params.record_id(group_id, "exception group")
    status = field(data, "status")
    if status not in STATUSES:
        return pages.redirect(
            request, f"/exceptions/{wanted}", viewer=viewer, flash="Unknown status."
        )
    await pages.store_of(request).write(
        partial(
            exception_service.set_status,
            project_id=viewer.project_id,
            group_id=wanted,
            status=status,
        )
    )
    said = {"open": "Reopened.", "resolved": "Resolved.", "ignored": "Ignored."}[status]
    return pages.redirect(request, f"/exceptions/{wanted}", viewer=viewer, flash=said)
