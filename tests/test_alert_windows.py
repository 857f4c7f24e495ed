"""Alert windows read from roll-ups (days, hours and minutes pieced together) equal the raw
points' aggregate, on both databases."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient

from conftest import make_tenant
from roost.alerting.conditions import window_bounds
from roost.domain.times import DAY, HOUR, MINUTE, now_ms
from roost.storage.alert_inputs import window_aggregate
from roost.storage.store import Store


def test_window_aggregates_equal_the_points_they_cover(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    rng = random.Random(7)
    now = now_ms()
    points = [(now - rng.randrange(0, 9 * DAY), float(rng.randrange(-50, 500))) for _ in range(900)]
    items = [
        {"stat": "load", "value": value, "type": "value", "t": ts / 1000} for ts, value in points
    ]
    response = client.post("/v1/ingest/batch", json={"items": items}, headers=tenant.headers)
    assert response.status_code in (200, 202), response.text
    stat_id = client.get("/v1/stats", headers=tenant.headers).json()["stats"][0]["id"]
    windows = [MINUTE, 5 * MINUTE, HOUR, 3 * HOUR + 7 * MINUTE, DAY, 2 * DAY + 5 * HOUR, 7 * DAY]
    checked = 0
    with store.read() as conn:
        for offset in (0, 17 * MINUTE, 5 * HOUR + 3 * MINUTE, 2 * DAY):
            for window in windows:
                start, end = window_bounds(now - offset, window)
                found = window_aggregate(
                    conn, project_id=tenant.project_id, series_id=stat_id, start=start, end=end
                )
                inside = [value for ts, value in points if start <= ts < end]
                if not inside:
                    assert found is None
                    continue
                assert found is not None
                assert found.count == len(inside)
                assert abs(found.sum - sum(inside)) < 1e-6
                assert (found.min, found.max) == (min(inside), max(inside))
                checked += 1
    assert checked > 15
