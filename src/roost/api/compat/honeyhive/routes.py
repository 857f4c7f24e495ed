"""HoneyHive routes (API.md §5): sessions and events in, sessions and events out.

Every write is a raw ASGI handler in front of FastAPI (``api/lean.py``): the SDK's session
start, event logging and updates are ingest, and each answers 200 only after its commit. The
reads (a session tree, one event, the export) are FastAPI routes.

The SDK treats any status but 200, and any body that is not JSON, as a failure, so every
success here is exactly 200 with a JSON object.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from roost.api.compat.honeyhive import errors
from roost.api.compat.honeyhive import translate as wire
from roost.api.compat.honeyhive.schemas import ExportRequest, inline_schema
from roost.api.deps import bearer_token, get_store, parse_json_model
from roost.api.lean import LeanHandler, LeanRequest, LeanResponse
from roost.api.responses import JSON
from roost.domain import keys as key_rules
from roost.domain.errors import InvalidInput, Unauthorized
from roost.domain.keys import Scope
from roost.domain.times import now_ms
from roost.domain.traces import TraceEvent, external_id
from roost.services import access, trace_queries, traces
from roost.storage.store import Store

SUCCESS = b'{"success":true}'


# -- the write path: lean handlers ----------------------------------------------------------


class Call:
    """What every write handler works with: the store, the key's hash, the body, the time."""

    __slots__ = ("document", "key_hash", "now", "request", "store")

    def __init__(
        self, request: LeanRequest, store: Store, key_hash: str, document: dict[str, Any]
    ) -> None:
        self.request = request
        self.store = store
        self.key_hash = key_hash
        self.document = document
        self.now = now_ms()

    def path_id(self, name: str) -> str:
        # A path id that is not a UUID still names one session or event, always the same.
        return external_id(self.request.path_params[name])

    async def store_events(
        self, events: list[TraceEvent], session: TraceEvent | None = None
    ) -> list[str]:
        batch = traces.prepare(events, received_at=self.now, session=session)
        ids: list[str] = await self.store.ingest(
            partial(traces.record_events, key_hash=self.key_hash, batch=batch)
        )
        return ids


Work = Callable[[Call], Awaitable[LeanResponse]]


def lean(work: Work) -> LeanHandler:
    """A lean handler: key check, body, then ``work``; expected failures in HoneyHive's body."""

    async def handler(request: LeanRequest) -> LeanResponse:
        try:
            key = request.bearer_token()
            if key is None or not key_rules.KEY_PATTERN.match(key):
                raise Unauthorized("missing or invalid API key")
            store: Store = request.state.store
            body = await request.body(store.settings.max_body_bytes)
            call = Call(request, store, key_rules.hash_key(key), wire.parse_document(body))
            return await work(call)
        except Exception as exc:
            response = errors.lean_from_exception(exc)
            if response is None:
                raise
            return response

    return handler


@lean
async def start_session(call: Call) -> LeanResponse:
    """``POST /session/start`` (``{"session": …}``) and ``POST /v1/sessions`` (bare or wrapped)."""
    session = wire.session_from_wire(wire.unwrap(call.document, "session"), now=call.now)
    batch = traces.prepare([], received_at=call.now, session=session)
    row = await call.store.ingest(
        partial(traces.start_session, key_hash=call.key_hash, batch=batch)
    )
    return LeanResponse.json(wire.session_start_public(row))


@lean
async def log_session_event(call: Call) -> LeanResponse:
    """``POST /session/{session_id}/event``: one event and its nested ``children``."""
    events = wire.event_tree_from_wire(
        call.document, now=call.now, session_id=call.path_id("session_id")
    )
    ids = await call.store_events(events)
    return LeanResponse.json({"event_id": ids[0], "success": True})


async def _session_events(call: Call, *keys: str) -> LeanResponse:
    session_id = call.path_id("session_id")
    items = wire.event_list(call.document, *keys)
    events = []
    for index, item in enumerate(items):
        prefix = f"{keys[0]}[{index}]"
        events.append(
            wire.event_from_wire(item, now=call.now, prefix=prefix, session_id=session_id)
        )
    await call.store_events(events)
    return LeanResponse(SUCCESS)


@lean
async def add_session_traces(call: Call) -> LeanResponse:
    """``POST /session/{session_id}/traces``: ``{"logs": […]}`` or ``{"events": […]}``."""
    return await _session_events(call, "logs", "events")


@lean
async def add_session_event_batch(call: Call) -> LeanResponse:
    """``POST /v1/sessions/{session_id}/events/batch``: ``{"events": […]}``."""
    return await _session_events(call, "events")


@lean
async def create_event(call: Call) -> LeanResponse:
    """``POST /events`` (``{"event": …}``) and ``POST /v1/events`` (bare or wrapped)."""
    raw = wire.unwrap(call.document, "event")
    event = wire.event_from_wire(
        raw, now=call.now, prefix="event", require=("event_type", "inputs")
    )
    ids = await call.store_events([event])
    return LeanResponse.json({"success": True, "event_id": ids[0]})


@lean
async def create_model_event(call: Call) -> LeanResponse:
    """``POST /events/model``: ``{"model_event": …}``."""
    event = wire.model_event_from_wire(wire.unwrap(call.document, "model_event"), now=call.now)
    ids = await call.store_events([event])
    return LeanResponse.json({"success": True, "event_id": ids[0]})


