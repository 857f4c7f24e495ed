"""HoneyHive wire bodies ⇄ trace events (API.md §5.2 to §5.8 and §5.10).

HoneyHive is lenient and so is this: ids that are missing or not UUIDs are replaced, times
that are not numbers mean "now", and a wrapped body (``{"session": …}``) may hold its object
as a JSON string. What cannot be mended is refused naming the field.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from roost.api.compat.honeyhive.schemas import (
    MAX_BATCH_EVENTS,
    MODEL_CONFIG_FIELDS,
    MODEL_INPUT_FIELDS,
    ORG_ID,
    WORKSPACE_ID,
    ExportRequest,
)
from roost.domain.errors import InvalidInput
from roost.domain.times import parse_time
from roost.domain.traces import (
    MAX_NAME,
    MAX_SOURCE,
    UNKNOWN,
    EventType,
    EventUpdate,
    TraceEvent,
    id_or_new,
    parse_bucket,
    parse_error,
    parse_event_type,
    parse_ms,
    parse_text,
    parse_uuid,
    resolve_times,
)
from roost.services.trace_queries import SessionTree, TreeNode, merge_ids
from roost.storage.event_search import SCALAR_FIELDS, TEXT_FIELDS, Condition, EventQuery
from roost.storage.events import EventRow, SessionRow

# -- bodies ---------------------------------------------------------------------------------


def parse_document(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, whatever the Content-Type says."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "must be valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidInput("body", "must be a JSON object")
    return document


def unwrap(document: dict[str, Any], key: str, *, flat: bool = True) -> dict[str, Any]:
    """``document[key]``, which the current spec allows to be a JSON-encoded string.

    With ``flat``, a body without ``key`` is itself the object (the legacy flat shape).
    """
    if key not in document:
        if flat:
            return document
        raise InvalidInput(key, "is required")
    value = document[key]
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise InvalidInput(key, "must be an object or a JSON-encoded object") from None
    if not isinstance(value, dict):
        raise InvalidInput(key, "must be an object or a JSON-encoded object")
    return value


def event_list(document: dict[str, Any], *keys: str) -> list[Any]:
    """The first of ``keys`` that the document has, which must be a list of events."""
    for key in keys:
        if key in document:
            value = document[key]
            if not isinstance(value, list):
                raise InvalidInput(key, "must be a list of events")
            if len(value) > MAX_BATCH_EVENTS:
                raise InvalidInput(key, f"holds more than {MAX_BATCH_EVENTS} events")
            return value
    raise InvalidInput(keys[0], "is required")


# -- events ---------------------------------------------------------------------------------


def _at(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def event_from_wire(
    raw: object,
    *,
    now: float,
    prefix: str = "",
    session_id: str | None = None,
    parent_id: str | None = None,
    event_type: EventType | None = None,
    require: tuple[str, ...] = (),
) -> TraceEvent:
    """One event of HoneyHive's shared model (§5.2).

    ``session_id`` and ``parent_id`` override the body's (a path id wins); ``event_type``
    forces the type (model events); ``require`` lists fields that must be present.
    """
    if not isinstance(raw, dict):
        raise InvalidInput(prefix or "event", "must be a JSON object")
    for name in require:
        if raw.get(name) is None:
            raise InvalidInput(_at(prefix, name), "is required")
    kind = event_type or parse_event_type(
        raw.get("event_type", EventType.TOOL), _at(prefix, "event_type")
    )

    def bucket(name: str) -> dict[str, Any]:
        return parse_bucket(raw.get(name), _at(prefix, name))

    if kind == EventType.SESSION:
        # A session's event_id is its session_id, whichever of the two the client sent.
        own = parse_uuid(session_id or raw.get("session_id")) or id_or_new(raw.get("event_id"))
        session, parent = own, None
        name_value = raw.get("event_name", raw.get("session_name"))
    else:
        own = id_or_new(raw.get("event_id"))
        session = session_id or id_or_new(raw.get("session_id"))
        parent = parent_id or parse_uuid(raw.get("parent_id")) or session
        name_value = raw.get("event_name")
    start, end, duration = resolve_times(
        parse_ms(raw.get("start_time"), _at(prefix, "start_time")),
        parse_ms(raw.get("end_time"), _at(prefix, "end_time")),
        parse_ms(raw.get("duration"), _at(prefix, "duration")),
        now,
    )
    return TraceEvent(
        event_id=own,
        session_id=session,
        parent_id=parent,
        event_type=kind,
        event_name=parse_text(
            name_value, _at(prefix, "event_name"), default=UNKNOWN, limit=MAX_NAME
        ),
        source=parse_text(
            raw.get("source"), _at(prefix, "source"), default=UNKNOWN, limit=MAX_SOURCE
        ),
        start_time=start,
        end_time=end,
        duration=duration,
        error=parse_error(raw.get("error"), _at(prefix, "error")),
        inputs=bucket("inputs"),
        outputs=bucket("outputs"),
        config=bucket("config"),
        metadata=bucket("metadata"),
        metrics=bucket("metrics"),
        feedback=bucket("feedback"),
        user_properties=bucket("user_properties"),
        children_ids=_ids(raw.get("children_ids"), _at(prefix, "children_ids")),
    )


def _ids(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(field, "must be a list of event ids")
    ids = []
    for index, item in enumerate(value):
        found = parse_uuid(item)
        if found is None:
            raise InvalidInput(f"{field}[{index}]", "must be a UUID")
        ids.append(found)
    return ids


def session_from_wire(raw: dict[str, Any], *, now: float, prefix: str = "session") -> TraceEvent:
    return event_from_wire(raw, now=now, prefix=prefix, event_type=EventType.SESSION)


def event_tree_from_wire(raw: object, *, now: float, session_id: str) -> list[TraceEvent]:
    """The old per-session endpoint's event and its nested ``children``, parents first."""
    found: list[TraceEvent] = []
    pending: list[tuple[object, str, str | None]] = [(raw, "", None)]
    while pending:
        item, prefix, parent_id = pending.pop()
        event = event_from_wire(
            item, now=now, prefix=prefix, session_id=session_id, parent_id=parent_id
        )
        if event.is_session:
            raise InvalidInput(_at(prefix, "event_type"), "a session cannot be logged here")
        found.append(event)
        children = item.get("children") if isinstance(item, dict) else None
        if children is None:
            continue
        if not isinstance(children, list):
            raise InvalidInput(_at(prefix, "children"), "must be a list of events")
        for index in reversed(range(len(children))):
            pending.append((children[index], f"{_at(prefix, 'children')}[{index}]", event.event_id))
        if len(found) + len(pending) > MAX_BATCH_EVENTS:
            raise InvalidInput("children", f"more than {MAX_BATCH_EVENTS} events in one request")
    return found


