"""StatHat wire ⇄ domain: forms and bulk bodies into point groups, stats and datasets out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import msgspec
import orjson

from roost.api.compat.stathat import schemas
from roost.api.compat.stathat.errors import BatchTooLarge
from roost.domain.errors import InvalidInput, Unauthorized
from roost.domain.stathat import expand_stat_names, parse_classic_key
from roost.domain.stats import (
    MAX_BATCH_ITEMS,
    Kind,
    PointGroup,
    PointInput,
    group_points,
    is_clean_stat_name,
    parse_count_or_value_item,
    parse_number,
    parse_timestamp,
)
from roost.domain.timeframes import Timeframe
from roost.storage.series import SeriesRow

# What only an un-encoded form holds: a space, a byte beyond ASCII, or a '%' that starts no
# escape. StatHat's Node client joins ``k=v`` pairs without encoding anything.
_UNENCODED = re.compile(rb"[ \x80-\xff]|%(?![0-9A-Fa-f]{2})")
MAX_EZKEY = 255


def parse_form(raw: bytes) -> dict[str, str]:
    """A query string or form body as a dict; empty values count as absent.

    A properly encoded body is decoded as usual (``+`` is a space, ``%xx`` an escape). One
    that cannot be encoded (see ``_UNENCODED``) is split on ``&`` and the first ``=`` only and
    taken literally, so ``stat=page views&count=1`` means what its sender meant.
    """
    if not raw:
        return {}
    try:
        if _UNENCODED.search(raw):
            pairs = []
            for part in raw.decode("utf-8").split("&"):
                name, _, value = part.partition("=")
                pairs.append((name, value))
            if len(pairs) > schemas.MAX_FORM_FIELDS:
                raise InvalidInput("body", "has too many fields")
        else:
            pairs = parse_qsl(
                raw.decode("ascii"),
                keep_blank_values=True,
                errors="strict",
                max_num_fields=schemas.MAX_FORM_FIELDS,
            )
    except UnicodeDecodeError:
        raise InvalidInput("body", "must be UTF-8") from None
    except ValueError:
        raise InvalidInput("body", "has too many fields") from None
    return {name: value for name, value in pairs if value != ""}


def is_json(body: bytes, content_type: str | None) -> bool:
    return body.lstrip()[:1] == b"{" or (
        content_type is not None and content_type.lower().startswith("application/json")
    )


def ezkey_of(found: object) -> str:
    if found is None or found == "":
        raise Unauthorized("missing ezkey")
    if not isinstance(found, str) or len(found) > MAX_EZKEY:
        raise Unauthorized("invalid ezkey")
    return found.strip()


# -- /ez: one point from a form ----------------------------------------------------------------


def form_groups(params: dict[str, str], now: int) -> list[PointGroup]:
    """The stats ``stat`` names (``~`` expanded), each with the one point; count wins."""
    names = expand_stat_names(params.get("stat"), "stat")
    if schemas.COUNT in params:
        kind, value = Kind.COUNTER, parse_number(params[schemas.COUNT], schemas.COUNT)
    elif schemas.VALUE in params:
        kind, value = Kind.VALUE, parse_number(params[schemas.VALUE], schemas.VALUE)
    else:
        raise InvalidInput(schemas.COUNT, "one of count or value is required")
    ts = parse_timestamp(params.get(schemas.TIME), schemas.TIME, now)
    return [PointGroup(name, kind, [0], [ts], [value]) for name in names]


# -- /ez: a JSON bulk post ---------------------------------------------------------------------


@dataclass(slots=True)
class Bulk:
    ezkey: str
    groups: list[PointGroup]
    rejected: list[tuple[int, str]]
    items: int


def bulk_groups(body: bytes, now: int, ezkey: str | None = None) -> Bulk:
    """``{"ezkey", "data": [{stat, count | value, t?}, …]}`` grouped by stat and kind.

    The common shape goes through msgspec in C; anything else (numbers as strings, ``~``
    names, a bad item) is validated item by item so each refusal names its field. ``ezkey``
    (from the query string) stands in when the body has none.
    """
    try:
        bulk = schemas.ez_bulk_decoder.decode(body)
    except msgspec.MsgspecError:
        pass
    else:
        _check_size(len(bulk.data))
        fast = _fast_groups(bulk.data, now)
        if fast is not None:
            return Bulk(ezkey_of(bulk.ezkey or bulk.email or ezkey), fast, [], len(bulk.data))
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "must be valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidInput("body", "must be a JSON object")
    found = ezkey_of(document.get("ezkey") or document.get("email") or ezkey)
    data = document.get("data")
    if data is None and "stat" in document:
        data = [document]  # one point as a JSON object
    if not isinstance(data, list) or not data:
        raise InvalidInput("data", "is required and must be a non-empty list")
    _check_size(len(data))
    points: list[PointInput] = []
    positions: list[int] = []
    rejected: list[tuple[int, str]] = []
    for index, item in enumerate(data):
        prefix = f"data[{index}]"
        try:
            if not isinstance(item, dict):
                raise InvalidInput(prefix, "must be a JSON object")
            names = expand_stat_names(item.get("stat"), f"{prefix}.stat")
            point = parse_count_or_value_item({**item, "stat": names[0]}, now=now, prefix=prefix)
        except InvalidInput as exc:
            rejected.append((index, str(exc)))
            continue
        for name in names:
            points.append(PointInput(name, point.kind, point.value, point.ts))
            positions.append(index)
    return Bulk(found, group_points(points, positions), rejected, len(data))


def _check_size(count: int) -> None:
    if count > MAX_BATCH_ITEMS:
        raise BatchTooLarge()


def _fast_groups(items: list[schemas.EzItem], now: int) -> list[PointGroup] | None:
    """Group decoded items by (stat, kind); None when any item needs the careful path."""
    groups: dict[tuple[str, Kind], PointGroup] = {}
    for index, item in enumerate(items):
        if item.count is not None:
            kind, value = Kind.COUNTER, item.count
        elif item.value is not None:
            kind, value = Kind.VALUE, item.value
        else:
            return None
        group = groups.get((item.stat, kind))
        if group is None:
            if not is_clean_stat_name(item.stat):
                return None  # '~' names and bad names take the careful path
            group = groups[(item.stat, kind)] = PointGroup(item.stat, kind, [], [], [])
        if item.t is None:
            group.times.append(now)
        else:
            try:
                group.times.append(parse_timestamp(item.t, schemas.TIME, now))
            except InvalidInput:
                return None
        group.indices.append(index)
        group.values.append(float(value))
    return list(groups.values())


def accepted_items(items: int, rejected: list[tuple[int, str]]) -> int:
    """Items of which every point was stored (a '~' item is several points)."""
    return items - len({index for index, _ in rejected})


# -- /c and /v ---------------------------------------------------------------------------------


def classic_point(params: dict[str, str], kind: Kind, now: int) -> tuple[str, str, float, int]:
    """(ukey, classic key, number, time) of a classic post."""
    ukey = params.get(schemas.USER_KEY)
    if not ukey:
        raise Unauthorized("missing ukey")
    key = parse_classic_key(params.get(schemas.CLASSIC_KEY), schemas.CLASSIC_KEY)
    field = schemas.COUNT if kind is Kind.COUNTER else schemas.VALUE
    if field not in params:
        raise InvalidInput(field, "is required")
    value = parse_number(params[field], field)
    return ukey.strip(), key, value, parse_timestamp(params.get(schemas.TIME), schemas.TIME, now)


# -- export ------------------------------------------------------------------------------------


def stat_public(row: SeriesRow) -> dict[str, Any]:
    """A stat as StatHat's statlist shows it; ids are strings there."""
    return {
        "id": str(row.id),
        "name": row.name,
        "public": False,
        "counter": row.kind == Kind.COUNTER.value,
        "classic_key": row.classic_key or "",
        "data_received_at": row.last_ts // 1000 if row.last_ts is not None else None,
        "embed_key": "",
        "created_at": row.created_at // 1000,
    }


def number(value: float) -> int | float:
    """Whole numbers as integers, as StatHat wrote them (``"value": 3``)."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def dataset_public(name: str, frame: Timeframe, points: list[tuple[int, float]]) -> dict[str, Any]:
    return {
        "name": name,
        "timeframe": frame.spelled(),
        "points": [{"time": time // 1000, "value": number(value)} for time, value in points],
    }
