"""Alert use cases: rules, history and silences, and ``apply`` for the evaluator's results.

A rule names things of its project (a stat, a process, channels); each is checked when the
rule is stored, so another project's id is a 404 like everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from roost.domain.alerts import STAT_KINDS, AlertKind
from roost.domain.errors import NotFound
from roost.services import notifications
from roost.storage import alert_inputs
from roost.storage import alerts as alert_store
from roost.storage import channels as channel_store
from roost.storage import series as series_store
from roost.storage.alerts import AlertRow, EventRow, SilenceRow, StateRow
from roost.storage.writer import WriteTx


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """A validated rule, as the API parsed it."""

    name: str
    kind: AlertKind
    definition: dict[str, Any]
    channel_ids: list[int]
    enabled: bool = True
    for_seconds: int = 0
    repeat_every: int | None = None

    @classmethod
    def of(cls, row: AlertRow) -> AlertSpec:
        return cls(
            name=row.name,
            kind=AlertKind(row.kind),
            definition=row.definition,
            channel_ids=row.channel_ids,
            enabled=row.enabled,
            for_seconds=row.for_seconds,
            repeat_every=row.repeat_every,
        )


def _check_targets(conn: Connection, *, project_id: int, spec: AlertSpec) -> int | None:
    """404 for a stat, process or channel the project does not have; returns the stat id."""
    stat_id: int | None = None
    if spec.kind in STAT_KINDS:
        stat_id = int(spec.definition["stat_id"])
        if series_store.get_series(conn, project_id=project_id, series_id=stat_id) is None:
            raise NotFound(f"stat {stat_id} not found")
    elif spec.kind == AlertKind.RUN:
        name, meta = spec.definition["process"], spec.definition.get("meta")
        if not alert_inputs.process_ids(conn, project_id=project_id, name=name, meta=meta):
            raise NotFound(f"process {name!r} not found")
    found = channel_store.existing_channel_ids(
        conn, project_id=project_id, channel_ids=spec.channel_ids
    )
    for channel_id in spec.channel_ids:
        if channel_id not in found:
            raise NotFound(f"channel {channel_id} not found")
    return stat_id


def create_alert(tx: WriteTx, *, project_id: int, spec: AlertSpec, now: int) -> AlertRow:
    stat_id = _check_targets(tx.conn, project_id=project_id, spec=spec)
    return alert_store.insert_alert(
        tx.conn,
        project_id=project_id,
        name=spec.name,
        kind=spec.kind.value,
        definition=spec.definition,
        channel_ids=spec.channel_ids,
        enabled=spec.enabled,
        for_seconds=spec.for_seconds,
        repeat_every=spec.repeat_every,
        stat_id=stat_id,
        now=now,
    )


def get_alert(conn: Connection, *, project_id: int, alert_id: int) -> AlertRow:
    found = alert_store.get_alert(conn, project_id=project_id, alert_id=alert_id)
    if found is None:
        raise NotFound("alert not found")
    return found


def update_alert(
    tx: WriteTx, *, project_id: int, alert_id: int, spec: AlertSpec, now: int
) -> AlertRow:
    """Replace the rule; a changed condition starts again from ok (its history stays)."""
    before = get_alert(tx.conn, project_id=project_id, alert_id=alert_id)
    stat_id = _check_targets(tx.conn, project_id=project_id, spec=spec)
    reset = before.kind != spec.kind.value or before.definition != spec.definition
    alert_store.update_alert(
        tx.conn,
        project_id=project_id,
        alert_id=alert_id,
        name=spec.name,
        definition=spec.definition,
        channel_ids=spec.channel_ids,
        enabled=spec.enabled,
        for_seconds=spec.for_seconds,
        repeat_every=spec.repeat_every,
        stat_id=stat_id,
        reset=reset or not spec.enabled,
        now=now,
    )
    return get_alert(tx.conn, project_id=project_id, alert_id=alert_id)


def delete_alert(tx: WriteTx, *, project_id: int, alert_id: int) -> None:
    if not alert_store.delete_alert(tx.conn, project_id=project_id, alert_id=alert_id):
        raise NotFound("alert not found")


def list_alerts(
    conn: Connection, *, project_id: int, before: int | None, limit: int, states: list[str] | None
) -> list[AlertRow]:
    return alert_store.list_alerts(
        conn, project_id=project_id, before=before, limit=limit, states=states
    )


def alert_keys(conn: Connection, *, project_id: int, alert_id: int) -> list[StateRow]:
    return alert_store.states_of(conn, project_id=project_id, alert_id=alert_id)


def list_events(
    conn: Connection, *, project_id: int, alert_id: int, before: int | None, limit: int
) -> list[EventRow]:
    get_alert(conn, project_id=project_id, alert_id=alert_id)
    return alert_store.list_events(
        conn, project_id=project_id, alert_id=alert_id, before=before, limit=limit
    )


# -- silences --


def create_silence(
    tx: WriteTx, *, project_id: int, alert_id: int | None, until: int, reason: str, now: int
) -> SilenceRow:
    if alert_id is not None:
        get_alert(tx.conn, project_id=project_id, alert_id=alert_id)
    return alert_store.insert_silence(
        tx.conn, project_id=project_id, alert_id=alert_id, until=until, reason=reason, now=now
    )


def list_silences(
    conn: Connection, *, project_id: int, active_at: int | None, before: int | None, limit: int
) -> list[SilenceRow]:
    return alert_store.list_silences(
        conn, project_id=project_id, active_at=active_at, before=before, limit=limit
    )


def delete_silence(tx: WriteTx, *, project_id: int, silence_id: int) -> None:
    if not alert_store.delete_silence(tx.conn, project_id=project_id, silence_id=silence_id):
        raise NotFound("silence not found")


# -- the evaluator's results --


@dataclass(frozen=True, slots=True)
class KeyChange:
    """One key after an evaluation: its new state, and the event and notice it caused."""

    row: StateRow
    keep: bool  # False: the key is ok and idle, its row is dropped
    write: bool  # False: nothing about the key changed
    from_state: str | None = None  # set when the state moved (an event is recorded)
    notice: dict[str, Any] | None = None  # the payload to queue, if any


@dataclass(frozen=True, slots=True)
class Outcome:
    """One alert's evaluation, applied only if the rule is unchanged since it was read."""

    project_id: int
    alert_id: int
    version: int
    channel_ids: list[int]
    state: str
    last_value: float | None
    fired_at: int | None
    keys: list[KeyChange] = field(default_factory=list)


