"""What the alert evaluator reads: window aggregates from roll-ups, run and exception facts,
and LLM spend. Every query is bounded by an index on (project, …, time)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import Connection, and_, func, select

from roost.domain.times import DAY, HOUR, MINUTE
from roost.storage import dialects
from roost.storage.schema import (
    exception_groups,
    exceptions,
    processes,
    runs,
    series,
    trace_events,
    trace_session_properties,
)


@dataclass(frozen=True, slots=True)
class Aggregate:
    count: int
    sum: float
    min: float
    max: float


@dataclass(frozen=True, slots=True)
class SeriesFacts:
    project_id: int
    name: str
    kind: str
    last_ts: int | None
    created_at: int


# The window is cut into key ranges of the coarsest roll-up that fits: whole days in the middle
# from the 1-day tier, whole hours around them from the 1-hour tier, the ragged minutes at both
# ends from the 1-minute tier. Exact to the minute, and a year reads ~600 rows. Run at driver
# level: an evaluation pass runs this once per alert.
_TIERS = (MINUTE, HOUR, DAY, HOUR, MINUTE)
_WINDOW_SQL = (
    "SELECT CAST(COALESCE(SUM(c), 0) AS BIGINT), SUM(s), MIN(lo), MAX(hi) FROM ("
    + " UNION ALL ".join(
        "SELECT count AS c, sum AS s, min AS lo, max AS hi FROM rollups "
        f"WHERE project_id = ? AND series_id = ? AND tier = {tier} AND bucket >= ? AND bucket < ?"
        for tier in _TIERS
    )
    + ") AS window_rows"
)


def _cuts(start: int, end: int) -> list[int]:
    """The six edges of the five ranges of ``_TIERS`` (empty ranges have equal edges)."""
    h1, h2 = -(-start // HOUR) * HOUR, end // HOUR * HOUR
    if h2 <= h1:
        return [start, end, end, end, end, end]
    d1, d2 = -(-h1 // DAY) * DAY, h2 // DAY * DAY
    if d2 <= d1:
        return [start, h1, h2, h2, h2, end]
    return [start, h1, d1, d2, h2, end]


def window_aggregate(
    conn: Connection, *, project_id: int, series_id: int, start: int, end: int
) -> Aggregate | None:
    """count/sum/min/max of the points in [start, end) (minute-aligned), None when empty."""
    edges = _cuts(start, end)
    params: list[int] = []
    for low, high in pairwise(edges):
        params += (project_id, series_id, low, high)
    [row] = dialects.driver_rows(conn, _WINDOW_SQL, params)
    if not row[0]:
        return None
    return Aggregate(int(row[0]), float(row[1]), float(row[2]), float(row[3]))


def series_facts(conn: Connection, ids: list[int]) -> dict[int, SeriesFacts]:
    if not ids:
        return {}
    rows = conn.execute(
        select(
            series.c.id,
            series.c.project_id,
            series.c.name,
            series.c.kind,
            series.c.last_ts,
            series.c.created_at,
        ).where(series.c.id.in_(sorted(set(ids))))
    ).all()
    return {row[0]: SeriesFacts(*row[1:]) for row in rows}


# -- runs --


def process_ids(conn: Connection, *, project_id: int, name: str, meta: str | None) -> list[int]:
    query = select(processes.c.id).where(
        processes.c.project_id == project_id, processes.c.name == name
    )
    if meta is not None:
        query = query.where(processes.c.meta == meta)
    return [row[0] for row in conn.execute(query.order_by(processes.c.id))]


def duration_series_id(conn: Connection, *, project_id: int, process_id: int) -> int | None:
    return conn.execute(
        select(processes.c.duration_series_id).where(
            processes.c.project_id == project_id, processes.c.id == process_id
        )
    ).scalar()


def _runs_of(project_id: int, process_ids: list[int]) -> list[object]:
    return [runs.c.project_id == project_id, runs.c.process_id.in_(process_ids)]


def last_start(conn: Connection, *, project_id: int, process_ids: list[int]) -> int | None:
    if not process_ids:
        return None
    return conn.execute(
        select(func.max(runs.c.started_at)).where(*_runs_of(project_id, process_ids))  # type: ignore[arg-type]
    ).scalar()


def starts_since(conn: Connection, *, project_id: int, process_ids: list[int], since: int) -> int:
    if not process_ids:
        return 0
    return int(
        conn.execute(
            select(func.count()).where(
                *_runs_of(project_id, process_ids),  # type: ignore[arg-type]
                runs.c.seen_at >= since,
                runs.c.started_at.is_not(None),
            )
        ).scalar_one()
    )


def oldest_open_start(conn: Connection, *, project_id: int, process_ids: list[int]) -> int | None:
    if not process_ids:
        return None
    return conn.execute(
        select(func.min(runs.c.started_at)).where(
            *_runs_of(project_id, process_ids),  # type: ignore[arg-type]
            runs.c.status == "running",
        )
    ).scalar()


def latest_run(
    conn: Connection, *, project_id: int, process_ids: list[int], statuses: tuple[str, ...]
) -> tuple[str, int | None, int | None, int | None] | None:
    """(status, started_at, ended_at, duration_ms) of the newest run with one of ``statuses``."""
    if not process_ids:
        return None
    row = conn.execute(
        select(runs.c.status, runs.c.started_at, runs.c.ended_at, runs.c.duration_ms)
        .where(*_runs_of(project_id, process_ids), runs.c.status.in_(statuses))  # type: ignore[arg-type]
        .order_by(runs.c.seen_at.desc(), runs.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def last_exception_at(conn: Connection, *, project_id: int, process_ids: list[int]) -> int | None:
    if not process_ids:
        return None
    return conn.execute(
        select(func.max(exceptions.c.occurred_at)).where(
            exceptions.c.project_id == project_id, exceptions.c.process_id.in_(process_ids)
        )
    ).scalar()


# -- exception groups --


def opened_groups(
    conn: Connection, *, project_id: int, process_name: str | None, since: int, limit: int
) -> list[tuple[int, str, str, int, int]]:
    """(id, type, message, count, opened_at) of open groups opened at or after ``since``."""
    query = select(
        exception_groups.c.id,
        exception_groups.c.type,
        exception_groups.c.message,
        exception_groups.c.count,
        exception_groups.c.opened_at,
    ).where(
        exception_groups.c.project_id == project_id,
        # opened_at <= last_seen: this bound lets the (project, last_seen) index do the work.
        exception_groups.c.last_seen >= since,
        exception_groups.c.opened_at >= since,
        exception_groups.c.status == "open",
    )
    if process_name is not None:
        query = query.where(exception_groups.c.process_name == process_name)
    rows = conn.execute(query.order_by(exception_groups.c.id).limit(limit)).all()
    return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]


def group_statuses(
    conn: Connection, *, project_id: int, group_ids: list[int]
) -> dict[int, tuple[str, int | None, int]]:
    """status, opened_at and count of each group that still exists."""
    if not group_ids:
        return {}
    rows = conn.execute(
        select(
            exception_groups.c.id,
            exception_groups.c.status,
            exception_groups.c.opened_at,
            exception_groups.c.count,
        ).where(exception_groups.c.project_id == project_id, exception_groups.c.id.in_(group_ids))
    ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


# -- LLM spend --


def spend(
    conn: Connection,
    *,
    project_id: int,
    measure: str,
    per: str,
    since: int,
    above: float,
    limit: int,
) -> list[tuple[str, float]]:
    """(user-property value or session id, total) over ``limit``, largest first.

    ``measure`` is "cost" or "tokens"; events count by their start time.
    """
    column = trace_events.c.cost if measure == "cost" else trace_events.c.total_tokens
    total = func.sum(column)
    in_window = (
        trace_events.c.project_id == project_id,
        trace_events.c.start_time >= float(since),
        column.is_not(None),
    )
    if per == "session":
        key = trace_events.c.session_id
        query = select(key, total).where(*in_window)
    else:
        key = trace_session_properties.c.value
        query = (
            select(key, total)
            .select_from(
                trace_events.join(
                    trace_session_properties,
                    and_(
                        trace_session_properties.c.project_id == trace_events.c.project_id,
                        trace_session_properties.c.session_id == trace_events.c.session_id,
                        trace_session_properties.c.name == per,
                    ),
                )
            )
            .where(*in_window)
        )
    rows = conn.execute(
        query.group_by(key).having(total > above).order_by(total.desc()).limit(limit)
    ).all()
    return [(str(row[0]), float(row[1])) for row in rows]
