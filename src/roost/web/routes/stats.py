"""One stat: the chart page, its data as JSON for the chart, its CSV, and annotations."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import now_ms, parse_time
from roost.services import annotations as annotation_service
from roost.services import dashboards as dashboard_service
from roost.services import shares as share_service
from roost.services import stats as stat_service
from roost.web import charts, links, pages
from roost.web.charts import ChartRange
from roost.web.pages import PageRoute, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_STAT_ID = 2**63 - 1


def _stat_id(raw: str) -> int:
    # Ids outside the database's range are simply not there.
    if not raw.isdigit() or not 0 < int(raw) <= MAX_STAT_ID:
        raise NotFound("stat not found")
    return int(raw)


@router.get("/stats/{stat_id}")
async def stat_page(request: Request, stat_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, _stat_id(stat_id)
    chosen = ChartRange.from_params(request.query_params)
    now = now_ms()

    def load(conn: Connection) -> dict[str, Any]:
        stat = stat_service.get_stat(conn, project_id=project_id, stat_id=wanted)
        shares = [
            share
            for share in share_service.list_shares(conn, project_id=project_id)
            if share.stat_id == wanted
        ]
        return {
            "stat": stat,
            "dashboards": dashboard_service.list_dashboards(conn, project_id=project_id),
            "shares": shares,
        }

    context = await pages.read(request, load)
    context.update(
        {
            "title": f"{context['stat'].name} · Roost",
            "nav": "home",
            "range": chosen,
            "presets": charts.PRESETS,
            "resolutions": charts.RESOLUTIONS,
            "range_error": charts.check_range(chosen, now),
            "share_links": [
                (share, links.urls(request, share.token)) for share in context["shares"]
            ],
        }
    )
    return render(request, "stat.html", context, viewer=viewer)


@router.get("/stats/{stat_id}/data")
async def stat_data(request: Request, stat_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, _stat_id(stat_id)
    chosen = ChartRange.from_params(request.query_params)
    now = now_ms()
    try:
        data = await pages.read(
            request,
            partial(
                charts.read_chart, project_id=project_id, stat_id=wanted, chosen=chosen, now=now
            ),
        )
    except InvalidInput as exc:
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=422)
    except NotFound:
        return JSONResponse({"error": "stat not found"}, status_code=404)
    return JSONResponse(charts.series_json(data), headers={"Cache-Control": "no-store"})


@router.get("/stats/{stat_id}/export.csv")
async def stat_csv(request: Request, stat_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, _stat_id(stat_id)
    chosen = ChartRange.from_params(request.query_params)
    try:
        data = await pages.read(
            request,
            partial(
                charts.read_chart,
                project_id=project_id,
                stat_id=wanted,
                chosen=chosen,
                now=now_ms(),
            ),
        )
    except InvalidInput as exc:
        return pages.error_page(request, 422, str(exc))
    return Response(
        charts.series_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="stat-{wanted}.csv"'},
    )


@router.post("/annotations")
async def add_annotation(request: Request) -> Response:
    """A note on the timeline, on one stat or (no stat) on every chart of the project."""
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_edit()
    back = pages.back_to(field(data, "back"))
    try:
        text = annotation_service.validate_text(field(data, "text"))
        raw_time = field(data, "ts")
        ts = parse_time(raw_time) if raw_time else now_ms()
    except (InvalidInput, ValueError) as exc:
        return pages.redirect(request, back, viewer=viewer, flash=f"Annotation not added: {exc}")
    stat = field(data, "stat_id")
    series_ids = [_stat_id(stat)] if stat else []
    try:
        await pages.store_of(request).write(
            partial(
                annotation_service.add_annotation,
                project_id=viewer.project_id,
                ts=ts,
                text=text,
                series_ids=series_ids,
                now=now_ms(),
            )
        )
    except InvalidInput:
        raise NotFound("stat not found") from None
    return pages.redirect(request, back, viewer=viewer, flash="Annotation added.")