def model_event_from_wire(raw: object, *, now: float, prefix: str = "model_event") -> TraceEvent:
    """``/events/model``: model fields are sorted into config, inputs, outputs and metadata."""
    event = event_from_wire(raw, now=now, prefix=prefix, event_type=EventType.MODEL)
    assert isinstance(raw, dict)
    for name in MODEL_CONFIG_FIELDS:
        if raw.get(name) is not None:
            event.config.setdefault(name, raw[name])
    for name in MODEL_INPUT_FIELDS:
        if raw.get(name) is not None:
            event.inputs.setdefault(name, raw[name])
    if raw.get("response") is not None:
        event.outputs.setdefault("response", raw["response"])
    usage = raw.get("usage")
    if isinstance(usage, dict):
        event.metadata.setdefault("usage", usage)
        for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
            if usage.get(name) is not None:
                event.metadata.setdefault(name, usage[name])
    if raw.get("cost") is not None:
        event.metadata.setdefault("cost", raw["cost"])
    if event.event_name == UNKNOWN and isinstance(raw.get("model"), str):
        event.event_name = raw["model"][:MAX_NAME]
    return event


def batch_from_wire(
    items: list[Any], *, now: float, key: str, session_id: str | None, model: bool = False
) -> tuple[list[TraceEvent], list[str]]:
    """Valid events of a batch, and ``"<index>: <reason>"`` for the others."""
    events: list[TraceEvent] = []
    errors: list[str] = []
    for index, item in enumerate(items):
        prefix = f"{key}[{index}]"
        try:
            if model:
                event = model_event_from_wire(item, now=now, prefix=prefix)
            else:
                event = event_from_wire(item, now=now, prefix=prefix, require=("event_type",))
        except InvalidInput as exc:
            errors.append(f"{index}: {exc}")
            continue
        if session_id is not None and not event.is_session and not _has_session(item):
            event.session_id = session_id
            if event.parent_id is None or not parse_uuid(item.get("parent_id")):
                event.parent_id = session_id
        events.append(event)
    return events, errors


