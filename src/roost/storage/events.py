"""Trace events, per-session totals and session properties: the SQL.

The ingest path writes events as multi-row upserts at driver level (``dialects.insert_many``);
everything else is SQLAlchemy Core. The seven JSON buckets are stored as JSON text and read
back as text, so a response can embed them without parsing (``orjson.Fragment``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    select,
    text,
    tuple_,
    update,
)

from roost.domain.errors import InvalidInput
from roost.domain.traces import TraceEvent, Usage
from roost.storage import dialects
from roost.storage.schema import trace_events, trace_session_properties, trace_sessions

MAX_PROPERTY = 255
MAX_IDS_PER_QUERY = 10_000


class EventRecord(NamedTuple):
    """One ``trace_events`` row ready to write, without its project (known after auth)."""

    event_id: str
    session_id: str
    parent_id: str | None
    event_type: str
    event_name: str
    source: str
    start_time: float
    end_time: float
    duration: float
    has_error: int
    error: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    cost: float | None
    inputs: str
    outputs: str
    config: str
    metadata: str
    metrics: str
    feedback: str
    user_properties: str
    children_ids: str
    received_at: int


COLUMNS = ("project_id", *EventRecord._fields)
WIDTH = len(COLUMNS)
_UPSERT = (
    f"INSERT INTO trace_events ({', '.join(COLUMNS)}) VALUES {{rows}} "
    "ON CONFLICT (project_id, event_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[2:])
)


def encode_json(value: Any, field: str) -> str:
    if not value:  # most buckets of most events are empty
        return "{}" if isinstance(value, dict) else orjson.dumps(value).decode()
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        raise InvalidInput(field, "is nested too deeply to store") from None


def encode_event(event: TraceEvent, usage: Usage, received_at: int) -> EventRecord:
    """The row for an event; raises InvalidInput for a bucket that cannot be stored."""
    return EventRecord(
        event.event_id,
        event.session_id,
        event.parent_id,
        event.event_type,
        event.event_name,
        event.source,
        event.start_time,
        event.end_time,
        event.duration,
        1 if event.error is not None else 0,
        event.error,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.cost,
        encode_json(event.inputs, "inputs"),
        encode_json(event.outputs, "outputs"),
        encode_json(event.config, "config"),
        encode_json(event.metadata, "metadata"),
        encode_json(event.metrics, "metrics"),
        encode_json(event.feedback, "feedback"),
        encode_json(event.user_properties, "user_properties"),
        encode_json(event.children_ids, "children_ids"),
        received_at,
    )


# -- writes ---------------------------------------------------------------------------------


class Contribution(NamedTuple):
    """What a stored event adds to its session's totals."""

    event_id: str
    session_id: str
    event_type: str
    start_time: float
    end_time: float
    has_error: int
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    cost: float | None


_STORED = select(*(trace_events.c[name] for name in Contribution._fields)).where(
    trace_events.c.project_id == bindparam("project_id"),
    trace_events.c.event_id.in_(bindparam("event_ids", expanding=True)),
)


def stored_contributions(
    conn: Connection, *, project_id: int, event_ids: Sequence[str]
) -> dict[str, Contribution]:
    """The stored versions of these events, if any (a re-delivery replaces them)."""
    found: dict[str, Contribution] = {}
    # In chunks: SQLite takes at most 32,766 bound values per statement.
    for start in range(0, len(event_ids), MAX_IDS_PER_QUERY):
        chunk = list(event_ids[start : start + MAX_IDS_PER_QUERY])
        rows = conn.execute(_STORED, {"project_id": project_id, "event_ids": chunk})
        found.update((row[0], Contribution(*row)) for row in rows)
    return found


def write_events(conn: Connection, *, project_id: int, records: Sequence[EventRecord]) -> None:
    """Insert or replace events (the same id again overwrites, never duplicates)."""
    dialects.insert_many(conn, _UPSERT, [(project_id, *record) for record in records], WIDTH)