async def _batch(call: Call, key: str, *, model: bool) -> LeanResponse:
    items = wire.event_list(call.document, key)
    session = (
        wire.batch_session(call.document, now=call.now)
        if wire.single_session(call.document)
        else None
    )
    events, problems = wire.batch_from_wire(
        items,
        now=call.now,
        key=key,
        session_id=session.session_id if session else None,
        model=model,
    )
    if problems and not events:
        raise InvalidInput(key, "; ".join(problems[:10]))
    ids = await call.store_events(events, session)
    answer: dict[str, Any] = {"event_ids": ids, "success": not problems}
    if session is not None:
        answer["session_id"] = session.session_id
    if problems:
        # HoneyHive answers 500 for a partly created batch; nothing failed on this side but
        # the request, so the same body comes with a 400. The SDK fails either way.
        answer["errors"] = problems
        return LeanResponse.json(answer, 400)
    return LeanResponse.json(answer)


@lean
async def create_event_batch(call: Call) -> LeanResponse:
    """``POST /events/batch`` and ``/v1/events/batch``."""
    return await _batch(call, "events", model=False)


@lean
async def create_model_event_batch(call: Call) -> LeanResponse:
    """``POST /events/model/batch``: ``{"model_events": […]}``."""
    return await _batch(call, "model_events", model=True)


async def _update(call: Call, event_id: str | None) -> LeanResponse:
    update = wire.update_from_wire(call.document, event_id=event_id)
    await call.store.ingest(
        partial(traces.update_event, key_hash=call.key_hash, update=update, now=call.now)
    )
    return LeanResponse(SUCCESS)


@lean
async def update_event(call: Call) -> LeanResponse:
    """``PUT /events``: ``{"event_id": …, "metadata"?: …, …}``; the id may be a session's."""
    return await _update(call, None)


@lean
async def update_event_by_id(call: Call) -> LeanResponse:
    """``PUT /v1/events/{event_id}``."""
    return await _update(call, call.path_id("event_id"))


HOT_ROUTES: dict[tuple[str, str], LeanHandler] = {
    ("POST", "/session/start"): start_session,
    ("POST", "/v1/sessions"): start_session,
    ("POST", "/session/{session_id}/event"): log_session_event,
    ("POST", "/session/{session_id}/traces"): add_session_traces,
    ("POST", "/v1/sessions/{session_id}/events/batch"): add_session_event_batch,
    ("POST", "/events"): create_event,
    ("POST", "/v1/events"): create_event,
    ("POST", "/events/model"): create_model_event,
    ("POST", "/events/batch"): create_event_batch,
    ("POST", "/v1/events/batch"): create_event_batch,
    ("POST", "/events/model/batch"): create_model_event_batch,
    ("PUT", "/events"): update_event,
    ("PUT", "/v1/events/{event_id}"): update_event_by_id,
}


# -- reads ----------------------------------------------------------------------------------

router = APIRouter(route_class=errors.HoneyHiveRoute, tags=["honeyhive"])

PathId = Annotated[str, Path(min_length=1, max_length=100)]


def _read(request: Request, read: Callable[..., Any], project_id: int | None = None) -> Any:
    """``read(conn, project_id=…)`` for the key's project, in one read transaction."""
    with get_store(request).read() as conn:
        if project_id is None:
            principal = access.authenticate(conn, bearer_token(request)).require(Scope.READ)
            project_id = principal.project_id
        return read(conn, project_id=project_id)


def _project_of(conn: Connection, *, project_id: int) -> int:
    return project_id


def _session_tree(request: Request, session_id: str) -> JSON:
    tree = _read(
        request, partial(trace_queries.get_session_tree, session_id=external_id(session_id))
    )
    return JSON(wire.tree_public(tree))


@router.get("/session/{session_id}", summary="A session as a tree of events")
def get_session(request: Request, session_id: PathId) -> JSON:
    return _session_tree(request, session_id)


@router.get("/v1/sessions/{session_id}", summary="A session as a tree of events")
def get_session_v1(request: Request, session_id: PathId) -> JSON:
    return _session_tree(request, session_id)


@router.get("/v1/events/{event_id}", summary="One event")
def get_event(request: Request, event_id: PathId) -> JSON:
    view = _read(request, partial(trace_queries.get_event, event_id=external_id(event_id)))
    return JSON({"event": wire.event_public(view.row, view.children_ids)})


_EXPORT_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": inline_schema(ExportRequest)}},
    }
}


async def _export(request: Request) -> JSON:
    # The key first, then the body, which is JSON whatever the Content-Type says.
    project_id = await run_in_threadpool(_read, request, _project_of)
    limit = get_store(request).settings.max_body_bytes
    query = wire.export_query(await parse_json_model(request, ExportRequest, limit))
    rows, total = await run_in_threadpool(
        _read, request, partial(trace_queries.export_events, query=query), project_id
    )
    events = [wire.event_public(row, trace_queries.named_children(row)) for row in rows]
    return JSON({"events": events, "totalEvents": total, "count": total})


@router.post(
    "/v1/events/export",
    summary="Events matching filters, a page at a time",
    openapi_extra=_EXPORT_BODY,
)
async def export_events(request: Request) -> JSON:
    return await _export(request)


@router.post(
    "/v1/events/search",
    summary="Events matching filters, a page at a time",
    openapi_extra=_EXPORT_BODY,
)
async def search_events(request: Request) -> JSON:
    return await _export(request)
