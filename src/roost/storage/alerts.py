"""SQL for alerts, their key states, their history and silences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, bindparam, delete, insert, select, update

from roost.storage import dialects
from roost.storage.schema import alert_events, alert_states, alerts, silences


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    project_id: int
    name: str
    kind: str
    definition: dict[str, Any]  # the kind's own fields
    channel_ids: list[int]
    enabled: bool
    for_seconds: int
    repeat_every: int | None
    stat_id: int | None
    state: str
    last_value: float | None
    last_evaluated_at: int | None
    fired_at: int | None
    version: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class StateRow:
    alert_id: int
    key: str
    label: str | None
    state: str
    value: float | None
    pending_since: int | None
    fired_at: int | None
    last_notified_at: int | None
    mark: int | None


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    alert_id: int
    key: str
    label: str | None
    from_state: str
    to_state: str
    value: float | None
    notified: bool
    silenced: bool
    at: int


@dataclass(frozen=True, slots=True)
class SilenceRow:
    id: int
    project_id: int
    alert_id: int | None
    until: int
    reason: str
    created_at: int


def _alert(row: RowMapping) -> AlertRow:
    values = dict(row)
    values["definition"] = orjson.loads(values["definition"])
    values["channel_ids"] = orjson.loads(values["channel_ids"])
    values["enabled"] = bool(values["enabled"])
    return AlertRow(**values)


def _state(row: RowMapping) -> StateRow:
    return StateRow(**{name: row[name] for name in StateRow.__slots__})  # type: ignore[attr-defined]


def _event(row: RowMapping) -> EventRow:
    values = {name: row[name] for name in EventRow.__slots__}  # type: ignore[attr-defined]
    values["notified"] = bool(values["notified"])
    values["silenced"] = bool(values["silenced"])
    return EventRow(**values)


def _silence(row: RowMapping) -> SilenceRow:
    return SilenceRow(**dict(row))


def _dump(value: object) -> str:
    return orjson.dumps(value).decode()


# -- alerts --


def insert_alert(
    conn: Connection,
    *,
    project_id: int,
    name: str,
    kind: str,
    definition: dict[str, Any],
    channel_ids: list[int],
    enabled: bool,
    for_seconds: int,
    repeat_every: int | None,
    stat_id: int | None,
    now: int,
) -> AlertRow:
    values = {
        "project_id": project_id,
        "id": dialects.next_id(conn, "alerts"),
        "name": name,
        "kind": kind,
        "definition": _dump(definition),
        "channel_ids": _dump(channel_ids),
        "enabled": enabled,
        "for_seconds": for_seconds,
        "repeat_every": repeat_every,
        "stat_id": stat_id,
        "state": "ok",
        "last_value": None,
        "last_evaluated_at": None,
        "fired_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(insert(alerts), values)
    return _alert(values)  # type: ignore[arg-type]


def get_alert(conn: Connection, *, project_id: int, alert_id: int) -> AlertRow | None:
    row = (
        conn.execute(
            select(alerts).where(alerts.c.project_id == project_id, alerts.c.id == alert_id)
        )
        .mappings()
        .first()
    )
    return None if row is None else _alert(row)


def list_alerts(
    conn: Connection,
    *,
    project_id: int,
    before: int | None,
    limit: int,
    states: list[str] | None = None,
) -> list[AlertRow]:
    query = select(alerts).where(alerts.c.project_id == project_id)
    if before is not None:
        query = query.where(alerts.c.id < before)
    if states:
        query = query.where(alerts.c.state.in_(states))
    rows = conn.execute(query.order_by(alerts.c.id.desc()).limit(limit)).mappings()
    return [_alert(row) for row in rows]


def update_alert(
    conn: Connection,
    *,
    project_id: int,
    alert_id: int,
    name: str,
    definition: dict[str, Any],
    channel_ids: list[int],
    enabled: bool,
    for_seconds: int,
    repeat_every: int | None,
    stat_id: int | None,
    reset: bool,
    now: int,
) -> bool:
    """Replace the rule (the version moves on, so an evaluation in flight is dropped).

    ``reset`` forgets the keys' states (the condition changed): the alert starts from ok."""
    values: dict[str, Any] = {
        "name": name,
        "definition": _dump(definition),
        "channel_ids": _dump(channel_ids),
        "enabled": enabled,
        "for_seconds": for_seconds,
        "repeat_every": repeat_every,
        "stat_id": stat_id,
        "version": alerts.c.version + 1,
        "updated_at": now,
    }
    if reset:
        values.update(state="ok", last_value=None, fired_at=None)
        conn.execute(
            delete(alert_states).where(
                alert_states.c.project_id == project_id, alert_states.c.alert_id == alert_id
            )
        )
    result = conn.execute(
        update(alerts)
        .where(alerts.c.project_id == project_id, alerts.c.id == alert_id)
        .values(**values)
    )
    return result.rowcount > 0


def delete_alert(conn: Connection, *, project_id: int, alert_id: int) -> bool:
    """Remove the alert with its states, history and silences."""
    result = conn.execute(
        delete(alerts).where(alerts.c.project_id == project_id, alerts.c.id == alert_id)
    )
    if not result.rowcount:
        return False
    for table in (alert_states, alert_events, silences):
        conn.execute(
            delete(table).where(table.c.project_id == project_id, table.c.alert_id == alert_id)
        )
    return True


# -- key states --


def states_of(conn: Connection, *, project_id: int, alert_id: int) -> list[StateRow]:
    rows = conn.execute(
        select(alert_states)
        .where(alert_states.c.project_id == project_id, alert_states.c.alert_id == alert_id)
        .order_by(alert_states.c.key)
    ).mappings()
    return [_state(row) for row in rows]


