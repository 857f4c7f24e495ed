"""The trace events a transaction's jobs store, written together before COMMIT.

With them go each session's totals (events, model events, errors, tokens, cost, first start
and last end) and the points of the ``trace.*`` series, so all of it commits together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from roost.domain.stats import Kind
from roost.domain.times import MAX_MS
from roost.domain.traces import EventType, TraceEvent
from roost.services import agents as agent_service
from roost.storage import events as event_store
from roost.storage import series as series_store
from roost.storage.events import Contribution, EventRecord, SessionDelta
from roost.storage.writer import WriteTx

# Series every project's traces feed (labels: the event type where it says so).
EVENTS_SERIES = "trace.events"  # counter, per event type
ERRORS_SERIES = "trace.errors"  # counter, per event type
LATENCY_SERIES = "trace.latency_ms"  # value, per event type (sessions excluded)
TOKENS_SERIES = "trace.tokens"  # counter
COST_SERIES = "trace.cost"  # counter


@dataclass(slots=True)
class EventBatch:
    """Events validated and encoded at the edge, ready for one write job."""

    records: list[EventRecord] = field(default_factory=list)
    # A session event to create, per session referenced, when the session has none yet.
    placeholders: dict[str, EventRecord] = field(default_factory=dict)
    # user_properties of the session events in ``records``, to index.
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A session to start (or merge into) first, as ``start_session`` does.
    session: tuple[TraceEvent, EventRecord] | None = None

    @property
    def event_ids(self) -> list[str]:
        return [record.event_id for record in self.records]


def store_batch(tx: WriteTx, project_id: int, batch: EventBatch) -> None:
    """Add a batch to the transaction's pending events (see ``PendingEvents``)."""
    pending: PendingEvents | None = tx.buffers.get(PENDING)
    if pending is None:
        pending = tx.buffers[PENDING] = PendingEvents()
    pending.add(project_id, batch)


def flush_pending(tx: WriteTx) -> None:
    """Write the pending events now: a job about to read events must see its neighbours'."""
    pending: PendingEvents | None = tx.buffers.get(PENDING)
    if pending is not None:
        pending.flush(tx)


PENDING = "trace-events"


class PendingEvents:
    """The events of all jobs of one transaction, written together before COMMIT.

    Requests arrive a few spans (or one event) at a time; written job by job, each would cost
    four statements. Gathered, the whole group commit costs four: find which events exist
    (their old share of the session totals is taken back), insert the missing sessions, upsert
    the events, add to the totals; then one series point per new event and figure.
    """

    def __init__(self) -> None:
        self.records: dict[tuple[int, str], EventRecord] = {}
        self.placeholders: dict[tuple[int, str], EventRecord] = {}
        self.properties: dict[tuple[int, str], dict[str, Any]] = {}

    def add(self, project_id: int, batch: EventBatch) -> None:
        for record in batch.records:
            self.records[(project_id, record.event_id)] = record
        for session_id, record in batch.placeholders.items():
            self.placeholders.setdefault((project_id, session_id), record)
        for session_id, properties in batch.properties.items():
            self.properties[(project_id, session_id)] = properties

    def flush(self, tx: WriteTx) -> None:
        by_project: dict[int, list[EventRecord]] = {}
        for (project_id, _), record in self.records.items():
            by_project.setdefault(project_id, []).append(record)
        placeholders: dict[int, list[EventRecord]] = {}
        for (project_id, session_id), record in self.placeholders.items():
            if (project_id, session_id) not in self.records:
                placeholders.setdefault(project_id, []).append(record)
        properties = self.properties
        self.records, self.placeholders, self.properties = {}, {}, {}
        conn = tx.conn
        for project_id in by_project.keys() | placeholders.keys():
            records = by_project.get(project_id, [])
            previous = event_store.stored_contributions(
                conn, project_id=project_id, event_ids=[record.event_id for record in records]
            )
            event_store.insert_missing_events(
                conn, project_id=project_id, records=placeholders.get(project_id, [])
            )
            event_store.write_events(conn, project_id=project_id, records=records)
            event_store.add_session_totals(
                conn,
                project_id=project_id,
                deltas=session_deltas(
                    (record, previous.get(record.event_id)) for record in records
                ),
            )
            for record in records:
                if record.event_id not in previous:
                    _record_points(tx, project_id, record)
            # ActiveWorkflow: messages, agents, their links and per-session-name workflows.
            agent_service.record_trace_events(
                tx,
                project_id=project_id,
                records=records,
                new_ids={record.event_id for record in records} - previous.keys(),
            )
        for (project_id, session_id), found in properties.items():
            event_store.replace_session_properties(
                conn, project_id=project_id, session_id=session_id, properties=found
            )


