"""Domain objects → StatFlow wire shapes.

Entity timestamps are ISO 8601 strings; series times (bucket starts, annotation times in a
data response) are unix seconds, ready for a chart's x axis.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import orjson

from roost.api.compat.statflow.schemas import IngestItem
from roost.domain.errors import InvalidInput
from roost.domain.keys import scopes_from_text
from roost.domain.stats import Kind, PointGroup, is_clean_stat_name, parse_timestamp
from roost.domain.times import format_duration, format_iso
from roost.services.stats import SeriesData
from roost.storage.annotations import AnnotationRow
from roost.storage.imports import ImportRow
from roost.storage.series import SeriesRow
from roost.storage.tenancy import KeyRow


def items_to_groups(items: list[IngestItem], now: int) -> list[PointGroup] | None:
    """Group decoded items by (stat, type); None when any item needs the careful path."""
    groups: dict[tuple[str, str], PointGroup] = {}
    for index, item in enumerate(items):
        key = (item.stat, item.type)
        group = groups.get(key)
        if group is None:
            if not is_clean_stat_name(item.stat):
                return None
            group = groups[key] = PointGroup(item.stat, Kind(item.type), [], [], [])
        if item.t is None:
            group.times.append(now)
        else:
            try:
                group.times.append(parse_timestamp(item.t, "t", now))
            except InvalidInput:
                return None
        group.indices.append(index)
        group.values.append(float(item.value))
    return list(groups.values())


def stat_public(row: SeriesRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "type": row.kind,
        # HawkFlow metrics and run durations are series labelled with their process and meta.
        "labels": orjson.loads(row.labels_key) if row.labels_key else {},
        "created_at": format_iso(row.created_at),
        "last_value": row.last_value,
        "last_received_at": format_iso(row.last_ts) if row.last_ts is not None else None,
    }


def annotation_public(row: AnnotationRow, *, unix: bool = False) -> dict[str, Any]:
    return {
        "id": row.id,
        "time": row.ts // 1000 if unix else format_iso(row.ts),
        "text": row.text,
        "stat_ids": list(row.series_ids),
        "created_at": format_iso(row.created_at),
    }


def key_public(row: KeyRow, aliases: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "scopes": sorted(scope.value for scope in scopes_from_text(row.scopes)),
        "aliases": list(aliases),
        "created_at": format_iso(row.created_at),
        "revoked_at": format_iso(row.revoked_at) if row.revoked_at is not None else None,
    }


def import_public(row: ImportRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": row.state,
        "stats_total": row.stats_total,
        "stats_done": row.stats_done,
        "points_imported": row.points_imported,
        "errors": list(row.errors),
        "base_url": row.base_url,
        "created_at": format_iso(row.created_at),
        "started_at": format_iso(row.started_at) if row.started_at is not None else None,
        "finished_at": format_iso(row.finished_at) if row.finished_at is not None else None,
    }


def series_data_public(data: SeriesData) -> dict[str, Any]:
    return {
        "stat": stat_public(data.stat),
        "resolution": format_duration(data.resolution_ms),
        "from": data.start // 1000,
        "to": data.end // 1000,
        "points": [
            {"time": time // 1000, "value": value, "count": count, "min": low, "max": high}
            for time, value, count, low, high in data.buckets
        ],
        "annotations": [annotation_public(note, unix=True) for note in data.annotations],
    }


def series_data_csv(data: SeriesData) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["time", "value"])
    for time, value, *_ in data.buckets:
        writer.writerow([format_iso(time), _number(value)])
    return out.getvalue()


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
