"""Chart data for the pages: the chosen time range, series as uPlot columns, sparklines.

A range is a preset (``range=24h``, relative to now, so an auto-refresh moves it forward) or a
custom ``from``/``to`` (ISO 8601 or unix seconds); ``res`` is ``auto`` or a duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection

from roost.domain.errors import InvalidInput
from roost.domain.stats import Kind
from roost.domain.times import DAY, HOUR, YEAR, format_iso
from roost.services import stats as stat_service
from roost.services.stats import SeriesData, TimeQuery

PRESETS: dict[str, int] = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "1y": YEAR}
RESOLUTIONS = ("auto", "10s", "1m", "5m", "15m", "1h", "1d")
DEFAULT_PRESET = "24h"
SPARK_BUCKETS = 48
SPARK_WIDTH = 120
SPARK_HEIGHT = 28


@dataclass(frozen=True, slots=True)
class ChartRange:
    preset: str | None  # None for a custom range
    from_: str
    to: str
    resolution: str

    @classmethod
    def from_params(cls, params: Any) -> ChartRange:
        resolution = params.get("res") or "auto"
        if resolution not in RESOLUTIONS:
            resolution = "auto"
        from_, to = params.get("from") or "", params.get("to") or ""
        if from_ or to:
            return cls(None, from_, to, resolution)
        preset = params.get("range") or DEFAULT_PRESET
        return cls(preset if preset in PRESETS else DEFAULT_PRESET, "", "", resolution)

    def query(self, now: int) -> TimeQuery:
        """Validated, bucket-aligned; InvalidInput names ``from``, ``to`` or ``resolution``."""
        if self.preset is not None:
            start, end = now - PRESETS[self.preset], now
            return stat_service.parse_time_query(
                from_=str(start / 1000), to=str(end / 1000), resolution=self.resolution, now=now
            )
        return stat_service.parse_time_query(
            from_=self.from_ or None, to=self.to or None, resolution=self.resolution, now=now
        )

    def params(self, **changes: str) -> str:
        """The query string of this range, with ``changes`` applied (for links)."""
        values = {"res": self.resolution}
        if self.preset is not None:
            values["range"] = self.preset
        else:
            values.update({"from": self.from_, "to": self.to})
        values.update(changes)
        if "range" in changes:
            values.pop("from", None)
            values.pop("to", None)
        return urlencode({k: v for k, v in values.items() if v})


def series_json(data: SeriesData) -> dict[str, Any]:
    """uPlot's columns (times in seconds) plus min/max for value stats, and annotations."""
    is_value = data.stat.kind == Kind.VALUE.value
    times = [bucket[0] // 1000 for bucket in data.buckets]
    out: dict[str, Any] = {
        "id": data.stat.id,
        "name": data.stat.name,
        "kind": data.stat.kind,
        "start": data.start // 1000,
        "end": data.end // 1000,
        "resolution_ms": data.resolution_ms,
        "points": sum(bucket[2] for bucket in data.buckets),
        "t": times,
        "v": [bucket[1] for bucket in data.buckets],
        "notes": [{"t": note.ts // 1000, "text": note.text} for note in data.annotations],
    }
    if is_value:
        out["lo"] = [bucket[3] for bucket in data.buckets]
        out["hi"] = [bucket[4] for bucket in data.buckets]
    return out


def series_csv(data: SeriesData) -> str:
    """The buckets shown, one row each: time, value, count (and min, max for value stats)."""
    is_value = data.stat.kind == Kind.VALUE.value
    lines = ["time,value,count,min,max" if is_value else "time,value,count"]
    for ts, value, count, low, high in data.buckets:
        cells = [format_iso(ts), _cell(value), str(count)]
        if is_value:
            cells += [_cell(low), _cell(high)]
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


def _cell(value: float | None) -> str:
    return "" if value is None else repr(float(value)).removesuffix(".0")


def read_chart(
    conn: Connection, *, project_id: int, stat_id: int, chosen: ChartRange, now: int
) -> SeriesData:
    return stat_service.read_series(
        conn, project_id=project_id, stat_id=stat_id, query=chosen.query(now)
    )


def sparkline(conn: Connection, *, project_id: int, stat_id: int, now: int) -> str:
    """An SVG polyline's points for the last 24 hours (empty when there is nothing)."""
    step_ms = DAY // SPARK_BUCKETS
    end = now - now % step_ms + step_ms
    query = TimeQuery(end - SPARK_BUCKETS * step_ms, end, step_ms)
    data = stat_service.read_series(conn, project_id=project_id, stat_id=stat_id, query=query)
    values = [bucket[1] for bucket in data.buckets]
    known = [value for value in values if value is not None]
    if not any(bucket[2] for bucket in data.buckets) or not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = SPARK_WIDTH / max(1, len(values) - 1)
    points = []
    for index, value in enumerate(values):
        if value is None:
            continue
        y = SPARK_HEIGHT - 2 - (value - low) / span * (SPARK_HEIGHT - 4)
        points.append(f"{index * step:.1f},{y:.1f}")
    return " ".join(points)


def check_range(chosen: ChartRange, now: int) -> str | None:
    """The problem with a custom range, to show next to the form (None when it is fine)."""
    try:
        chosen.query(now)
    except InvalidInput as exc:
        return str(exc)
    return None
