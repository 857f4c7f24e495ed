"""Workflows: named sets of agents, made by hand, by import, or per trace session name."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, select, update

from roost.storage import dialects
from roost.storage.schema import workflow_agents, workflows


@dataclass(frozen=True, slots=True)
class WorkflowRow:
    project_id: int
    id: int
    name: str
    description: str | None
    guid: str
    tag_fg_color: str | None
    tag_bg_color: str | None
    icon: str | None
    auto_key: str | None
    created_at: int
    updated_at: int


def _row(row: RowMapping) -> WorkflowRow:
    return WorkflowRow(**{name: row[name] for name in WorkflowRow.__slots__})


def list_workflows(conn: Connection, *, project_ids: Collection[int]) -> list[WorkflowRow]:
    query = (
        select(workflows)
        .where(workflows.c.project_id.in_(sorted(project_ids)))
        .order_by(workflows.c.id)
    )
    return [_row(row) for row in conn.execute(query).mappings()]


def get_workflow(
    conn: Connection, *, project_ids: Collection[int], workflow_id: int
) -> WorkflowRow | None:
    query = select(workflows).where(
        workflows.c.project_id.in_(sorted(project_ids)), workflows.c.id == workflow_id
    )
    found = conn.execute(query).mappings().first()
    return _row(found) if found else None


def find_by(conn: Connection, *, project_id: int, column: str, value: str) -> WorkflowRow | None:
    query = select(workflows).where(
        workflows.c.project_id == project_id, workflows.c[column] == value
    )
    found = conn.execute(query).mappings().first()
    return _row(found) if found else None


def insert_workflow(conn: Connection, *, project_id: int, values: dict[str, Any], now: int) -> int:
    workflow_id = dialects.next_id(conn, "workflows")
    conn.execute(
        workflows.insert().values(
            project_id=project_id, id=workflow_id, created_at=now, updated_at=now, **values
        )
    )
    return workflow_id


def insert_auto_workflows(
    conn: Connection, *, project_id: int, keyed: dict[str, dict[str, Any]], now: int
) -> dict[str, int]:
    """Ids of the workflows with these auto keys, making the missing ones."""
    found = _auto_ids(conn, project_id, keyed)
    missing = [key for key in keyed if key not in found]
    if missing:
        ids = dialects.reserve_ids(conn, "workflows", len(missing))
        dialects.insert_ignoring_conflicts(
            conn,
            workflows,
            [
                {
                    "project_id": project_id,
                    "id": workflow_id,
                    "auto_key": key,
                    "created_at": now,
                    "updated_at": now,
                    **keyed[key],
                }
                for workflow_id, key in zip(ids, missing, strict=True)
            ],
        )
        found = _auto_ids(conn, project_id, keyed)
    return found


def _auto_ids(conn: Connection, project_id: int, keys: Collection[str]) -> dict[str, int]:
    ordered = sorted(keys)
    sql = _AUTO_IDS.format(marks=",".join("?" * len(ordered)))
    return {
        key: int(workflow_id)
        for key, workflow_id in dialects.driver_rows(conn, sql, (project_id, *ordered))
    }


# Driver-level: trace ingest asks on every group commit that carries events.
_AUTO_IDS = "SELECT auto_key, id FROM workflows WHERE project_id = ? AND auto_key IN ({marks})"


def update_workflow(
    conn: Connection, *, project_id: int, workflow_id: int, values: dict[str, Any]
) -> None:
    conn.execute(
        update(workflows)
        .where(workflows.c.project_id == project_id, workflows.c.id == workflow_id)
        .values(**values)
    )


def delete_workflow(conn: Connection, *, project_id: int, workflow_id: int) -> bool:
    conn.execute(
        delete(workflow_agents).where(
            workflow_agents.c.project_id == project_id,
            workflow_agents.c.workflow_id == workflow_id,
        )
    )
    gone = conn.execute(
        delete(workflows).where(workflows.c.project_id == project_id, workflows.c.id == workflow_id)
    )
    return bool(gone.rowcount)


def agent_ids_of(conn: Connection, *, project_id: int, workflow_id: int) -> list[int]:
    rows = conn.execute(
        select(workflow_agents.c.agent_id)
        .where(
            workflow_agents.c.project_id == project_id,
            workflow_agents.c.workflow_id == workflow_id,
        )
        .order_by(workflow_agents.c.agent_id)
    )
    return list(rows.scalars())


def add_agents(conn: Connection, *, project_id: int, pairs: Collection[tuple[int, int]]) -> None:
    """Put (workflow, agent) pairs in; pairs already there are left alone."""
    rows = [(project_id, w, a) for w, a in sorted(pairs)]
    dialects.insert_many(conn, _ADD_AGENTS, rows, 3)


_ADD_AGENTS = (
    "INSERT INTO workflow_agents (project_id, workflow_id, agent_id) VALUES {rows} "
    "ON CONFLICT DO NOTHING"
)


def set_agents(
    conn: Connection, *, project_id: int, workflow_id: int, agent_ids: Collection[int]
) -> None:
    conn.execute(
        delete(workflow_agents).where(
            workflow_agents.c.project_id == project_id,
            workflow_agents.c.workflow_id == workflow_id,
        )
    )
    add_agents(conn, project_id=project_id, pairs={(workflow_id, a) for a in agent_ids})
