"""StatFlow reads: stat listing, bucketed data, CSV export — on both databases."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from roost.storage.store import Store

HOUR = 3600
DAY_START = 1_700_006_400  # 2023-11-15T00:00:00Z, a whole day on the epoch grid


def post_points(client: TestClient, tenant: Tenant, stat: str, kind: str, points: list) -> int:
    items = [{"stat": stat, "value": value, "type": kind, "t": t} for t, value in points]
    response = client.post("/v1/ingest/batch", json={"items": items}, headers=tenant.headers)
    assert response.status_code == 202 and response.json()["accepted"] == len(items)
    stats = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    return next(row["id"] for row in stats if row["name"] == stat)


def fetch(
    client: TestClient,
    tenant: Tenant,
    stat_id: int,
    start: int | str,
    end: int | str,
    resolution: str | None = None,
) -> dict:
    """``/data`` of the stat from ``start`` to ``end``; the server picks the resolution if none."""
    params: dict[str, int | str] = {"from": start, "to": end}
    if resolution is not None:
        params["resolution"] = resolution
    response = client.get(f"/v1/stats/{stat_id}/data", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_counters_sum_per_bucket_and_empty_counter_buckets_are_zero(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(
        client,
        tenant,
        "orders",
        "counter",
        [(DAY_START + 10, 2), (DAY_START + 3599, 3), (DAY_START + 2 * HOUR, 5)],
    )
    data = fetch(client, tenant, stat_id, DAY_START, DAY_START + 3 * HOUR, "1h")
    assert data["resolution"] == "1h"
    assert [p["time"] for p in data["points"]] == [
        DAY_START,
        DAY_START + HOUR,
        DAY_START + 2 * HOUR,
    ]
    assert [p["value"] for p in data["points"]] == [5, 0, 5]
    assert [p["count"] for p in data["points"]] == [2, 0, 1]


def test_values_average_per_bucket_with_min_max_and_count(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(
        client,
        tenant,
        "latency",
        "value",
        [(DAY_START + 1, 10), (DAY_START + 2, 20), (DAY_START + 3, 60), (DAY_START + 7200, 1)],
    )
    data = fetch(client, tenant, stat_id, DAY_START, DAY_START + 3 * HOUR, "1h")
    first, empty, third = data["points"]
    assert first == {"time": DAY_START, "value": 30, "count": 3, "min": 10, "max": 60}
    assert empty["value"] is None and empty["count"] == 0
    assert third["value"] == 1


def test_a_point_on_a_bucket_edge_belongs_to_the_later_bucket_and_to_is_exclusive(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(
        client, tenant, "edge", "counter", [(DAY_START + HOUR, 1), (DAY_START + 2 * HOUR, 7)]
    )
    data = fetch(client, tenant, stat_id, DAY_START, DAY_START + 2 * HOUR, "1h")
    assert [p["value"] for p in data["points"]] == [0, 1]


def test_from_and_to_are_rounded_outward_to_whole_buckets(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(client, tenant, "round", "counter", [(DAY_START + 5, 1)])
    data = fetch(client, tenant, stat_id, DAY_START + 1800, DAY_START + 1801, "1h")
    assert data["from"] == DAY_START + 0  # the bucket holding 'from'
    assert data["to"] == DAY_START + HOUR
    # 'from' fell inside the bucket, so the point before it (same bucket) is counted.
    assert [p["value"] for p in data["points"]] == [1]


def test_iso_and_unix_inputs_give_the_same_answer(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(
        client, tenant, "same", "value", [(DAY_START + 60, 4), (DAY_START + 120, 8)]
    )
    unix = fetch(client, tenant, stat_id, DAY_START, DAY_START + 600, "5m")
    iso = fetch(client, tenant, stat_id, "2023-11-15T00:00:00Z", "2023-11-15T00:10:00+00:00", "5m")
    assert unix["points"] == iso["points"]
    assert [p["value"] for p in unix["points"]] == [6, None]


def test_sub_minute_resolutions_read_raw_points(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(
        client, tenant, "fine", "counter", [(DAY_START + 1, 1), (DAY_START + 11, 2)]
    )
    data = fetch(client, tenant, stat_id, DAY_START, DAY_START + 30, "10s")
    assert [p["value"] for p in data["points"]] == [1, 2, 0]


def test_daily_and_weekly_resolutions_read_the_coarse_roll_ups(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    points = [(DAY_START + day * 86400 + 100, day + 1) for day in range(7)]
    stat_id = post_points(client, tenant, "daily", "counter", points)
    days = fetch(client, tenant, stat_id, DAY_START, DAY_START + 7 * 86400, "1d")
    assert [p["value"] for p in days["points"]] == [1, 2, 3, 4, 5, 6, 7]
    weeks = fetch(client, tenant, stat_id, DAY_START, DAY_START + 7 * 86400, "1w")
    assert sum(p["value"] for p in weeks["points"]) == 28


def test_automatic_resolution_keeps_at_most_about_1000_buckets(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(client, tenant, "auto", "counter", [(DAY_START, 1)])
    for span in (600, 86400, 30 * 86400, 400 * 86400):
        data = fetch(client, tenant, stat_id, DAY_START, DAY_START + span)
        assert 1 <= len(data["points"]) <= 1001, span
    week = fetch(client, tenant, stat_id, DAY_START, DAY_START + 7 * 86400)
    assert week["resolution"] == "15m"


def test_annotations_in_range_come_back_with_the_data(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(client, tenant, "noted", "counter", [(DAY_START, 1)])
    other_id = post_points(client, tenant, "other", "counter", [(DAY_START, 1)])
    for body in (
        {"text": "everyone", "time": DAY_START + 60},
        {"text": "only noted", "time": DAY_START + 120, "stat_ids": [stat_id]},
        {"text": "only other", "time": DAY_START + 180, "stat_ids": [other_id]},
        {"text": "too late", "time": DAY_START + 2 * HOUR},
    ):
        assert client.post("/v1/annotations", json=body, headers=tenant.headers).status_code == 201
    data = fetch(client, tenant, stat_id, DAY_START, DAY_START + HOUR, "1h")
    assert [note["text"] for note in data["annotations"]] == ["everyone", "only noted"]
    assert data["annotations"][0]["time"] == DAY_START + 60


def test_export_is_csv_with_iso_utc_times(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(
        client, tenant, "csv", "value", [(DAY_START + 1, 2.5), (DAY_START + 7201, 4)]
    )
    response = client.get(
        f"/v1/stats/{stat_id}/export",
        params={"format": "csv", "from": DAY_START, "to": DAY_START + 3 * HOUR, "resolution": "1h"},
        headers=tenant.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        ["time", "value"],
        ["2023-11-15T00:00:00Z", "2.5"],
        ["2023-11-15T01:00:00Z", ""],
        ["2023-11-15T02:00:00Z", "4"],
    ]


def test_export_with_an_unknown_format_is_400(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(client, tenant, "fmt", "counter", [(DAY_START, 1)])
    response = client.get(f"/v1/stats/{stat_id}/export?format=xml", headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["field"] == "format"


def test_one_stat_by_id(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(client, tenant, "single", "value", [(DAY_START, 9)])
    response = client.get(f"/v1/stats/{stat_id}", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json()["name"] == "single"
    assert response.json()["last_value"] == 9
    assert client.get("/v1/stats/999999999", headers=tenant.headers).status_code == 404


def test_bad_ranges_and_resolutions_are_422_naming_the_field(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    stat_id = post_points(client, tenant, "bad", "counter", [(DAY_START, 1)])
    for params, field in (
        ({"from": "yesterday"}, "from"),
        ({"to": "2023-13-45"}, "to"),
        ({"from": DAY_START + 10, "to": DAY_START}, "from"),
        ({"resolution": "fortnight"}, "resolution"),
        ({"resolution": "0m"}, "resolution"),
        ({"from": DAY_START, "to": DAY_START + 400 * 86400, "resolution": "1m"}, "resolution"),
    ):
        response = client.get(f"/v1/stats/{stat_id}/data", params=params, headers=tenant.headers)
        assert response.status_code == 422, params
        assert response.json()["field"] == field