def insert_missing_events(
    conn: Connection, *, project_id: int, records: Sequence[EventRecord]
) -> None:
    """Insert events whose id is not stored yet (auto-created sessions); keep the others."""
    if records:
        dialects.insert_ignoring_conflicts(
            conn,
            trace_events,
            [dict(zip(COLUMNS, (project_id, *record), strict=True)) for record in records],
        )


class SessionDelta(NamedTuple):
    session_id: str
    start_time: float
    end_time: float
    event_count: int
    model_event_count: int
    error_count: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float


# Portable upsert: CASE instead of least()/greatest() (SQLite spells them min()/max()).
_ADD_TOTALS = text(
    "INSERT INTO trace_sessions (project_id, session_id, start_time, end_time, event_count, "
    "model_event_count, error_count, prompt_tokens, completion_tokens, total_tokens, cost) "
    "VALUES (:project_id, :session_id, :start_time, :end_time, :event_count, "
    ":model_event_count, :error_count, :prompt_tokens, :completion_tokens, :total_tokens, :cost) "
    "ON CONFLICT (project_id, session_id) DO UPDATE SET "
    "start_time = CASE WHEN excluded.start_time < trace_sessions.start_time "
    "THEN excluded.start_time ELSE trace_sessions.start_time END, "
    "end_time = CASE WHEN excluded.end_time > trace_sessions.end_time "
    "THEN excluded.end_time ELSE trace_sessions.end_time END, "
    + ", ".join(
        f"{name} = trace_sessions.{name} + excluded.{name}" for name in SessionDelta._fields[3:]
    )
)


def add_session_totals(
    conn: Connection, *, project_id: int, deltas: Iterable[SessionDelta]
) -> None:
    rows = [{"project_id": project_id, **delta._asdict()} for delta in deltas]
    if rows:
        conn.execute(_ADD_TOTALS, rows)


def update_event(
    conn: Connection, *, project_id: int, event_id: str, values: dict[str, Any]
) -> None:
    conn.execute(
        update(trace_events)
        .where(trace_events.c.project_id == project_id, trace_events.c.event_id == event_id)
        .values(**values)
    )


def replace_session_properties(
    conn: Connection, *, project_id: int, session_id: str, properties: dict[str, Any]
) -> None:
    """Index a session's user properties as (name, text value) pairs, replacing the old ones."""
    conn.execute(
        delete(trace_session_properties).where(
            trace_session_properties.c.project_id == project_id,
            trace_session_properties.c.session_id == session_id,
        )
    )
    rows = [
        {"project_id": project_id, "session_id": session_id, "name": name, "value": value}
        for name, value in property_pairs(properties)
    ]
    if rows:
        conn.execute(trace_session_properties.insert(), rows)


def property_text(value: Any) -> str | None:
    """How a property value is matched: strings as they are, other scalars as JSON."""
    if isinstance(value, str):
        return value[:MAX_PROPERTY].replace("\x00", "\ufffd")
    if value is None or isinstance(value, bool | int | float):
        return orjson.dumps(value).decode()
    return None  # objects and lists are not searchable


