"""The ledger of imported buckets: what StatHat imports wrote into each roll-up bucket.

A new import of a bucket applies only the difference to the roll-up, so importing twice never
doubles a counter, and live points that share the bucket are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update

from roost.storage import dialects
from roost.storage.schema import rollups, series, stathat_imported_buckets

ledger = stathat_imported_buckets

# The same on both engines; run at driver level for the thousands of rows of one answer.
_LEDGER_SET = (
    "INSERT INTO stathat_imported_buckets (project_id, series_id, tier, bucket, count, sum) "
    "VALUES {rows} "
    "ON CONFLICT (project_id, series_id, tier, bucket) DO UPDATE SET "
    "count = excluded.count, sum = excluded.sum"
)


def first_imported_bucket(
    conn: Connection, *, project_id: int, series_id: int, tier: int, start: int, end: int
) -> int | None:
    """The earliest bucket an import wrote at ``tier`` in [start, end), or None."""
    found = conn.execute(
        select(func.min(ledger.c.bucket)).where(
            ledger.c.project_id == project_id,
            ledger.c.series_id == series_id,
            ledger.c.tier == tier,
            ledger.c.bucket >= start,
            ledger.c.bucket < end,
        )
    ).scalar()
    return None if found is None else int(found)


def lock_series(conn: Connection, *, project_id: int, series_id: int) -> None:
    """Serialise imports of one series (PostgreSQL row lock; SQLite has one writer anyway)."""
    conn.execute(
        select(series.c.id)
        .where(series.c.project_id == project_id, series.c.id == series_id)
        .with_for_update()
    )


def replace_imported_buckets(
    conn: Connection,
    *,
    project_id: int,
    series_id: int,
    tier: int,
    start: int,
    end: int,
    values: Mapping[int, float],
) -> int:
    """Make what imports wrote into [start, end) of ``tier`` exactly ``values`` (bucket → value).

    Each imported bucket counts once with its value as its sum, so a bucket reads back as the
    source's value whether the stat sums (counter) or averages (value). The roll-up receives
    only the difference from what the ledger says an earlier import wrote: importing the same
    data again changes nothing, and live points sharing a bucket stay. Returns how many roll-up
    buckets changed.
    """
    lock_series(conn, project_id=project_id, series_id=series_id)
    before = {
        bucket: (count, total)
        for bucket, count, total in conn.execute(
            select(ledger.c.bucket, ledger.c.count, ledger.c.sum).where(
                ledger.c.project_id == project_id,
                ledger.c.series_id == series_id,
                ledger.c.tier == tier,
                ledger.c.bucket >= start,
                ledger.c.bucket < end,
            )
        )
    }
    additions: list[tuple[Any, ...]] = []
    settled: list[tuple[Any, ...]] = []
    for bucket, value in values.items():
        count, total = before.pop(bucket, (0, 0.0))
        if count == 1 and total == value:
            continue
        additions.append(
            (project_id, series_id, tier, bucket, 1 - count, value - total, value, value)
        )
        settled.append((project_id, series_id, tier, bucket, 1, value))
    removals = [{"b": bucket, "c": count, "s": total} for bucket, (count, total) in before.items()]
    if additions:
        # The ingest path's additive roll-up upsert: the roll-up receives differences only.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            dialects.ingest_sql(conn.dialect.name).upsert_rollups(cursor, additions)
        finally:
            cursor.close()
        dialects.insert_many(conn, _LEDGER_SET, settled, width=6)
    if removals:
        _subtract(conn, project_id, series_id, tier, removals)
    if removals or any(row[4] < 0 for row in additions):
        # A bucket the source no longer has, with no live points left, disappears.
        conn.execute(
            rollups.delete().where(
                rollups.c.project_id == project_id,
                rollups.c.series_id == series_id,
                rollups.c.tier == tier,
                rollups.c.bucket >= start,
                rollups.c.bucket < end,
                rollups.c.count <= 0,
            )
        )
    return len(additions) + len(removals)


def _subtract(
    conn: Connection, project_id: int, series_id: int, tier: int, removals: list[dict[str, Any]]
) -> None:
    in_bucket = and_(
        rollups.c.project_id == project_id,
        rollups.c.series_id == series_id,
        rollups.c.tier == tier,
        rollups.c.bucket == bindparam("b"),
    )
    conn.execute(
        update(rollups)
        .where(in_bucket)
        .values(count=rollups.c.count - bindparam("c"), sum=rollups.c.sum - bindparam("s")),
        removals,
    )
    conn.execute(
        ledger.delete().where(
            ledger.c.project_id == project_id,
            ledger.c.series_id == series_id,
            ledger.c.tier == tier,
            ledger.c.bucket == bindparam("b"),
        ),
        [{"b": row["b"]} for row in removals],
    )


def touch_last_value(
    conn: Connection, *, project_id: int, series_id: int, ts: int, value: float
) -> None:
    """Record an imported point as the series' latest unless a newer one is there."""
    conn.execute(
        update(series)
        .where(
            series.c.project_id == project_id,
            series.c.id == series_id,
            or_(series.c.last_ts.is_(None), series.c.last_ts <= ts),
        )
        .values(last_ts=ts, last_value=value)
    )


def delete_imported_buckets(conn: Connection, *, project_id: int, series_id: int) -> None:
    conn.execute(
        ledger.delete().where(ledger.c.project_id == project_id, ledger.c.series_id == series_id)
    )