def _has_session(item: dict[str, Any]) -> bool:
    return parse_uuid(item.get("session_id")) is not None


def single_session(document: dict[str, Any]) -> bool:
    value = document.get("is_single_session", document.get("single_session", False))
    if not isinstance(value, bool):
        raise InvalidInput("is_single_session", "must be true or false")
    return value


def batch_session(document: dict[str, Any], *, now: float) -> TraceEvent:
    """The session a single-session batch creates, from ``session_properties`` (or ``session``)."""
    key = "session_properties" if "session_properties" in document else "session"
    raw = unwrap(document, key, flat=False) if key in document else {}
    return session_from_wire(raw, now=now, prefix=key)


def update_from_wire(raw: dict[str, Any], *, event_id: str | None = None) -> EventUpdate:
    """``PUT /events`` (id in the body) or ``PUT /v1/events/{id}``."""
    found = parse_uuid(event_id if event_id is not None else raw.get("event_id"))
    if found is None:
        raise InvalidInput("event_id", "is required and must be a UUID")
    update = EventUpdate(event_id=found)
    for bucket in (
        "metadata",
        "feedback",
        "metrics",
        "outputs",
        "config",
        "user_properties",
        "inputs",
    ):
        if raw.get(bucket) is not None:
            update.merges[bucket] = parse_bucket(raw[bucket], bucket)
    update.duration = parse_ms(raw.get("duration"), "duration")
    update.end_time = parse_ms(raw.get("end_time"), "end_time")
    update.children_ids = _ids(raw.get("children_ids"), "children_ids")
    if "error" in raw:
        update.error = parse_error(raw["error"])
        update.has_error = True
    return update


# -- answers --------------------------------------------------------------------------------


def _json(text: str) -> orjson.Fragment:
    # Stored JSON goes back out as it is: a 1 MB input is copied, never parsed.
    return orjson.Fragment(text)


def event_public(row: EventRow, children_ids: list[str]) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "session_id": row.session_id,
        "parent_id": row.parent_id,
        "children_ids": children_ids,
        "event_type": row.event_type,
        "event_name": row.event_name,
        "source": row.source,
        "project_id": str(row.project_id),
        "config": _json(row.config),
        "inputs": _json(row.inputs),
        "outputs": _json(row.outputs),
        "error": row.error,
        "start_time": row.start_time,
        "end_time": row.end_time,
        "duration": row.duration,
        "metadata": _json(row.metadata),
        "metrics": _json(row.metrics),
        "feedback": _json(row.feedback),
        "user_properties": _json(row.user_properties),
    }


def session_start_public(row: EventRow) -> dict[str, Any]:
    """The session event with the five ids the SDK requires (§5.3)."""
    return {
        **event_public(row, merge_ids(orjson.loads(row.children_ids), ())),
        "org_id": ORG_ID,
        "workspace_id": WORKSPACE_ID,
    }


def _totals(session: SessionRow, has_feedback: bool) -> dict[str, Any]:
    return {
        "num_events": session.event_count,
        "num_model_events": session.model_event_count,
        "num_errors": session.error_count,
        "has_feedback": has_feedback,
        "prompt_tokens": session.prompt_tokens,
        "completion_tokens": session.completion_tokens,
        "total_tokens": session.total_tokens,
        "cost": session.cost,
    }


