"""Roost's rows in ActiveWorkflow's entities (API.md §4.3).

Clients must tolerate extra fields, so each entity also says which project it belongs to.
"""

from __future__ import annotations

from typing import Any

from roost.domain.agents import expires_at, format_time
from roost.services.agents import AgentView, payload_of
from roost.services.workflows import WorkflowView
from roost.storage.messages import MessageRow
from roost.storage.workflows import WorkflowRow


def agent(view: AgentView) -> dict[str, Any]:
    row = view.row
    return {
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "disabled": row.disabled,
        "messages_count": row.messages_count,
        "sources": [{"id": source} for source in view.sources],
        "project_id": row.project_id,
    }


def message(row: MessageRow, keep_ms: int | None, *, with_payload: bool = False) -> dict[str, Any]:
    expiry = expires_at(row.created_at, keep_ms)
    body: dict[str, Any] = {
        "id": row.id,
        "agent_id": row.agent_id,
        "created_at": format_time(row.created_at),
        "expires_at": format_time(expiry) if expiry is not None else None,
    }
    if with_payload:
        body["payload"] = payload_of(row)
    return body


def workflow(row: WorkflowRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "project_id": row.project_id,
    }


def workflow_detail(view: WorkflowView) -> dict[str, Any]:
    return {**workflow(view.row), "agents": [agent(item) for item in view.agents]}