def apply(tx: WriteTx, *, outcomes: list[Outcome], now: int) -> int:
    """Commit states and history, then queue the notices, in one transaction; returns the
    number of notifications queued.

    The outbox row commits with the state change that caused it, so a crash can neither lose
    it nor send it twice; a silence holds notices back but not state changes. An alert changed,
    disabled or deleted since it was read is skipped: the next pass sees it as it is now.
    """
    conn = tx.conn
    versions = alert_store.current_versions(conn, [out.alert_id for out in outcomes])
    live = [out for out in outcomes if versions.get(out.alert_id) == out.version]
    alert_store.save_summaries(
        conn,
        [
            {
                "p_project_id": out.project_id,
                "p_id": out.alert_id,
                "p_version": out.version,
                "state": out.state,
                "last_value": out.last_value,
                "fired_at": out.fired_at,
                "last_evaluated_at": now,
            }
            for out in live
        ],
    )
    changes = [(out, change) for out in live for change in out.keys if change.write]
    alert_store.save_states(
        conn,
        drop=[
            {"p_project_id": out.project_id, "p_alert_id": out.alert_id, "p_key": change.row.key}
            for out, change in changes
        ],
        keep=[
            {"project_id": out.project_id, **_state_values(change.row)}
            for out, change in changes
            if change.keep
        ],
    )
    noticed = [
        out for out in live if any(change.notice or change.from_state for change in out.keys)
    ]
    held = alert_store.silenced(
        conn, pairs=[(out.project_id, out.alert_id) for out in noticed], now=now
    )
    queued = 0
    events: list[dict[str, Any]] = []
    for out in noticed:
        silenced = (out.project_id, out.alert_id) in held
        live_channels = channel_store.existing_channel_ids(
            conn, project_id=out.project_id, channel_ids=out.channel_ids
        )
        targets = [channel_id for channel_id in out.channel_ids if channel_id in live_channels]
        for change in out.keys:
            send = change.notice is not None and not silenced and bool(targets)
            if send:
                notifications.enqueue(
                    tx,
                    project_id=out.project_id,
                    alert_id=out.alert_id,
                    channel_ids=targets,
                    payload=change.notice,  # type: ignore[arg-type]
                )
                queued += len(targets)
            if change.from_state is not None or change.notice is not None:
                events.append(
                    {
                        "project_id": out.project_id,
                        "alert_id": out.alert_id,
                        "key": change.row.key,
                        "label": change.row.label,
                        "from_state": change.from_state or change.row.state,
                        "to_state": change.row.state,
                        "value": change.row.value,
                        "notified": send,
                        "silenced": change.notice is not None and silenced,
                        "at": now,
                    }
                )
    alert_store.insert_events(conn, events)
    return queued


def _state_values(row: StateRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in StateRow.__slots__}  # type: ignore[attr-defined]
