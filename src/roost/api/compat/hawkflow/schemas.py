"""HawkFlow's request bodies and their rules (API.md §1.2 to 1.5), in HawkFlow's field names.

Bodies are plain JSON objects checked by hand rather than by a model: every string field is
cleaned first (``'``, ``"`` and ``%`` removed, as HawkFlow's own clients do), ``items`` comes in
three shapes, and booleans count as numbers, which no declarative model expresses simply.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

from roost.domain.errors import InvalidInput
from roost.domain.processes import (
    MAX_EXCEPTION,
    MAX_INFO,
    MAX_META,
    MAX_METRIC_NAME,
    MAX_METRICS,
    MAX_NAME,
    MAX_UID,
    Metric,
)

_REMOVED = str.maketrans("", "", "'\"%")
# The docs allow [A-Za-z0-9_-]; HawkFlow's JS and Go clients also let whitespace through.
_UID = re.compile(r"[A-Za-z0-9_\-\s]*")


@dataclass(frozen=True, slots=True)
class RunRequest:
    """``/v1/start`` and ``/v1/end`` (and their ``/v1/timed/…`` aliases)."""

    process: str
    meta: str
    uid: str
    info: str | None  # end only; accepted and ignored on start


@dataclass(frozen=True, slots=True)
class MetricsRequest:
    process: str
    meta: str
    items: list[Metric]


@dataclass(frozen=True, slots=True)
class ExceptionRequest:
    process: str
    meta: str
    exception: str


def parse_run(document: object, *, end: bool) -> RunRequest:
    body = _object(document)
    info = _free_text(body, "info", MAX_INFO, truncate=True) if end else None
    return RunRequest(_process(body), _meta(body), _uid(body), info or None)


def parse_metrics(document: object) -> MetricsRequest:
    body = _object(document)
    process, meta = _process(body), _meta(body)
    return MetricsRequest(process, meta, _items(body.get("items"), nested=_df(body.get("df"))))


def parse_exception(document: object) -> ExceptionRequest:
    body = _object(document)
    process, meta = _process(body), _meta(body)
    text = _free_text(body, "exception", MAX_EXCEPTION, truncate=False) or ""
    return ExceptionRequest(process, meta, text)


# -- fields ------------------------------------------------------------------------------


def _object(document: object) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise InvalidInput("body", "must be a JSON object")
    return document


# Process, meta and metric names repeat from request to request; translate() is the slow
# part of reading them (bounded, so a stream of new names only evicts).
@functools.lru_cache(maxsize=4096)
def _clean(value: str) -> str:
    return value.translate(_REMOVED).strip()


def _no_nul(field: str, value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it rather than fail at write time.
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    return value


def _process(body: dict[str, Any]) -> str:
    value = body.get("process")
    if value is None:
        raise InvalidInput("process", "is required")
    if not isinstance(value, str):
        raise InvalidInput("process", "must be a string")
    cleaned = _no_nul("process", _clean(value))
    if not cleaned:
        raise InvalidInput("process", "must not be empty")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput("process", f"must be at most {MAX_NAME} characters")
    return cleaned


def _meta(body: dict[str, Any]) -> str:
    # HawkFlow's JS, Go and PHP clients omit an empty meta.
    value = body.get("meta")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("meta", "must be a string")
    cleaned = _no_nul("meta", _clean(value))
    if len(cleaned) > MAX_META:
        raise InvalidInput("meta", f"must be at most {MAX_META} characters")
    return cleaned


def _uid(body: dict[str, Any]) -> str:
    value = body.get("uid")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("uid", "must be a string")
    if len(value) > MAX_UID:
        raise InvalidInput("uid", f"must be at most {MAX_UID} characters")
    if not _UID.fullmatch(value):
        raise InvalidInput("uid", "may only contain letters, digits, '_', '-' and spaces")
    return value


def _free_text(body: dict[str, Any], field: str, limit: int, *, truncate: bool) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    if len(value) > limit:
        if not truncate:
            raise InvalidInput(field, f"must be at most {limit} characters")
        # HawkFlow's Python client puts no limit on info; keeping the run matters more than
        # keeping the tail of its note.
        value = value[:limit]
    # Free text keeps its content; only NUL, which PostgreSQL cannot store, is replaced.
    return value.replace("\x00", "\ufffd")


def _df(value: object) -> bool:
    if value is None or value is False or value == 0:
        return False
    if value is True or value == 1:
        return True
    raise InvalidInput("df", "must be 0 or 1")


def _items(value: object, *, nested: bool) -> list[Metric]:
    """A map ``{name: number}``; with ``df=1`` a map of maps (pandas ``DataFrame.to_dict()``),
    named ``outer.inner``; or the legacy list ``[{"name": …, "value": …}]`` of old clients."""
    if value is None:
        raise InvalidInput("items", "is required")
    if isinstance(value, list):
        return _legacy_items(value)
    if not isinstance(value, dict):
        raise InvalidInput("items", "must be an object of name: number")
    _check_count("items", len(value))
    metrics: list[Metric] = []
    for raw_name, raw_value in value.items():
        name = _metric_name(f"items.{raw_name}", raw_name)
        if nested:
            field = f"items.{raw_name}"
            if not isinstance(raw_value, dict):
                raise InvalidInput(field, "must be an object of name: number when df is 1")
            _check_count(field, len(raw_value))
            for inner_name, inner_value in raw_value.items():
                inner_field = f"{field}.{inner_name}"
                full = f"{name}.{_metric_name(inner_field, inner_name)}"
                if len(full) > MAX_METRIC_NAME:
                    raise InvalidInput(
                        inner_field, f"name must be at most {MAX_METRIC_NAME} characters"
                    )
                metrics.append(Metric(full, _number(inner_field, inner_value)))
        else:
            metrics.append(Metric(name, _number(f"items.{raw_name}", raw_value)))
    return metrics


def _legacy_items(value: list[Any]) -> list[Metric]:
    _check_count("items", len(value))
    metrics: list[Metric] = []
    for index, item in enumerate(value):
        field = f"items[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(field, 'must be an object {"name": …, "value": …}')
        name = item.get("name")
        if not isinstance(name, str):
            raise InvalidInput(f"{field}.name", "is required and must be a string")
        metrics.append(
            Metric(
                _metric_name(f"{field}.name", name), _number(f"{field}.value", item.get("value"))
            )
        )
    return metrics


def _check_count(field: str, count: int) -> None:
    if count == 0:
        raise InvalidInput(field, "must not be empty")
    if count > MAX_METRICS:
        raise InvalidInput(field, f"at most {MAX_METRICS} items per request")


def _metric_name(field: str, raw: str) -> str:
    name = _no_nul(field, _clean(raw))
    if not name:
        raise InvalidInput(field, "name must not be empty")
    if len(name) > MAX_METRIC_NAME:
        raise InvalidInput(field, f"name must be at most {MAX_METRIC_NAME} characters")
    return name


def _number(field: str, value: object) -> float:
    # bool before int: HawkFlow's Python validator lets True/False through as ints.
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
        if math.isfinite(number):
            return number
        raise InvalidInput(field, "must be a finite number")
    raise InvalidInput(field, "must be a number")
