"""Alert rules: the kinds, their conditions in words, and the state machine of one alert key.

An alert watches one or more *keys*. Most kinds have a single key (""); a spend alert has one
per user or session over its limit, an exception alert one per exception group. Each key moves
between ``ok``, ``firing`` and ``no_data`` on its own, and notifies on its own; the alert's
state is the worst of its keys.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from roost.domain.times import format_duration

SINGLE_KEY = ""


class AlertKind(StrEnum):
    THRESHOLD = "threshold"
    DELTA = "delta"
    DEADMAN = "deadman"
    RUN = "run"
    EXCEPTION = "exception"
    SPEND = "spend"


# Kinds that watch one stat (a series): they carry ``stat_id``.
STAT_KINDS = (AlertKind.THRESHOLD, AlertKind.DELTA, AlertKind.DEADMAN)
# Kinds whose keys come and go (one per user, session or exception group).
KEYED_KINDS = (AlertKind.SPEND, AlertKind.EXCEPTION)


class RunCondition(StrEnum):
    MISSING = "missing"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"
    TOO_OFTEN = "too_often"
    FAILED = "failed"


class State(StrEnum):
    OK = "ok"
    FIRING = "firing"
    NO_DATA = "no_data"


THRESHOLD_OPERATORS = (">", ">=", "<", "<=")
DELTA_OPERATORS = (">", "<", "!=")


def compare(value: float, operator: str, limit: float) -> bool:
    if operator == ">":
        return value > limit
    if operator == ">=":
        return value >= limit
    if operator == "<":
        return value < limit
    if operator == "<=":
        return value <= limit
    raise ValueError(f"unknown operator {operator!r}")


def percent_change(current: float, previous: float) -> float:
    """How much ``current`` differs from ``previous``, in percent of ``previous``.

    From zero to anything else is an infinite change (it exceeds every percentage).
    """
    if previous == 0:
        return 0.0 if current == 0 else (float("inf") if current > 0 else float("-inf"))
    return (current - previous) / abs(previous) * 100.0


def delta_holds(change: float, operator: str, percentage: float) -> bool:
    if operator == ">":
        return change > percentage
    if operator == "<":
        return change < -percentage
    if operator == "!=":
        return abs(change) > percentage
    raise ValueError(f"unknown operator {operator!r}")


def window_text(ms: int) -> str:
    return format_duration(ms)


def seconds_text(seconds: float) -> str:
    whole = int(seconds)
    return format_duration(whole * 1000) if whole == seconds and whole > 0 else f"{seconds:g}s"


# -- one key's state machine --


@dataclass(frozen=True, slots=True)
class KeyState:
    """What is remembered of one key between evaluations."""

    state: State = State.OK
    value: float | None = None
    # When the condition was first seen holding (for ``for``); None while it does not hold.
    pending_since: int | None = None
    fired_at: int | None = None
    last_notified_at: int | None = None
    # Kind-specific marker: an exception group's opening time, so a reopened group fires anew.
    mark: int | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What one evaluation saw for one key: does the condition hold (None: no data)?"""

    holds: bool | None
    value: float | None
    mark: int | None = None
    label: str | None = None  # what the key is, in words ("user_id=alice")


