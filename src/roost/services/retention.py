"""Retention: drop raw points and roll-ups older than their settings allow.

Work is cut into one small write job per series and tier, so a retention pass never holds the
writer for long, and each pass is bounded in the number of jobs it submits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from roost.domain.times import DAY, HOUR, MINUTE
from roost.settings import Settings
from roost.storage import messages as message_store
from roost.storage import points as point_store
from roost.storage.schema import series
from roost.storage.writer import WriteTx

LEADER_LOCK = "roost.retention"
# ActiveWorkflow messages expire with the raw data; a pass deletes at most
# MESSAGE_BATCHES batches of MESSAGE_BATCH, the oldest first.
MESSAGE_BATCH = 5000
MESSAGE_BATCHES = 200


@dataclass(frozen=True, slots=True)
class Cutoffs:
    raw: int | None
    tiers: dict[int, int]  # tier width → oldest bucket kept

    @classmethod
    def from_settings(cls, settings: Settings, now: int) -> Cutoffs:
        def cutoff(days: int) -> int | None:
            return now - days * DAY if days > 0 else None

        tiers = {
            width: value
            for width, value in (
                (MINUTE, cutoff(settings.retention_1m_days)),
                (HOUR, cutoff(settings.retention_1h_days)),
                (DAY, cutoff(settings.retention_1d_days)),
            )
            if value is not None
        }
        return cls(raw=cutoff(settings.retention_raw_days), tiers=tiers)


def list_all_series(tx: WriteTx) -> list[tuple[int, int]]:
    """Every (project, series) pair."""
    return [(row[0], row[1]) for row in tx.conn.execute(select(series.c.project_id, series.c.id))]


def retention_jobs(pairs: list[tuple[int, int]], cutoffs: Cutoffs) -> Iterator:  # type: ignore[type-arg]
    """Jobs deleting expired messages (while there are some), then one job per series that
    deletes its expired raw points and roll-up buckets."""
    if cutoffs.raw is not None:
        yield from _message_jobs(cutoffs.raw)
    for project_id, series_id in pairs:

        def job(tx: WriteTx, project_id: int = project_id, series_id: int = series_id) -> int:
            deleted = 0
            if cutoffs.raw is not None:
                deleted += point_store.delete_points_before(
                    tx.conn, project_id=project_id, series_id=series_id, cutoff=cutoffs.raw
                )
            for tier, cutoff in cutoffs.tiers.items():
                deleted += point_store.delete_rollups_before(
                    tx.conn, project_id=project_id, series_id=series_id, tier=tier, cutoff=cutoff
                )
            return deleted

        yield job


def _message_jobs(cutoff: int) -> Iterator:  # type: ignore[type-arg]
    """Batches of expired messages; stops after a batch that was not full. The caller runs
    each job before asking for the next, so the last outcome is known here."""
    deleted = [MESSAGE_BATCH]
    for _ in range(MESSAGE_BATCHES):
        if deleted[-1] < MESSAGE_BATCH:
            return

        def job(tx: WriteTx) -> int:
            count = message_store.delete_before(tx.conn, cutoff=cutoff, limit=MESSAGE_BATCH)
            deleted.append(count)
            return count

        yield job
