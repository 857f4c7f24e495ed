"""StatHat's export API, ``/x/{access_token}/…``: exact bodies and codes, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.domain.times import now_ms
from roost.storage import series as series_store
from roost.storage.store import Store

DAY_START = 1_700_006_400  # 2023-11-15T00:00:00Z
MINUTE, HOUR = 60, 3600


def post(client: TestClient, tenant: Tenant, data: list[dict[str, Any]]) -> None:
    body = client.post("/ez", json={"ezkey": tenant.key, "data": data}).json()
    assert body["status"] == 200 and body["count"] == len(data), body


def ids(client: TestClient, tenant: Tenant) -> dict[str, str]:
    return {stat["name"]: stat["id"] for stat in client.get(f"/x/{tenant.key}/statlist").json()}


def data(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(f"/x/{token}/data/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def tenant(client: TestClient, store: Store) -> Tenant:
    """A project with a counter and a value stat over the first three hours of DAY_START."""
    tenant = make_tenant(store)
    post(
        client,
        tenant,
        [
            {"stat": "user created", "count": 2, "t": DAY_START + 10},
            {"stat": "user created", "count": 1, "t": DAY_START + 59 * MINUTE},
            {"stat": "user created", "count": 4, "t": DAY_START + 2 * HOUR + 5},
            {"stat": "request time", "value": 2, "t": DAY_START + 30},
            {"stat": "request time", "value": 4, "t": DAY_START + 90},
            {"stat": "request time", "value": 9, "t": DAY_START + 2 * HOUR},
        ],
    )
    return tenant


def test_statlist_lists_stats_by_name_in_statHats_shape(client: TestClient, tenant: Tenant) -> None:
    before = now_ms() // 1000
    listed = client.get(f"/x/{tenant.key}/statlist")
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/json"
    rows = listed.json()
    assert [row["name"] for row in rows] == ["request time", "user created"]
    for row in rows:
        assert set(row) == {
            "id",
            "name",
            "public",
            "counter",
            "classic_key",
            "data_received_at",
            "embed_key",
            "created_at",
        }
        assert isinstance(row["id"], str) and row["id"].isdigit()
        assert row["public"] is False and row["classic_key"]
        assert abs(row["created_at"] - before) < 60
    assert [row["counter"] for row in rows] == [False, True]
    assert rows[1]["data_received_at"] == DAY_START + 2 * HOUR + 5
    second = client.get(f"/x/{tenant.key}/statlist", params={"offset": 1}).json()
    assert second == rows[1:]
    assert client.get(f"/x/{tenant.key}/statlist", params={"offset": 2}).json() == []
    bad = client.get(f"/x/{tenant.key}/statlist", params={"offset": -1})
    assert (bad.status_code, bad.json()) == (400, {"msg": "invalid offset"})


def test_stat_by_name(client: TestClient, tenant: Tenant) -> None:
    found = client.get(f"/x/{tenant.key}/stat", params={"name": "user created"})
    assert found.status_code == 200
    assert found.json()["name"] == "user created" and found.json()["counter"] is True
    missing = client.get(f"/x/{tenant.key}/stat", params={"name": "nobody"})
    assert (missing.status_code, missing.json()) == (404, {"msg": "stat not found"})


def test_data_answers_one_dataset_per_id_in_path_order(client: TestClient, tenant: Tenant) -> None:
    stat = ids(client, tenant)
    path = f"{stat['user created']}/{stat['request time']}"
    found = data(client, tenant.key, path, t="3h1h", start=DAY_START)
    assert found == [
        {
            "name": "user created",
            "timeframe": "3 hours @ 1 hour",
            "points": [
                {"time": DAY_START, "value": 3},
                {"time": DAY_START + HOUR, "value": 0},
                {"time": DAY_START + 2 * HOUR, "value": 4},
            ],
        },
        {
            "name": "request time",
            "timeframe": "3 hours @ 1 hour",
            "points": [
                {"time": DAY_START, "value": 3},
                {"time": DAY_START + HOUR, "value": 0},
                {"time": DAY_START + 2 * HOUR, "value": 9},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("t", "timeframe", "interval", "count"),
    [
        ("1d15m", "1 day @ 15 minutes", 15 * MINUTE, 96),
        ("1 week @ 3 hours", "1 week @ 3 hours", 3 * HOUR, 56),
        ("20m10m", "20 minutes @ 10 minutes", 10 * MINUTE, 2),
        ("30m1m", "30 minutes @ 1 minute", MINUTE, 30),
    ],
)
def test_every_timeframe_form_gives_its_buckets(
    client: TestClient, tenant: Tenant, t: str, timeframe: str, interval: int, count: int
) -> None:
    stat = ids(client, tenant)["user created"]
    (found,) = data(client, tenant.key, stat, t=t, start=DAY_START)
    assert found["timeframe"] == timeframe
    times = [point["time"] for point in found["points"]]
    assert times == [DAY_START + index * interval for index in range(count)]
    in_range = sum(1 for time in (10, 59 * MINUTE, 2 * HOUR + 5) if time < count * interval)
    assert sum(point["value"] for point in found["points"]) == [0, 2, 3, 7][in_range]


def test_buckets_may_start_off_the_interval_grid(client: TestClient, tenant: Tenant) -> None:
    stat = ids(client, tenant)
    start = DAY_START + MINUTE  # not on the hour: hours counted from 00:01
    (counter,) = data(client, tenant.key, stat["user created"], t="3h1h", start=start)
    assert [p["value"] for p in counter["points"]] == [1, 4, 0]
    (value,) = data(client, tenant.key, stat["request time"], t="3h1h", start=start)
    assert [p["value"] for p in value["points"]] == [4, 9, 0]
    # Seconds in start are dropped: StatHat's buckets are whole minutes.
    (same,) = data(client, tenant.key, stat["user created"], t="3h1h", start=start + 42)
    assert same == counter


def test_without_start_the_last_bucket_ends_with_the_current_minute(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    now = now_ms() // 1000
    post(client, tenant, [{"stat": "now", "count": 5, "t": now}])
    (found,) = data(client, tenant.key, ids(client, tenant)["now"], t="1h15m")
    end = found["points"][-1]["time"] + 15 * MINUTE
    assert end % MINUTE == 0 and 0 < end - now <= MINUTE
    assert len(found["points"]) == 4 and found["points"][-1]["value"] == 5
    (default,) = data(client, tenant.key, ids(client, tenant)["now"])
    assert default["timeframe"] == "1 week @ 3 hours" and len(default["points"]) == 56


def test_summary_combines_the_stats_into_one_dataset(client: TestClient, tenant: Tenant) -> None:
    stat = ids(client, tenant)
    found = data(client, tenant.key, stat["user created"], summary="3h3h", start=DAY_START)
    assert found == {
        "name": "user created",
        "timeframe": "3 hours @ 3 hours",
        "points": [{"time": DAY_START, "value": 7}],
    }
    values = data(client, tenant.key, stat["request time"], summary="1d1d", start=DAY_START)
    assert values["points"] == [{"time": DAY_START, "value": 5}]  # (2 + 4 + 9) / 3
    mixed = client.get(
        f"/x/{tenant.key}/data/{stat['request time']}/{stat['user created']}",
        params={"summary": "1d1d"},
    )
    assert (mixed.status_code, mixed.json()) == (400, {"msg": "summary: needs stats of one kind"})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"t": "1h2h"}, "invalid timeframe"),
        ({"t": "10001m1m"}, "invalid timeframe"),
        ({"t": "1 fortnight @ 1 day"}, "invalid timeframe"),
        ({"summary": "yes"}, "invalid timeframe"),
        ({"t": "1h1m", "start": "yesterday"}, "invalid start"),
        ({"t": "1h1m", "start": "-60"}, "invalid start"),
    ],
)
def test_bad_timeframes_and_starts_are_400(
    client: TestClient, tenant: Tenant, params: dict[str, str], message: str
) -> None:
    stat = ids(client, tenant)["user created"]
    response = client.get(f"/x/{tenant.key}/data/{stat}", params=params)
    assert (response.status_code, response.json()) == (400, {"msg": message})


def test_unknown_ids_and_tokens(client: TestClient, tenant: Tenant) -> None:
    stat = ids(client, tenant)["user created"]
    for path in ("999999999", f"{stat}/999999999", "abc", f"{stat}/-1"):
        response = client.get(f"/x/{tenant.key}/data/{path}")
        assert (response.status_code, response.json()) == (404, {"msg": "stat not found"})
    for token in ("nope", "rk_" + "x" * 40, "%20"):
        response = client.get(f"/x/{token}/statlist")
        assert (response.status_code, response.json()) == (401, {"msg": "invalid access token"})


def test_another_projects_token_sees_nothing(
    client: TestClient, store: Store, tenant: Tenant
) -> None:
    stranger = make_tenant(store)
    stat = ids(client, tenant)["user created"]
    assert client.get(f"/x/{stranger.key}/statlist").json() == []
    assert client.get(f"/x/{stranger.key}/data/{stat}").status_code == 404
    missing = client.get(f"/x/{stranger.key}/stat", params={"name": "user created"})
    assert missing.status_code == 404
    assert client.delete(f"/x/{stranger.key}/stats/{stat}").status_code == 404
    assert "user created" in ids(client, tenant)


def test_reading_needs_read_and_deleting_needs_write(
    client: TestClient, store: Store, tenant: Tenant
) -> None:
    stat = ids(client, tenant)["user created"]
    writer = add_key(store, tenant, "write")
    refused = client.get(f"/x/{writer}/statlist")
    assert (refused.status_code, refused.json()) == (
        403,
        {"msg": "this key lacks the 'read' scope"},
    )
    reader = add_key(store, tenant, "read")
    assert client.delete(f"/x/{reader}/stats/{stat}").status_code == 403
    deleted = client.delete(f"/x/{writer}/stats/{stat}")
    assert (deleted.status_code, deleted.json()) == (200, {"msg": "stat deleted."})
    assert list(ids(client, tenant)) == ["request time"]
    again = client.delete(f"/x/{writer}/stats/{stat}")
    assert (again.status_code, again.json()) == (404, {"msg": "stat not found"})
    # The name is free again: a new point makes a new, empty-history stat.
    post(client, tenant, [{"stat": "user created", "count": 1, "t": DAY_START + 3 * HOUR}])
    (fresh,) = data(
        client, tenant.key, ids(client, tenant)["user created"], t="4h4h", start=DAY_START
    )
    assert fresh["points"] == [{"time": DAY_START, "value": 1}]


def test_labelled_series_stay_out_of_the_stathat_view(
    client: TestClient, store: Store, tenant: Tenant
) -> None:
    labelled = store.write_now(
        lambda tx: series_store.get_or_create_series(
            tx.conn,
            project_id=tenant.project_id,
            name="rows",
            kind="value",
            created_at=now_ms(),
            labels_key='{"process":"etl"}',
        )
    )
    assert "rows" not in ids(client, tenant)
    assert client.get(f"/x/{tenant.key}/data/{labelled.id}").status_code == 404
    assert client.delete(f"/x/{tenant.key}/stats/{labelled.id}").status_code == 404


def test_every_stat_has_a_distinct_classic_key(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    post(client, tenant, [{"stat": f"s{index}", "count": 1} for index in range(20)])
    keys = [row["classic_key"] for row in client.get(f"/x/{tenant.key}/statlist").json()]
    assert len(set(keys)) == 20 and all(len(key) >= 16 for key in keys)
