"""StatHat's alert objects ⇄ Roost's alert rules: ``value`` is a threshold, ``delta`` a delta,
``data`` a deadman. Alerts Roost keeps of other kinds are not StatHat's to show."""

from __future__ import annotations

from typing import Any

from roost.domain.alerts import AlertKind
from roost.domain.errors import InvalidInput
from roost.services.alerts import AlertSpec
from roost.storage.alerts import AlertRow

# StatHat's windows, in Roost's duration spelling (M is a 30-day month, y a 365-day year).
WINDOWS = ("5m", "1h", "3h", "1d", "1w", "1M", "1y")
VALUE_OPERATORS = {"greater than": ">", "less than": "<"}
DELTA_OPERATORS = {"different than": "!=", "greater than": ">", "less than": "<"}
KINDS = {"value": AlertKind.THRESHOLD, "delta": AlertKind.DELTA, "data": AlertKind.DEADMAN}
SHOWN = {kind: name for name, kind in KINDS.items()}
MAX_NUMBER = 1e15


def _word(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or str(value).strip() == "":
        raise InvalidInput(name, "is required")
    return str(value).strip()


def _choice(params: dict[str, Any], name: str, allowed: dict[str, str] | tuple[str, ...]) -> str:
    value = _word(params, name)
    if value not in allowed:
        raise InvalidInput(name, f"must be one of {', '.join(allowed)}")
    return value


def _number(params: dict[str, Any], name: str, *, low: float) -> float:
    text = _word(params, name)
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(name, "must be a number") from None
    if not low <= value <= MAX_NUMBER:
        raise InvalidInput(name, f"must be a number from {low:g}")
    return value


def stat_id_of(params: dict[str, Any]) -> int:
    text = _word(params, "stat_id")
    if not text.isdigit() or not 1 <= int(text) < 2**63:
        raise InvalidInput("stat_id", "must be a stat id")
    return int(text)


def spec_of(params: dict[str, Any], *, stat_name: str, channel_ids: list[int]) -> AlertSpec:
    """A StatHat create request (form or JSON fields) as a Roost rule on ``stat_id``."""
    kind = _choice(params, "kind", tuple(KINDS))
    window = _choice(params, "time_window", WINDOWS)
    rule: dict[str, Any] = {"stat_id": stat_id_of(params), "window": window}
    if kind == "value":
        operator = VALUE_OPERATORS[_choice(params, "operator", VALUE_OPERATORS)]
        rule.update(operator=operator, value=_number(params, "threshold", low=-MAX_NUMBER))
        said = f"{operator} {rule['value']:g}"
    elif kind == "delta":
        operator = DELTA_OPERATORS[_choice(params, "operator", DELTA_OPERATORS)]
        rule.update(
            operator=operator,
            percentage=_number(params, "percentage", low=0),
            compare_to=_choice(params, "time_delta", WINDOWS),
        )
        said = f"changes {operator} {rule['percentage']:g}%"
    else:
        said = "no data"
    return AlertSpec(
        name=f"{stat_name}: {said} over {window}"[:200],
        kind=KINDS[kind],
        definition=rule,
        channel_ids=channel_ids,
    )


def alert_public(row: AlertRow, stat_name: str | None) -> dict[str, Any]:
    rule = row.definition
    answer: dict[str, Any] = {
        # Ids are strings in StatHat's export API, as in its statlist.
        "id": str(row.id),
        "stat_id": str(rule["stat_id"]),
        "stat_name": stat_name,
        "kind": SHOWN[AlertKind(row.kind)],
        "time_window": rule["window"],
        # Roost's own fields, which StatHat clients tolerate: the state and the rule's name.
        "name": row.name,
        "state": row.state,
    }
    if row.kind == AlertKind.THRESHOLD:
        answer["threshold"] = rule["value"]
        answer["operator"] = _said(VALUE_OPERATORS, rule["operator"])
    elif row.kind == AlertKind.DELTA:
        answer["percentage"] = rule["percentage"]
        answer["operator"] = _said(DELTA_OPERATORS, rule["operator"])
        answer["time_delta"] = rule["compare_to"]
    return answer


def _said(words: dict[str, str], operator: str) -> str:
    for word, symbol in words.items():
        if symbol == operator:
            return word
    return operator  # ">=" or "<=" from Roost's own API: no StatHat word for it