def property_pairs(properties: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in properties.items():
        as_text = property_text(value)
        if as_text is not None and 0 < len(name) <= MAX_PROPERTY and "\x00" not in name:
            pairs.append((name, as_text))
    return pairs


# -- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRow:
    project_id: int
    event_id: str
    session_id: str
    parent_id: str | None
    event_type: str
    event_name: str
    source: str
    start_time: float
    end_time: float
    duration: float
    has_error: int
    error: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    cost: float | None
    inputs: str
    outputs: str
    config: str
    metadata: str
    metrics: str
    feedback: str
    user_properties: str
    children_ids: str
    received_at: int


def event_row(row: Sequence[Any]) -> EventRow:
    return EventRow(*row)


def get_event(conn: Connection, *, project_id: int, event_id: str) -> EventRow | None:
    row = conn.execute(
        select(trace_events).where(
            trace_events.c.project_id == project_id, trace_events.c.event_id == event_id
        )
    ).first()
    return event_row(row) if row else None


def session_events(
    conn: Connection, *, project_id: int, session_id: str, limit: int
) -> list[EventRow]:
    """A session's events (its own event included), oldest first."""
    rows = conn.execute(
        select(trace_events)
        .where(trace_events.c.project_id == project_id, trace_events.c.session_id == session_id)
        .order_by(trace_events.c.start_time, trace_events.c.event_id)
        .limit(limit)
    )
    return [event_row(row) for row in rows]


def child_ids(
    conn: Connection, *, project_id: int, parent_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The ids of the events naming each of ``parent_ids`` as parent, oldest first."""
    found: dict[str, list[str]] = {}
    if not parent_ids:
        return found
    rows = conn.execute(
        select(trace_events.c.parent_id, trace_events.c.event_id)
        .where(
            trace_events.c.project_id == project_id,
            trace_events.c.parent_id.in_(list(parent_ids)),
        )
        .order_by(trace_events.c.start_time, trace_events.c.event_id)
    )
    for parent_id, event_id in rows:
        found.setdefault(parent_id, []).append(event_id)
    return found


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session's totals and, when it exists, its own event."""

    session_id: str
    start_time: float
    end_time: float
    event_count: int
    model_event_count: int
    error_count: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float
    event: EventRow | None


_TOTALS = tuple(trace_sessions.c[name] for name in ("session_id", *SessionDelta._fields[1:]))
_SESSION_JOIN = trace_sessions.outerjoin(
    trace_events,
    and_(
        trace_events.c.project_id == trace_sessions.c.project_id,
        trace_events.c.event_id == trace_sessions.c.session_id,
    ),
)


def _session(row: Sequence[Any]) -> SessionRow:
    event = row[len(_TOTALS) :]
    return SessionRow(
        *row[: len(_TOTALS)],  # type: ignore[misc]
        event=event_row(event) if event[0] is not None else None,
    )


def get_session(conn: Connection, *, project_id: int, session_id: str) -> SessionRow | None:
    row = conn.execute(
        select(*_TOTALS, trace_events)
        .select_from(_SESSION_JOIN)
        .where(
            trace_sessions.c.project_id == project_id,
            trace_sessions.c.session_id == session_id,
        )
    ).first()
    return _session(row) if row else None


@dataclass(frozen=True, slots=True)
class SessionQuery:
    start: float | None = None  # sessions starting at or after (ms)
    end: float | None = None  # … and before (ms)
    event_name: str | None = None  # having an event of this name (the session's own counts)
    properties: tuple[tuple[str, str], ...] = ()  # user properties, as property_text values
    has_error: bool | None = None
    before: tuple[float, str] | None = None  # cursor: (start_time, session_id) of the last seen
    limit: int = 50


def list_sessions(conn: Connection, *, project_id: int, query: SessionQuery) -> list[SessionRow]:
    """Sessions newest first (by start), ``query.limit`` of them after the cursor."""
    sessions = trace_sessions.c
    where: list[ColumnElement[bool]] = [sessions.project_id == project_id]
    if query.start is not None:
        where.append(sessions.start_time >= query.start)
    if query.end is not None:
        where.append(sessions.start_time < query.end)
    if query.has_error is not None:
        where.append(sessions.error_count > 0 if query.has_error else sessions.error_count == 0)
    if query.before is not None:
        where.append(tuple_(sessions.start_time, sessions.session_id) < tuple_(*query.before))
    if query.event_name is not None:
        named = trace_events.alias("named")
        where.append(
            exists().where(
                named.c.project_id == sessions.project_id,
                named.c.session_id == sessions.session_id,
                named.c.event_name == query.event_name,
            )
        )
    for name, value in query.properties:
        props = trace_session_properties.c
        where.append(
            exists().where(
                props.project_id == sessions.project_id,
                props.session_id == sessions.session_id,
                props.name == name,
                props.value == value,
            )
        )
    rows = conn.execute(
        select(*_TOTALS, trace_events)
        .select_from(_SESSION_JOIN)
        .where(*where)
        .order_by(sessions.start_time.desc(), sessions.session_id.desc())
        .limit(query.limit)
    )
    return [_session(row) for row in rows]
