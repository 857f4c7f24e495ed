"""The project home: the stats list (search, kind, sparkline, last value), or, for a project
with no data yet, how to send a first point."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.stats import Kind
from roost.domain.times import now_ms
from roost.services import stats as stat_service
from roost.storage.series import SeriesRow
from roost.web import charts, overview, pages
from roost.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Rows drawn with a sparkline; a longer list is narrowed by the search box.
MAX_ROWS = 200


@dataclass(frozen=True, slots=True)
class StatLine:
    stat: SeriesRow
    spark: str  # SVG polyline points, "" when nothing arrived in the last 24 h


def _matching(rows: list[SeriesRow], text: str, kind: str) -> list[SeriesRow]:
    needle = text.lower()
    return [
        row
        for row in rows
        if (not needle or needle in row.name.lower()) and (not kind or row.kind == kind)
    ]


@router.get("/")
async def home(request: Request) -> Response:
    viewer = await pages.viewer(request)
    if viewer.membership is None:
        return render(request, "no_project.html", {"title": "Roost"}, viewer=viewer)
    text = request.query_params.get("q", "").strip()[:200]
    kind = request.query_params.get("kind", "")
    kind = kind if kind in {k.value for k in Kind} else ""
    project_id, now = viewer.project_id, now_ms()

    partial_list = bool(request.headers.get("hx-request"))

    def load(conn: Connection) -> tuple[int, list[StatLine], overview.Overview | None]:
        every = stat_service.list_stats(conn, project_id=project_id)
        shown = _matching(every, text, kind)[:MAX_ROWS]
        lines = [
            StatLine(row, charts.sparkline(conn, project_id=project_id, stat_id=row.id, now=now))
            for row in shown
        ]
        # The search box's partial updates need the list alone.
        found = None if partial_list else overview.read(conn, project_id=project_id, now=now)
        return len(every), lines, found

    total, lines, summary = await pages.read(request, load)
    context = {
        "title": f"{viewer.membership.project} · Roost",
        "nav": "home",
        "total": total,
        "lines": lines,
        "overview": summary,
        "q": text,
        "kind": kind,
        "spark_width": charts.SPARK_WIDTH,
        "spark_height": charts.SPARK_HEIGHT,
        "base_url": str(request.base_url).rstrip("/"),
    }
    # htmx asks for the list alone while the user types in the search box.
    name = "_stat_list.html" if partial_list else "home.html"
    return render(request, name, context, viewer=viewer)
