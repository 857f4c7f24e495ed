"""Trace sessions: the list (time, name, user property, error and text filters) and one
session as a waterfall, with the chosen event's payloads as folded JSON."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import DAY, HOUR, now_ms
from roost.domain.traces import external_id
from roost.services import trace_queries
from roost.storage.event_search import Condition, EventQuery
from roost.storage.events import EventRow, SessionQuery, SessionRow, property_text
from roost.web import folded, links_to, pages, params, waterfall
from roost.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 50
# Events a text search reads to find the sessions holding them.
TEXT_SEARCH_EVENTS = 500
RANGES: dict[str, int | None] = {
    "1h": HOUR,
    "24h": DAY,
    "7d": 7 * DAY,
    "30d": 30 * DAY,
    "all": None,
}
PAYLOADS = ("inputs", "outputs", "metadata", "metrics", "config", "feedback", "user_properties")


def _session_id(raw: str) -> str:
    if not raw or len(raw) > 100:
        raise NotFound("session not found")
    return external_id(raw)


def _property(raw: str) -> tuple[str, str] | None:
    name, colon, value = raw.partition(":")
    if not colon or not name.strip():
        return None
    return name.strip(), property_text(value.strip()) or value.strip()


@router.get("/sessions")
async def session_list(request: Request) -> Response:
    viewer = await pages.viewer(request)
    query = request.query_params
    chosen = query.get("range", "7d")
    chosen = chosen if chosen in RANGES else "7d"
    name = params.text(query.get("name"), 255)
    prop = params.text(query.get("prop"), 300)
    error = query.get("error", "")
    error = error if error in ("yes", "no") else ""
    text = params.text(query.get("q"), 500)
    cursor = params.text(query.get("cursor"))
    project_id, now = viewer.project_id, now_ms()
    span = RANGES[chosen]
    start = float(now - span) if span else None
    has_error = {"yes": True, "no": False}.get(error)
    pair = _property(prop) if prop else None
    try:
        before = trace_queries.decode_cursor(cursor) if cursor else None
    except InvalidInput:
        before = None

    def load(conn: Connection) -> tuple[list[SessionRow], str | None]:
        if text:
            return _by_text(conn, project_id, text, start, has_error, name), None
        found = trace_queries.list_sessions(
            conn,
            project_id=project_id,
            query=SessionQuery(
                start=start,
                event_name=name or None,
                properties=(pair,) if pair else (),
                has_error=has_error,
                before=before,
                limit=PER_PAGE,
            ),
        )
        return found.items, found.next_cursor

    rows, next_cursor = await pages.read(request, load)
    context = {
        "title": "Sessions · Roost",
        "nav": "sessions",
        "sessions": [(row, _user(row)) for row in rows],
        "next_cursor": next_cursor,
        "ranges": list(RANGES),
        "range": chosen,
        "name": name,
        "prop": prop,
        "prop_error": bool(prop) and pair is None,
        "error": error,
        "q": text,
        "filters": {"range": chosen, "name": name, "prop": prop, "error": error},
    }
    return render(request, "sessions.html", context, viewer=viewer)


def _by_text(
    conn: Connection,
    project_id: int,
    text: str,
    start: float | None,
    has_error: bool | None,
    name: str,
) -> list[SessionRow]:
    """Sessions holding an event with ``text`` in its inputs or outputs, newest first."""
    conditions = (Condition("start_time", "gte", start),) if start is not None else ()
    events = trace_queries.search_events(
        conn,
        project_id=project_id,
        query=EventQuery(conditions=conditions, text=text, limit=TEXT_SEARCH_EVENTS),
    )
    ids = list(dict.fromkeys(row.session_id for row in events.items))
    rows = trace_queries.sessions_by_ids(conn, project_id=project_id, session_ids=ids)
    if has_error is not None:
        rows = [row for row in rows if (row.error_count > 0) == has_error]
    if name:
        rows = [row for row in rows if row.event is not None and row.event.event_name == name]
    rows.sort(key=lambda row: row.start_time, reverse=True)
    return rows[:PER_PAGE]


USER_KEYS = ("user_id", "user", "email", "userId", "username")


def _user(row: SessionRow) -> str:
    """Who the session was for: a user-like property, else the first one, else nothing."""
    if row.event is None:
        return ""
    try:
        properties = orjson.loads(row.event.user_properties)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(properties, dict) or not properties:
        return ""
    for key in USER_KEYS:
        if properties.get(key) not in (None, ""):
            return str(properties[key])[:80]
    key, value = next(iter(properties.items()))
    return f"{key}={value}"[:80]


def _detail(event: EventRow) -> dict[str, Any]:
    return {
        "event": event,
        "payloads": [(name, folded.render(getattr(event, name))) for name in PAYLOADS],
    }


@router.get("/sessions/{session_id}")
async def session_page(request: Request, session_id: str) -> Response:
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, _session_id(session_id)
    chosen = request.query_params.get("event", "")

    def load(conn: Connection) -> dict[str, Any]:
        tree = trace_queries.get_session_tree(conn, project_id=project_id, session_id=wanted)
        return {
            "tree": tree,
            "run": links_to.run_of_session(conn, project_id=project_id, session=tree.session),
        }

    context = await pages.read(request, load)
    tree = context["tree"]
    drawn = waterfall.flatten(tree.root)
    selected = next(
        (row.event for row in drawn.rows if row.event.event_id == chosen), tree.root.row
    )
    context.update(
        {
            "title": f"{tree.root.row.event_name or 'Session'} · Sessions · Roost",
            "nav": "sessions",
            "session": tree.session,
            "waterfall": drawn,
            "bar_width": waterfall.WIDTH,
            "indent": waterfall.indent,
            "selected": selected,
            **_detail(selected),
        }
    )
    return render(request, "session.html", context, viewer=viewer)


@router.get("/sessions/{session_id}/events/{event_id}")
async def event_detail(request: Request, session_id: str, event_id: str) -> Response:
    """One event's panel, for htmx when a waterfall row is chosen."""
    viewer = await pages.viewer(request)
    project_id, wanted = viewer.project_id, _session_id(session_id)
    if not event_id or len(event_id) > 100:
        raise NotFound("event not found")
    event = external_id(event_id)

    def load(conn: Connection) -> EventRow:
        view = trace_queries.get_event(conn, project_id=project_id, event_id=event)
        if view.row.session_id != wanted:
            raise NotFound("event not found")
        return view.row

    row = await pages.read(request, load)
    return render(request, "_event_detail.html", _detail(row), viewer=viewer)
