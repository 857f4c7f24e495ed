"""Series: named numeric streams (StatFlow stats, and later metrics, durations, tokens …)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, select

from roost.domain.stathat import generate_classic_key
from roost.storage import dialects
from roost.storage.schema import annotation_series, points, rollups, series


@dataclass(frozen=True, slots=True)
class SeriesRow:
    id: int
    project_id: int
    name: str
    kind: str
    labels_key: str
    created_at: int
    last_ts: int | None
    last_value: float | None
    classic_key: str | None = None  # StatHat's per-stat key for /c and /v


def _row(row: RowMapping) -> SeriesRow:
    return SeriesRow(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        kind=row["kind"],
        labels_key=row["labels_key"],
        created_at=row["created_at"],
        last_ts=row["last_ts"],
        last_value=row["last_value"],
        classic_key=row["classic_key"],
    )


# Driver-level: every ingest transaction looks its series up by name (see ``driver_rows``).
_BY_NAME = (
    "SELECT id, project_id, name, kind, labels_key, created_at, last_ts, last_value, "
    "classic_key FROM series WHERE project_id = ? AND name = ? AND labels_key = ?"
)


def find_series(
    conn: Connection, *, project_id: int, name: str, labels_key: str = ""
) -> SeriesRow | None:
    rows = dialects.driver_rows(conn, _BY_NAME, (project_id, name, labels_key))
    return SeriesRow(*rows[0]) if rows else None


def get_series(conn: Connection, *, project_id: int, series_id: int) -> SeriesRow | None:
    row = (
        conn.execute(
            select(series).where(series.c.project_id == project_id, series.c.id == series_id)
        )
        .mappings()
        .first()
    )
    return _row(row) if row else None


def list_series(
    conn: Connection,
    *,
    project_id: int,
    offset: int = 0,
    limit: int | None = None,
    labels_key: str | None = None,
) -> list[SeriesRow]:
    """The project's series by name; with ``labels_key`` ("" = unlabelled) only those."""
    stmt = select(series).where(series.c.project_id == project_id)
    if labels_key is not None:
        stmt = stmt.where(series.c.labels_key == labels_key)
    rows = conn.execute(
        stmt.order_by(series.c.name, series.c.id).offset(offset or None).limit(limit)
    ).mappings()
    return [_row(row) for row in rows]


def find_series_by_classic_key(
    conn: Connection, *, project_id: int, classic_key: str
) -> SeriesRow | None:
    row = (
        conn.execute(
            select(series).where(
                series.c.project_id == project_id, series.c.classic_key == classic_key
            )
        )
        .mappings()
        .first()
    )
    return _row(row) if row else None


def existing_series_ids(conn: Connection, *, project_id: int, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = conn.execute(
        select(series.c.id).where(series.c.project_id == project_id, series.c.id.in_(ids))
    ).scalars()
    return set(rows)


def get_or_create_series(
    conn: Connection,
    *,
    project_id: int,
    name: str,
    kind: str,
    created_at: int,
    labels_key: str = "",
    classic_key: str | None = None,
) -> SeriesRow:
    """The series, created with ``kind`` when it does not exist yet.

    Insert-if-absent then read back, so two nodes creating the same series at once both end
    up with the one row. A new series gets ``classic_key``, or a random one.
    """
    found = find_series(conn, project_id=project_id, name=name, labels_key=labels_key)
    if found is not None:
        return found
    series_id = dialects.next_id(conn, "series")
    dialects.insert_ignoring_conflicts(
        conn,
        series,
        [
            {
                "project_id": project_id,
                "id": series_id,
                "name": name,
                "kind": kind,
                "labels_key": labels_key,
                "created_at": created_at,
                "classic_key": classic_key or generate_classic_key(),
            }
        ],
    )
    created = find_series(conn, project_id=project_id, name=name, labels_key=labels_key)
    assert created is not None  # inserted above, or by a concurrent writer
    return created


def delete_series(conn: Connection, *, project_id: int, series_id: int) -> bool:
    """Delete a series with its points, roll-ups and annotation links; False if unknown."""
    for table in (points, rollups, annotation_series):
        conn.execute(
            table.delete().where(table.c.project_id == project_id, table.c.series_id == series_id)
        )
    result = conn.execute(
        series.delete().where(series.c.project_id == project_id, series.c.id == series_id)
    )
    return bool(result.rowcount)
