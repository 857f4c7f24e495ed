"""ActiveWorkflow's client REST API under ``/api/v1`` (API.md §4), plus Roost's writes.

The token is the last word of ``Authorization`` (``Bearer <token>`` and a bare token both
work): a user token sees every project the user belongs to, a project API key with the read
scope sees its project. Writes need an owner or member of the project, or a write key.
Records of projects the caller cannot see are "404 Record not found", like unknown ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path
from pydantic import ValidationError
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from roost.api.compat.activeworkflow import schemas, translate
from roost.api.compat.activeworkflow.errors import ActiveWorkflowRoute, ParameterInvalid
from roost.api.deps import (
    field_from_location,
    get_settings,
    get_store,
    parse_json_model,
    read_body,
)
from roost.api.responses import JSON
from roost.domain.errors import InvalidInput
from roost.domain.times import DAY, now_ms
from roost.domain.users import token_from_header
from roost.services import agents as agent_service
from roost.services import workflows as workflow_service
from roost.services.agents import Viewer
from roost.services.workflows import WorkflowChange

router = APIRouter(prefix="/api/v1", tags=["activeworkflow"], route_class=ActiveWorkflowRoute)

Id = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]


def keep_ms(request: Request) -> int | None:
    """How long a message is kept: as long as raw data (``retention_raw_days``; 0 = forever)."""
    days = get_settings(request).retention_raw_days
    return days * DAY if days > 0 else None


@contextmanager
def reading(request: Request) -> Iterator[tuple[Connection, Viewer]]:
    """One read transaction: who is calling, then the query, on one snapshot."""
    with get_store(request).read() as conn:
        viewer = agent_service.viewer_for(
            conn,
            token=token_from_header(request.headers.get("authorization")),
            secret=get_settings(request).resolved_secret_key(),
        )
        yield conn, viewer


async def caller(request: Request) -> Viewer:
    def check() -> Viewer:
        with reading(request) as (_, viewer):
            return viewer

    return await run_in_threadpool(check)


# -- agents -----------------------------------------------------------------------------------


@router.get("/agents")
def list_agents(request: Request) -> JSON:
    """The caller's agents, newest first."""
    with reading(request) as (conn, viewer):
        found = agent_service.list_agents(conn, viewer=viewer)
    return JSON([translate.agent(item) for item in found])


@router.get("/agents/{agent_id}")
def get_agent(request: Request, agent_id: Id) -> JSON:
    with reading(request) as (conn, viewer):
        found = agent_service.get_agent(conn, viewer=viewer, agent_id=agent_id)
    return JSON(translate.agent(found))


@router.patch("/agents/{agent_id}")
async def update_agent(request: Request, agent_id: Id) -> JSON:
    """Disable or enable an agent (``{"disabled": true}``)."""
    viewer = await caller(request)
    store = get_store(request)
    body = await parse_json_model(request, schemas.AgentUpdate, store.settings.max_body_bytes)
    # On the ingest writer: the agents it remembers between transactions (storage.agents)
    # are the ones ingest consults, and this forgets them as it commits.
    found = await store.ingest(
        partial(
            agent_service.set_disabled, viewer=viewer, agent_id=agent_id, disabled=body.disabled
        )
    )
    return JSON(translate.agent(found))


@router.get("/agents/{agent_id}/messages")
def list_messages(
    request: Request, agent_id: Id, after: str | None = None, limit: str | None = None
) -> JSON:
    """The agent's messages, newest first; ``after`` (ISO 8601) keeps those created later,
    ``limit`` the newest N."""
    try:
        created_after = agent_service.parse_after(after)
        count = agent_service.parse_limit(limit)
    except InvalidInput as exc:
        raise ParameterInvalid(f"{exc.field} {exc.message}") from None
    keep = keep_ms(request)
    with reading(request) as (conn, viewer):
        found = agent_service.list_messages(
            conn,
            viewer=viewer,
            agent_id=agent_id,
            after=created_after,
            limit=count,
            keep_ms=keep,
            now=now_ms(),
            payloads=False,  # ActiveWorkflow lists messages without them
        )
    return JSON([translate.message(row, keep) for row in found])


@router.get("/messages/{message_id}")
def get_message(request: Request, message_id: Id) -> JSON:
    keep = keep_ms(request)
    with reading(request) as (conn, viewer):
        found = agent_service.get_message(
            conn, viewer=viewer, message_id=message_id, keep_ms=keep, now=now_ms()
        )
    return JSON(translate.message(found, keep, with_payload=True))


