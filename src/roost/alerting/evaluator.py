"""The evaluator: every ``ROOST_ALERT_INTERVAL`` seconds, one pass over every enabled alert.

A pass reads a page of alerts and what they watch in one read transaction (off the event
loop), steps each key's state machine, and commits the page's states, history and notices in
one write. Only the node holding the leader lease evaluates, and each alert's write is
conditional on the rule's version, so a notice is queued once whatever the number of servers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from roost.alerting import conditions
from roost.domain.alerts import (
    SINGLE_KEY,
    STAT_KINDS,
    AlertKind,
    KeyState,
    Notice,
    Observation,
    State,
    describe,
    step,
    worst,
)
from roost.domain.stats import Kind
from roost.domain.times import SECOND, format_iso, now_ms
from roost.services import access
from roost.services.alerts import KeyChange, Outcome, apply
from roost.storage import alert_inputs
from roost.storage import alerts as alert_store
from roost.storage.alerts import AlertRow, StateRow
from roost.storage.store import Store

log = logging.getLogger(__name__)

LEADER_LOCK = "roost-alerts"
PAGE = 500
# Bounds one pass: 200 pages of 500 is a million alerts.
MAX_PAGES = 200


@dataclass(frozen=True, slots=True)
class PassReport:
    evaluated: int
    changed: int
    queued: int


def _key_state(row: StateRow | None) -> KeyState:
    if row is None:
        return KeyState()
    return KeyState(
        state=State(row.state),
        value=row.value,
        pending_since=row.pending_since,
        fired_at=row.fired_at,
        last_notified_at=row.last_notified_at,
        mark=row.mark,
    )


def _payload(
    alert: AlertRow,
    *,
    notice: Notice,
    key: str,
    label: str | None,
    value: float | None,
    condition: str,
    series: tuple[int, str] | None,
    project: str,
    base_url: str,
    now: int,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event": "alert",
        "alert_id": alert.id,
        "alert_name": alert.name,
        "state": notice.value,
        "value": value,
        "condition": condition,
        "series_id": None if series is None else series[0],
        "series_name": None if series is None else series[1],
        "project": project,
        "time": format_iso(now),
        "url": f"{base_url}/api/v1/alerts/{alert.id}",
    }
    if key != SINGLE_KEY:
        payload["key"] = key
        payload["subject"] = label
    return payload


def _differs(row: StateRow, before: StateRow, *, keyed: bool) -> bool:
    """Whether a key's row must be written. A single-key alert's value lives on the alert row
    (written every pass anyway), so a new value alone does not rewrite its key."""
    if keyed:
        return row != before
    return replace(row, value=None) != replace(before, value=None)


class Evaluator:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.interval = store.settings.alert_interval
        self.base_url = (store.settings.public_url or "").rstrip("/")

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.run_pass()
            except Exception:  # a failed pass is retried at the next interval
                log.exception("alert evaluation failed")

    async def run_pass(self, now: int | None = None) -> PassReport | None:
        """One pass over every enabled alert; None when another node holds the lease."""
        with self.store.leader(LEADER_LOCK) as leading:
            if not leading:
                return None
            moment = now_ms() if now is None else now
            evaluated = changed = queued = 0
            after = 0
            for _ in range(MAX_PAGES):
                page, outcomes = await asyncio.to_thread(self._evaluate_page, after, moment)
                if not page:
                    break
                after = page[-1]
                evaluated += len(page)
                changed += sum(1 for out in outcomes if any(key.write for key in out.keys))
                queued += await self.store.write(partial(apply, outcomes=outcomes, now=moment))
                if len(page) < PAGE:
                    break
            return PassReport(evaluated, changed, queued)

    def _evaluate_page(self, after: int, now: int) -> tuple[list[int], list[Outcome]]:
        with self.store.read() as conn:
            alerts = alert_store.enabled_alerts(conn, after_id=after, limit=PAGE)
            known = alert_store.states_for(conn, [alert.id for alert in alerts])
            stat_ids = [
                int(alert.definition["stat_id"]) for alert in alerts if alert.kind in STAT_KINDS
            ]
            facts = alert_inputs.series_facts(conn, stat_ids)
            projects: dict[int, str] = {}
            cache = conditions.Aggregates()
            outcomes = []
            for alert in alerts:
                if alert.project_id not in projects:
                    found = access.get_project(conn, alert.project_id)
                    projects[alert.project_id] = found.name if found else str(alert.project_id)
                try:
                    seen = conditions.observe(
                        conn, alert, known.get(alert.id, {}), facts, now, cache
                    )
                    series = self._series(conn, alert, facts)
                except Exception:  # one broken rule must not stop the others
                    log.exception("alert %s could not be evaluated", alert.id)
                    continue
                outcomes.append(
                    self._outcome(
                        alert,
                        seen,
                        known.get(alert.id, {}),
                        facts=facts,
                        series=series,
                        project=projects[alert.project_id],
                        now=now,
                    )
                )
        return [alert.id for alert in alerts], outcomes

    def _series(
        self, conn: Any, alert: AlertRow, facts: dict[int, alert_inputs.SeriesFacts]
    ) -> tuple[int, str] | None:
        if alert.kind in STAT_KINDS:
            stat_id = int(alert.definition["stat_id"])
            found = facts.get(stat_id)
            return None if found is None else (stat_id, found.name)
        if alert.kind == AlertKind.RUN:
            ids = alert_inputs.process_ids(
                conn,
                project_id=alert.project_id,
                name=alert.definition["process"],
                meta=alert.definition.get("meta"),
            )
            if ids:
                series_id = alert_inputs.duration_series_id(
                    conn, project_id=alert.project_id, process_id=ids[0]
                )
                if series_id is not None:
                    return series_id, str(alert.definition["process"])
        return None

    def _outcome(
        self,
        alert: AlertRow,
        seen: dict[str, Observation],
        known: dict[str, StateRow],
        *,
        facts: dict[int, alert_inputs.SeriesFacts],
        series: tuple[int, str] | None,
        project: str,
        now: int,
    ) -> Outcome:
        counter = None
        if alert.kind in STAT_KINDS:
            found = facts.get(int(alert.definition["stat_id"]))
            counter = found is not None and found.kind == Kind.COUNTER
        condition = describe(alert.kind, alert.definition, counter=counter)
        keyed = alert.kind in (AlertKind.SPEND, AlertKind.EXCEPTION)
        changes: list[KeyChange] = []
        states: list[State] = []
        values: list[float] = []
        fired: list[int] = []
        for key, observation in seen.items():
            before_row = known.get(key)
            before = _key_state(before_row)
            result = step(
                before,
                observation,
                now=now,
                for_ms=alert.for_seconds * SECOND,
                repeat_ms=None if alert.repeat_every is None else alert.repeat_every * SECOND,
            )
            after = result.after
            label = observation.label or (before_row.label if before_row else None)
            row = StateRow(
                alert_id=alert.id,
                key=key,
                label=label,
                state=after.state.value,
                value=after.value,
                pending_since=after.pending_since,
                fired_at=after.fired_at,
                last_notified_at=after.last_notified_at,
                mark=after.mark,
            )
            idle = after.state == State.OK and after.pending_since is None
            keep = not (keyed and idle)
            write = _differs(row, before_row, keyed=keyed) if before_row else keep
            notice = None
            if result.notice is not None:
                notice = _payload(
                    alert,
                    notice=result.notice,
                    key=key,
                    label=label,
                    value=after.value,
                    condition=condition,
                    series=series,
                    project=project,
                    base_url=self.base_url,
                    now=now,
                )
            if write or notice is not None:
                changes.append(
                    KeyChange(
                        row=row,
                        keep=keep,
                        write=write or not keep,
                        from_state=before.state.value if result.changed else None,
                        notice=notice,
                    )
                )
            states.append(after.state)
            if after.value is not None and (not keyed or after.state != State.OK):
                values.append(after.value)
            if after.fired_at is not None:
                fired.append(after.fired_at)
        state = worst(states) if states else State.OK
        # A keyed alert shows its largest offender; others their one value.
        last_value = max(values) if values else None
        return Outcome(
            project_id=alert.project_id,
            alert_id=alert.id,
            version=alert.version,
            channel_ids=alert.channel_ids,
            state=state.value,
            last_value=last_value,
            fired_at=min(fired) if fired else None,
            keys=changes,
        )
