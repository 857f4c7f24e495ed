"""``/api/v1/traces``: LLM and agent sessions, their event trees, and event search.

The same events HoneyHive's API and OTLP ingest write, in Roost's own shapes: times as ISO
8601 (``started_at``) and as unix milliseconds (``start_time``), durations in ms. Lists are
newest first and paged by an opaque ``cursor`` (give back the ``next_cursor`` of a page).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Path, Query
from starlette.requests import Request

from roost.api.native.common import native_router, reading
from roost.api.responses import JSON
from roost.domain.errors import InvalidInput
from roost.domain.times import format_iso, parse_time
from roost.domain.traces import EVENT_TYPES, external_id
from roost.services import trace_queries
from roost.services.trace_queries import TreeNode
from roost.storage.event_search import Condition, EventQuery
from roost.storage.events import EventRow, SessionQuery, SessionRow, property_text

router = native_router("traces")

TimeParam = Annotated[str | None, Query(description="ISO 8601 or unix seconds.", max_length=64)]
Cursor = Annotated[
    str | None, Query(description="The next_cursor of the previous page.", max_length=200)
]
PageSize = Annotated[int, Query(ge=1, le=500, description="Page size.")]
ErrorFilter = Annotated[
    bool | None, Query(description="true: only with an error; false: only without.")
]
TraceId = Annotated[str, Path(min_length=1, max_length=100)]


def _ms(value: str | None, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(parse_time(value))
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None


def _json(text: str) -> orjson.Fragment:
    return orjson.Fragment(text)


def event_public(row: EventRow, children_ids: list[str]) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "session_id": row.session_id,
        "parent_id": row.parent_id,
        "event_type": row.event_type,
        "event_name": row.event_name,
        "source": row.source,
        "started_at": format_iso(round(row.start_time)),
        "ended_at": format_iso(round(row.end_time)),
        "start_time": row.start_time,
        "end_time": row.end_time,
        "duration_ms": row.duration,
        "error": row.error,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "total_tokens": row.total_tokens,
        "cost": row.cost,
        "inputs": _json(row.inputs),
        "outputs": _json(row.outputs),
        "config": _json(row.config),
        "metadata": _json(row.metadata),
        "metrics": _json(row.metrics),
        "feedback": _json(row.feedback),
        "user_properties": _json(row.user_properties),
        "children_ids": children_ids,
    }


def session_public(row: SessionRow) -> dict[str, Any]:
    event = row.event
    end = max(row.end_time, event.end_time) if event else row.end_time
    return {
        "session_id": row.session_id,
        "name": event.event_name if event else None,
        "source": event.source if event else None,
        "started_at": format_iso(round(row.start_time)),
        "ended_at": format_iso(round(end)),
        "start_time": row.start_time,
        "end_time": end,
        "duration_ms": end - row.start_time,
        "event_count": row.event_count,
        "model_event_count": row.model_event_count,
        "error_count": row.error_count,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "total_tokens": row.total_tokens,
        "cost": row.cost,
        "error": event.error if event else None,
        "user_properties": _json(event.user_properties) if event else {},
        "metadata": _json(event.metadata) if event else {},
    }


def tree_public(node: TreeNode) -> dict[str, Any]:
    out = event_public(node.row, node.children_ids)
    out["children"] = [tree_public(child) for child in node.children]
    return out


def _properties(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for index, value in enumerate(values):
        name, colon, wanted = value.partition(":")
        if not colon or not name:
            raise InvalidInput(f"user_property[{index}]", "must look like name:value")
        pairs.append((name, property_text(wanted) or wanted))
    return tuple(pairs)


@router.get("/traces/sessions", summary="Sessions, newest first")
def list_sessions(
    request: Request,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    to: TimeParam = None,
    event_name: Annotated[
        str | None, Query(max_length=255, description="Sessions holding an event of this name.")
    ] = None,
    user_property: Annotated[
        list[str] | None,
        Query(max_length=20, description="name:value of the session's user properties (ANDed)."),
    ] = None,
    error: ErrorFilter = None,
    limit: PageSize = 50,
    cursor: Cursor = None,
) -> JSON:
    query = SessionQuery(
        start=_ms(from_, "from"),
        end=_ms(to, "to"),
        event_name=event_name,
        properties=_properties(user_property or []),
        has_error=error,
        before=trace_queries.decode_cursor(cursor),
        limit=limit,
    )
    with reading(request) as (conn, principal):
        found = trace_queries.list_sessions(conn, project_id=principal.project_id, query=query)
    return JSON(
        {
            "sessions": [session_public(row) for row in found.items],
            "next_cursor": found.next_cursor,
        }
    )


@router.get("/traces/sessions/{session_id}", summary="A session and its events as a tree")
def get_session(request: Request, session_id: TraceId) -> JSON:
    with reading(request) as (conn, principal):
        tree = trace_queries.get_session_tree(
            conn, project_id=principal.project_id, session_id=external_id(session_id)
        )
    return JSON(
        {
            **session_public(tree.session),
            "truncated": tree.truncated,
            "tree": tree_public(tree.root),
        }
    )


@router.get("/traces/events", summary="Search events, newest first")
def search_events(
    request: Request,
    type: Annotated[
        str | None, Query(description="session, model, tool or chain.", max_length=16)
    ] = None,
    name: Annotated[str | None, Query(max_length=255, description="The event name.")] = None,
    session_id: Annotated[str | None, Query(max_length=100)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    to: TimeParam = None,
    error: ErrorFilter = None,
    q: Annotated[
        str | None, Query(max_length=1000, description="Text in the inputs or outputs.")
    ] = None,
    limit: PageSize = 50,
    cursor: Cursor = None,
) -> JSON:
    conditions = []
    if type is not None:
        if type.lower() not in EVENT_TYPES:
            raise InvalidInput("type", "must be one of session, model, tool, chain")
        conditions.append(Condition("event_type", "eq", type.lower()))
    if name is not None:
        conditions.append(Condition("event_name", "eq", name))
    if session_id is not None:
        conditions.append(Condition("session_id", "eq", external_id(session_id)))
    start, end = _ms(from_, "from"), _ms(to, "to")
    if start is not None:
        conditions.append(Condition("start_time", "gte", start))
    if end is not None:
        conditions.append(Condition("start_time", "lt", end))
    if error is not None:
        conditions.append(Condition("has_error", "eq", int(error)))
    query = EventQuery(
        conditions=tuple(conditions),
        text=q or None,
        before=trace_queries.decode_cursor(cursor),
        limit=limit,
    )
    with reading(request) as (conn, principal):
        found = trace_queries.search_events(conn, project_id=principal.project_id, query=query)
    return JSON(
        {
            "events": [event_public(row, trace_queries.named_children(row)) for row in found.items],
            "next_cursor": found.next_cursor,
        }
    )


@router.get("/traces/events/{event_id}", summary="One event")
def get_event(request: Request, event_id: TraceId) -> JSON:
    with reading(request) as (conn, principal):
        view = trace_queries.get_event(
            conn, project_id=principal.project_id, event_id=external_id(event_id)
        )
    return JSON(event_public(view.row, view.children_ids))
