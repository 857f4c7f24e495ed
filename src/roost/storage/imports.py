"""StatHat imports: jobs and their stats' progress (the ledger is ``import_ledger.py``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, update

from roost.storage import dialects
from roost.storage.schema import (
    stathat_import_stats,
    stathat_imports,
)

UNFINISHED = ("queued", "running")


@dataclass(frozen=True, slots=True)
class ImportRow:
    id: int
    project_id: int
    state: str
    runner: str
    base_url: str
    access_token: str | None
    snapshot_at: int
    listed: bool
    stats_total: int
    stats_done: int
    points_imported: int
    errors: tuple[str, ...]
    created_at: int
    started_at: int | None
    finished_at: int | None


@dataclass(frozen=True, slots=True)
class ImportStatRow:
    position: int
    source_id: str
    name: str
    counter: bool
    classic_key: str | None
    received_at: int | None
    series_id: int | None
    state: str
    tier: int | None
    cursor: int | None
    points: int


def _import(row: RowMapping) -> ImportRow:
    return ImportRow(
        id=row["id"],
        project_id=row["project_id"],
        state=row["state"],
        runner=row["runner"],
        base_url=row["base_url"],
        access_token=row["access_token"],
        snapshot_at=row["snapshot_at"],
        listed=bool(row["listed"]),
        stats_total=row["stats_total"],
        stats_done=row["stats_done"],
        points_imported=row["points_imported"],
        errors=tuple(json.loads(row["errors"])),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def _stat(row: RowMapping) -> ImportStatRow:
    return ImportStatRow(
        position=row["position"],
        source_id=row["source_id"],
        name=row["name"],
        counter=bool(row["counter"]),
        classic_key=row["classic_key"],
        received_at=row["received_at"],
        series_id=row["series_id"],
        state=row["state"],
        tier=row["tier"],
        cursor=row["cursor"],
        points=row["points"],
    )


# -- jobs ------------------------------------------------------------------------------------


def insert_import(
    conn: Connection,
    *,
    project_id: int,
    runner: str,
    base_url: str,
    access_token: str,
    snapshot_at: int,
    created_at: int,
) -> ImportRow:
    import_id = dialects.next_id(conn, "stathat_imports")
    conn.execute(
        stathat_imports.insert().values(
            project_id=project_id,
            id=import_id,
            state="queued",
            runner=runner,
            base_url=base_url,
            access_token=access_token,
            snapshot_at=snapshot_at,
            listed=False,
            stats_total=0,
            stats_done=0,
            points_imported=0,
            errors="[]",
            created_at=created_at,
        )
    )
    found = get_import(conn, project_id=project_id, import_id=import_id)
    assert found is not None
    return found


def get_import(conn: Connection, *, project_id: int, import_id: int) -> ImportRow | None:
    row = (
        conn.execute(
            select(stathat_imports).where(
                stathat_imports.c.project_id == project_id, stathat_imports.c.id == import_id
            )
        )
        .mappings()
        .first()
    )
    return _import(row) if row else None


def latest_import(conn: Connection, *, project_id: int) -> ImportRow | None:
    row = (
        conn.execute(
            select(stathat_imports)
            .where(stathat_imports.c.project_id == project_id)
            .order_by(stathat_imports.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return _import(row) if row else None


def unfinished_imports(
    conn: Connection, *, runner: str, project_id: int | None = None, base_url: str | None = None
) -> list[ImportRow]:
    """Queued or running jobs of one runner, oldest first; across projects unless one is given."""
    stmt = select(stathat_imports).where(
        stathat_imports.c.state.in_(UNFINISHED), stathat_imports.c.runner == runner
    )
    if project_id is not None:
        stmt = stmt.where(stathat_imports.c.project_id == project_id)
    if base_url is not None:
        stmt = stmt.where(stathat_imports.c.base_url == base_url)
    rows = conn.execute(stmt.order_by(stathat_imports.c.id)).mappings()
    return [_import(row) for row in rows]


def update_import(conn: Connection, *, project_id: int, import_id: int, **values: Any) -> None:
    if "errors" in values:
        values["errors"] = json.dumps(list(values["errors"]))
    conn.execute(
        update(stathat_imports)
        .where(stathat_imports.c.project_id == project_id, stathat_imports.c.id == import_id)
        .values(**values)
    )


def add_progress(
    conn: Connection, *, project_id: int, import_id: int, points: int, stats_done: int
) -> None:
    conn.execute(
        update(stathat_imports)
        .where(stathat_imports.c.project_id == project_id, stathat_imports.c.id == import_id)
        .values(
            points_imported=stathat_imports.c.points_imported + points,
            stats_done=stathat_imports.c.stats_done + stats_done,
        )
    )


# -- the stats of a job ----------------------------------------------------------------------


def add_import_stats(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert stat rows; a row already there (a listing repeated after a restart) is kept."""
    if rows:
        dialects.insert_ignoring_conflicts(
            conn,
            stathat_import_stats,
            [{"state": "pending", "points": 0, **row} for row in rows],
        )


def count_import_stats(conn: Connection, *, project_id: int, import_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(
                stathat_import_stats.c.project_id == project_id,
                stathat_import_stats.c.import_id == import_id,
            )
        ).scalar_one()
    )


def pending_stats(
    conn: Connection, *, project_id: int, import_id: int, limit: int
) -> list[ImportStatRow]:
    """The next stats still to import, in the source's order."""
    rows = conn.execute(
        select(stathat_import_stats)
        .where(
            stathat_import_stats.c.project_id == project_id,
            stathat_import_stats.c.import_id == import_id,
            stathat_import_stats.c.state == "pending",
        )
        .order_by(stathat_import_stats.c.position)
        .limit(limit)
    ).mappings()
    return [_stat(row) for row in rows]


def update_import_stat(
    conn: Connection, *, project_id: int, import_id: int, position: int, **values: Any
) -> None:
    conn.execute(
        update(stathat_import_stats)
        .where(
            stathat_import_stats.c.project_id == project_id,
            stathat_import_stats.c.import_id == import_id,
            stathat_import_stats.c.position == position,
        )
        .values(**values)
    )


def advance_import_stat(
    conn: Connection,
    *,
    project_id: int,
    import_id: int,
    position: int,
    tier: int,
    cursor: int,
    points: int,
) -> None:
    """Record a committed chunk: the stat's place, and the points it brought."""
    conn.execute(
        update(stathat_import_stats)
        .where(
            stathat_import_stats.c.project_id == project_id,
            stathat_import_stats.c.import_id == import_id,
            stathat_import_stats.c.position == position,
        )
        .values(tier=tier, cursor=cursor, points=stathat_import_stats.c.points + points)
    )