# -- what the evaluator reads and writes --


def enabled_alerts(conn: Connection, *, after_id: int, limit: int) -> list[AlertRow]:
    """Enabled alerts of every project in id order, a page at a time."""
    rows = conn.execute(
        select(alerts)
        .where(alerts.c.enabled.is_(True), alerts.c.id > after_id)
        .order_by(alerts.c.id)
        .limit(limit)
    ).mappings()
    return [_alert(row) for row in rows]


def states_for(conn: Connection, alert_ids: list[int]) -> dict[int, dict[str, StateRow]]:
    found: dict[int, dict[str, StateRow]] = {}
    if not alert_ids:
        return found
    low, high = min(alert_ids), max(alert_ids)
    wanted = set(alert_ids)
    # One range scan instead of a long IN list; ids come in pages, so the range is tight.
    rows = conn.execute(
        select(alert_states).where(alert_states.c.alert_id >= low, alert_states.c.alert_id <= high)
    ).mappings()
    for row in rows:
        if row["alert_id"] in wanted:
            state = _state(row)
            found.setdefault(state.alert_id, {})[state.key] = state
    return found


def current_versions(conn: Connection, alert_ids: list[int]) -> dict[int, int]:
    """The version of each enabled alert among ``alert_ids`` (locked until commit on
    PostgreSQL, so no change can slip between this read and the writes that rely on it)."""
    if not alert_ids:
        return {}
    query = select(alerts.c.id, alerts.c.version).where(
        alerts.c.id.in_(alert_ids), alerts.c.enabled.is_(True)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row[0]: row[1] for row in conn.execute(query)}


_SUMMARY = (
    update(alerts)
    .where(
        alerts.c.project_id == bindparam("p_project_id"),
        alerts.c.id == bindparam("p_id"),
        alerts.c.version == bindparam("p_version"),
    )
    .values(
        state=bindparam("state"),
        last_value=bindparam("last_value"),
        fired_at=bindparam("fired_at"),
        last_evaluated_at=bindparam("last_evaluated_at"),
    )
)


def save_summaries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Each evaluated alert's state, value and evaluation time, in one executemany.

    Keys: p_project_id, p_id, p_version, state, last_value, fired_at, last_evaluated_at."""
    if rows:
        conn.execute(_SUMMARY, rows)


def save_states(
    conn: Connection, *, drop: list[dict[str, Any]], keep: list[dict[str, Any]]
) -> None:
    """Replace the given keys' rows: every key in ``drop`` is deleted, every row in ``keep``
    (a full ``alert_states`` row) is written afresh."""
    if drop:
        conn.execute(
            delete(alert_states).where(
                alert_states.c.project_id == bindparam("p_project_id"),
                alert_states.c.alert_id == bindparam("p_alert_id"),
                alert_states.c.key == bindparam("p_key"),
            ),
            drop,
        )
    if keep:
        conn.execute(insert(alert_states), keep)


def insert_events(conn: Connection, events: list[dict[str, Any]]) -> None:
    """History rows (each with its ``project_id``), their ids drawn in one statement."""
    if not events:
        return
    ids = dialects.reserve_ids(conn, "alert_events", len(events))
    conn.execute(
        insert(alert_events),
        [{"id": event_id, **event} for event_id, event in zip(ids, events, strict=True)],
    )


def list_events(
    conn: Connection, *, project_id: int, alert_id: int, before: int | None, limit: int
) -> list[EventRow]:
    query = select(alert_events).where(
        alert_events.c.project_id == project_id, alert_events.c.alert_id == alert_id
    )
    if before is not None:
        query = query.where(alert_events.c.id < before)
    rows = conn.execute(query.order_by(alert_events.c.id.desc()).limit(limit)).mappings()
    return [_event(row) for row in rows]


# -- silences --


def insert_silence(
    conn: Connection, *, project_id: int, alert_id: int | None, until: int, reason: str, now: int
) -> SilenceRow:
    values = {
        "project_id": project_id,
        "id": dialects.next_id(conn, "silences"),
        "alert_id": alert_id,
        "until": until,
        "reason": reason,
        "created_at": now,
    }
    conn.execute(insert(silences), values)
    return SilenceRow(**values)  # type: ignore[arg-type]


def list_silences(
    conn: Connection, *, project_id: int, active_at: int | None, before: int | None, limit: int
) -> list[SilenceRow]:
    query = select(silences).where(silences.c.project_id == project_id)
    if active_at is not None:
        query = query.where(silences.c.until > active_at)
    if before is not None:
        query = query.where(silences.c.id < before)
    rows = conn.execute(query.order_by(silences.c.id.desc()).limit(limit)).mappings()
    return [_silence(row) for row in rows]


def delete_silence(conn: Connection, *, project_id: int, silence_id: int) -> bool:
    result = conn.execute(
        delete(silences).where(silences.c.project_id == project_id, silences.c.id == silence_id)
    )
    return result.rowcount > 0


def silenced(
    conn: Connection, *, pairs: Iterable[tuple[int, int]], now: int
) -> set[tuple[int, int]]:
    """Which (project, alert) pairs have a silence running at ``now`` (own or project-wide)."""
    wanted = set(pairs)
    if not wanted:
        return set()
    projects = sorted({project_id for project_id, _ in wanted})
    rows = conn.execute(
        select(silences.c.project_id, silences.c.alert_id).where(
            silences.c.project_id.in_(projects), silences.c.until > now
        )
    ).all()
    whole = {project_id for project_id, alert_id in rows if alert_id is None}
    own = {(project_id, alert_id) for project_id, alert_id in rows if alert_id is not None}
    return {pair for pair in wanted if pair[0] in whole or pair in own}
