"""StatFlow ingest: /v1/ingest, /v1/stat and /v1/ingest/batch, on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.storage.store import Store


def stats_by_name(client: TestClient, tenant: Tenant) -> dict[str, dict]:
    response = client.get("/v1/stats", headers=tenant.headers)
    assert response.status_code == 200
    return {stat["name"]: stat for stat in response.json()["stats"]}


def test_ingest_creates_the_stat_and_answers_202(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/v1/ingest",
        json={"stat": "page.views", "value": 1, "type": "counter"},
        headers=tenant.headers,
    )
    assert response.status_code == 202
    assert response.json() == {"ok": True}
    stat = stats_by_name(client, tenant)["page.views"]
    assert stat["type"] == "counter"
    assert stat["last_value"] == 1


def test_ingest_type_defaults_to_counter(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    client.post("/v1/ingest", json={"stat": "hits", "value": 2}, headers=tenant.headers)
    assert stats_by_name(client, tenant)["hits"]["type"] == "counter"


def test_ingest_parses_json_whatever_the_content_type(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/v1/ingest",
        content=b'{"stat": "plain", "value": 3, "type": "value"}\n',
        headers={**tenant.headers, "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 202
    assert stats_by_name(client, tenant)["plain"]["last_value"] == 3


def test_a_stats_kind_is_fixed_by_its_first_point(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    client.post(
        "/v1/ingest", json={"stat": "k", "value": 1, "type": "value"}, headers=tenant.headers
    )
    response = client.post(
        "/v1/ingest", json={"stat": "k", "value": 1, "type": "counter"}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.json()["field"] == "type"
    assert "value" in response.json()["error"]


def test_stat_variant_takes_count_or_value(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    assert (
        client.post("/v1/stat", json={"stat": "c", "count": 2}, headers=tenant.headers).status_code
        == 202
    )
    assert (
        client.post(
            "/v1/stat", json={"stat": "v", "value": "1.500000"}, headers=tenant.headers
        ).status_code
        == 202
    )
    found = stats_by_name(client, tenant)
    assert found["c"]["type"] == "counter"
    assert found["v"]["type"] == "value"
    assert found["v"]["last_value"] == 1.5
    missing = client.post("/v1/stat", json={"stat": "c"}, headers=tenant.headers)
    assert missing.status_code == 422
    assert missing.json()["field"] == "count"


def test_ingest_accepts_an_explicit_time_in_unix_seconds_or_iso(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    for t in (1_700_000_000, "2023-11-14T22:13:20Z", "1700000000"):
        response = client.post(
            "/v1/ingest",
            json={"stat": "timed", "value": 1, "t": t},
            headers=tenant.headers,
        )
        assert response.status_code == 202, response.text
    stat = stats_by_name(client, tenant)["timed"]
    assert stat["last_received_at"] == "2023-11-14T22:13:20Z"
    data = client.get(
        f"/v1/stats/{stat['id']}/data",
        params={"from": "2023-11-14T22:00:00Z", "to": "2023-11-14T23:00:00Z", "resolution": "1h"},
        headers=tenant.headers,
    ).json()
    assert [point["value"] for point in data["points"]] == [3]


def test_batch_reports_each_rejected_item_and_keeps_the_rest(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    client.post("/v1/ingest", json={"stat": "fixed", "value": 1}, headers=tenant.headers)
    items = [
        {"stat": "b.ok", "value": 1, "type": "value"},
        {"stat": "b.ok", "value": "not a number", "type": "value"},
        {"stat": "fixed", "value": 1, "type": "value"},
        {"value": 1},
        {"stat": "b.ok", "value": 3, "type": "value"},
    ]
    response = client.post("/v1/ingest/batch", json={"items": items}, headers=tenant.headers)
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2
    assert [entry["index"] for entry in body["rejected"]] == [1, 2, 3]
    assert body["rejected"][0]["error"].startswith("items[1].value")
    assert body["rejected"][1]["error"].startswith("items[2].type")
    assert body["rejected"][2]["error"].startswith("items[3].stat")
    assert stats_by_name(client, tenant)["b.ok"]["last_value"] == 3


def test_batch_of_exactly_1000_is_accepted_and_1001_is_refused_whole(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    item = {"stat": "bulk", "value": 1, "type": "counter"}
    accepted = client.post(
        "/v1/ingest/batch", json={"items": [item] * 1000}, headers=tenant.headers
    )
    assert accepted.status_code == 202
    assert accepted.json()["accepted"] == 1000
    refused = client.post("/v1/ingest/batch", json={"items": [item] * 1001}, headers=tenant.headers)
    assert refused.status_code == 413
    assert refused.json()["field"] == "items"
    stat = stats_by_name(client, tenant)["bulk"]
    total = client.get(
        f"/v1/stats/{stat['id']}/data", params={"resolution": "1d"}, headers=tenant.headers
    ).json()
    assert sum(point["value"] for point in total["points"]) == 1000


def test_ingest_without_a_key_or_with_an_unknown_key_is_401(client: TestClient) -> None:
    body = {"stat": "x", "value": 1}
    assert client.post("/v1/ingest", json=body).status_code == 401
    unknown = client.post("/v1/ingest", json=body, headers={"Authorization": "Bearer rk_nope"})
    assert unknown.status_code == 401
    assert unknown.json() == {"error": "missing or invalid API key"}
    basic = client.post("/v1/ingest", json=body, headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401


def test_a_read_only_key_cannot_ingest(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    read_only = add_key(store, tenant, "read")
    for path, body in (
        ("/v1/ingest", {"stat": "x", "value": 1}),
        ("/v1/stat", {"stat": "x", "count": 1}),
        ("/v1/ingest/batch", {"items": [{"stat": "x", "value": 1}]}),
    ):
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {read_only}"})
        assert response.status_code == 403, path
    assert stats_by_name(client, tenant) == {}


def test_a_write_only_key_ingests_but_cannot_read(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    write_only = {"Authorization": f"Bearer {add_key(store, tenant, 'write')}"}
    assert (
        client.post("/v1/ingest", json={"stat": "w", "value": 1}, headers=write_only).status_code
        == 202
    )
    assert client.get("/v1/stats", headers=write_only).status_code == 403


def test_unknown_paths_and_wrong_methods_answer_in_the_error_shape(client: TestClient) -> None:
    missing = client.get("/v1/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not found"}
    wrong = client.get("/v1/ingest")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert "error" in wrong.json()
