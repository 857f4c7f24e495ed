"""Raw points and their roll-ups: the buffered write, and the bucketed read."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, cast, func, select

from roost.domain.times import DAY, HOUR, MINUTE
from roost.storage import dialects
from roost.storage.schema import points, rollups

# Roll-up tiers, finest first; the tier column holds the width in milliseconds.
TIERS: tuple[int, ...] = (MINUTE, HOUR, DAY)


@dataclass
class PointBuffer:
    """Points written by the jobs of one transaction, flushed together before COMMIT.

    Roll-up partials are summed here first, so a thousand points landing in the same minute
    cost one upsert per tier, not a thousand.
    """

    rows: list[tuple[int, int, int, float]] = field(default_factory=list)

    def add(self, project_id: int, series_id: int, ts: int, value: float) -> None:
        self.rows.append((project_id, series_id, ts, value))

    def extend_series(
        self, project_id: int, series_id: int, times: list[int], values: list[float]
    ) -> None:
        """Append one series' points; zip keeps the per-point work in C."""
        self.rows.extend(zip(repeat(project_id), repeat(series_id), times, values, strict=False))

    def flush(self, conn: Connection) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        sql = dialects.ingest_sql(conn.dialect.name)
        # Driver-level statements: at a thousand points per request SQLAlchemy's per-row
        # parameter handling would cost more than the inserts themselves.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            sql.insert_points(cursor, rows)
            sql.upsert_rollups(cursor, _rollup_partials(rows))
            sql.update_last_values(cursor, _last_values(rows))
        finally:
            cursor.close()


def _rollup_partials(rows: list[tuple[int, int, int, float]]) -> list[tuple[Any, ...]]:
    """(project, series, tier, bucket, count, sum, min, max) per touched bucket and tier."""
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
    partials = [
        (p, s, MINUTE, b, int(c), t, lo, hi) for (p, s, b), (c, t, lo, hi) in minutes.items()
    ]
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
        partials.extend(
            (p, s, width, b, int(c), t, lo, hi) for (p, s, b), (c, t, lo, hi) in coarse.items()
        )
    return partials


def _last_values(rows: list[tuple[int, int, int, float]]) -> list[tuple[int, float, int, int, int]]:
    """(ts, value, project, series, ts) of each series' newest point in this flush."""
    latest: dict[tuple[int, int], tuple[int, float]] = {}
    for project_id, series_id, ts, value in rows:
        key = (project_id, series_id)
        seen = latest.get(key)
        if seen is None or ts >= seen[0]:
            latest[key] = (ts, value)
    return [(ts, value, p, s, ts) for (p, s), (ts, value) in latest.items()]


# (bucket start, count, sum, min, max) of one bucket.
Bucket = tuple[int, int, float, float, float]


def tier_for(resolution_ms: int) -> int | None:
    """The coarsest roll-up tier that divides the resolution, or None to read raw points."""
    for width in reversed(TIERS):
        if resolution_ms % width == 0:
            return width
    return None


def _bucket_queries() -> tuple[Any, Any, Any]:
    """Built once: constructing a statement costs more than running it on a small range."""
    res: Any = bindparam("res")
    raw_bucket = (points.c.ts - points.c.ts % res).label("b")
    raw = (
        select(
            raw_bucket,
            func.count(),
            func.sum(points.c.value),
            func.min(points.c.value),
            func.max(points.c.value),
        )
        .where(
            points.c.project_id == bindparam("project_id"),
            points.c.series_id == bindparam("series_id"),
            points.c.ts >= bindparam("start"),
            points.c.ts < bindparam("end"),
        )
        .group_by(raw_bucket)
        .order_by(raw_bucket)
    )
    in_tier = (
        rollups.c.project_id == bindparam("project_id"),
        rollups.c.series_id == bindparam("series_id"),
        rollups.c.tier == bindparam("tier"),
        rollups.c.bucket >= bindparam("start"),
        rollups.c.bucket < bindparam("end"),
    )
    # The tier is the resolution: its rows are the buckets, read in key order.
    exact = (
        select(rollups.c.bucket, rollups.c.count, rollups.c.sum, rollups.c.min, rollups.c.max)
        .where(*in_tier)
        .order_by(rollups.c.bucket)
    )
    coarse_bucket = (rollups.c.bucket - rollups.c.bucket % res).label("b")
    coarse = (
        select(
            coarse_bucket,
            # PostgreSQL sums BIGINT into NUMERIC; keep plain integers.
            cast(func.sum(rollups.c.count), BigInteger),
            func.sum(rollups.c.sum),
            func.min(rollups.c.min),
            func.max(rollups.c.max),
        )
        .where(*in_tier)
        .group_by(coarse_bucket)
        .order_by(coarse_bucket)
    )
    return raw, exact, coarse


_RAW, _EXACT, _COARSE = _bucket_queries()


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
    params = {
        "project_id": project_id,
        "series_id": series_id,
        "start": start,
        "end": end,
        "res": resolution_ms,
        "tier": width,
    }
    if width is None:
        stmt = _RAW
    elif width == resolution_ms:
        stmt = _EXACT
    else:
        stmt = _COARSE
    return conn.execute(stmt, params).all()  # type: ignore[return-value]


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


def read_points(
    conn: Connection, *, project_id: int, series_ids: list[int], start: int, end: int, limit: int
) -> list[tuple[int, int, float]]:
    """Raw ``(series_id, ts, value)`` points of some series in ``[start, end]``, oldest first."""
    if not series_ids:
        return []
    rows = conn.execute(
        select(points.c.series_id, points.c.ts, points.c.value)
        .where(
            points.c.project_id == project_id,
            points.c.series_id.in_(series_ids),
            points.c.ts >= start,
            points.c.ts <= end,
        )
        .order_by(points.c.ts, points.c.series_id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2]) for row in rows]


# -- stathat --


def read_buckets_from(
    conn: Connection, *, project_id: int, series_id: int, start: int, end: int, interval: int
) -> list[Bucket]:
    """count/sum/min/max per ``interval`` counted from ``start`` rather than from the epoch.

    StatHat's export ends its last bucket with the current minute, so its buckets need not fall
    on the epoch grid. ``start`` and ``interval`` are whole minutes; the coarsest roll-up tier
    that divides both is read and regrouped, never the raw points.
    """
    if start % interval == 0:
        return read_buckets(
            conn,
            project_id=project_id,
            series_id=series_id,
            start=start,
            end=end,
            resolution_ms=interval,
        )
    widths = [width for width in TIERS if interval % width == 0 and start % width == 0]
    if not widths:
        raise ValueError("start and interval must be whole minutes")
    # bucket >= start, so both engines agree on the sign of the remainder.
    bucket = (rollups.c.bucket - (rollups.c.bucket - start) % interval).label("b")
    stmt = (
        select(
            bucket,
            cast(func.sum(rollups.c.count), BigInteger),
            func.sum(rollups.c.sum),
            func.min(rollups.c.min),
            func.max(rollups.c.max),
        )
        .where(
            rollups.c.project_id == project_id,
            rollups.c.series_id == series_id,
            rollups.c.tier == widths[-1],
            rollups.c.bucket >= start,
            rollups.c.bucket < end,
        )
        .group_by(bucket)
        .order_by(bucket)
    )
    return conn.execute(stmt).all()  # type: ignore[return-value]
