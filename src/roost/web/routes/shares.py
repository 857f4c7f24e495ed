"""Public links: create and revoke them (signed-in), and the two public pages they open.

``/share/{token}`` (read-only page) and ``/share/{token}/embed`` (the chart alone) need no
sign-in and are the only pages any site may frame. Their charts read
``/share/{token}/data``, which serves only the stats the share covers. The SVG image at
``/share/{token}/chart.svg`` belongs to the shares API.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import now_ms
from roost.services import dashboards as dashboard_service
from roost.services import shares as share_service
from roost.services import stats as stat_service
from roost.services.shares import Share
from roost.web import charts, pages
from roost.web.charts import ChartRange
from roost.web.pages import PageRoute, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_ID = 2**63 - 1
MAX_TOKEN = 200


def _id(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise NotFound("not found")
    return int(raw)


@router.post("/shares")
async def create(request: Request) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    back = pages.back_to(field(data, "back"))
    board, stat = field(data, "dashboard_id"), field(data, "stat_id")
    await pages.store_of(request).write(
        partial(
            share_service.create_share,
            project_id=viewer.project_id,
            dashboard_id=_id(board) if board else None,
            stat_id=_id(stat) if stat and not board else None,
            now=now_ms(),
        )
    )
    return pages.redirect(
        request,
        back + "#sharing",
        viewer=viewer,
        flash="Public link created. Anyone with it can see this chart.",
    )


@router.post("/shares/{share_id}/revoke")
async def revoke(request: Request, share_id: str) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    await pages.store_of(request).write(
        partial(share_service.delete_share, project_id=viewer.project_id, share_id=_id(share_id))
    )
    back = pages.back_to(field(data, "back"))
    return pages.redirect(request, back + "#sharing", viewer=viewer, flash="Public link revoked.")


@dataclass(frozen=True, slots=True)
class SharedChart:
    stat_id: int
    title: str
    kind: str


@dataclass(frozen=True, slots=True)
class Shared:
    share: Share
    title: str
    charts: list[SharedChart]


def _shared(conn: Connection, token: str) -> Shared:
    share = share_service.resolve_share(conn, token) if len(token) <= MAX_TOKEN else None
    if share is None:
        raise NotFound("share not found")
    project_id = share.project_id
    if share.dashboard_id is not None:
        board = dashboard_service.get_dashboard(
            conn, project_id=project_id, dashboard_id=share.dashboard_id
        )
        stats = {row.id: row for row in stat_service.list_stats(conn, project_id=project_id)}
        shown = [
            SharedChart(
                panel.stat_id, panel.title or stats[panel.stat_id].name, stats[panel.stat_id].kind
            )
            for panel in board.panels
            if panel.stat_id in stats
        ]
        return Shared(share, board.name, shown)
    assert share.stat_id is not None
    stat = stat_service.get_stat(conn, project_id=project_id, stat_id=share.stat_id)
    return Shared(share, stat.name, [SharedChart(stat.id, stat.name, stat.kind)])


async def _public_page(request: Request, token: str, template: str) -> Response:
    shared = await pages.read(request, partial(_shared, token=token))
    chosen = ChartRange.from_params(request.query_params)
    if chosen.preset is None:  # public pages offer the presets only
        chosen = ChartRange.from_params({"res": chosen.resolution})
    context = {
        "title": f"{shared.title} · Roost",
        "shared": shared,
        "token": token,
        "range": chosen,
        "presets": charts.PRESETS,
    }
    return render(request, template, context, framable=True)


@router.get("/share/{token}")
async def public_page(request: Request, token: str) -> Response:
    return await _public_page(request, token, "share.html")


@router.get("/share/{token}/embed")
async def embed_page(request: Request, token: str) -> Response:
    return await _public_page(request, token, "embed.html")


@router.get("/share/{token}/data")
async def public_data(request: Request, token: str) -> Response:
    raw = request.query_params.get("stat", "")
    try:
        shared = await pages.read(request, partial(_shared, token=token))
        wanted = _id(raw)
        if wanted not in {chart.stat_id for chart in shared.charts}:
            raise NotFound("stat not shared")
        chosen = ChartRange.from_params(request.query_params)
        data = await pages.read(
            request,
            partial(
                charts.read_chart,
                project_id=shared.share.project_id,
                stat_id=wanted,
                chosen=chosen,
                now=now_ms(),
            ),
        )
    except NotFound:
        return JSONResponse({"error": "not found"}, status_code=404)
    except InvalidInput as exc:
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=422)
    return JSONResponse(
        charts.series_json(data),
        headers={"Cache-Control": "no-store"},
    )
