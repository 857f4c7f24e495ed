"""Workflows: read, create, change, delete, export and import (ActiveWorkflow's file format).

A workflow is a named set of agents in one project; links belong to the agents (as in
ActiveWorkflow), so a workflow's links are those between its agents. Imports upsert the
workflow by guid and its agents by guid within the project, then recreate the links between
them from the file's indices.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection

from roost.domain import workflows as rules
from roost.domain.errors import Forbidden, InvalidInput, NotFound
from roost.domain.times import format_iso
from roost.services.agents import AgentView, Viewer, agents_by_id
from roost.storage import agents as agent_store
from roost.storage import workflows as workflow_store
from roost.storage.agents import CONTROL, DATA
from roost.storage.workflows import WorkflowRow
from roost.storage.writer import WriteTx


@dataclass(frozen=True, slots=True)
class WorkflowView:
    row: WorkflowRow
    agents: list[AgentView]


@dataclass(frozen=True, slots=True)
class WorkflowChange:
    """A create (every field but description required) or a patch (None = unchanged)."""

    name: str | None = None
    description: str | None = None
    description_given: bool = False
    agent_ids: Sequence[int] | None = None
    links: Sequence[tuple[int, int]] | None = None


def list_workflows(conn: Connection, *, viewer: Viewer) -> list[WorkflowRow]:
    if not viewer.project_ids:
        return []
    return workflow_store.list_workflows(conn, project_ids=viewer.project_ids)


def find_workflow(conn: Connection, *, viewer: Viewer, workflow_id: int) -> WorkflowRow:
    found = (
        workflow_store.get_workflow(conn, project_ids=viewer.project_ids, workflow_id=workflow_id)
        if viewer.project_ids
        else None
    )
    if found is None:
        raise NotFound("record not found")
    return found


def get_workflow(conn: Connection, *, viewer: Viewer, workflow_id: int) -> WorkflowView:
    row = find_workflow(conn, viewer=viewer, workflow_id=workflow_id)
    ids = workflow_store.agent_ids_of(conn, project_id=row.project_id, workflow_id=row.id)
    return WorkflowView(row, agents_by_id(conn, viewer=viewer, ids=ids))


def target_project(viewer: Viewer, project_id: int | None) -> int:
    """The project a new workflow goes into: the one named, or the caller's only writable one."""
    if project_id is not None:
        return viewer.require_write(project_id)
    if len(viewer.writable) == 1:
        return next(iter(viewer.writable))
    if not viewer.writable:
        raise Forbidden("this needs an owner or member of a project, or a write key")
    raise InvalidInput("project_id", "is required: you may write to several projects")


def _check_agents(conn: Connection, project_id: int, agent_ids: Collection[int]) -> None:
    """Every agent must be of the workflow's project; another project's id is not found."""
    found = {
        row.id for row in agent_store.list_agents(conn, project_ids=[project_id], ids=agent_ids)
    }
    for agent_id in agent_ids:
        if agent_id not in found:
            raise NotFound(f"agent {agent_id} not found")


def _apply(
    tx: WriteTx, row_project: int, workflow_id: int, change: WorkflowChange, current: list[int]
) -> None:
    conn = tx.conn
    members = list(change.agent_ids) if change.agent_ids is not None else current
    if change.agent_ids is not None:
        _check_agents(conn, row_project, members)
        workflow_store.set_agents(
            conn, project_id=row_project, workflow_id=workflow_id, agent_ids=members
        )
    if change.links is not None:
        inside = set(members)
        for index, (source, receiver) in enumerate(change.links):
            if source not in inside or receiver not in inside:
                raise InvalidInput(f"links[{index}]", "must link two agents of the workflow")
        agent_store.remove_links_among(conn, project_id=row_project, agent_ids=members)
        agent_store.add_links(
            conn,
            project_id=row_project,
            links={(DATA, source, receiver) for source, receiver in change.links},
        )


def create_workflow(
    tx: WriteTx, *, viewer: Viewer, project_id: int | None, change: WorkflowChange, now: int
) -> WorkflowView:
    target = target_project(viewer, project_id)
    assert change.name is not None
    workflow_id = workflow_store.insert_workflow(
        tx.conn,
        project_id=target,
        values={
            "name": change.name,
            "description": change.description,
            "guid": agent_store.new_guid(),
            "tag_fg_color": None,
            "tag_bg_color": None,
            "icon": None,
            "auto_key": None,
        },
        now=now,
    )
    _apply(tx, target, workflow_id, change, [])
    return get_workflow(tx.conn, viewer=viewer, workflow_id=workflow_id)


def update_workflow(
    tx: WriteTx, *, viewer: Viewer, workflow_id: int, change: WorkflowChange, now: int
) -> WorkflowView:
    row = find_workflow(tx.conn, viewer=viewer, workflow_id=workflow_id)
    viewer.require_write(row.project_id)
    values: dict[str, Any] = {"updated_at": now}
    if change.name is not None:
        values["name"] = change.name
    if change.description_given:
        values["description"] = change.description
    workflow_store.update_workflow(
        tx.conn, project_id=row.project_id, workflow_id=row.id, values=values
    )
    current = workflow_store.agent_ids_of(tx.conn, project_id=row.project_id, workflow_id=row.id)
    _apply(tx, row.project_id, row.id, change, current)
    return get_workflow(tx.conn, viewer=viewer, workflow_id=workflow_id)


