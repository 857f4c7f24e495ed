"""Trace ingest: events and spans become stored events, session totals and series.

Every product surface (HoneyHive's REST API, OTLP) turns its requests into ``TraceEvent``s;
``prepare`` validates and encodes them before the write (off the writer's thread), and the
jobs here run inside the group commit. A job authenticates the key in its own transaction
and hands its events to the transaction's buffer (``trace_buffer``), which writes them with
their sessions' totals and series points before the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from roost.domain.errors import InvalidInput, NotFound, RoostError
from roost.domain.keys import Scope
from roost.domain.traces import (
    UNKNOWN,
    EventType,
    EventUpdate,
    TraceEvent,
    Usage,
    usage_of,
)
from roost.services.access import Principal, authenticate_in
from roost.services.trace_buffer import (
    EventBatch,
    flush_pending,
    record_changes,
    session_deltas,
    store_batch,
)
from roost.storage import events as event_store
from roost.storage.events import Contribution, EventRecord, EventRow
from roost.storage.writer import WriteTx


def prepare(
    events: Iterable[TraceEvent],
    *,
    received_at: int,
    session: TraceEvent | None = None,
    rejected: list[str] | None = None,
) -> EventBatch:
    """Encode events for storage; raises InvalidInput naming a bucket that cannot be stored,
    or, given a ``rejected`` list, leaves that event out and says why there.

    An id given twice keeps its last version, as two deliveries would.
    """
    batch = EventBatch()
    if session is not None:
        record = event_store.encode_event(session, usage_of(session), received_at)
        batch.session = (session, record)
    records, placeholders = batch.records, batch.placeholders
    for event in events:
        try:
            record = event_store.encode_event(event, usage_of(event), received_at)
        except InvalidInput as exc:
            if rejected is None:
                raise
            rejected.append(f"event {event.event_name!r}: {exc}")
            continue
        records[event.event_id] = record
        if event.event_type == EventType.SESSION:
            batch.properties[event.session_id] = event.user_properties
        elif event.session_id not in placeholders:
            placeholders[event.session_id] = _placeholder(event, received_at)
    for session_id in batch.properties:
        batch.placeholders.pop(session_id, None)
    if session is not None:
        batch.placeholders.pop(session.session_id, None)
    return batch


def _placeholder(event: TraceEvent, received_at: int) -> EventRecord:
    """The session event made for an event whose session was never started."""
    session = TraceEvent(
        event_id=event.session_id,
        session_id=event.session_id,
        parent_id=None,
        event_type=EventType.SESSION,
        event_name=event.session_name or UNKNOWN,
        source=event.source,
        start_time=event.start_time,
        end_time=event.start_time,
        duration=0.0,
    )
    return event_store.encode_event(session, Usage(), received_at)


def _write_principal(tx: WriteTx, key_hash: str) -> Principal:
    return authenticate_in(tx, key_hash).require(Scope.WRITE)


def record_events(tx: WriteTx, *, key_hash: str, batch: EventBatch) -> list[str] | RoostError:
    """The ingest job: store a batch of events; returns their ids in order."""
    try:
        principal = _write_principal(tx, key_hash)
    except RoostError as exc:
        return exc
    if batch.session is not None:
        started = _start_in(tx, principal.project_id, *batch.session)
        if isinstance(started, RoostError):
            return started
    store_batch(tx, principal.project_id, batch)
    return batch.event_ids


# -- sessions and updates -------------------------------------------------------------------


def start_session(tx: WriteTx, *, key_hash: str, batch: EventBatch) -> EventRow | RoostError:
    """Create the batch's session, or merge into it when its id exists (starts are idempotent).

    A repeated start merges ``metadata`` and ``user_properties`` and fills what the stored
    session lacks (a session auto-created for early events has no name, inputs or config).
    Returns the stored session event.
    """
    assert batch.session is not None
    try:
        principal = _write_principal(tx, key_hash)
    except RoostError as exc:
        return exc
    started = _start_in(tx, principal.project_id, *batch.session)
    if isinstance(started, RoostError):
        return started
    store_batch(tx, principal.project_id, batch)
    return started


def _start_in(
    tx: WriteTx, project_id: int, session: TraceEvent, record: EventRecord
) -> EventRow | RoostError:
    conn = tx.conn
    flush_pending(tx)
    stored = event_store.get_event(conn, project_id=project_id, event_id=session.event_id)
    if stored is None:
        batch = EventBatch(
            {record.event_id: record}, {}, {session.session_id: session.user_properties}
        )
        store_batch(tx, project_id, batch)
        flush_pending(tx)  # the caller answers with the stored session
    elif stored.event_type != EventType.SESSION:
        return InvalidInput("session_id", "names an event that is not a session")
    else:
        try:
            values = _merged_start(stored, session)
        except InvalidInput as exc:
            return exc
        event_store.update_event(
            conn, project_id=project_id, event_id=session.event_id, values=values
        )
        if "user_properties" in values:
            event_store.replace_session_properties(
                conn,
                project_id=project_id,
                session_id=session.session_id,
                properties=orjson.loads(values["user_properties"]),
            )
    found = event_store.get_event(conn, project_id=project_id, event_id=session.event_id)
    assert found is not None
    return found


def _merged_start(stored: EventRow, session: TraceEvent) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for bucket in ("metadata", "user_properties"):
        fields = getattr(session, bucket)
        if fields:
            merged = {**orjson.loads(getattr(stored, bucket)), **fields}
            values[bucket] = event_store.encode_json(merged, bucket)
    if stored.event_name == UNKNOWN and session.event_name != UNKNOWN:
        values["event_name"] = session.event_name
    if stored.source == UNKNOWN and session.source != UNKNOWN:
        values["source"] = session.source
    for bucket in ("inputs", "outputs", "config", "metrics", "feedback"):
        fields = getattr(session, bucket)
        if fields and getattr(stored, bucket) == "{}":
            values[bucket] = event_store.encode_json(fields, bucket)
    return values


def update_event(tx: WriteTx, *, key_hash: str, update: EventUpdate, now: int) -> RoostError | None:
    """``PUT /events``: merge objects, replace times, union children; the id may be a session's.

    Tokens and cost the merge adds are added to the session's totals and series too.
    """
    try:
        principal = _write_principal(tx, key_hash)
    except RoostError as exc:
        return exc
    project_id = principal.project_id
    conn = tx.conn
    flush_pending(tx)
    stored = event_store.get_event(conn, project_id=project_id, event_id=update.event_id)
    if stored is None:
        return NotFound("event not found")
    try:
        values, merged = _merged_update(stored, update)
    except InvalidInput as exc:
        return exc
    event_store.update_event(conn, project_id=project_id, event_id=stored.event_id, values=values)
    old = _contribution(stored)
    new = old._replace(**{key: values[key] for key in Contribution._fields if key in values})
    event_store.add_session_totals(conn, project_id=project_id, deltas=session_deltas([(new, old)]))
    if stored.event_type == EventType.SESSION and "user_properties" in merged:
        event_store.replace_session_properties(
            conn,
            project_id=project_id,
            session_id=stored.session_id,
            properties=merged["user_properties"],
        )
    record_changes(
        tx,
        project_id,
        int(stored.start_time),
        now,
        stored.event_type,
        new.has_error - old.has_error,
        (new.total_tokens or 0) - (old.total_tokens or 0),
        (new.cost or 0.0) - (old.cost or 0.0),
    )
    return None


def _contribution(row: EventRow) -> Contribution:
    return Contribution(*(getattr(row, name) for name in Contribution._fields))


def _merged_update(
    stored: EventRow, update: EventUpdate
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    values: dict[str, Any] = {}
    merged: dict[str, dict[str, Any]] = {}
    for bucket, fields in update.merges.items():
        merged[bucket] = {**orjson.loads(getattr(stored, bucket)), **fields}
        values[bucket] = event_store.encode_json(merged[bucket], bucket)
    start = stored.start_time
    if update.end_time is not None:
        values["end_time"] = update.end_time
        values["duration"] = (
            update.duration if update.duration is not None else max(0.0, update.end_time - start)
        )
    elif update.duration is not None:
        values["duration"] = update.duration
        values["end_time"] = start + update.duration
    if update.children_ids:
        known = orjson.loads(stored.children_ids)
        union = known + [child for child in update.children_ids if child not in known]
        values["children_ids"] = event_store.encode_json(union, "children_ids")
    if update.has_error:
        values["error"] = update.error
        values["has_error"] = 0 if update.error is None else 1
    if "metadata" in merged or "metrics" in merged:
        probe = TraceEvent(
            stored.event_id,
            stored.session_id,
            None,
            stored.event_type,
            "",
            "",
            0.0,
            0.0,
            0.0,
            metadata=merged.get("metadata") or orjson.loads(stored.metadata),
            metrics=merged.get("metrics") or orjson.loads(stored.metrics),
        )
        usage = usage_of(probe)
        values.update(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            cost=usage.cost,
        )
    return values, merged