def tree_public(tree: SessionTree) -> dict[str, Any]:
    """The session event with ``children`` nested, and its totals in ``metadata`` (§5.8)."""

    def render(node: TreeNode) -> dict[str, Any]:
        out = event_public(node.row, node.children_ids)
        out["children"] = [render(child) for child in node.children]
        return out

    root = render(tree.root)
    session, row = tree.session, tree.root.row
    root["metadata"] = {**orjson.loads(row.metadata), **_totals(session, tree.has_feedback)}
    # A session lasts until its last event ends.
    end = max(row.end_time, session.end_time)
    root["end_time"] = end
    root["duration"] = max(row.duration, end - row.start_time)
    if tree.truncated:
        root["metadata"]["truncated"] = True
    return root


# -- export ---------------------------------------------------------------------------------

_OPERATORS = {
    "is": "eq",
    "is not": "ne",
    "contains": "contains",
    "not contains": "not_contains",
    "greater than": "gt",
    "less than": "lt",
    "greater than or equal": "gte",
    "less than or equal": "lte",
    "exists": "exists",
    "not exists": "not_exists",
}
# Usage figures live in metadata on the wire and in their own columns here.
_FIELD_ALIASES = {
    "metadata.cost": "cost",
    "metadata.total_tokens": "total_tokens",
    "metadata.prompt_tokens": "prompt_tokens",
    "metadata.completion_tokens": "completion_tokens",
}
_NUMERIC = frozenset(
    {
        "start_time",
        "end_time",
        "duration",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost",
    }
)
_IDS = frozenset({"event_id", "session_id", "parent_id"})


def export_query(request: ExportRequest) -> EventQuery:
    conditions = [
        _condition(item.field, item.operator, item.value, f"filters[{index}]")
        for index, item in enumerate(request.filters)
    ]
    conditions.extend(_date_range(request.dateRange))
    return EventQuery(
        conditions=tuple(conditions),
        offset=(request.page - 1) * request.limit,
        limit=request.limit,
    )


def _condition(name: str, operator: str, value: object, field: str) -> Condition:
    column = _FIELD_ALIASES.get(name, name)
    op = _OPERATORS.get(operator.strip().lower())
    if op is None:
        raise InvalidInput(f"{field}.operator", f"unknown operator {operator!r}")
    if column not in SCALAR_FIELDS and column not in TEXT_FIELDS:
        raise InvalidInput(f"{field}.field", f"cannot filter on {name!r}")
    if op in ("exists", "not_exists"):
        return Condition(column, op)
    if column in TEXT_FIELDS and op not in ("contains", "not_contains"):
        raise InvalidInput(f"{field}.operator", f"{name} can only be searched with contains")
    if op in ("contains", "not_contains"):
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{field}.value", "must be a non-empty string")
        return Condition(column, op, value)
    if column in _NUMERIC:
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise InvalidInput(f"{field}.value", "must be a number")
        return Condition(column, op, float(number))
    if column == "has_error":
        if not isinstance(value, bool):
            raise InvalidInput(f"{field}.value", "must be true or false")
        return Condition(column, op, int(value))
    if not isinstance(value, str):
        raise InvalidInput(f"{field}.value", "must be a string")
    if column in _IDS:
        value = parse_uuid(value) or value
    elif column == "event_type":
        value = value.lower()
    return Condition(column, op, value)


def _date_range(value: dict[str, Any] | None) -> list[Condition]:
    if not value:
        return []
    found = []
    for keys, op in ((("$gte", "start_time"), "gte"), (("$lte", "end_time"), "lte")):
        for key in keys:
            if value.get(key) is not None:
                found.append(Condition("start_time", op, _range_ms(value[key], f"dateRange.{key}")))
                break
    return found


def _range_ms(value: object, field: str) -> float:
    """ISO 8601, or unix milliseconds (HoneyHive's unit) as a number or a numeric string."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            try:
                return float(parse_time(value))
            except ValueError as exc:
                raise InvalidInput(field, str(exc)) from None
    number = parse_ms(value, field)
    if number is None:
        raise InvalidInput(field, "must be ISO 8601 or unix milliseconds")
    return number
