"""Event search: conditions on an event's columns and text in its JSON buckets, newest first.

Shared by HoneyHive's export (``filters``) and Roost's ``/api/v1/traces/events``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    func,
    literal_column,
    not_,
    or_,
    select,
    tuple_,
)

from roost.domain.traces import BUCKETS
from roost.storage.events import EventRow, event_row
from roost.storage.schema import trace_events

# Fields a search may compare, and the text buckets it may search in.
SCALAR_FIELDS = frozenset(
    {
        "event_id",
        "session_id",
        "parent_id",
        "event_type",
        "event_name",
        "source",
        "error",
        "has_error",
        "start_time",
        "end_time",
        "duration",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost",
    }
)
TEXT_FIELDS = frozenset(BUCKETS)
OPERATORS = frozenset(
    {"eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_contains", "exists", "not_exists"}
)


@dataclass(frozen=True, slots=True)
class Condition:
    field: str  # one of SCALAR_FIELDS or TEXT_FIELDS
    op: str  # one of OPERATORS
    value: Any = None


@dataclass(frozen=True, slots=True)
class EventQuery:
    conditions: tuple[Condition, ...] = ()
    # Text anywhere in inputs or outputs (case-insensitive for ASCII).
    text: str | None = None
    before: tuple[float, str] | None = None  # cursor: (start_time, event_id) of the last seen
    offset: int = 0
    limit: int = 50


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    """Case-insensitive (ASCII) substring of the stored JSON text.

    Text inside a JSON string is stored escaped (a quote as ``\\"``), so a needle with such
    characters is looked for both as typed (to match JSON itself) and escaped.
    """
    typed = func.lower(column).like(_like(needle), escape="\\")
    escaped = orjson.dumps(needle).decode()[1:-1]
    if escaped == needle:
        return typed
    return or_(typed, func.lower(column).like(_like(escaped), escape="\\"))


def _condition(condition: Condition) -> ColumnElement[bool]:
    column = trace_events.c[condition.field]
    op, value = condition.op, condition.value
    if op == "exists":
        if condition.field in TEXT_FIELDS:
            return and_(column.is_not(None), column != "{}")
        return column.is_not(None)
    if op == "not_exists":
        if condition.field in TEXT_FIELDS:
            return or_(column.is_(None), column == "{}")
        return column.is_(None)
    if op == "contains":
        return _contains(column, str(value))
    if op == "not_contains":
        return or_(column.is_(None), not_(_contains(column, str(value))))
    if op == "eq" and condition.field == "has_error" and value == 1:
        # A literal, not a bound value: only then may the database use the index that holds
        # the failed events alone (see schema.py).
        return column == literal_column("1")
    compare = {
        "eq": column.__eq__,
        "ne": column.__ne__,
        "gt": column.__gt__,
        "gte": column.__ge__,
        "lt": column.__lt__,
        "lte": column.__le__,
    }[op]
    result: ColumnElement[bool] = compare(value)
    if op == "ne":
        result = or_(result, column.is_(None))
    return result


def _event_filters(project_id: int, query: EventQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [trace_events.c.project_id == project_id]
    where.extend(_condition(condition) for condition in query.conditions)
    if query.text:
        where.append(
            or_(
                _contains(trace_events.c.inputs, query.text),
                _contains(trace_events.c.outputs, query.text),
            )
        )
    return where


def find_events(conn: Connection, *, project_id: int, query: EventQuery) -> list[EventRow]:
    """Matching events, newest first (by start)."""
    where = _event_filters(project_id, query)
    if query.before is not None:
        where.append(
            tuple_(trace_events.c.start_time, trace_events.c.event_id) < tuple_(*query.before)
        )
    rows = conn.execute(
        select(trace_events)
        .where(*where)
        .order_by(trace_events.c.start_time.desc(), trace_events.c.event_id.desc())
        .offset(query.offset)
        .limit(query.limit)
    )
    return [event_row(row) for row in rows]


def count_events(conn: Connection, *, project_id: int, query: EventQuery) -> int:
    where = _event_filters(project_id, query)
    return int(
        conn.execute(select(func.count()).select_from(trace_events).where(*where)).scalar_one()
    )
