"""Raw points and their roll-ups: the buffered write, and the bucketed read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from roost.domain.times import DAY, HOUR, MINUTE
from roost.storage import dialects
from roost.storage.schema import points, rollups, series

# Roll-up tiers, finest first; the tier column holds the width in milliseconds.
TIERS: tuple[int, ...] = (MINUTE, HOUR, DAY)

# Pre-rendered for the hot path: SQLAlchemy's per-row parameter processing costs more than
# the insert itself at a thousand points per request.
_INSERT_POINTS = {
    "qmark": "INSERT INTO points (project_id, series_id, ts, value) VALUES (?, ?, ?, ?)",
    "format": "INSERT INTO points (project_id, series_id, ts, value) VALUES (%s, %s, %s, %s)",
}
_INSERT_POINTS["pyformat"] = _INSERT_POINTS["format"]


@dataclass
class PointBuffer:
    """Points written by the jobs of one transaction, flushed together before COMMIT.

    Roll-up partials are summed here first, so a thousand points landing in the same minute
    cost one upsert per tier, not a thousand.
    """

    rows: list[tuple[int, int, int, float]] = field(default_factory=list)

    def add(self, project_id: int, series_id: int, ts: int, value: float) -> None:
        self.rows.append((project_id, series_id, ts, value))

    def extend(self, rows: list[tuple[int, int, int, float]]) -> None:
        self.rows.extend(rows)

    def flush(self, conn: Connection) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        sql = _INSERT_POINTS[conn.dialect.paramstyle]
        conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]
        dialects.upsert_rollups(conn, _rollup_partials(rows))
        _update_last_values(conn, rows)


def _rollup_partials(rows: list[tuple[int, int, int, float]]) -> list[dict[str, Any]]:
    # Minute partials straight from the points; hours and days from the minutes.
    minutes: dict[tuple[int, int, int], list[float]] = {}
    for project_id, series_id, ts, value in rows:
        key = (project_id, series_id, ts - ts % MINUTE)
        acc = minutes.get(key)
        if acc is None:
            minutes[key] = [1, value, value, value]
        else:
            acc[0] += 1
            acc[1] += value
            if value < acc[2]:
                acc[2] = value
            if value > acc[3]:
                acc[3] = value
    tiers: dict[int, dict[tuple[int, int, int], list[float]]] = {MINUTE: minutes}
    for width in TIERS[1:]:
        coarse: dict[tuple[int, int, int], list[float]] = {}
        for (project_id, series_id, bucket), (count, total, low, high) in minutes.items():
            key = (project_id, series_id, bucket - bucket % width)
            acc = coarse.get(key)
            if acc is None:
                coarse[key] = [count, total, low, high]
            else:
                acc[0] += count
                acc[1] += total
                acc[2] = min(acc[2], low)
                acc[3] = max(acc[3], high)
        tiers[width] = coarse
    return [
        {
            "project_id": project_id,
            "series_id": series_id,
            "tier": width,
            "bucket": bucket,
            "count": int(count),
            "sum": total,
            "min": low,
            "max": high,
        }
        for width, partials in tiers.items()
        for (project_id, series_id, bucket), (count, total, low, high) in partials.items()
    ]


def _update_last_values(conn: Connection, rows: list[tuple[int, int, int, float]]) -> None:
    latest: dict[tuple[int, int], tuple[int, float]] = {}
    for project_id, series_id, ts, value in rows:
        key = (project_id, series_id)
        seen = latest.get(key)
        if seen is None or ts >= seen[0]:
            latest[key] = (ts, value)
    stmt = (
        update(series)
        .where(series.c.project_id == bindparam("p"), series.c.id == bindparam("s"))
        .where((series.c.last_ts.is_(None)) | (series.c.last_ts <= bindparam("t")))
        .values(last_ts=bindparam("t"), last_value=bindparam("v"))
    )
    conn.execute(
        stmt,
        [
            {"p": project_id, "s": series_id, "t": ts, "v": value}
            for (project_id, series_id), (ts, value) in latest.items()
        ],
    )


@dataclass(frozen=True, slots=True)
class Bucket:
    start: int
    count: int
    total: float
    low: float
    high: float


def tier_for(resolution_ms: int) -> int | None:
    """The coarsest roll-up tier that divides the resolution, or None to read raw points."""
    for width in reversed(TIERS):
        if resolution_ms % width == 0:
            return width
    return None


def read_buckets(
    conn: Connection,
    *,
    project_id: int,
    series_id: int,
    start: int,
    end: int,
    resolution_ms: int,
) -> list[Bucket]:
    """count/sum/min/max per epoch-aligned bucket in [start, end); empty buckets omitted.

    Reads the coarsest roll-up tier that fits, so the cost follows the number of buckets
    returned rather than the number of points stored.
    """
    width = tier_for(resolution_ms)
    if width is None:
        bucket = (points.c.ts - points.c.ts % resolution_ms).label("b")
        stmt = (
            select(
                bucket,
                func.count(),
                func.sum(points.c.value),
                func.min(points.c.value),
                func.max(points.c.value),
            )
            .where(
                points.c.project_id == project_id,
                points.c.series_id == series_id,
                points.c.ts >= start,
                points.c.ts < end,
            )
            .group_by(bucket)
            .order_by(bucket)
        )
    else:
        bucket = (rollups.c.bucket - rollups.c.bucket % resolution_ms).label("b")
        stmt = (
            select(
                bucket,
                func.sum(rollups.c.count),
                func.sum(rollups.c.sum),
                func.min(rollups.c.min),
                func.max(rollups.c.max),
            )
            .where(
                rollups.c.project_id == project_id,
                rollups.c.series_id == series_id,
                rollups.c.tier == width,
                rollups.c.bucket >= start,
                rollups.c.bucket < end,
            )
            .group_by(bucket)
            .order_by(bucket)
        )
    return [
        Bucket(int(b), int(count), float(total), float(low), float(high))
        for b, count, total, low, high in conn.execute(stmt)
    ]


def delete_points_before(conn: Connection, *, project_id: int, series_id: int, cutoff: int) -> int:
    result = conn.execute(
        points.delete().where(
            points.c.project_id == project_id,
            points.c.series_id == series_id,
            points.c.ts < cutoff,
        )
    )
    return int(result.rowcount or 0)


def delete_rollups_before(
    conn: Connection, *, project_id: int, series_id: int, tier: int, cutoff: int
) -> int:
    result = conn.execute(
        rollups.delete().where(
            rollups.c.project_id == project_id,
            rollups.c.series_id == series_id,
            rollups.c.tier == tier,
            rollups.c.bucket < cutoff,
        )
    )
    return int(result.rowcount or 0)
