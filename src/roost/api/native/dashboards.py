"""``/api/v1/dashboards``: named, ordered sets of stat charts (read scope reads, write edits)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints
from starlette.requests import Request
from starlette.responses import Response

from roost.api.deps import get_store, parse_json_model
from roost.api.native.common import MAX_ID, Id, authorised, native_router, reading
from roost.api.responses import JSON
from roost.domain.errors import InvalidInput
from roost.domain.keys import Scope
from roost.domain.times import format_iso, now_ms
from roost.services import dashboards
from roost.services.dashboards import MAX_NAME_CHARS, MAX_PANELS, MAX_TITLE_CHARS, PanelSpec

router = native_router("dashboards")

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
]


class PanelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stat_id: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    title: Annotated[str, StringConstraints(max_length=MAX_TITLE_CHARS)] | None = None


Panels = Annotated[list[PanelIn], Field(max_length=MAX_PANELS)]


class DashboardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    panels: Panels = []


class DashboardUpdate(BaseModel):
    """Only the fields sent change; ``panels`` replaces the whole list (add, remove, reorder)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    panels: Panels | None = None


def specs(panels: list[PanelIn]) -> list[PanelSpec]:
    return [PanelSpec(stat_id=panel.stat_id, title=panel.title) for panel in panels]


def dashboard_public(board: dashboards.Dashboard) -> dict[str, Any]:
    return {
        "id": board.id,
        "name": board.name,
        "panels": [
            {"stat_id": p.stat_id, "title": p.title, "position": p.position} for p in board.panels
        ],
        "created_at": format_iso(board.created_at),
        "updated_at": format_iso(board.updated_at),
    }


@router.post("/dashboards", status_code=201)
async def create_dashboard(request: Request) -> JSON:
    """Make a dashboard (write scope); every panel's stat must be one of this project's."""
    principal = await authorised(request, Scope.WRITE)
    store = get_store(request)
    body = await parse_json_model(request, DashboardCreate, store.settings.max_body_bytes)
    board = await store.write(
        partial(
            dashboards.create_dashboard,
            project_id=principal.project_id,
            name=body.name,
            panels=specs(body.panels),
            now=now_ms(),
        )
    )
    return JSON(dashboard_public(board), status_code=201)


@router.get("/dashboards")
def list_dashboards(request: Request) -> JSON:
    """Every dashboard of the project with its panels, newest first (read scope)."""
    with reading(request) as (conn, principal):
        found = dashboards.list_dashboards(conn, project_id=principal.project_id)
    return JSON({"items": [dashboard_public(board) for board in found]})


@router.get("/dashboards/{dashboard_id}")
def get_dashboard(request: Request, dashboard_id: Id) -> JSON:
    with reading(request) as (conn, principal):
        board = dashboards.get_dashboard(
            conn, project_id=principal.project_id, dashboard_id=dashboard_id
        )
    return JSON(dashboard_public(board))


@router.patch("/dashboards/{dashboard_id}")
async def update_dashboard(request: Request, dashboard_id: Id) -> JSON:
    """Rename and/or replace the panels (write scope); a field left out keeps its value."""
    principal = await authorised(request, Scope.WRITE)
    store = get_store(request)
    body = await parse_json_model(request, DashboardUpdate, store.settings.max_body_bytes)
    for field in ("name", "panels"):
        # An explicit null is a mistake, not "leave it": say so rather than ignore it.
        if field in body.model_fields_set and getattr(body, field) is None:
            raise InvalidInput(field, "may not be null; leave the field out to keep it")
    board = await store.write(
        partial(
            dashboards.update_dashboard,
            project_id=principal.project_id,
            dashboard_id=dashboard_id,
            name=body.name,
            panels=None if body.panels is None else specs(body.panels),
            now=now_ms(),
        )
    )
    return JSON(dashboard_public(board))


@router.delete("/dashboards/{dashboard_id}", status_code=204)
async def delete_dashboard(request: Request, dashboard_id: Id) -> Response:
    """Delete a dashboard and its public shares (write scope)."""
    principal = await authorised(request, Scope.WRITE)
    await get_store(request).write(
        partial(
            dashboards.delete_dashboard,
            project_id=principal.project_id,
            dashboard_id=dashboard_id,
        )
    )
    return Response(status_code=204)
