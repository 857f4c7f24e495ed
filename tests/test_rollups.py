"""Roll-ups answer exactly what the raw points would: random points in, Python's sums out.

Points go in over HTTP with explicit times across several days; every resolution is then read
back through ``/v1/stats/{id}/data`` (roll-up tiers for 1m and above, raw points below) and
compared bucket by bucket with aggregates computed here from the same points.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from roost.storage.store import Store

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
# 2023-11-15T00:00:00Z: a whole day (not a whole week) on the epoch grid, long before any
# retention cutoff would matter.
DAY_START_MS = 1_700_006_400_000
SPAN_MS = 3 * DAY_MS
POINTS_PER_STAT = 1500
BATCH = 1000  # the API's most items per batch request

RESOLUTIONS_MS = {
    "10s": 10 * SECOND_MS,  # raw points
    "90s": 90 * SECOND_MS,  # raw points: not a multiple of a minute
    "1m": MINUTE_MS,  # the minute tier as is
    "5m": 5 * MINUTE_MS,  # minute tier, re-bucketed
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "1d": DAY_MS,
    "1w": WEEK_MS,  # day tier, weeks aligned on the epoch (Thursdays)
}


@dataclass(frozen=True)
class Point:
    ts: int  # unix ms
    value: float


# -- building the data -------------------------------------------------------------------


def random_points(rng: random.Random, kind: str) -> list[Point]:
    """Points over SPAN_MS, a good share of them on or next to bucket boundaries."""
    points = []
    for _ in range(POINTS_PER_STAT):
        ts = DAY_START_MS + rng.randrange(SPAN_MS)
        edge = rng.random()
        if edge < 0.1:
            ts -= ts % MINUTE_MS  # exactly on a minute
        elif edge < 0.15:
            ts -= ts % HOUR_MS  # exactly on an hour
        elif edge < 0.2:
            ts -= ts % HOUR_MS + 1  # the last millisecond of an hour
        elif edge < 0.22:
            ts -= ts % DAY_MS  # exactly on a day
        if kind == "counter":
            value = float(rng.randint(1, 9)) if rng.random() < 0.7 else round(rng.uniform(-5, 5), 3)
        else:
            value = round(rng.gauss(100, 15), 4)
        points.append(Point(ts, value))
    return points


def unix_seconds(ms: int) -> float:
    return ms / 1000


def iso(ms: int) -> str:
    # Built here rather than with roost's own formatter, so the two parsers are checked.
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def wire_time(ms: int, index: int) -> float | str:
    """Alternate the two accepted spellings of a time."""
    return unix_seconds(ms) if index % 2 else iso(ms)


def ingest(client: TestClient, tenant: Tenant, stat: str, kind: str, points: list[Point]) -> int:
    items = [
        {"stat": stat, "type": kind, "value": point.value, "t": wire_time(point.ts, index)}
        for index, point in enumerate(points)
    ]
    # A few points through the single-point route, the rest in batches.
    for item in items[:10]:
        response = client.post("/v1/ingest", json=item, headers=tenant.headers)
        assert response.status_code == 202, response.text
    for start in range(10, len(items), BATCH):
        chunk = items[start : start + BATCH]
        response = client.post("/v1/ingest/batch", json={"items": chunk}, headers=tenant.headers)
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(chunk), response.json()["rejected"][:3]
    stats = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    return int(next(row["id"] for row in stats if row["name"] == stat))


# -- the reference: aggregates computed here ---------------------------------------------


def aligned(start_ms: int, end_ms: int, resolution_ms: int) -> tuple[int, int]:
    """[start, end) widened to whole epoch-aligned buckets."""
    start = start_ms // resolution_ms * resolution_ms
    end = -(-end_ms // resolution_ms) * resolution_ms
    return start, max(end, start + resolution_ms)


def expected_buckets(
    points: list[Point], kind: str, start_ms: int, end_ms: int, resolution_ms: int
) -> list[dict[str, Any]]:
    start, end = aligned(start_ms, end_ms, resolution_ms)
    grouped: dict[int, list[float]] = {}
    for point in points:
        if start <= point.ts < end:
            grouped.setdefault(point.ts - point.ts % resolution_ms, []).append(point.value)
    buckets = []
    for bucket in range(start, end, resolution_ms):
        values = grouped.get(bucket, [])
        if not values:
            empty = 0.0 if kind == "counter" else None
            buckets.append(
                {"time": bucket // 1000, "value": empty, "count": 0, "min": None, "max": None}
            )
            continue
        total = sum(values)
        buckets.append(
            {
                "time": bucket // 1000,
                "value": total if kind == "counter" else total / len(values),
                "count": len(values),
                "min": min(values),
                "max": max(values),
            }
        )
    return buckets


def fetch(
    client: TestClient, tenant: Tenant, stat_id: int, start: object, end: object, resolution: str
) -> dict[str, Any]:
    params = {"from": start, "to": end, "resolution": resolution}
    response = client.get(f"/v1/stats/{stat_id}/data", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_same_buckets(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert [b["time"] for b in got] == [b["time"] for b in want]
    assert [b["count"] for b in got] == [b["count"] for b in want]
    for mine, theirs in zip(got, want, strict=True):
        if theirs["value"] is None:
            assert mine["value"] is None, mine
        else:
            assert mine["value"] == pytest.approx(theirs["value"], rel=1e-9, abs=1e-9), mine
        assert (mine["min"], mine["max"]) == (theirs["min"], theirs["max"]), mine


# -- roll-ups equal raw aggregates -------------------------------------------------------

# Deliberately off the bucket grid, so every query is rounded outward.
QUERY_START_MS = DAY_START_MS - 12 * HOUR_MS + 12_345
QUERY_END_MS = DAY_START_MS + SPAN_MS + 7 * HOUR_MS + 678
# Sub-minute resolutions would exceed the bucket limit over days: they read six hours.
FINE_START_MS = DAY_START_MS + 20 * HOUR_MS + 4_321
FINE_END_MS = DAY_START_MS + 26 * HOUR_MS + 987


@pytest.mark.parametrize("resolution", list(RESOLUTIONS_MS))
def test_every_resolution_matches_aggregates_of_the_raw_points(
    client: TestClient, store: Store, resolution: str
) -> None:
    tenant = make_tenant(store)
    rng = random.Random(f"rollups-{resolution}")
    resolution_ms = RESOLUTIONS_MS[resolution]
    fine = resolution_ms < MINUTE_MS or resolution_ms % MINUTE_MS
    start_ms, end_ms = (FINE_START_MS, FINE_END_MS) if fine else (QUERY_START_MS, QUERY_END_MS)
    for kind in ("counter", "value"):
        points = random_points(rng, kind)
        stat_id = ingest(client, tenant, f"random.{kind}", kind, points)
        data = fetch(
            client, tenant, stat_id, unix_seconds(start_ms), unix_seconds(end_ms), resolution
        )
        want = expected_buckets(points, kind, start_ms, end_ms, resolution_ms)
        assert data["resolution"] == resolution
        assert (data["from"], data["to"]) == (
            want[0]["time"],
            want[-1]["time"] + resolution_ms // 1000,
        )
        assert sum(b["count"] for b in want) > 0  # the window really holds points
        assert_same_buckets(data["points"], want)


@pytest.mark.parametrize("resolution", ["10s", "1m", "1h", "1d"])
def test_iso_and_unix_seconds_give_the_same_answer(
    client: TestClient, store: Store, resolution: str
) -> None:
    tenant = make_tenant(store)
    points = random_points(random.Random(f"spellings-{resolution}"), "value")
    stat_id = ingest(client, tenant, "spellings", "value", points)
    start_ms, end_ms = FINE_START_MS, FINE_END_MS
    spellings = [
        (unix_seconds(start_ms), unix_seconds(end_ms)),
        (str(unix_seconds(start_ms)), str(unix_seconds(end_ms))),
        (iso(start_ms), iso(end_ms)),
        (iso(start_ms).replace("+00:00", "Z"), iso(end_ms).replace("+00:00", "Z")),
    ]
    answers = [fetch(client, tenant, stat_id, a, b, resolution) for a, b in spellings]
    assert all(answer == answers[0] for answer in answers[1:])
    want = expected_buckets(points, "value", start_ms, end_ms, RESOLUTIONS_MS[resolution])
    assert_same_buckets(answers[0]["points"], want)


# -- bucket edges at every tier ----------------------------------------------------------

EDGE_RESOLUTIONS = ["10s", "1m", "5m", "1h", "1d"]
BOUNDARY_MS = DAY_START_MS + 2 * DAY_MS  # on the grid of every resolution above


@pytest.mark.parametrize("resolution", EDGE_RESOLUTIONS)
def test_a_point_on_a_boundary_goes_to_the_later_bucket_and_to_is_exclusive(
    client: TestClient, store: Store, resolution: str
) -> None:
    tenant = make_tenant(store)
    width = RESOLUTIONS_MS[resolution]
    points = [
        Point(BOUNDARY_MS - 1, 1),  # the last millisecond of the earlier bucket
        Point(BOUNDARY_MS, 10),  # exactly on the boundary: the later bucket
        Point(BOUNDARY_MS + width - 1, 100),  # the last millisecond of the later bucket
        Point(BOUNDARY_MS + width, 1000),  # exactly on 'to': excluded
    ]
    stat_id = ingest(client, tenant, "edges", "counter", points)
    data = fetch(
        client,
        tenant,
        stat_id,
        unix_seconds(BOUNDARY_MS - width),
        unix_seconds(BOUNDARY_MS + width),
        resolution,
    )
    assert [(b["time"], b["value"], b["count"]) for b in data["points"]] == [
        ((BOUNDARY_MS - width) // 1000, 1, 1),
        (BOUNDARY_MS // 1000, 110, 2),
    ]


@pytest.mark.parametrize("resolution", EDGE_RESOLUTIONS)
def test_from_and_to_are_rounded_outward_to_whole_buckets(
    client: TestClient, store: Store, resolution: str
) -> None:
    tenant = make_tenant(store)
    width = RESOLUTIONS_MS[resolution]
    points = [Point(BOUNDARY_MS - width, 1), Point(BOUNDARY_MS + width - 1, 2)]
    stat_id = ingest(client, tenant, "rounded", "counter", points)
    # Both points lie outside [from, to) but inside the whole buckets around it.
    start, end = BOUNDARY_MS - width // 2, BOUNDARY_MS + width // 2
    data = fetch(client, tenant, stat_id, iso(start), iso(end), resolution)
    assert (data["from"], data["to"]) == (
        (BOUNDARY_MS - width) // 1000,
        (BOUNDARY_MS + width) // 1000,
    )
    assert [(b["time"], b["value"]) for b in data["points"]] == [
        ((BOUNDARY_MS - width) // 1000, 1),
        (BOUNDARY_MS // 1000, 2),
    ]
