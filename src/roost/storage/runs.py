"""Processes and runs: the SQL behind HawkFlow-style run monitoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    and_,
    bindparam,
    case,
    func,
    select,
    update,
)

from roost.domain.processes import CLOSED_STATUSES, RunStatus
from roost.storage import dialects
from roost.storage.schema import process_metrics, processes, runs, series


@dataclass(frozen=True, slots=True)
class ProcessRow:
    id: int
    project_id: int
    name: str
    meta: str
    duration_series_id: int
    exceptions_series_id: int
    created_at: int


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    project_id: int
    process_id: int
    uid: str
    status: str
    started_at: int | None
    ended_at: int | None
    duration_ms: int | None
    info: str | None
    seen_at: int


def _process(row: RowMapping) -> ProcessRow:
    return ProcessRow(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        meta=row["meta"],
        duration_series_id=row["duration_series_id"],
        exceptions_series_id=row["exceptions_series_id"],
        created_at=row["created_at"],
    )


def _run(row: RowMapping) -> RunRow:
    return RunRow(
        id=row["id"],
        project_id=row["project_id"],
        process_id=row["process_id"],
        uid=row["uid"],
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_ms=row["duration_ms"],
        info=row["info"],
        seen_at=row["seen_at"],
    )


# -- processes ---------------------------------------------------------------------------

# Driver-level: every HawkFlow transaction looks its processes up (see ``driver_rows``).
_PROCESS_BY_IDENT = (
    "SELECT id, project_id, name, meta, duration_series_id, exceptions_series_id, created_at "
    "FROM processes WHERE project_id = ? AND ident = ?"
)


def find_process(conn: Connection, *, project_id: int, ident: str) -> ProcessRow | None:
    rows = dialects.driver_rows(conn, _PROCESS_BY_IDENT, (project_id, ident))
    return ProcessRow(*rows[0]) if rows else None


def insert_process(conn: Connection, values: dict[str, Any]) -> None:
    """Insert if absent: a concurrent node creating the same process wins harmlessly."""
    row = {**values, "id": dialects.next_id(conn, "processes")}
    dialects.insert_ignoring_conflicts(conn, processes, [row])


def get_process(conn: Connection, *, project_id: int, process_id: int) -> ProcessRow | None:
    found = (
        conn.execute(
            select(processes).where(
                processes.c.project_id == project_id, processes.c.id == process_id
            )
        )
        .mappings()
        .first()
    )
    return _process(found) if found else None


def list_processes(
    conn: Connection, *, project_id: int, name: str | None, before: int | None, limit: int
) -> list[ProcessRow]:
    """Newest first by id; ``name`` matches a substring, case-insensitively."""
    query = select(processes).where(processes.c.project_id == project_id)
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(processes.c.name.ilike(f"%{escaped}%", escape="\\"))
    if before is not None:
        query = query.where(processes.c.id < before)
    rows = conn.execute(query.order_by(processes.c.id.desc()).limit(limit)).mappings()
    return [_process(row) for row in rows]


def link_metric_series(
    conn: Connection, *, project_id: int, process_id: int, series_id: int
) -> None:
    dialects.insert_ignoring_conflicts(
        conn,
        process_metrics,
        [{"project_id": project_id, "process_id": process_id, "series_id": series_id}],
    )


def metric_series_ids(conn: Connection, *, project_id: int, process_id: int) -> list[int]:
    rows = conn.execute(
        select(process_metrics.c.series_id)
        .join(
            series,
            and_(
                series.c.project_id == process_metrics.c.project_id,
                series.c.id == process_metrics.c.series_id,
            ),
        )
        .where(
            process_metrics.c.project_id == project_id,
            process_metrics.c.process_id == process_id,
        )
        .order_by(series.c.name)
    ).scalars()
    return list(rows)


# -- runs --------------------------------------------------------------------------------

# The statements every start and end runs, at driver level (dialects.driver_rows): the
# writer thread spends more time in SQLAlchemy's execute than in SQLite for statements this
# small. LIFO order: after a lost end, the next start/end pair still pairs up correctly.
_OPEN_RUN_WITH_UID = (
    "SELECT id, started_at, exception_count FROM runs"
    " WHERE project_id = ? AND process_id = ? AND status = 'running' AND uid = ?"
    " ORDER BY started_at DESC, id DESC LIMIT 1"
)
_OPEN_RUN_ANY_UID = (
    "SELECT id, started_at, exception_count FROM runs"
    " WHERE project_id = ? AND process_id = ? AND status = 'running'"
    " ORDER BY started_at DESC, id DESC LIMIT 1"
)
# A start, unless an identical start is still open from within the retry window (that is a
# client re-sending after a timeout): the check and the insert in one statement.
_START_RUN = (
    "INSERT INTO runs (project_id, id, process_id, uid, status, started_at, ended_at,"
    " duration_ms, info, exception_count, seen_at)"
    " SELECT ?, ?, ?, ?, 'running', ?, NULL, NULL, NULL, 0, ?"
    " WHERE NOT EXISTS (SELECT 1 FROM runs WHERE project_id = ? AND process_id = ?"
    " AND status = 'running' AND uid = ? AND started_at >= ?)"
)
_INSERT_RUN = (
    "INSERT INTO runs (project_id, id, process_id, uid, status, started_at, ended_at,"
    " duration_ms, info, exception_count, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
)
# Find and close the newest open run in one statement. "failed" when an exception was
# counted on it; the outer status check keeps a concurrent node's end from closing it twice.
_CLOSE_NEWEST = (
    "UPDATE runs SET status = CASE WHEN exception_count > 0 THEN 'failed' ELSE 'ok' END,"
    " ended_at = ?, duration_ms = CASE WHEN ? < started_at THEN 0 ELSE ? - started_at END,"
    " info = ?"
    " WHERE project_id = ? AND status = 'running' AND id = ("
    "SELECT id FROM runs WHERE project_id = ? AND process_id = ? AND status = 'running'{uid}"
    " ORDER BY started_at DESC, id DESC LIMIT 1)"
    " RETURNING duration_ms"
)
_CLOSE_NEWEST_WITH_UID = _CLOSE_NEWEST.format(uid=" AND uid = ?")
_CLOSE_NEWEST_ANY_UID = _CLOSE_NEWEST.format(uid="")


@dataclass(frozen=True, slots=True)
class OpenRun:
    id: int
    started_at: int
    exception_count: int


def newest_open_run(
    conn: Connection, *, project_id: int, process_id: int, uid: str | None
) -> OpenRun | None:
    """The newest open run with ``uid`` (with any uid when None)."""
    if uid is None:
        rows = dialects.driver_rows(conn, _OPEN_RUN_ANY_UID, (project_id, process_id))
    else:
        rows = dialects.driver_rows(conn, _OPEN_RUN_WITH_UID, (project_id, process_id, uid))
    return OpenRun(*rows[0]) if rows else None


_COUNT_EXCEPTION = (
    update(runs)
    .where(runs.c.project_id == bindparam("p_project_id"), runs.c.id == bindparam("p_id"))
    .values(exception_count=runs.c.exception_count + 1)
)


def count_exception(conn: Connection, *, project_id: int, run_id: int) -> None:
    conn.execute(_COUNT_EXCEPTION, {"p_project_id": project_id, "p_id": run_id})


def reserve_run_ids(conn: Connection, count: int) -> list[int]:
    return dialects.reserve_ids(conn, "runs", count)


def insert_run(
    conn: Connection,
    *,
    run_id: int,
    project_id: int,
    process_id: int,
    uid: str,
    status: RunStatus,
    started_at: int | None,
    ended_at: int | None = None,
    info: str | None = None,
) -> None:
    seen_at = started_at if started_at is not None else ended_at
    params = (
        project_id,
        run_id,
        process_id,
        uid,
        status.value,
        started_at,
        ended_at,
        None,
        info,
        seen_at,
    )
    dialects.driver_rows(conn, _INSERT_RUN, params)


def start_run(
    conn: Connection,
    *,
    run_id: int,
    project_id: int,
    process_id: int,
    uid: str,
    started_at: int,
    retry_since: int,
) -> None:
    """Open a run unless the same run was opened at or after ``retry_since``."""
    params = (project_id, run_id, process_id, uid, started_at, started_at)
    check = (project_id, process_id, uid, retry_since)
    dialects.driver_rows(conn, _START_RUN, params + check)


def close_newest_run(
    conn: Connection,
    *,
    project_id: int,
    process_id: int,
    uid: str | None,
    ended_at: int,
    info: str | None,
) -> int | None:
    """Close the newest open run with ``uid`` (any uid when None); its duration, or None
    when there was no open run to close."""
    head = (ended_at, ended_at, ended_at, info, project_id, project_id, process_id)
    if uid is None:
        rows = dialects.driver_rows(conn, _CLOSE_NEWEST_ANY_UID, head)
    else:
        rows = dialects.driver_rows(conn, _CLOSE_NEWEST_WITH_UID, (*head, uid))
    return int(rows[0][0]) if rows else None


_ENDED_SINCE = (
    select(runs.c.id)
    .where(
        runs.c.project_id == bindparam("project_id"),
        runs.c.process_id == bindparam("process_id"),
        runs.c.uid == bindparam("uid"),
        runs.c.ended_at >= bindparam("since"),
        # NULL-safe: an end without info matches a run closed without info.
        func.coalesce(runs.c.info, "") == bindparam("info"),
    )
    .limit(1)
)


def ended_since(
    conn: Connection, *, project_id: int, process_id: int, uid: str, since: int, info: str | None
) -> bool:
    """Whether a run with this uid and info ended at or after ``since`` (a retried end)."""
    params = {
        "project_id": project_id,
        "process_id": process_id,
        "uid": uid,
        "since": since,
        "info": info or "",
    }
    return conn.execute(_ENDED_SINCE, params).first() is not None


def get_run(conn: Connection, *, project_id: int, run_id: int) -> RunRow | None:
    found = (
        conn.execute(select(runs).where(runs.c.project_id == project_id, runs.c.id == run_id))
        .mappings()
        .first()
    )
    return _run(found) if found else None


def list_runs(
    conn: Connection,
    *,
    project_id: int,
    process_id: int,
    statuses: list[str] | None,
    start: int | None,
    end: int | None,
    before: int | None,
    limit: int,
) -> list[RunRow]:
    """Newest first (by id, which follows arrival order); ``[start, end)`` on ``seen_at``."""
    query = select(runs).where(runs.c.project_id == project_id, runs.c.process_id == process_id)
    if statuses:
        query = query.where(runs.c.status.in_(statuses))
    if start is not None:
        query = query.where(runs.c.seen_at >= start)
    if end is not None:
        query = query.where(runs.c.seen_at < end)
    if before is not None:
        query = query.where(runs.c.id < before)
    rows = conn.execute(query.order_by(runs.c.id.desc()).limit(limit)).mappings()
    return [_run(row) for row in rows]


def last_run(conn: Connection, *, project_id: int, process_id: int) -> RunRow | None:
    found = (
        conn.execute(
            select(runs)
            .where(runs.c.project_id == project_id, runs.c.process_id == process_id)
            .order_by(runs.c.seen_at.desc(), runs.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return _run(found) if found else None


def run_counts(conn: Connection, *, project_id: int, process_id: int) -> tuple[int, int]:
    """(all runs, open runs) of a process."""
    total, running = conn.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((runs.c.status == RunStatus.RUNNING.value, 1), else_=0)), 0
            ),
        ).where(runs.c.project_id == project_id, runs.c.process_id == process_id)
    ).one()
    return int(total), int(running)


def recent_durations(
    conn: Connection, *, project_id: int, process_id: int, limit: int
) -> list[int]:
    """Durations of the newest ``limit`` closed runs."""
    rows = conn.execute(
        select(runs.c.duration_ms)
        .where(
            runs.c.project_id == project_id,
            runs.c.process_id == process_id,
            runs.c.status.in_([status.value for status in CLOSED_STATUSES]),
        )
        .order_by(runs.c.seen_at.desc())
        .limit(limit)
    ).scalars()
    return [int(value) for value in rows if value is not None]


def abandon_runs(conn: Connection, *, started_before: int, limit: int) -> int:
    """Mark at most ``limit`` runs still open since before ``started_before`` as abandoned."""
    stale = (
        select(runs.c.project_id, runs.c.id)
        .where(runs.c.status == RunStatus.RUNNING.value, runs.c.started_at < started_before)
        .limit(limit)
    )
    found = conn.execute(stale).all()
    if not found:
        return 0
    conn.execute(
        update(runs)
        .where(
            runs.c.project_id == bindparam("p_project_id"),
            runs.c.id == bindparam("p_id"),
            runs.c.status == RunStatus.RUNNING.value,
        )
        .values(status=RunStatus.ABANDONED.value),
        [{"p_project_id": project_id, "p_id": run_id} for project_id, run_id in found],
    )
    return len(found)


def runs_with_uid(conn: Connection, *, project_id: int, uid: str, limit: int) -> list[RunRow]:
    """The project's runs with this uid, newest first (a trace session names its run so)."""
    rows = conn.execute(
        select(runs)
        .where(runs.c.project_id == project_id, runs.c.uid == uid)
        .order_by(runs.c.id.desc())
        .limit(limit)
    ).mappings()
    return [_run(row) for row in rows]
