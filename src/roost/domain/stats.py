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
from roost.domain.portable import compact_pickle
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


@compact_pickle
@dataclass(frozen=True, slots=True)
class PointInput:
    stat: str
    kind: Kind
    value: float
    ts: int


@compact_pickle
@dataclass(slots=True)
class PointGroup:
    """Points of one request for one (stat, kind), as columns.

    Grouping lets the writer resolve each stat once per request and append its rows in one
    C-level step; ``indices`` keeps each point's position in the request for error reports.
    """

    stat: str
    kind: Kind
    indices: list[int]
    times: list[int]
    values: list[float]


def group_points(points: list[PointInput], positions: list[int]) -> list[PointGroup]:
    groups: dict[tuple[str, Kind], PointGroup] = {}
    for point, position in zip(points, positions, strict=True):
        group = groups.get((point.stat, point.kind))
        if group is None:
            group = groups[(point.stat, point.kind)] = PointGroup(
                point.stat, point.kind, [], [], []
            )
        group.indices.append(position)
        group.times.append(point.ts)
        group.values.append(point.value)
    return list(groups.values())


def is_clean_stat_name(name: str) -> bool:
    """True when ``parse_stat_name`` would accept ``name`` unchanged."""
    return 0 < len(name) <= MAX_STAT_NAME and name == name.strip() and not _BAD_NAME.search(name)


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
    """Validate a batch item by item: (valid points, their positions, [(position, error)])."""
    valid: list[PointInput] = []
    positions: list[int] = []
    rejected: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        try:
            valid.append(parse_ingest_item(item, now=now, prefix=f"{prefix}[{index}]"))
            positions.append(index)
        except InvalidInput as exc:
            rejected.append((index, str(exc)))
    return valid, positions, rejected
