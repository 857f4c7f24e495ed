"""One stat's history: which buckets to ask a StatHat source for, and the writes they become.

Day buckets are asked for over the stat's whole history, hour buckets only where days had
data, minute buckets only where hours had data, each as far back as Roost keeps that tier.
Each answer becomes the roll-up rows of its tier, so over the imported range Roost's buckets
equal the source's at 1m, 1h and 1d.

Idempotent: the ledger of imported buckets (``storage/imports.py``) lets a new import apply
only the difference. Resumable: every answer commits together with the stat's place (tier and
cursor), so an import cut off anywhere asks next for exactly what it had not yet written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection

from roost.domain.stats import Kind
from roost.domain.timeframes import MAX_POINTS, UNIT_MS, of_buckets
from roost.domain.times import DAY, HOUR, MINUTE
from roost.services.stathat_source import StatFailed, StatHatSource
from roost.settings import Settings
from roost.storage import import_ledger as ledger
from roost.storage import imports as import_store
from roost.storage import series as series_store
from roost.storage.imports import ImportStatRow
from roost.storage.store import Store
from roost.storage.writer import WriteTx

# Coarse first: a finer tier is asked for only where the coarser one had data.
TIERS: tuple[int, ...] = (DAY, HOUR, MINUTE)
UNIT_OF_TIER = {width: unit for unit, width in UNIT_MS.items() if width in TIERS}
COARSER = {HOUR: DAY, MINUTE: HOUR}

T = TypeVar("T")


async def read(store: Store, query: Callable[..., T], **kwargs: Any) -> T:
    """Run a read in a thread, off the event loop."""

    def run() -> T:
        with store.read() as conn:
            return query(conn, **kwargs)

    return await asyncio.to_thread(run)


async def import_history(
    store: Store,
    source: StatHatSource,
    *,
    project_id: int,
    import_id: int,
    snapshot_at: int,
    stat: ImportStatRow,
    on_points: Callable[[int], None],
) -> None:
    """Import (or go on importing) one stat; StatFailed when it cannot be."""
    ids: dict[str, Any] = {
        "project_id": project_id,
        "import_id": import_id,
        "position": stat.position,
    }
    series_id: int | None = stat.series_id
    if series_id is None:
        series_id = await store.write(partial(ensure_series, **ids, stat=stat, now=snapshot_at))
    bounds = tier_bounds(store.settings, snapshot_at, stat.received_at)
    start_at = TIERS.index(stat.tier) if stat.tier in TIERS else 0
    for tier in TIERS[start_at:]:
        low, high = bounds[tier]
        cursor = max(low, stat.cursor or low) if stat.tier == tier else low
        place = {**ids, "series_id": int(series_id), "tier": tier}
        await _import_tier(store, source, stat.source_id, place, cursor, high, on_points)


async def _import_tier(
    store: Store,
    source: StatHatSource,
    source_id: str,
    place: dict[str, Any],
    cursor: int,
    high: int,
    on_points: Callable[[int], None],
) -> None:
    tier: int = place["tier"]
    while True:
        chunk = await read(
            store,
            next_chunk,
            project_id=place["project_id"],
            series_id=place["series_id"],
            tier=tier,
            cursor=cursor,
            high=high,
        )
        if chunk is None:
            return
        start, count = chunk
        end = start + count * tier
        points = await source.dataset(source_id, of_buckets(count, UNIT_OF_TIER[tier]), start)
        values: dict[int, float] = {}
        for time, value in points:
            if time % tier:
                raise StatFailed(f"the source's {UNIT_OF_TIER[tier]} buckets are not aligned")
            if start <= time < end and value != 0:
                values[time] = value
        await store.write(partial(write_chunk, **place, start=start, end=end, values=values))
        on_points(len(values))
        cursor = end


def tier_bounds(
    settings: Settings, snapshot: int, received_at: int | None
) -> dict[int, tuple[int, int]]:
    """[low, high) per tier: up to the source's last data, back as far as Roost keeps the tier.

    A finer tier never reaches further back than the coarser one, since it is asked for only
    where the coarser tier had data.
    """
    last = min(snapshot, received_at) if received_at is not None else snapshot
    kept_days = {
        DAY: settings.retention_1d_days,
        HOUR: settings.retention_1h_days,
        MINUTE: settings.retention_1m_days,
    }
    bounds: dict[int, tuple[int, int]] = {}
    floor = 0
    for tier in TIERS:
        high = max(last, 0) - max(last, 0) % tier + tier
        low = max(high - MAX_POINTS * tier if tier == DAY else floor, floor)
        if kept_days[tier]:
            cutoff = snapshot - kept_days[tier] * DAY
            low = max(low, cutoff + (-cutoff) % tier)  # the first whole bucket kept
        bounds[tier] = (low, high)
        floor = low
    return bounds


def next_chunk(
    conn: Connection, *, project_id: int, series_id: int, tier: int, cursor: int, high: int
) -> tuple[int, int] | None:
    """(start, bucket count) of the next range to ask for at ``tier``, or None when done.

    Day buckets are asked for in whole ranges; hour and minute buckets only from the next
    coarser bucket that an import found data in.
    """
    start = cursor
    coarser = COARSER.get(tier)
    if coarser is not None:
        found = ledger.first_imported_bucket(
            conn,
            project_id=project_id,
            series_id=series_id,
            tier=coarser,
            start=cursor - cursor % coarser,
            end=high,
        )
        if found is None:
            return None
        start = max(cursor, found)
    if start >= high:
        return None
    return start, min(MAX_POINTS, (high - start) // tier)


def ensure_series(
    tx: WriteTx, *, project_id: int, import_id: int, position: int, stat: ImportStatRow, now: int
) -> int | StatFailed:
    kind = Kind.COUNTER if stat.counter else Kind.VALUE
    row = series_store.find_series(tx.conn, project_id=project_id, name=stat.name)
    if row is not None and row.kind != kind.value:
        return StatFailed(f"is a {row.kind} here but a {kind.value} at the source; skipped")
    if row is None:
        # The source's classic key comes along, so classic clients keep working, unless
        # another stat here holds it already.
        classic_key = stat.classic_key
        if classic_key is not None and (
            len(classic_key) > 255
            or series_store.find_series_by_classic_key(
                tx.conn, project_id=project_id, classic_key=classic_key
            )
        ):
            classic_key = None
        row = series_store.get_or_create_series(
            tx.conn,
            project_id=project_id,
            name=stat.name,
            kind=kind.value,
            created_at=now,
            classic_key=classic_key,
        )
    import_store.update_import_stat(
        tx.conn, project_id=project_id, import_id=import_id, position=position, series_id=row.id
    )
    return row.id


def write_chunk(
    tx: WriteTx,
    *,
    project_id: int,
    import_id: int,
    position: int,
    series_id: int,
    tier: int,
    start: int,
    end: int,
    values: dict[int, float],
) -> None:
    """One answer of the source, its stat's new place and the job's counters: one commit."""
    ledger.replace_imported_buckets(
        tx.conn,
        project_id=project_id,
        series_id=series_id,
        tier=tier,
        start=start,
        end=end,
        values=values,
    )
    if values:
        latest = max(values)
        ledger.touch_last_value(
            tx.conn, project_id=project_id, series_id=series_id, ts=latest, value=values[latest]
        )
    import_store.advance_import_stat(
        tx.conn,
        project_id=project_id,
        import_id=import_id,
        position=position,
        tier=tier,
        cursor=end,
        points=len(values),
    )
    import_store.add_progress(
        tx.conn, project_id=project_id, import_id=import_id, points=len(values), stats_done=0
    )
