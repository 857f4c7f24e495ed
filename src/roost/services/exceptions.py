"""Exception reports: record one in its fingerprint group; list, read and triage groups."""

from __future__ import annotations

from sqlalchemy import Connection

from roost.domain.errors import InvalidInput, NotFound, RoostError
from roost.domain.fingerprint import fingerprint
from roost.domain.processes import ExceptionStatus, ProcessKey
from roost.services.messages import add_message
from roost.services.processes import agent_of, principal_in, process_for
from roost.storage import exceptions as exception_store
from roost.storage import runs as run_store
from roost.storage.exceptions import GroupRow, OccurrenceRow
from roost.storage.writer import WriteTx


def record_exception(
    tx: WriteTx, *, key_hash: str, process: ProcessKey, text: str, now: int
) -> RoostError | None:
    """Store the report, count it in its group (reopening a resolved one), tie it to the
    process's newest open run (which will end "failed"), and add one to the process's
    exception-count series."""
    principal = principal_in(tx, key_hash)
    if isinstance(principal, RoostError):
        return principal
    project_id = principal.project_id
    row = process_for(tx, project_id, process, now)
    # Groups are per process name: the same bug in two regions (metas) is one group; the
    # same-looking error in two different programs is not.
    found = fingerprint(text, scope=process.name)
    open_run = run_store.newest_open_run(
        tx.conn, project_id=project_id, process_id=row.id, uid=None
    )
    group_id = exception_store.record_occurrence(
        tx.conn,
        project_id=project_id,
        group={
            "fingerprint": found.hash,
            "process_name": process.name,
            "type": found.type,
            "message": found.message,
        },
        process_id=row.id,
        run_id=open_run.id if open_run else None,
        occurred_at=now,
        text=text,
    )
    if open_run is not None:
        run_store.count_exception(tx.conn, project_id=project_id, run_id=open_run.id)
    tx.points.add(project_id, row.exceptions_series_id, now, 1.0)
    add_message(
        tx,
        project_id=project_id,
        agent=agent_of(tx, row),
        created_at=now,
        payload={
            "kind": "exception",
            "process": row.name,
            "meta": row.meta,
            "group_id": group_id,
            "type": found.type,
            "message": found.message,
        },
    )
    return None


def list_groups(
    conn: Connection,
    *,
    project_id: int,
    statuses: list[str] | None,
    process_name: str | None,
    before: int | None,
    limit: int,
) -> list[GroupRow]:
    return exception_store.list_groups(
        conn,
        project_id=project_id,
        statuses=statuses,
        process_name=process_name,
        before=before,
        limit=limit,
    )


def get_group(conn: Connection, *, project_id: int, group_id: int) -> GroupRow:
    found = exception_store.get_group(conn, project_id=project_id, group_id=group_id)
    if found is None:
        raise NotFound("exception group not found")
    return found


def list_occurrences(
    conn: Connection, *, project_id: int, group_id: int, before: int | None, limit: int
) -> list[OccurrenceRow]:
    get_group(conn, project_id=project_id, group_id=group_id)
    return exception_store.list_occurrences(
        conn, project_id=project_id, group_id=group_id, before=before, limit=limit
    )


def set_status(tx: WriteTx, *, project_id: int, group_id: int, status: str) -> GroupRow:
    """Resolve, reopen or ignore a group (resolved groups reopen on their next report)."""
    if status not in {choice.value for choice in ExceptionStatus}:
        choices = ", ".join(choice.value for choice in ExceptionStatus)
        raise InvalidInput("status", f"must be one of {choices}")
    if not exception_store.set_group_status(
        tx.conn, project_id=project_id, group_id=group_id, status=status
    ):
        raise NotFound("exception group not found")
    return get_group(tx.conn, project_id=project_id, group_id=group_id)


def occurrences_in_run(
    conn: Connection, *, project_id: int, run_id: int, limit: int
) -> list[OccurrenceRow]:
    """The exceptions reported while this run was its process's newest open run."""
    return exception_store.list_occurrences(conn, project_id=project_id, run_id=run_id, limit=limit)
