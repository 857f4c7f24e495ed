"""The trace events a transaction's jobs store, written together before COMMIT.

With them go each session's totals (events, model events, errors, tokens, cost, first start
and last end) and the points of the ``trace.*`` series, so all of it commits together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from roost.domain.portable import compact_pickle
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


@compact_pickle
@dataclass(slots=True)
class EventBatch:
    """Events validated and encoded at the edge, ready for one write job."""

    # By event id, in the order given.
    records: dict[str, EventRecord] = field(default_factory=dict)
    # A session event to create, per session referenced, when the session has none yet.
    placeholders: dict[str, EventRecord] = field(default_factory=dict)
    # user_properties of the session events in ``records``, to index.
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A session to start (or merge into) first, as ``start_session`` does.
    session: tuple[TraceEvent, EventRecord] | None = None

    @property
    def event_ids(self) -> list[str]:
        return list(self.records)


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
        # By project, then by event (or session) id: a later version of an id replaces it.
        self.records: dict[int, dict[str, EventRecord]] = {}
        self.placeholders: dict[int, dict[str, EventRecord]] = {}
        self.properties: dict[tuple[int, str], dict[str, Any]] = {}

    def add(self, project_id: int, batch: EventBatch) -> None:
        records = self.records.get(project_id)
        if records is None:
            records = self.records[project_id] = {}
        records.update(batch.records)
        if batch.placeholders:
            placeholders = self.placeholders.get(project_id)
            if placeholders is None:
                placeholders = self.placeholders[project_id] = {}
            for session_id, record in batch.placeholders.items():
                placeholders.setdefault(session_id, record)
        for session_id, properties in batch.properties.items():
            self.properties[(project_id, session_id)] = properties

    def flush(self, tx: WriteTx) -> None:
        by_project, placeholders, properties = self.records, self.placeholders, self.properties
        self.records, self.placeholders, self.properties = {}, {}, {}
        conn = tx.conn
        for project_id in by_project.keys() | placeholders.keys():
            found = by_project.get(project_id, {})
            records = list(found.values())
            missing = [
                record
                for session_id, record in placeholders.get(project_id, {}).items()
                if session_id not in found
            ]
            previous = event_store.stored_contributions(
                conn, project_id=project_id, event_ids=list(found)
            )
            event_store.insert_missing_events(conn, project_id=project_id, records=missing)
            event_store.write_events(conn, project_id=project_id, records=records)
            event_store.add_session_totals(
                conn,
                project_id=project_id,
                deltas=session_deltas(
                    (record, previous.get(record.event_id)) for record in records
                ),
            )
            new = [record for record in records if record.event_id not in previous]
            _record_points(tx, project_id, new)
            # ActiveWorkflow: messages, agents, their links and per-session-name workflows.
            agent_service.record_trace_events(
                tx,
                project_id=project_id,
                records=records,
                new_ids={record.event_id for record in new},
            )
        for (project_id, session_id), found_properties in properties.items():
            event_store.replace_session_properties(
                conn, project_id=project_id, session_id=session_id, properties=found_properties
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
        acc = totals.get(new.session_id)
        if acc is None:
            acc = totals[new.session_id] = _empty_share()
        # Written out for the new version (every event of every commit comes through here).
        if new.start_time < acc[0]:
            acc[0] = new.start_time
        if new.end_time > acc[1]:
            acc[1] = new.end_time
        if new.event_type != EventType.SESSION:
            acc[2] += 1
            if new.event_type == EventType.MODEL:
                acc[3] += 1
        if new.has_error:
            acc[4] += new.has_error
        if new.prompt_tokens or new.completion_tokens or new.total_tokens or new.cost:
            acc[5] += new.prompt_tokens or 0
            acc[6] += new.completion_tokens or 0
            acc[7] += new.total_tokens or 0
            acc[8] += new.cost or 0.0
        if old is not None:
            _take_back(totals, old)
    return [SessionDelta(session_id, *values) for session_id, values in totals.items()]


def _empty_share() -> list[Any]:
    # A share that only takes back leaves the times alone: MAX_MS and 0 never win.
    return [float(MAX_MS), 0.0, 0, 0, 0, 0, 0, 0, 0.0]


def _take_back(totals: dict[str, list[Any]], event: Contribution) -> None:
    acc = totals.get(event.session_id)
    if acc is None:
        acc = totals[event.session_id] = _empty_share()
    if event.event_type != EventType.SESSION:
        acc[2] -= 1
        if event.event_type == EventType.MODEL:
            acc[3] -= 1
    acc[4] -= event.has_error
    acc[5] -= event.prompt_tokens or 0
    acc[6] -= event.completion_tokens or 0
    acc[7] -= event.total_tokens or 0
    acc[8] -= event.cost or 0.0


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


def _record_points(tx: WriteTx, project_id: int, records: list[EventRecord]) -> None:
    """The series points of new events: one count each, a latency for each non-session."""
    by_type: dict[str, list[EventRecord]] = {}
    for record in records:
        group = by_type.get(record.event_type)
        if group is None:
            group = by_type[record.event_type] = []
        group.append(record)
    points = tx.points
    for kind, group in by_type.items():
        # A series made for these points is as old as the first of them.
        now = group[0].received_at
        times = [int(record.start_time) for record in group]
        series_id = _series_id(tx, project_id, EVENTS_SERIES, Kind.COUNTER, kind, now)
        points.extend_series(project_id, series_id, times, [1.0] * len(group))
        if kind != EventType.SESSION:
            series_id = _series_id(tx, project_id, LATENCY_SERIES, Kind.VALUE, kind, now)
            points.extend_series(
                project_id, series_id, times, [record.duration for record in group]
            )
    for record in records:
        if record.has_error or record.total_tokens or record.cost:
            record_changes(
                tx,
                project_id,
                int(record.start_time),
                record.received_at,
                record.event_type,
                record.has_error,
                record.total_tokens,
                record.cost,
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
