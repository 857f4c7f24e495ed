"""Trace events, per-session totals and session properties: the SQL.

The ingest path runs at driver level, a few multi-row statements per group commit
(``dialects.insert_rows``); everything else is SQLAlchemy Core. The seven JSON buckets are
stored as JSON text and read back as text, so a response can embed them without parsing
(``orjson.Fragment``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    exists,
    select,
    tuple_,
    update,
)

from roost.domain.errors import InvalidInput
from roost.domain.traces import BUCKETS, TraceEvent, Usage
from roost.storage import dialects
from roost.storage.schema import trace_events, trace_session_properties, trace_sessions

MAX_PROPERTY = 255

T = TypeVar("T")


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
_INSERT = f"INSERT INTO trace_events ({', '.join(COLUMNS)}) VALUES {{rows}} "
_UPSERT = (
    _INSERT
    + "ON CONFLICT (project_id, event_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[2:])
)
_INSERT_MISSING = _INSERT + "ON CONFLICT (project_id, event_id) DO NOTHING"


# The ingest path's statements have a few fixed sizes. SQLite compiles a statement anew for
# every new number of rows (at 25 values a row that costs it twice what running it does) and
# commits seldom hold the same number of rows; a statement of a size seen before comes from
# the driver's cache. So each statement's rows (or ids) are padded up to the next size with
# copies of the last one, which an upsert, an insert that ignores conflicts or an IN list
# takes to the same effect. Still one statement, not one per power of two: each statement
# hands the GIL to the event loop and waits to get it back.
MAX_ROWS = 1024  # per statement: 25 values a row stay within SQLite's 32,766
_SIZES = (1, 2, 4, 8, 16, 32, *range(64, MAX_ROWS + 1, 64))


def _size(count: int) -> int:
    return next(size for size in _SIZES if size >= count)


def _statements(items: Sequence[T]) -> Iterator[list[T]]:
    """``items`` in runs of at most MAX_ROWS, each padded to one of a few sizes."""
    for start in range(0, len(items), MAX_ROWS):
        run = list(items[start : start + MAX_ROWS])
        missing = _size(len(run)) - len(run)
        yield run + [run[-1]] * missing if missing else run


def _insert(conn: Connection, template: str, rows: Sequence[tuple[Any, ...]], width: int) -> None:
    """Run an idempotent insert (one that may see a row twice) for ``rows``."""
    if not rows:
        return
    if dialects.is_postgresql(conn):  # one pipelined executemany: nothing to compile per size
        dialects.insert_many(conn, template, rows, width)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for run in _statements(rows):
            dialects.insert_rows(cursor, template, run, width, postgresql=False)
    finally:
        cursor.close()


def encode_json(value: Any, field: str) -> str:
    if not value:  # most buckets of most events are empty
        return "{}" if isinstance(value, dict) else orjson.dumps(value).decode()
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        raise InvalidInput(field, "is nested too deeply to store") from None


_BUCKET_FIELDS = (*BUCKETS, "children_ids")


def encode_event(event: TraceEvent, usage: Usage, received_at: int) -> EventRecord:
    """The row for an event; raises InvalidInput for a bucket that cannot be stored."""
    dumps = orjson.dumps
    try:
        # Written out, not looped: every stored event comes through here.
        inputs = dumps(event.inputs).decode() if event.inputs else "{}"
        outputs = dumps(event.outputs).decode() if event.outputs else "{}"
        config = dumps(event.config).decode() if event.config else "{}"
        metadata = dumps(event.metadata).decode() if event.metadata else "{}"
        metrics = dumps(event.metrics).decode() if event.metrics else "{}"
        feedback = dumps(event.feedback).decode() if event.feedback else "{}"
        properties = dumps(event.user_properties).decode() if event.user_properties else "{}"
        children = dumps(event.children_ids).decode() if event.children_ids else "[]"
    except orjson.JSONEncodeError:
        for name in _BUCKET_FIELDS:  # which bucket it was
            encode_json(getattr(event, name), name)
        raise
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
        0 if event.error is None else 1,
        event.error,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.cost,
        inputs,
        outputs,
        config,
        metadata,
        metrics,
        feedback,
        properties,
        children,
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


_STORED = (
    f"SELECT {', '.join(Contribution._fields)} FROM trace_events "
    "WHERE project_id = ? AND event_id IN ({marks})"
)


def stored_contributions(
    conn: Connection, *, project_id: int, event_ids: Sequence[str]
) -> dict[str, Contribution]:
    """The stored versions of these events, if any (a re-delivery replaces them)."""
    found: dict[str, Contribution] = {}
    for run in _statements(event_ids):
        sql = _STORED.format(marks=",".join("?" * len(run)))
        for row in dialects.driver_rows(conn, sql, (project_id, *run)):
            found[row[0]] = Contribution._make(row)
    return found


def write_events(conn: Connection, *, project_id: int, records: Sequence[EventRecord]) -> None:
    """Insert or replace events (the same id again overwrites, never duplicates)."""
    _insert(conn, _UPSERT, [(project_id, *record) for record in records], WIDTH)


def insert_missing_events(
    conn: Connection, *, project_id: int, records: Sequence[EventRecord]
) -> None:
    """Insert events whose id is not stored yet (auto-created sessions); keep the others."""
    _insert(conn, _INSERT_MISSING, [(project_id, *record) for record in records], WIDTH)


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
_ADD_TOTALS = (
    f"INSERT INTO trace_sessions (project_id, {', '.join(SessionDelta._fields)}) VALUES {{rows}} "
    "ON CONFLICT (project_id, session_id) DO UPDATE SET "
    "start_time = CASE WHEN excluded.start_time < trace_sessions.start_time "
    "THEN excluded.start_time ELSE trace_sessions.start_time END, "
    "end_time = CASE WHEN excluded.end_time > trace_sessions.end_time "
    "THEN excluded.end_time ELSE trace_sessions.end_time END, "
    + ", ".join(
        f"{name} = trace_sessions.{name} + excluded.{name}" for name in SessionDelta._fields[3:]
    )
)
_TOTALS_WIDTH = 1 + len(SessionDelta._fields)


def add_session_totals(
    conn: Connection, *, project_id: int, deltas: Iterable[SessionDelta]
) -> None:
    """Add to the sessions' totals: one delta per session (a statement may not update a row
    twice on PostgreSQL, and padding would add twice, so the few rows go as they are)."""
    rows = [(project_id, *delta) for delta in deltas]
    dialects.insert_many(conn, _ADD_TOTALS, rows, _TOTALS_WIDTH)


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


# The fields a trace event's ActiveWorkflow message shows (``domain.agents.trace_event_payload``).
MESSAGE_FIELDS = (
    trace_events.c.event_id,
    trace_events.c.session_id,
    trace_events.c.parent_id,
    trace_events.c.event_type,
    trace_events.c.event_name,
    trace_events.c.duration,
    trace_events.c.has_error,
)
_IDS_PER_QUERY = 500  # well under either database's limit of bound parameters


def message_fields(
    conn: Connection, *, project_id: int, event_ids: Collection[str]
) -> dict[str, tuple[Any, ...]]:
    """``MESSAGE_FIELDS`` of each stored event of ``event_ids``, by id (primary-key lookups)."""
    found: dict[str, tuple[Any, ...]] = {}
    ordered = sorted(event_ids)
    for start in range(0, len(ordered), _IDS_PER_QUERY):
        rows = conn.execute(
            select(*MESSAGE_FIELDS).where(
                trace_events.c.project_id == project_id,
                trace_events.c.event_id.in_(ordered[start : start + _IDS_PER_QUERY]),
            )
        )
        for row in rows:
            found[row[0]] = tuple(row)
    return found


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
    # Sorted here, not by the database: asked to sort, SQLite reads every event of the
    # project along the start_time index instead of the few children along parent_id's.
    rows = conn.execute(
        select(trace_events.c.parent_id, trace_events.c.event_id, trace_events.c.start_time).where(
            trace_events.c.project_id == project_id,
            trace_events.c.parent_id.in_(list(parent_ids)),
        )
    )
    for parent_id, event_id, _ in sorted(rows, key=lambda row: (row[2], row[1])):
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
