"""Stat points as clients send them, validated by hand.

Ingest is the hot path (a thousand items per batch request), so validation is a few plain
checks per field rather than a model per item; every failure names its field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from roost.domain.errors import InvalidInput
from roost.domain.times import DAY, parse_time

MAX_STAT_NAME = 255
MAX_BATCH_ITEMS = 1000
# Clocks drift; a point far in the future is a bug in the sender.
MAX_FUTURE_MS = DAY


class Kind(StrEnum):
    COUNTER = "counter"  # sums per bucket
    VALUE = "value"  # averages per bucket


_KINDS = {"counter": Kind.COUNTER, "value": Kind.VALUE}
# Characters a stat name may not hold: '~' (StatHat's multi-stat syntax) and control codes.
_BAD_NAME = re.compile(r"[~\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class PointInput:
    stat: str
    kind: Kind
    value: float
    ts: int


def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def parse_stat_name(raw: object, field: str) -> str:
    if not isinstance(raw, str):
        raise InvalidInput(field, "is required and must be a string")
    name = raw.strip()
    if not name:
        raise InvalidInput(field, "must not be empty")
    if len(name) > MAX_STAT_NAME:
        raise InvalidInput(field, f"must be at most {MAX_STAT_NAME} characters")
    bad = _BAD_NAME.search(name)
    if bad:
        if bad.group() == "~":
            raise InvalidInput(field, "must not contain '~'")
        raise InvalidInput(field, "must not contain control characters")
    return name


def parse_number(raw: object, field: str) -> float:
    """A finite number; numeric strings such as ``"1.000000"`` are accepted too."""
    if isinstance(raw, bool) or raw is None:
        raise InvalidInput(field, "must be a number")
    if isinstance(raw, int | float):
        number = float(raw) if not isinstance(raw, int) or abs(raw) < 2**63 else math.inf
    elif isinstance(raw, str) and len(raw) <= 64:
        try:
            number = float(raw)
        except ValueError:
            raise InvalidInput(field, "must be a number") from None
    else:
        raise InvalidInput(field, "must be a number")
    if not math.isfinite(number):
        raise InvalidInput(field, "must be a finite number")
    return number


def parse_kind(raw: object, field: str) -> Kind:
    if raw is None:
        return Kind.COUNTER
    kind = _KINDS.get(raw) if isinstance(raw, str) else None
    if kind is None:
        raise InvalidInput(field, "must be 'counter' or 'value'")
    return kind


def parse_timestamp(raw: object, field: str, now: int) -> int:
    if raw is None:
        return now
    try:
        ts = parse_time(raw)
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None
    if ts > now + MAX_FUTURE_MS:
        raise InvalidInput(field, "is more than 24 hours in the future")
    return ts


def parse_ingest_item(item: object, *, now: int, prefix: str = "") -> PointInput:
    """``{stat, value, type?, t?}`` — the StatFlow ingest body."""
    if not isinstance(item, dict):
        raise InvalidInput(prefix or "body", "must be a JSON object")
    return PointInput(
        stat=parse_stat_name(item.get("stat"), _field(prefix, "stat")),
        kind=parse_kind(item.get("type"), _field(prefix, "type")),
        value=parse_number(item.get("value"), _field(prefix, "value")),
        ts=parse_timestamp(item.get("t"), _field(prefix, "t"), now),
    )


def parse_count_or_value_item(item: object, *, now: int, prefix: str = "") -> PointInput:
    """``{stat, count | value, t?}`` — the StatHat-flavoured variant; count wins if both."""
    if not isinstance(item, dict):
        raise InvalidInput(prefix or "body", "must be a JSON object")
    stat = parse_stat_name(item.get("stat"), _field(prefix, "stat"))
    if item.get("count") is not None:
        kind, value = Kind.COUNTER, parse_number(item["count"], _field(prefix, "count"))
    elif item.get("value") is not None:
        kind, value = Kind.VALUE, parse_number(item["value"], _field(prefix, "value"))
    else:
        raise InvalidInput(_field(prefix, "count"), "one of count or value is required")
    return PointInput(stat, kind, value, parse_timestamp(item.get("t"), _field(prefix, "t"), now))


def parse_ingest_items(
    items: list[object], *, now: int, prefix: str
) -> tuple[list[PointInput], list[int], list[tuple[int, str]]]:
    """Validate a batch: (valid points, their positions, [(position, error)] for the rest).

    The loop takes a shortcut for the common well-formed item (a clean name, a float or int
    value, no ``t``) and falls back to ``parse_ingest_item`` for everything else, which
    gives the same result and names the field on error.
    """
    valid: list[PointInput] = []
    positions: list[int] = []
    rejected: list[tuple[int, str]] = []
    kinds = _KINDS
    bad_name = _BAD_NAME.search
    for index, item in enumerate(items):
        if type(item) is dict:
            stat = item.get("stat")
            value = item.get("value")
            kind = kinds.get(item.get("type", "counter"))  # type: ignore[arg-type]
            value_type = type(value)
            if (
                kind is not None
                and type(stat) is str
                and 0 < len(stat) <= MAX_STAT_NAME
                and stat == stat.strip()
                and not bad_name(stat)
                and (value_type is float or (value_type is int and -(2**63) < value < 2**63))  # type: ignore[operator]
                and item.get("t") is None
                and math.isfinite(value)  # type: ignore[arg-type]
            ):
                valid.append(PointInput(stat, kind, float(value), now))  # type: ignore[arg-type]
                positions.append(index)
                continue
        try:
            valid.append(parse_ingest_item(item, now=now, prefix=f"{prefix}[{index}]"))
            positions.append(index)
        except InvalidInput as exc:
            rejected.append((index, str(exc)))
    return valid, positions, rejected
