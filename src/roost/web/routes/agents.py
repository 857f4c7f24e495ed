"""ActiveWorkflow agents and workflows: the agents list with their last message, and one
workflow's agents and links drawn as a graph, with each agent's recent messages.

Reads go through the agent and workflow services with a viewer of the chosen project only,
so another project's workflow or agent is a 404 like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.times import DAY, now_ms
from roost.services import agents as agent_service
from roost.services import workflows as workflow_service
from roost.services.agents import AgentView
from roost.storage.messages import MessageRow
from roost.web import folded, graph, pages, params
from roost.web.pages import PageRoute, Viewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RECENT_MESSAGES = 5
MAX_AGENTS = 500


def _reader(viewer: Viewer) -> agent_service.Viewer:
    """The services' viewer for the project chosen in the switcher, read-only."""
    return agent_service.Viewer(frozenset({viewer.project_id}), frozenset())


def _keep_ms(request: Request) -> int | None:
    # Messages live as long as raw data, as in the ActiveWorkflow API.
    days = pages.settings_of(request).retention_raw_days
    return days * DAY if days > 0 else None


@dataclass(frozen=True, slots=True)
class Shown:
    message: MessageRow
    payload: Any  # folded JSON markup


def _messages(
    conn: Connection, reader: agent_service.Viewer, agent_id: int, keep: int | None, limit: int
) -> list[Shown]:
    now = now_ms()
    rows = agent_service.list_messages(
        conn, viewer=reader, agent_id=agent_id, after=None, limit=limit, keep_ms=keep, now=now
    )
    return [
        Shown(row, folded.render(orjson.dumps(agent_service.payload_of(row)).decode()))
        for row in rows
    ]


@router.get("/agents")
async def agent_list(request: Request) -> Response:
    viewer = await pages.viewer(request)
    reader, keep = _reader(viewer), _keep_ms(request)

    def load(conn: Connection) -> dict[str, Any]:
        agents = agent_service.list_agents(conn, viewer=reader)[:MAX_AGENTS]
        last = {
            view.row.id: _messages(conn, reader, view.row.id, keep, 1)
            for view in agents
            if view.row.messages_count
        }
        return {
            "agents": agents,
            "last": {key: found[0] for key, found in last.items() if found},
            "workflows": workflow_service.list_workflows(conn, viewer=reader),
        }

    context = await pages.read(request, load)
    context.update({"title": "Agents · Roost", "nav": "agents"})
    return render(request, "agents.html", context, viewer=viewer)


def _links(agents: list[AgentView]) -> list[tuple[int, int]]:
    ids = {view.row.id for view in agents}
    return [(source, view.row.id) for view in agents for source in view.sources if source in ids]


@router.get("/workflows/{workflow_id}")
async def workflow_page(request: Request, workflow_id: str) -> Response:
    viewer = await pages.viewer(request)
    reader, keep = _reader(viewer), _keep_ms(request)
    wanted = params.record_id(workflow_id, "workflow")

    def load(conn: Connection) -> dict[str, Any]:
        found = workflow_service.get_workflow(conn, viewer=reader, workflow_id=wanted)
        return {
            "workflow": found.row,
            "agents": found.agents,
            "messages": {
                view.row.id: _messages(conn, reader, view.row.id, keep, RECENT_MESSAGES)
                for view in found.agents
            },
        }

    context = await pages.read(request, load)
    agents: list[AgentView] = context["agents"]
    drawn = graph.lay_out(
        [(view.row.id, view.row.name, view.row.type) for view in agents], _links(agents)
    )
    context.update(
        {
            "title": f"{context['workflow'].name} · Workflows · Roost",
            "nav": "agents",
            "graph": drawn,
        }
    )
    return render(request, "workflow.html", context, viewer=viewer)