# -- workflows --------------------------------------------------------------------------------


@router.get("/workflows")
def list_workflows(request: Request) -> JSON:
    with reading(request) as (conn, viewer):
        found = workflow_service.list_workflows(conn, viewer=viewer)
    return JSON([translate.workflow(row) for row in found])


@router.post("/workflows")
async def create_workflow(request: Request) -> JSON:
    """A new workflow: ``name``, optional ``description``, ``agent_ids``, ``links``
    (``{"source": <agent id>, "receiver": <agent id>}``) and ``project_id``."""
    viewer = await caller(request)
    store = get_store(request)
    body = await parse_json_model(request, schemas.WorkflowCreate, store.settings.max_body_bytes)
    change = WorkflowChange(
        name=body.name.strip() or body.name,
        description=body.description,
        agent_ids=body.agent_ids,
        links=[(link.source, link.receiver) for link in body.links],
    )
    view = await store.write(
        partial(
            workflow_service.create_workflow,
            viewer=viewer,
            project_id=body.project_id,
            change=change,
            now=now_ms(),
        )
    )
    return JSON(translate.workflow_detail(view), status_code=201)


@router.post("/workflows/import")
async def import_workflow(request: Request, project_id: str | None = None) -> JSON:
    """Upsert a workflow and its agents from an export file (Roost's, ActiveWorkflow's or a
    Huginn scenario); ``?project_id=`` picks the project when the caller has several."""
    viewer = await caller(request)
    store = get_store(request)
    target = _project_id(project_id)
    try:
        document = orjson.loads(await read_body(request, store.settings.max_body_bytes))
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "must be valid JSON") from None
    view = await store.write(
        partial(
            workflow_service.import_workflow,
            viewer=viewer,
            project_id=target,
            document=document,
            now=now_ms(),
        )
    )
    return JSON(translate.workflow_detail(view))


def _project_id(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput("project_id", "must be an integer") from None
    if not 1 <= number <= schemas.MAX_ID:
        raise InvalidInput("project_id", "must be a positive integer")
    return number


@router.get("/workflows/{workflow_id}")
def get_workflow(request: Request, workflow_id: Id) -> JSON:
    with reading(request) as (conn, viewer):
        view = workflow_service.get_workflow(conn, viewer=viewer, workflow_id=workflow_id)
    return JSON(translate.workflow_detail(view))


@router.patch("/workflows/{workflow_id}")
async def update_workflow(request: Request, workflow_id: Id) -> JSON:
    """Change the name, description, agents (``agent_ids`` replaces them) or links."""
    viewer = await caller(request)
    store = get_store(request)
    raw = await read_body(request, store.settings.max_body_bytes)
    try:
        document: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "must be valid JSON") from None
    parsed = _parse_update(document)
    view = await store.write(
        partial(
            workflow_service.update_workflow,
            viewer=viewer,
            workflow_id=workflow_id,
            change=parsed,
            now=now_ms(),
        )
    )
    return JSON(translate.workflow_detail(view))


def _parse_update(document: Any) -> WorkflowChange:
    try:
        body = schemas.WorkflowUpdate.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = field_from_location(first.get("loc", ()))
        raise InvalidInput(field, first.get("msg", "is invalid")) from None
    given = isinstance(document, dict) and "description" in document
    return WorkflowChange(
        name=body.name.strip() if body.name is not None else None,
        description=body.description,
        description_given=given,
        agent_ids=body.agent_ids,
        links=None if body.links is None else [(link.source, link.receiver) for link in body.links],
    )


@router.delete("/workflows/{workflow_id}")
async def delete_workflow(request: Request, workflow_id: Id) -> Response:
    viewer = await caller(request)
    await get_store(request).write(
        partial(workflow_service.delete_workflow, viewer=viewer, workflow_id=workflow_id)
    )
    return Response(status_code=204)


@router.get("/workflows/{workflow_id}/export")
def export_workflow(request: Request, workflow_id: Id) -> JSON:
    keep = keep_ms(request)
    with reading(request) as (conn, viewer):
        filename, document = workflow_service.export_workflow(
            conn,
            viewer=viewer,
            workflow_id=workflow_id,
            keep_seconds=(keep or 0) // 1000,
            now=now_ms(),
        )
    return JSON(document, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
