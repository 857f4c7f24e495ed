"""Exception reports and the groups their fingerprints put them in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, case, insert, select, update

from roost.domain.processes import ExceptionStatus
from roost.storage import dialects
from roost.storage.schema import exception_groups, exceptions


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    project_id: int
    fingerprint: str
    process_name: str
    type: str
    message: str
    first_seen: int
    last_seen: int
    count: int
    status: str


@dataclass(frozen=True, slots=True)
class OccurrenceRow:
    id: int
    project_id: int
    group_id: int
    process_id: int
    run_id: int | None
    occurred_at: int
    text: str


def _group(row: RowMapping) -> GroupRow:
    return GroupRow(**{name: row[name] for name in GroupRow.__slots__})  # type: ignore[attr-defined]


def _occurrence(row: RowMapping) -> OccurrenceRow:
    return OccurrenceRow(**{name: row[name] for name in OccurrenceRow.__slots__})  # type: ignore[attr-defined]


_GROUP_BY_FINGERPRINT = select(exception_groups.c.id).where(
    exception_groups.c.project_id == bindparam("project_id"),
    exception_groups.c.fingerprint == bindparam("fingerprint"),
)
# A new occurrence reopens a resolved group; an ignored group stays ignored.
_BUMP_GROUP = (
    update(exception_groups)
    .where(
        exception_groups.c.project_id == bindparam("p_project_id"),
        exception_groups.c.id == bindparam("p_id"),
    )
    .values(
        count=exception_groups.c.count + 1,
        last_seen=bindparam("seen"),
        opened_at=case(
            (exception_groups.c.status == ExceptionStatus.RESOLVED.value, bindparam("seen")),
            else_=exception_groups.c.opened_at,
        ),
        status=case(
            (
                exception_groups.c.status == ExceptionStatus.RESOLVED.value,
                ExceptionStatus.OPEN.value,
            ),
            else_=exception_groups.c.status,
        ),
    )
)
_INSERT_OCCURRENCE = insert(exceptions)


def record_occurrence(
    conn: Connection,
    *,
    project_id: int,
    group: dict[str, Any],
    process_id: int,
    run_id: int | None,
    occurred_at: int,
    text: str,
) -> int:
    """Store one report in its group (created if new); returns the group id.

    ``group`` holds the fingerprint and the descriptive columns used if the group is new.
    """
    params = {"project_id": project_id, "fingerprint": group["fingerprint"]}
    group_id = conn.execute(_GROUP_BY_FINGERPRINT, params).scalar()
    if group_id is None:
        new_id = dialects.next_id(conn, "exception_groups")
        dialects.insert_ignoring_conflicts(
            conn,
            exception_groups,
            [
                {
                    **group,
                    "project_id": project_id,
                    "id": new_id,
                    "first_seen": occurred_at,
                    "last_seen": occurred_at,
                    "opened_at": occurred_at,
                    "count": 1,
                    "status": ExceptionStatus.OPEN.value,
                }
            ],
        )
        group_id = conn.execute(_GROUP_BY_FINGERPRINT, params).scalar_one()
        if group_id != new_id:  # another node created it first: count this one there
            conn.execute(
                _BUMP_GROUP, {"p_project_id": project_id, "p_id": group_id, "seen": occurred_at}
            )
    else:
        conn.execute(
            _BUMP_GROUP, {"p_project_id": project_id, "p_id": group_id, "seen": occurred_at}
        )
    conn.execute(
        _INSERT_OCCURRENCE,
        {
            "project_id": project_id,
            "id": dialects.next_id(conn, "exceptions"),
            "group_id": group_id,
            "process_id": process_id,
            "run_id": run_id,
            "occurred_at": occurred_at,
            "text": text,
        },
    )
    return int(group_id)


def get_group(conn: Connection, *, project_id: int, group_id: int) -> GroupRow | None:
    found = (
        conn.execute(
            select(exception_groups).where(
                exception_groups.c.project_id == project_id, exception_groups.c.id == group_id
            )
        )
        .mappings()
        .first()
    )
    return _group(found) if found else None


def list_groups(
    conn: Connection,
    *,
    project_id: int,
    statuses: list[str] | None,
    process_name: str | None,
    before: int | None,
    limit: int,
) -> list[GroupRow]:
    """Newest group first (by id)."""
    query = select(exception_groups).where(exception_groups.c.project_id == project_id)
    if statuses:
        query = query.where(exception_groups.c.status.in_(statuses))
    if process_name is not None:
        query = query.where(exception_groups.c.process_name == process_name)
    if before is not None:
        query = query.where(exception_groups.c.id < before)
    rows = conn.execute(query.order_by(exception_groups.c.id.desc()).limit(limit)).mappings()
    return [_group(row) for row in rows]


def set_group_status(conn: Connection, *, project_id: int, group_id: int, status: str) -> bool:
    result = conn.execute(
        update(exception_groups)
        .where(exception_groups.c.project_id == project_id, exception_groups.c.id == group_id)
        .values(status=status)
    )
    return result.rowcount > 0


def list_occurrences(
    conn: Connection,
    *,
    project_id: int,
    group_id: int | None = None,
    process_id: int | None = None,
    run_id: int | None = None,
    start: int | None = None,
    end: int | None = None,
    before: int | None = None,
    limit: int,
) -> list[OccurrenceRow]:
    """Newest first, filtered by group, process, run and ``[start, end]``."""
    query = select(exceptions).where(exceptions.c.project_id == project_id)
    if group_id is not None:
        query = query.where(exceptions.c.group_id == group_id)
    if process_id is not None:
        query = query.where(exceptions.c.process_id == process_id)
    if run_id is not None:
        query = query.where(exceptions.c.run_id == run_id)
    if start is not None:
        query = query.where(exceptions.c.occurred_at >= start)
    if end is not None:
        query = query.where(exceptions.c.occurred_at <= end)
    if before is not None:
        query = query.where(exceptions.c.id < before)
    rows = conn.execute(query.order_by(exceptions.c.id.desc()).limit(limit)).mappings()
    return [_occurrence(row) for row in rows]
