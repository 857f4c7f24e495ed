"""What each kind of alert sees now: one ``Observation`` per key, read from roll-ups, runs,
exception groups and trace events (never raw points)."""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import croniter
from sqlalchemy import Connection

from roost.domain.alerts import (
    SINGLE_KEY,
    AlertKind,
    Observation,
    RunCondition,
    compare,
    delta_holds,
    percent_change,
)
from roost.domain.stats import Kind
from roost.domain.times import MINUTE, SECOND, parse_duration
from roost.storage import alert_inputs
from roost.storage.alert_inputs import Aggregate, SeriesFacts
from roost.storage.alerts import AlertRow, StateRow

# A keyed alert names at most this many users, sessions or groups per pass.
MAX_KEYS = 100


def window_bounds(now: int, window_ms: int) -> tuple[int, int]:
    """The last ``window`` of whole minutes plus the current minute so far.

    Roll-ups are per minute; including the minute in progress makes a point count at once,
    and keeping whole minutes behind it means a new minute never empties the window.
    """
    end = now // MINUTE * MINUTE + MINUTE
    return end - MINUTE - window_ms, end


def _measure(aggregate: Aggregate, counter: bool) -> float:
    return aggregate.sum if counter else aggregate.sum / aggregate.count


class Aggregates:
    """Window aggregates read once per pass: alerts on the same stat and window share them."""

    def __init__(self) -> None:
        self._found: dict[tuple[int, int, int, int], Aggregate | None] = {}

    def aggregate(
        self, conn: Connection, project_id: int, series_id: int, start: int, end: int
    ) -> Aggregate | None:
        key = (project_id, series_id, start, end)
        if key not in self._found:
            self._found[key] = alert_inputs.window_aggregate(
                conn, project_id=project_id, series_id=series_id, start=start, end=end
            )
        return self._found[key]


def _stat(
    conn: Connection,
    alert: AlertRow,
    facts: SeriesFacts | None,
    now: int,
    cache: Aggregates,
) -> Observation:
    rule = alert.definition
    if facts is None or facts.project_id != alert.project_id:  # the stat was deleted
        return Observation(None, None)
    window = parse_duration(rule["window"])
    if alert.kind == AlertKind.DEADMAN:
        since = (
            facts.last_ts if facts.last_ts is not None else max(facts.created_at, alert.created_at)
        )
        quiet = now - since
        value = None if facts.last_ts is None else round((now - facts.last_ts) / SECOND, 3)
        return Observation(quiet > window, value)
    counter = facts.kind == Kind.COUNTER
    start, end = window_bounds(now, window)
    current = cache.aggregate(conn, alert.project_id, int(rule["stat_id"]), start, end)
    if current is None:
        return Observation(None, None)
    value = _measure(current, counter)
    if alert.kind == AlertKind.THRESHOLD:
        return Observation(compare(value, rule["operator"], float(rule["value"])), value)
    shift = parse_duration(rule["compare_to"])
    earlier = cache.aggregate(
        conn, alert.project_id, int(rule["stat_id"]), start - shift, end - shift
    )
    if earlier is None:
        if not counter:  # a mean of nothing is not zero
            return Observation(None, value)
        previous = 0.0
    else:
        previous = _measure(earlier, counter)
    change = percent_change(value, previous)
    return Observation(delta_holds(change, rule["operator"], float(rule["percentage"])), value)


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else round(ms / SECOND, 3)


def _run(conn: Connection, alert: AlertRow, now: int) -> Observation:
    rule = alert.definition
    project_id = alert.project_id
    ids = alert_inputs.process_ids(
        conn, project_id=project_id, name=rule["process"], meta=rule.get("meta")
    )
    condition = RunCondition(rule["condition"])
    if condition == RunCondition.MISSING:
        grace = int(float(rule.get("grace") or 0) * SECOND)
        last = alert_inputs.last_start(conn, project_id=project_id, process_ids=ids)
        value = _seconds(None if last is None else now - last)
        if rule.get("schedule"):
            moment = datetime.fromtimestamp((now - grace) / SECOND, tz=UTC)
            due = int(croniter(rule["schedule"], moment).get_prev(datetime).timestamp() * SECOND)
            if due < alert.created_at:  # nothing was expected since the alert exists
                return Observation(False, value)
            # A run may start up to ``grace`` early and still count for its slot.
            return Observation(last is None or last < due - grace, value)
        reference = last if last is not None else alert.created_at
        return Observation(now - reference > float(rule["every"]) * SECOND + grace, value)
    if condition == RunCondition.TOO_OFTEN:
        since = now - parse_duration(rule["window"])
        count = alert_inputs.starts_since(conn, project_id=project_id, process_ids=ids, since=since)
        return Observation(count > int(rule["max_runs"]), float(count))
    if condition == RunCondition.FAILED:
        return _failed(conn, alert, ids, now)
    latest = alert_inputs.latest_run(
        conn, project_id=project_id, process_ids=ids, statuses=("ok", "failed")
    )
    latest_ms = None if latest is None else latest[3]
    if condition == RunCondition.TOO_LONG:
        limit = float(rule["max_duration"]) * SECOND
        oldest = alert_inputs.oldest_open_start(conn, project_id=project_id, process_ids=ids)
        if oldest is not None and now - oldest > limit:  # still running, already too long
            return Observation(True, _seconds(now - oldest))
        return Observation(latest_ms is not None and latest_ms > limit, _seconds(latest_ms))
    limit = float(rule["min_duration"]) * SECOND
    return Observation(latest_ms is not None and latest_ms < limit, _seconds(latest_ms))


