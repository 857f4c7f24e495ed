"""``/api/v1/exceptions``: exception groups, their occurrences, and triage."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request

from roost.api.deps import get_store, parse_json_model
from roost.api.native.common import (
    Before,
    Id,
    Limit,
    authorised,
    choices,
    native_router,
    page,
    reading,
)
from roost.api.native.processes import occurrence_public
from roost.api.responses import JSON
from roost.domain.keys import Scope
from roost.domain.processes import ExceptionStatus
from roost.domain.times import format_iso
from roost.services import exceptions as exception_service
from roost.storage.exceptions import GroupRow

router = native_router("exceptions")


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ExceptionStatus


def group_public(row: GroupRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "process": row.process_name,
        "type": row.type,
        "message": row.message,
        "fingerprint": row.fingerprint,
        "status": row.status,
        "count": row.count,
        "first_seen": format_iso(row.first_seen),
        "last_seen": format_iso(row.last_seen),
    }


@router.get("/exceptions")
def list_groups(
    request: Request,
    status: Annotated[
        str | None, Query(description="Comma-separated: open, resolved, ignored.")
    ] = None,
    process: Annotated[str | None, Query(max_length=250, description="Process name.")] = None,
    limit: Limit = 50,
    before: Before = None,
) -> JSON:
    """Exception groups, newest first."""
    statuses = choices(status, "status", (item.value for item in ExceptionStatus))
    with reading(request) as (conn, principal):
        found = exception_service.list_groups(
            conn,
            project_id=principal.project_id,
            statuses=statuses,
            process_name=process,
            before=before,
            limit=limit + 1,
        )
    return JSON(page([group_public(row) for row in found], limit))


@router.get("/exceptions/{group_id}")
def get_group(request: Request, group_id: Id) -> JSON:
    """One group with its latest occurrence (the full traceback text)."""
    with reading(request) as (conn, principal):
        project_id = principal.project_id
        group = exception_service.get_group(conn, project_id=project_id, group_id=group_id)
        latest = exception_service.list_occurrences(
            conn, project_id=project_id, group_id=group_id, before=None, limit=1
        )
    return JSON({**group_public(group), "latest": occurrence_public(latest[0]) if latest else None})


@router.get("/exceptions/{group_id}/occurrences")
def list_occurrences(
    request: Request, group_id: Id, limit: Limit = 50, before: Before = None
) -> JSON:
    with reading(request) as (conn, principal):
        found = exception_service.list_occurrences(
            conn, project_id=principal.project_id, group_id=group_id, before=before, limit=limit + 1
        )
    return JSON(page([occurrence_public(row) for row in found], limit))


@router.patch("/exceptions/{group_id}")
async def update_group(request: Request, group_id: Id) -> JSON:
    """Resolve, reopen or ignore a group (write scope). A resolved group reopens by itself
    on its next occurrence; an ignored one stays ignored."""
    principal = await authorised(request, Scope.WRITE)
    store = get_store(request)
    change = await parse_json_model(request, GroupUpdate, store.settings.max_body_bytes)
    row = await store.write(
        partial(
            exception_service.set_status,
            project_id=principal.project_id,
            group_id=group_id,
            status=change.status.value,
        )
    )
    return JSON(group_public(row))