# -- session totals -------------------------------------------------------------------------


def session_deltas(
    changes: Iterable[tuple[Contribution | EventRecord, Contribution | None]],
) -> list[SessionDelta]:
    """What (new, old) versions of events add to their sessions' totals.

    The old version's share is taken back, so a re-delivered event counts once. Start and end
    only ever widen a session.
    """
    totals: dict[str, list[Any]] = {}
    for new, old in changes:
        _add_share(totals, new, 1)
        if old is not None:
            _add_share(totals, old, -1)
    return [SessionDelta(session_id, *values) for session_id, values in totals.items()]


def _add_share(totals: dict[str, list[Any]], event: Contribution | EventRecord, sign: int) -> None:
    acc = totals.get(event.session_id)
    if acc is None:
        # A share that only takes back leaves the times alone: MAX_MS and 0 never win.
        acc = totals[event.session_id] = [float(MAX_MS), 0.0, 0, 0, 0, 0, 0, 0, 0.0]
    if sign > 0:
        acc[0] = min(acc[0], event.start_time)
        acc[1] = max(acc[1], event.end_time)
    if event.event_type != EventType.SESSION:
        acc[2] += sign
        if event.event_type == EventType.MODEL:
            acc[3] += sign
    acc[4] += sign * event.has_error
    acc[5] += sign * (event.prompt_tokens or 0)
    acc[6] += sign * (event.completion_tokens or 0)
    acc[7] += sign * (event.total_tokens or 0)
    acc[8] += sign * (event.cost or 0.0)


# -- series ---------------------------------------------------------------------------------


def _series_id(
    tx: WriteTx, project_id: int, name: str, kind: Kind, event_type: str | None, now: int
) -> int:
    """The id of a trace series, created when new; memoised for the transaction."""
    memo_key = ("trace-series", project_id, name, event_type)
    found: int | None = tx.memo.get(memo_key)
    if found is None:
        labels = {"event_type": event_type} if event_type is not None else None
        row = series_store.get_or_create_series(
            tx.conn,
            project_id=project_id,
            name=name,
            kind=kind.value,
            labels_key=orjson.dumps(labels).decode() if labels else "",
            created_at=now,
        )
        found = tx.memo[memo_key] = row.id
    return found


def _record_points(tx: WriteTx, project_id: int, record: EventRecord) -> None:
    ts, now, kind = int(record.start_time), record.received_at, record.event_type
    add = tx.points.add
    add(project_id, _series_id(tx, project_id, EVENTS_SERIES, Kind.COUNTER, kind, now), ts, 1.0)
    if kind != EventType.SESSION:
        series_id = _series_id(tx, project_id, LATENCY_SERIES, Kind.VALUE, kind, now)
        add(project_id, series_id, ts, record.duration)
    record_changes(
        tx, project_id, ts, now, kind, record.has_error, record.total_tokens, record.cost
    )


def record_changes(
    tx: WriteTx,
    project_id: int,
    ts: int,
    now: int,
    kind: str,
    errors: int,
    tokens: int | None,
    cost: float | None,
) -> None:
    """Counter points for the errors, tokens and cost an event added (or an update took back)."""
    add = tx.points.add
    for name, value, labelled in (
        (ERRORS_SERIES, errors, True),
        (TOKENS_SERIES, tokens, False),
        (COST_SERIES, cost, False),
    ):
        if value:
            series_id = _series_id(
                tx, project_id, name, Kind.COUNTER, kind if labelled else None, now
            )
            add(project_id, series_id, ts, float(value))