def delete_workflow(tx: WriteTx, *, viewer: Viewer, workflow_id: int) -> None:
    """The workflow goes; its agents and their links stay (they belong to the project)."""
    row = find_workflow(tx.conn, viewer=viewer, workflow_id=workflow_id)
    viewer.require_write(row.project_id)
    workflow_store.delete_workflow(tx.conn, project_id=row.project_id, workflow_id=row.id)


# -- export and import ------------------------------------------------------------------------


def export_workflow(
    conn: Connection, *, viewer: Viewer, workflow_id: int, keep_seconds: int, now: int
) -> tuple[str, dict[str, Any]]:
    """The file name and the document (agents sorted by guid, links as indices)."""
    view = get_workflow(conn, viewer=viewer, workflow_id=workflow_id)
    row = view.row
    ordered = sorted((item.row for item in view.agents), key=lambda agent: agent.guid)
    index = {agent.id: position for position, agent in enumerate(ordered)}
    links = agent_store.links_among(conn, project_id=row.project_id, agent_ids=index.keys())
    agents: list[dict[str, Any]] = []
    for agent in ordered:
        item: dict[str, Any] = {
            "type": agent.type,
            "name": agent.name,
            "disabled": agent.disabled,
            "guid": agent.guid,
            "options": orjson.loads(agent.options),
        }
        if agent.schedule is not None:  # only imported agents have a schedule
            item["schedule"] = agent.schedule
        # Roost's own agents keep messages as long as raw data; imported ones say so.
        item["keep_messages_for"] = (
            agent.keep_messages_for
            if agent.kind == "imported"
            else rules.keep_for_export(keep_seconds)
        )
        agents.append(item)
    document = {
        "schema_version": rules.SCHEMA_VERSION,
        "name": row.name or rules.DEFAULT_NAME,
        "description": row.description or rules.DEFAULT_DESCRIPTION,
        "guid": row.guid,
        "tag_fg_color": row.tag_fg_color,
        "tag_bg_color": row.tag_bg_color,
        "icon": row.icon,
        "exported_at": format_iso(now - now % 1000),
        "agents": agents,
        "links": [
            {"source": index[s], "receiver": index[r]} for kind, s, r in links if kind == DATA
        ],
        "control_links": [
            {"controller": index[s], "control_target": index[r]}
            for kind, s, r in links
            if kind == CONTROL
        ],
    }
    return rules.slug(row.name) + ".json", document


def import_workflow(
    tx: WriteTx, *, viewer: Viewer, project_id: int | None, document: object, now: int
) -> WorkflowView:
    """Upsert the workflow by guid and its agents by guid; recreate their links."""
    parsed = rules.parse_import(document)
    target = target_project(viewer, project_id)
    conn = tx.conn
    values = {
        "name": parsed.name,
        "description": parsed.description,
        "tag_fg_color": parsed.tag_fg_color,
        "tag_bg_color": parsed.tag_bg_color,
        "icon": parsed.icon,
    }
    existing = workflow_store.find_by(conn, project_id=target, column="guid", value=parsed.guid)
    if existing is None:
        workflow_id = workflow_store.insert_workflow(
            conn,
            project_id=target,
            values={**values, "guid": parsed.guid, "auto_key": None},
            now=now,
        )
    else:
        workflow_id = existing.id
        workflow_store.update_workflow(
            conn, project_id=target, workflow_id=workflow_id, values={**values, "updated_at": now}
        )
    known = {
        row.guid: row
        for row in agent_store.find_by_guids(
            conn, project_id=target, guids=[agent.guid for agent in parsed.agents]
        )
    }
    ids: list[int] = []
    for agent in parsed.agents:
        fields: dict[str, Any] = {
            "name": agent.name,
            "disabled": agent.disabled,
            "options": orjson.dumps(agent.options).decode(),
            "schedule": agent.schedule,
            "keep_messages_for": agent.keep_messages_for,
        }
        found = known.get(agent.guid)
        if found is None:
            fields |= {"type": agent.type, "guid": agent.guid, "created_at": now}
            ids.append(agent_store.insert_imported(conn, project_id=target, values=fields))
        else:
            # A Roost agent keeps its type; the file may rename, disable or configure it.
            if found.kind == "imported":
                fields["type"] = agent.type
            agent_store.update_agent(conn, project_id=target, agent_id=found.id, values=fields)
            ids.append(found.id)
    workflow_store.set_agents(conn, project_id=target, workflow_id=workflow_id, agent_ids=ids)
    agent_store.forget_known(conn)  # the file may have disabled some
    agent_store.remove_links_among(conn, project_id=target, agent_ids=ids)
    agent_store.add_links(
        conn,
        project_id=target,
        links={(DATA, ids[s], ids[r]) for s, r in parsed.links if ids[s] != ids[r]}
        | {(CONTROL, ids[s], ids[r]) for s, r in parsed.control_links if ids[s] != ids[r]},
    )
    return get_workflow(conn, viewer=viewer, workflow_id=workflow_id)
