"""Annotations: timeline notes, project-wide or pinned to some series."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, exists, or_, select

from roost.storage import dialects
from roost.storage.schema import annotation_series
from roost.storage.schema import annotations_table as notes


@dataclass(frozen=True, slots=True)
class AnnotationRow:
    id: int
    ts: int
    text: str
    created_at: int
    series_ids: tuple[int, ...]


def insert_annotation(
    conn: Connection, *, project_id: int, ts: int, text: str, series_ids: list[int], created_at: int
) -> AnnotationRow:
    annotation_id = dialects.next_id(conn, "annotations")
    conn.execute(
        notes.insert().values(
            project_id=project_id, id=annotation_id, ts=ts, text=text, created_at=created_at
        )
    )
    unique_ids = sorted(set(series_ids))
    if unique_ids:
        conn.execute(
            annotation_series.insert(),
            [
                {"project_id": project_id, "annotation_id": annotation_id, "series_id": sid}
                for sid in unique_ids
            ],
        )
    return AnnotationRow(annotation_id, ts, text, created_at, tuple(unique_ids))


def list_annotations(
    conn: Connection, *, project_id: int, start: int, end: int, series_id: int | None = None
) -> list[AnnotationRow]:
    """Annotations with start <= ts < end; with series_id, those pinned to it or project-wide."""
    stmt = select(notes).where(
        notes.c.project_id == project_id,
        notes.c.ts >= start,
        notes.c.ts < end,
    )
    if series_id is not None:
        pinned = annotation_series.c.annotation_id == notes.c.id
        same_project = annotation_series.c.project_id == notes.c.project_id
        stmt = stmt.where(
            or_(
                ~exists().where(pinned, same_project),
                exists().where(pinned, same_project, annotation_series.c.series_id == series_id),
            )
        )
    rows = conn.execute(stmt.order_by(notes.c.ts, notes.c.id)).mappings().all()
    links: dict[int, list[int]] = {}
    if rows:
        for annotation_id, sid in conn.execute(
            select(annotation_series.c.annotation_id, annotation_series.c.series_id).where(
                annotation_series.c.project_id == project_id,
                annotation_series.c.annotation_id.in_([row["id"] for row in rows]),
            )
        ):
            links.setdefault(annotation_id, []).append(sid)
    return [
        AnnotationRow(
            row["id"],
            row["ts"],
            row["text"],
            row["created_at"],
            tuple(sorted(links.get(row["id"], []))),
        )
        for row in rows
    ]


def delete_annotation(conn: Connection, *, project_id: int, annotation_id: int) -> bool:
    result = conn.execute(
        notes.delete().where(notes.c.project_id == project_id, notes.c.id == annotation_id)
    )
    conn.execute(
        annotation_series.delete().where(
            annotation_series.c.project_id == project_id,
            annotation_series.c.annotation_id == annotation_id,
        )
    )
    return bool(result.rowcount)