def _failed(conn: Connection, alert: AlertRow, ids: list[int], now: int) -> Observation:
    """Failing until a run ends well after the last failure (a failed or abandoned run, or an
    exception); with ``window``, failures older than it no longer count."""
    project_id = alert.project_id
    horizon = (
        now - parse_duration(alert.definition["window"]) if "window" in alert.definition else None
    )
    latest = alert_inputs.latest_run(
        conn, project_id=project_id, process_ids=ids, statuses=("ok", "failed", "abandoned")
    )
    failed_at: int | None = None
    ok_end: int | None = None
    if latest is not None:
        status, started_at, ended_at, _ = latest
        if status == "ok":
            ok_end = ended_at
        else:
            failed_at = ended_at if ended_at is not None else started_at
    exception_at = alert_inputs.last_exception_at(conn, project_id=project_id, process_ids=ids)
    if exception_at is not None and (ok_end is None or exception_at > ok_end):
        failed_at = max(failed_at or 0, exception_at)
    holds = failed_at is not None and (horizon is None or failed_at >= horizon)
    return Observation(holds, 1.0 if holds else 0.0)


def _exception_keys(
    conn: Connection, alert: AlertRow, known: dict[str, StateRow]
) -> dict[str, Observation]:
    found = alert_inputs.opened_groups(
        conn,
        project_id=alert.project_id,
        process_name=alert.definition.get("process"),
        since=alert.created_at,
        limit=MAX_KEYS,
    )
    seen = {
        str(group_id): Observation(
            True, float(count), mark=opened_at, label=f"{kind}: {message}"[:500]
        )
        for group_id, kind, message, count, opened_at in found
    }
    gone = [int(key) for key in known if key not in seen and key.isdigit()]
    statuses = alert_inputs.group_statuses(conn, project_id=alert.project_id, group_ids=gone)
    for group_id in gone:
        status = statuses.get(group_id)
        still_open = status is not None and status[0] == "open"
        # Past the per-pass limit but still open: keep it firing.
        seen[str(group_id)] = Observation(
            still_open,
            None if status is None else float(status[2]),
            mark=None if status is None else status[1],
        )
    return seen


def _spend_keys(
    conn: Connection, alert: AlertRow, known: dict[str, StateRow], now: int
) -> dict[str, Observation]:
    rule = alert.definition
    per = rule["per"]
    found = alert_inputs.spend(
        conn,
        project_id=alert.project_id,
        measure=rule["measure"],
        per=per,
        since=now - parse_duration(rule["window"]),
        above=float(rule["value"]),
        limit=MAX_KEYS,
    )
    seen = {
        key[:255]: Observation(
            True, total, label=(f"session {key}" if per == "session" else f"{per}={key}")[:500]
        )
        for key, total in found
    }
    for key in known:
        seen.setdefault(key, Observation(False, None, label=known[key].label))
    return seen


def observe(
    conn: Connection,
    alert: AlertRow,
    known: dict[str, StateRow],
    facts: dict[int, SeriesFacts],
    now: int,
    cache: Aggregates,
) -> dict[str, Observation]:
    """The observation of every key of ``alert`` at ``now``."""
    kind = alert.kind
    if kind in (AlertKind.THRESHOLD, AlertKind.DELTA, AlertKind.DEADMAN):
        stat_id = int(alert.definition["stat_id"])
        return {SINGLE_KEY: _stat(conn, alert, facts.get(stat_id), now, cache)}
    if kind == AlertKind.RUN:
        return {SINGLE_KEY: _run(conn, alert, now)}
    if kind == AlertKind.EXCEPTION:
        return _exception_keys(conn, alert, known)
    return _spend_keys(conn, alert, known, now)
