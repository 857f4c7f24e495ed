"""Annotations: notes on the timeline (deploys, incidents), shown with every chart."""

from __future__ import annotations

from sqlalchemy import Connection

from roost.domain.errors import InvalidInput, NotFound
from roost.storage import annotations as annotation_store
from roost.storage import series as series_store
from roost.storage.annotations import AnnotationRow
from roost.storage.writer import WriteTx

MAX_TEXT = 2000


def validate_text(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("text", "is required and must be a non-empty string")
    if len(raw) > MAX_TEXT:
        raise InvalidInput("text", f"must be at most {MAX_TEXT} characters")
    # PostgreSQL text cannot hold NUL; refuse it on every engine alike.
    if "\x00" in raw:
        raise InvalidInput("text", "must not contain NUL characters")
    return raw.strip()


def add_annotation(
    tx: WriteTx, *, project_id: int, ts: int, text: str, series_ids: list[int], now: int
) -> AnnotationRow:
    # A stat of another project is reported exactly like a missing one.
    known = series_store.existing_series_ids(tx.conn, project_id=project_id, ids=series_ids)
    for index, series_id in enumerate(series_ids):
        if series_id not in known:
            raise InvalidInput(f"stat_ids[{index}]", f"unknown stat {series_id}")
    return annotation_store.insert_annotation(
        tx.conn, project_id=project_id, ts=ts, text=text, series_ids=series_ids, created_at=now
    )


def list_annotations(
    conn: Connection, *, project_id: int, start: int, end: int
) -> list[AnnotationRow]:
    return annotation_store.list_annotations(conn, project_id=project_id, start=start, end=end)


def delete_annotation(tx: WriteTx, *, project_id: int, annotation_id: int) -> None:
    if not annotation_store.delete_annotation(
        tx.conn, project_id=project_id, annotation_id=annotation_id
    ):
        raise NotFound("annotation not found")
