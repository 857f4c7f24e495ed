"""A retention pass drops raw points and each roll-up tier at its own age, and keeps the rest.

Each test builds its own store on a fresh database with short retention settings, writes
points of known ages, runs ``run_retention_pass`` once and reads the tables back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from roost.app import run_retention_pass
from roost.domain.times import now_ms
from roost.settings import Settings
from roost.storage import series as series_store
from roost.storage import tenancy
from roost.storage.points import TIERS
from roost.storage.schema import points, rollups
from roost.storage.store import Store
from roost.storage.writer import WriteTx

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
MINUTE_TIER, HOUR_TIER, DAY_TIER = TIERS

# Ages in days, each a whole day apart (so no two share a bucket of any tier) and at least
# half a day from every cutoff below (so the pass's own clock cannot tip one over).
AGES_DAYS = (0.5, 1.5, 2.5, 3.5, 10.5)
SHORT_RETENTION = {
    "retention_raw_days": 1,
    "retention_1m_days": 2,
    "retention_1h_days": 3,
    "retention_1d_days": 5,
}
KEEP_FOREVER = dict.fromkeys(SHORT_RETENTION, 0)


def fresh_store(
    fresh_database_url: Callable[[Path], str], tmp_path: Path, retention: dict[str, int]
) -> Store:
    settings = Settings(
        data_dir=tmp_path,
        database_url=fresh_database_url(tmp_path),
        **retention,  # type: ignore[arg-type]
    )
    store = Store(settings)
    store.start()
    return store


def write_aged_points(store: Store, *, series_names: list[str], now: int) -> dict[int, list[int]]:
    """One point per age in each series; returns the point times by series id."""

    def job(tx: WriteTx) -> dict[int, list[int]]:
        project = tenancy.insert_project(tx.conn, name="retention", created_at=now)
        written: dict[int, list[int]] = {}
        for name in series_names:
            row = series_store.get_or_create_series(
                tx.conn, project_id=project.id, name=name, kind="counter", created_at=now
            )
            written[row.id] = [now - int(age * DAY_MS) for age in AGES_DAYS]
            for ts in written[row.id]:
                tx.points.add(project.id, row.id, ts, 1.0)
        return written

    return store.write_now(job)


def stored(store: Store, series_id: int) -> dict[str, set[int]]:
    """Raw point times and roll-up bucket starts per tier, for one series."""
    with store.read() as conn:
        raw = set(
            conn.execute(select(points.c.ts).where(points.c.series_id == series_id)).scalars()
        )
        found = {"raw": raw}
        for tier in TIERS:
            found[str(tier)] = set(
                conn.execute(
                    select(rollups.c.bucket).where(
                        rollups.c.series_id == series_id, rollups.c.tier == tier
                    )
                ).scalars()
            )
    return found


def expected(times: list[int], *, now: int, days_kept: dict[str, int]) -> dict[str, set[int]]:
    """What survives: raw times, and bucket starts per tier, of points younger than the limit."""
    young = {
        kind: [ts for ts in times if now - ts < days * DAY_MS] for kind, days in days_kept.items()
    }
    return {
        "raw": set(young["raw"]),
        **{str(tier): {ts - ts % tier for ts in young[str(tier)]} for tier in TIERS},
    }


def test_retention_deletes_old_points_and_roll_ups_per_tier_and_keeps_the_rest(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = fresh_store(fresh_database_url, tmp_path, SHORT_RETENTION)
    try:
        now = now_ms()
        written = write_aged_points(store, series_names=["a", "b"], now=now)
        deleted = asyncio.run(run_retention_pass(store))
        for series_id, times in written.items():
            assert stored(store, series_id) == expected(
                times,
                now=now,
                days_kept={
                    "raw": 1,
                    str(MINUTE_TIER): 2,
                    str(HOUR_TIER): 3,
                    str(DAY_TIER): 5,
                },
            )
            # Ages 0.5 to 10.5 days: raw keeps one point, 1m two, 1h three, 1d four.
            assert [len(kept) for kept in stored(store, series_id).values()] == [1, 2, 3, 4]
    finally:
        store.close()
    # Per series: raw 4 (1.5 … 10.5 days), 1m 3, 1h 2, 1d 1.
    assert deleted == 2 * (4 + 3 + 2 + 1)


def test_retention_of_zero_days_keeps_everything(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = fresh_store(fresh_database_url, tmp_path, KEEP_FOREVER)
    try:
        written = write_aged_points(store, series_names=["kept"], now=now_ms())
        (series_id,) = written
        before = stored(store, series_id)
        assert asyncio.run(run_retention_pass(store)) == 0
        assert stored(store, series_id) == before
        assert len(before["raw"]) == len(AGES_DAYS)
    finally:
        store.close()


def test_a_second_pass_finds_nothing_more_to_delete(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = fresh_store(fresh_database_url, tmp_path, SHORT_RETENTION)
    try:
        write_aged_points(store, series_names=["twice"], now=now_ms())
        assert asyncio.run(run_retention_pass(store)) > 0
        assert asyncio.run(run_retention_pass(store)) == 0
    finally:
        store.close()


def test_while_another_node_holds_the_retention_lease_this_node_skips_the_pass(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = fresh_store(fresh_database_url, tmp_path, SHORT_RETENTION)
    try:
        now = now_ms()
        written = write_aged_points(store, series_names=["a"], now=now)
        before = {series_id: stored(store, series_id) for series_id in written}
        with store.leader("roost.retention") as leading:
            assert leading
            if store.dialect == "postgresql":
                # A second node (another session) is refused the lease and deletes nothing.
                assert asyncio.run(run_retention_pass(store)) == 0
                assert {sid: stored(store, sid) for sid in written} == before
        # Once the lease is free again, the pass runs.
        assert asyncio.run(run_retention_pass(store)) > 0
    finally:
        store.close()
