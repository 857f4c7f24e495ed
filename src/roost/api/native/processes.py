"""``/api/v1/processes`` and ``/api/v1/runs``: HawkFlow-style processes, runs and metrics."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Query
from starlette.requests import Request

from roost.api.native.common import Before, Id, Limit, choices, native_router, page, reading
from roost.api.responses import JSON
from roost.domain.errors import InvalidInput
from roost.domain.processes import RunStatus
from roost.domain.times import format_iso, now_ms, parse_time
from roost.services import processes
from roost.services.processes import ProcessSummary
from roost.storage import exceptions as exception_store
from roost.storage import points as point_store
from roost.storage.exceptions import OccurrenceRow
from roost.storage.runs import ProcessRow, RunRow
from roost.storage.series import SeriesRow

router = native_router("processes")

# A run's page shows at most this many metric points and exceptions recorded during it.
RUN_DETAIL_LIMIT = 1000


def _iso(ms: int | None) -> str | None:
    return format_iso(ms) if ms is not None else None


def run_public(row: RunRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "process_id": row.process_id,
        "uid": row.uid,
        "status": row.status,
        "started_at": _iso(row.started_at),
        "ended_at": _iso(row.ended_at),
        "duration_ms": row.duration_ms,
        "info": row.info,
    }


def process_public(row: ProcessRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "meta": row.meta,
        "created_at": format_iso(row.created_at),
        "duration_series_id": row.duration_series_id,
        "exceptions_series_id": row.exceptions_series_id,
    }


def summary_public(summary: ProcessSummary) -> dict[str, Any]:
    return {
        **process_public(summary.process),
        "last_run": run_public(summary.last_run) if summary.last_run else None,
        "run_count": summary.run_count,
        "open_runs": summary.open_runs,
        "duration_p50_ms": summary.p50_ms,
        "duration_p95_ms": summary.p95_ms,
    }


def series_public(row: SeriesRow, role: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "type": row.kind,
        "role": role,
        "labels": orjson.loads(row.labels_key) if row.labels_key else {},
        "last_value": row.last_value,
        "last_received_at": _iso(row.last_ts),
        # Buckets at any resolution, with the same roll-ups as every stat.
        "data_url": f"/v1/stats/{row.id}/data",
    }


def occurrence_public(row: OccurrenceRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "group_id": row.group_id,
        "process_id": row.process_id,
        "run_id": row.run_id,
        "occurred_at": format_iso(row.occurred_at),
        "text": row.text,
    }


def _optional_time(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None


NameFilter = Annotated[str | None, Query(max_length=250, description="Part of the name.")]
StatusFilter = Annotated[
    str | None,
    Query(description="Comma-separated: running, ok, failed, orphan_end, abandoned."),
]
TimeFilter = Annotated[
    str | None, Query(description="ISO 8601 or unix seconds; on the run's start (or end).")
]


@router.get("/processes")
def list_processes(
    request: Request, name: NameFilter = None, limit: Limit = 50, before: Before = None
) -> JSON:
    """Processes, newest first, each with its last run, run counts and duration percentiles."""
    with reading(request) as (conn, principal):
        found = processes.list_processes(
            conn, project_id=principal.project_id, name=name, before=before, limit=limit + 1
        )
        return JSON(page([summary_public(item) for item in found], limit))


@router.get("/processes/{process_id}")
def get_process(request: Request, process_id: Id) -> JSON:
    with reading(request) as (conn, principal):
        row = processes.get_process(conn, project_id=principal.project_id, process_id=process_id)
        return JSON(summary_public(processes.summarise(conn, row)))


@router.get("/processes/{process_id}/runs")
def list_runs(
    request: Request,
    process_id: Id,
    status: StatusFilter = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: TimeFilter = None,
    limit: Limit = 50,
    before: Before = None,
) -> JSON:
    """The process's runs, newest first; ``from``/``to`` bound the start (an orphan's end)."""
    statuses = choices(status, "status", (item.value for item in RunStatus))
    start, end = _optional_time(from_, "from"), _optional_time(to, "to")
    with reading(request) as (conn, principal):
        found = processes.list_runs(
            conn,
            project_id=principal.project_id,
            process_id=process_id,
            statuses=statuses,
            start=start,
            end=end,
            before=before,
            limit=limit + 1,
        )
        return JSON(page([run_public(row) for row in found], limit))


@router.get("/processes/{process_id}/series")
def list_series(request: Request, process_id: Id) -> JSON:
    """The process's metric series, its run-duration series and its exception-count series."""
    with reading(request) as (conn, principal):
        found = processes.metric_series_of(
            conn, project_id=principal.project_id, process_id=process_id
        )
    process_series = found[-2:]
    items = [series_public(row, "metric") for row in found[:-2]]
    items.append(series_public(process_series[0], "run_duration"))
    items.append(series_public(process_series[1], "exceptions"))
    return JSON({"items": items})


@router.get("/runs/{run_id}")
def get_run(request: Request, run_id: Id) -> JSON:
    """One run with the metric points and exceptions its process recorded while it ran."""
    with reading(request) as (conn, principal):
        project_id = principal.project_id
        run = processes.get_run(conn, project_id=project_id, run_id=run_id)
        process = processes.get_process(conn, project_id=project_id, process_id=run.process_id)
        start = run.started_at if run.started_at is not None else run.seen_at
        end = run.ended_at if run.ended_at is not None else now_ms()
        metric_rows = processes.metric_series_of(
            conn, project_id=project_id, process_id=process.id
        )[:-2]
        names = {row.id: row.name for row in metric_rows}
        points = point_store.read_points(
            conn,
            project_id=project_id,
            series_ids=list(names),
            start=start,
            end=end,
            limit=RUN_DETAIL_LIMIT,
        )
        occurrences = exception_store.list_occurrences(
            conn,
            project_id=project_id,
            process_id=process.id,
            start=start,
            end=end,
            limit=RUN_DETAIL_LIMIT,
        )
    return JSON(
        {
            **run_public(run),
            "process": process_public(process),
            "metrics": [
                {
                    "series_id": series_id,
                    "name": names[series_id],
                    "time": format_iso(ts),
                    "value": value,
                }
                for series_id, ts, value in points
            ],
            "exceptions": [occurrence_public(row) for row in occurrences],
        }
    )
