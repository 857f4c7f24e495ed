"""Dashboards: list and create, then one page to view and edit (rename, add, remove and
reorder charts), with one time range for every chart and a refresh every 30 seconds."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import now_ms
from roost.services import dashboards as dashboard_service
from roost.services import shares as share_service
from roost.services import stats as stat_service
from roost.services.dashboards import Dashboard, PanelSpec
from roost.web import charts, links, pages
from roost.web.charts import ChartRange
from roost.web.pages import PageRoute, Viewer, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_ID = 2**63 - 1


def _id(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise NotFound("not found")
    return int(raw)


@router.get("/dashboards")
async def dashboard_list(request: Request) -> Response:
    viewer = await pages.viewer(request)
    project_id = viewer.project_id

    def load(conn: Connection) -> dict[str, Any]:
        return {
            "dashboards": dashboard_service.list_dashboards(conn, project_id=project_id),
            "stats": stat_service.list_stats(conn, project_id=project_id),
        }

    context = await pages.read(request, load)
    context.update({"title": "Dashboards · Roost", "nav": "dashboards"})
    return render(request, "dashboards.html", context, viewer=viewer)


@router.post("/dashboards")
async def create(request: Request) -> Response:
    """A new dashboard, with the stat of the form's ``stat_id`` as its first chart if given."""
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    stat = field(data, "stat_id")
    panels = [PanelSpec(_id(stat), None)] if stat else []
    try:
        made: Dashboard = await pages.store_of(request).write(
            partial(
                dashboard_service.create_dashboard,
                project_id=viewer.project_id,
                name=field(data, "name"),
                panels=panels,
                now=now_ms(),
            )
        )
    except InvalidInput as exc:
        back = pages.back_to(field(data, "back"), "/dashboards")
        return pages.redirect(request, back, viewer=viewer, flash=f"Not created: {exc}")
    return pages.redirect(
        request, f"/dashboards/{made.id}", viewer=viewer, flash=f"Dashboard “{made.name}” created."
    )


@router.get("/dashboards/{dashboard_id}")
async def dashboard_page(request: Request, dashboard_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, _id(dashboard_id)
    chosen = ChartRange.from_params(request.query_params)

    def load(conn: Connection) -> dict[str, Any]:
        board = dashboard_service.get_dashboard(conn, project_id=project_id, dashboard_id=wanted)
        stats = stat_service.list_stats(conn, project_id=project_id)
        shares = [
            share
            for share in share_service.list_shares(conn, project_id=project_id)
            if share.dashboard_id == wanted
        ]
        return {"board": board, "stats": stats, "shares": shares}

    context = await pages.read(request, load)
    names = {stat.id: stat.name for stat in context["stats"]}
    context.update(
        {
            "title": f"{context['board'].name} · Roost",
            "nav": "dashboards",
            "names": names,
            "kinds": {stat.id: stat.kind for stat in context["stats"]},
            "range": chosen,
            "presets": charts.PRESETS,
            "resolutions": charts.RESOLUTIONS,
            "range_error": charts.check_range(chosen, now_ms()),
            "share_links": [(s, links.urls(request, s.token)) for s in context["shares"]],
        }
    )
    return render(request, "dashboard.html", context, viewer=viewer)


async def _edit(
    request: Request,
    viewer: Viewer,
    wanted: int,
    *,
    name: str | None,
    panels: list[PanelSpec] | None,
) -> Dashboard:
    return await pages.store_of(request).write(  # type: ignore[no-any-return]
        partial(
            dashboard_service.update_dashboard,
            project_id=viewer.project_id,
            dashboard_id=wanted,
            name=name,
            panels=panels,
            now=now_ms(),
        )
    )


async def _current(request: Request, viewer: Viewer, wanted: int) -> Dashboard:
    project_id = viewer.project_id
    return await pages.read(
        request,
        partial(dashboard_service.get_dashboard, project_id=project_id, dashboard_id=wanted),
    )


def _specs(board: Dashboard) -> list[PanelSpec]:
    return [PanelSpec(panel.stat_id, panel.title) for panel in board.panels]


@router.post("/dashboards/{dashboard_id}/edit")
async def edit(request: Request, dashboard_id: str) -> Response:
    """One endpoint for every change, named by the submit button's ``action`` value:
    rename, add, remove-N, up-N, down-N (N the panel's position)."""
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    wanted = _id(dashboard_id)
    board = await _current(request, viewer, wanted)
    action = field(data, "action")
    back = pages.back_to(field(data, "back"), f"/dashboards/{wanted}")
    panels = _specs(board)
    name: str | None = None
    verb, _, raw_index = action.partition("-")
    index = int(raw_index) if raw_index.isdigit() else -1
    if verb == "rename":
        name = field(data, "name")
        message = "Renamed."
    elif verb == "add":
        title = field(data, "title") or None
        panels.append(PanelSpec(_id(field(data, "stat_id") or "0"), title))
        message = "Chart added."
    elif verb in ("remove", "up", "down") and 0 <= index < len(panels):
        if verb == "remove":
            panels.pop(index)
            message = "Chart removed."
        else:
            other = index - 1 if verb == "up" else index + 1
            if 0 <= other < len(panels):
                panels[index], panels[other] = panels[other], panels[index]
            message = "Chart moved."
    else:
        return pages.redirect(request, back, viewer=viewer, flash="Nothing changed.")
    try:
        await _edit(request, viewer, wanted, name=name, panels=None if verb == "rename" else panels)
    except InvalidInput as exc:
        return pages.redirect(request, back, viewer=viewer, flash=f"Not changed: {exc}")
    return pages.redirect(request, back, viewer=viewer, flash=message)


@router.post("/dashboards/{dashboard_id}/delete")
async def delete(request: Request, dashboard_id: str) -> Response:
    viewer = await pages.viewer(request)
    await pages.form(request, viewer.session)
    viewer.require_edit()
    await pages.store_of(request).write(
        partial(
            dashboard_service.delete_dashboard,
            project_id=viewer.project_id,
            dashboard_id=_id(dashboard_id),
        )
    )
    return pages.redirect(request, "/dashboards", viewer=viewer, flash="Dashboard deleted.")


@router.post("/stats/{stat_id}/add-to-dashboard")
async def add_to_dashboard(request: Request, stat_id: str) -> Response:
    """The stat page's "add to dashboard": to an existing one, or to a new one."""
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    stat = _id(stat_id)
    target = field(data, "dashboard_id")
    if target:
        wanted = _id(target)
        board = await _current(request, viewer, wanted)
        try:
            await _edit(
                request, viewer, wanted, name=None, panels=[*_specs(board), PanelSpec(stat)]
            )
        except InvalidInput as exc:
            return pages.redirect(
                request, f"/stats/{stat}", viewer=viewer, flash=f"Not added: {exc}"
            )
        return pages.redirect(request, f"/dashboards/{wanted}", viewer=viewer, flash="Chart added.")
    try:
        made: Dashboard = await pages.store_of(request).write(
            partial(
                dashboard_service.create_dashboard,
                project_id=viewer.project_id,
                name=field(data, "name") or "New dashboard",
                panels=[PanelSpec(stat)],
                now=now_ms(),
            )
        )
    except InvalidInput as exc:
        return pages.redirect(request, f"/stats/{stat}", viewer=viewer, flash=f"Not added: {exc}")
    return pages.redirect(
        request, f"/dashboards/{made.id}", viewer=viewer, flash="Dashboard created."
    )
