"""HawkFlow processes and runs: the list, one process (timeline, durations, runs, metrics,
alerts), and one run with the exceptions and trace sessions that happened inside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.processes import ExceptionStatus, RunStatus
from roost.domain.times import now_ms
from roost.services import alerts as alert_service
from roost.services import exceptions as exception_service
from roost.services import processes as process_service
from roost.services.processes import ProcessSummary
from roost.storage.alerts import AlertRow
from roost.storage.runs import ProcessRow, RunRow
from roost.web import charts, links_to, pages, params, timeline
from roost.web.charts import ChartRange
from roost.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_PROCESSES = 200
RUNS_PER_PAGE = 50
# Open exception groups counted per process on the list (newest first).
MAX_OPEN_GROUPS = 2000
RUN_EXCEPTIONS = 100
STATUSES = tuple(status.value for status in RunStatus)


@dataclass(frozen=True, slots=True)
class ProcessLine:
    summary: ProcessSummary
    spark: str
    open_groups: int


@router.get("/processes")
async def process_list(request: Request) -> Response:
    viewer = await pages.viewer(request)
    name = params.text(request.query_params.get("q"))
    status = request.query_params.get("status", "")
    status = status if status in STATUSES else ""
    project_id, now = viewer.project_id, now_ms()

    def load(conn: Connection) -> list[ProcessLine]:
        found = process_service.list_processes(
            conn, project_id=project_id, name=name or None, before=None, limit=MAX_PROCESSES
        )
        if status:
            found = [s for s in found if s.last_run is not None and s.last_run.status == status]
        groups = exception_service.list_groups(
            conn,
            project_id=project_id,
            statuses=[ExceptionStatus.OPEN.value],
            process_name=None,
            before=None,
            limit=MAX_OPEN_GROUPS,
        )
        open_by_name: dict[str, int] = {}
        for group in groups:
            open_by_name[group.process_name] = open_by_name.get(group.process_name, 0) + 1
        return [
            ProcessLine(
                summary,
                charts.sparkline(
                    conn,
                    project_id=project_id,
                    stat_id=summary.process.duration_series_id,
                    now=now,
                ),
                open_by_name.get(summary.process.name, 0),
            )
            for summary in found
        ]

    lines = await pages.read(request, load)
    context = {
        "title": "Processes · Roost",
        "nav": "processes",
        "lines": lines,
        "q": name,
        "status": status,
        "statuses": STATUSES,
        "spark_width": charts.SPARK_WIDTH,
        "spark_height": charts.SPARK_HEIGHT,
        "limit": MAX_PROCESSES,
    }
    return render(request, "processes.html", context, viewer=viewer)


def _alerts_of(alerts: list[AlertRow], process: ProcessRow, series_ids: set[int]) -> list[AlertRow]:
    """Run and exception alerts naming this process, and alerts on its series."""
    return [
        alert
        for alert in alerts
        if alert.definition.get("process") == process.name or alert.stat_id in series_ids
    ]


@router.get("/processes/{process_id}")
async def process_page(request: Request, process_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, params.record_id(process_id, "process")
    before = params.before(request.query_params.get("before"))
    chosen = ChartRange.from_params(request.query_params)
    now = now_ms()

    def load(conn: Connection) -> dict[str, Any]:
        process = process_service.get_process(conn, project_id=project_id, process_id=wanted)
        runs = process_service.list_runs(
            conn,
            project_id=project_id,
            process_id=wanted,
            statuses=None,
            start=None,
            end=None,
            before=before,
            limit=RUNS_PER_PAGE + 1,
        )
        series = process_service.metric_series_of(conn, project_id=project_id, process_id=wanted)
        alerts = alert_service.list_alerts(
            conn, project_id=project_id, before=None, limit=500, states=None
        )
        groups = exception_service.list_groups(
            conn,
            project_id=project_id,
            statuses=None,
            process_name=process.name,
            before=None,
            limit=20,
        )
        return {
            "process": process,
            "summary": process_service.summarise(conn, process),
            "runs": runs[:RUNS_PER_PAGE],
            "older": runs[RUNS_PER_PAGE - 1].id if len(runs) > RUNS_PER_PAGE else None,
            "metrics": series[:-2],
            "alerts": _alerts_of(alerts, process, {row.id for row in series}),
            "groups": groups,
        }

    context = await pages.read(request, load)
    process: ProcessRow = context["process"]
    context.update(
        {
            "title": f"{process.name} · Processes · Roost",
            "nav": "processes",
            "timeline": timeline.run_timeline(context["runs"], now),
            "timeline_width": timeline.WIDTH,
            "paged": before is not None,
            "range": chosen,
            "presets": charts.PRESETS,
            "resolutions": charts.RESOLUTIONS,
            "range_error": charts.check_range(chosen, now),
        }
    )
    return render(request, "process.html", context, viewer=viewer)


@router.get("/runs/{run_id}")
async def run_page(request: Request, run_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, params.record_id(run_id, "run")
    now = now_ms()

    def load(conn: Connection) -> dict[str, Any]:
        run = process_service.get_run(conn, project_id=project_id, run_id=wanted)
        process = process_service.get_process(
            conn, project_id=project_id, process_id=run.process_id
        )
        occurrences = exception_service.occurrences_in_run(
            conn, project_id=project_id, run_id=run.id, limit=RUN_EXCEPTIONS
        )
        groups = {
            group_id: exception_service.get_group(conn, project_id=project_id, group_id=group_id)
            for group_id in {row.group_id for row in occurrences}
        }
        return {
            "run": run,
            "process": process,
            "occurrences": occurrences,
            "groups": groups,
            "sessions": links_to.sessions_of_run(
                conn, project_id=project_id, run=run, process=process, now=now
            ),
        }

    context = await pages.read(request, load)
    run: RunRow = context["run"]
    context.update(
        {
            "title": f"Run {run.uid or run.id} · {context['process'].name} · Roost",
            "nav": "processes",
        }
    )
    return render(request, "run.html", context, viewer=viewer)