class Notice(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one evaluation of one key."""

    after: KeyState
    changed: bool  # the state moved (an event is recorded)
    notice: Notice | None  # what to tell the channels, if anything


def step(
    before: KeyState,
    seen: Observation,
    *,
    now: int,
    for_ms: int,
    repeat_ms: int | None,
) -> Step:
    """Advance one key by one evaluation.

    - The condition must hold for ``for_ms`` before the key fires (``pending_since`` counts).
    - ``ok → firing`` notifies; ``firing → ok`` and ``firing → no_data`` send a recovery notice.
    - While firing, nothing more is sent unless ``repeat_ms`` has passed since the last notice,
      or the key's mark moved on (a resolved exception group that reopened in between).
    """
    if seen.holds is None:
        target = State.NO_DATA
        pending = None
    elif seen.holds:
        pending = before.pending_since if before.pending_since is not None else now
        ripe = now - pending >= for_ms
        target = State.FIRING if ripe or before.state == State.FIRING else before.state
        if target == State.NO_DATA:  # holding again, but not for long enough yet
            target = State.OK
    else:
        target = State.OK
        pending = None

    after = replace(before, value=seen.value, pending_since=pending, mark=seen.mark)
    if target == State.FIRING and before.state != State.FIRING:
        after = replace(after, state=State.FIRING, fired_at=now, last_notified_at=now)
        return Step(after, changed=True, notice=Notice.FIRING)
    if target == State.FIRING:
        reopened = seen.mark is not None and before.mark is not None and seen.mark != before.mark
        due = repeat_ms is not None and (
            before.last_notified_at is None or now - before.last_notified_at >= repeat_ms
        )
        if reopened or due:
            after = replace(after, last_notified_at=now)
            if reopened:
                after = replace(after, fired_at=now)
            return Step(after, changed=reopened, notice=Notice.FIRING)
        return Step(after, changed=False, notice=None)
    if before.state == State.FIRING:
        after = replace(after, state=target, fired_at=None, last_notified_at=now)
        return Step(after, changed=True, notice=Notice.RESOLVED)
    if target != before.state:
        return Step(replace(after, state=target), changed=True, notice=None)
    return Step(after, changed=False, notice=None)


def worst(states: list[State]) -> State:
    """The alert's state from its keys': firing beats no data beats ok."""
    if State.FIRING in states:
        return State.FIRING
    if states and all(state == State.NO_DATA for state in states):
        return State.NO_DATA
    return State.OK


# -- the condition in words (notifications, lists) --


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def describe(kind: str, rule: dict[str, object], *, counter: bool | None = None) -> str:
    """One line saying when the alert fires, e.g. ``mean over 5m > 100``."""
    aggregate = "sum" if counter else "mean"
    if kind == AlertKind.THRESHOLD:
        return f"{aggregate} over {rule['window']} {rule['operator']} {_number(rule['value'])}"
    if kind == AlertKind.DELTA:
        direction = {">": "rises", "<": "falls", "!=": "changes"}[str(rule["operator"])]
        return (
            f"{aggregate} over {rule['window']} {direction} by more than "
            f"{_number(rule['percentage'])}% against {rule['compare_to']} earlier"
        )
    if kind == AlertKind.DEADMAN:
        return f"no point within {rule['window']}"
    if kind == AlertKind.SPEND:
        per = "session" if rule["per"] == "session" else f"{rule['per']}"
        return f"{rule['measure']} per {per} over {rule['window']} > {_number(rule['value'])}"
    if kind == AlertKind.EXCEPTION:
        where = f" in {rule['process']!r}" if rule.get("process") else ""
        return f"a new or reopened exception group{where}"
    process = repr(rule["process"])
    condition = rule["condition"]
    if condition == RunCondition.MISSING:
        grace = float(rule.get("grace") or 0)  # type: ignore[arg-type]
        slack = f" (grace {seconds_text(grace)})" if grace else ""
        if rule.get("schedule"):
            return f"no run of {process} at schedule {rule['schedule']!r}{slack}"
        return f"no run of {process} within {seconds_text(float(rule['every']))}{slack}"  # type: ignore[arg-type]
    if condition == RunCondition.TOO_LONG:
        return f"a run of {process} lasts over {seconds_text(float(rule['max_duration']))}"  # type: ignore[arg-type]
    if condition == RunCondition.TOO_SHORT:
        return f"a run of {process} ends within {seconds_text(float(rule['min_duration']))}"  # type: ignore[arg-type]
    if condition == RunCondition.TOO_OFTEN:
        return f"more than {rule['max_runs']} runs of {process} within {rule['window']}"
    return f"a run of {process} failed or an exception was reported"
