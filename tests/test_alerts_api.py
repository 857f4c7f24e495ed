"""``/api/v1/alerts`` and ``/api/v1/silences`` on both databases: every field checked and named
when wrong, scopes, paging, PATCH merging, and no view into another project."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.domain.times import now_ms
from roost.storage.store import Store


def stat(client: TestClient, tenant: Tenant, name: str = "queue") -> int:
    response = client.post(
        "/v1/ingest", json={"stat": name, "value": 1, "type": "value"}, headers=tenant.headers
    )
    assert response.status_code == 202
    found = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    return int(next(item["id"] for item in found if item["name"] == name))


def channel(client: TestClient, tenant: Tenant) -> int:
    response = client.post(
        "/api/v1/channels",
        json={"name": "hook", "url": "https://example.invalid/hook"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def threshold(stat_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "queue too long",
        "kind": "threshold",
        "stat_id": stat_id,
        "window": "5m",
        "operator": ">",
        "value": 100,
        **extra,
    }


def create(client: TestClient, tenant: Tenant, document: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/alerts", json=document, headers=tenant.headers)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def test_create_answers_the_whole_alert(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = stat(client, tenant)
    channel_id = channel(client, tenant)
    made = create(
        client,
        tenant,
        threshold(stat_id, channel_ids=[channel_id], repeat_every=3600, **{"for": 60}),
    )
    assert made["kind"] == "threshold"
    assert made["stat_id"] == stat_id
    assert made["channel_ids"] == [channel_id]
    assert made["for"] == 60
    assert made["repeat_every"] == 3600
    assert made["enabled"] is True
    assert made["state"] == "ok"
    assert made["last_value"] is None
    assert made["last_evaluated_at"] is None
    assert made["fired_at"] is None
    fetched = client.get(f"/api/v1/alerts/{made['id']}", headers=tenant.headers).json()
    assert fetched == {**made, "keys": []}


@pytest.mark.parametrize(
    "document",
    [
        {"kind": "delta", "window": "1h", "compare_to": "1d", "operator": "<", "percentage": 30},
        {"kind": "deadman", "window": "10m"},
    ],
)
def test_each_stat_kind_is_accepted(
    client: TestClient, store: Store, document: dict[str, Any]
) -> None:
    tenant = make_tenant(store)
    made = create(client, tenant, {"name": "n", "stat_id": stat(client, tenant), **document})
    assert made["kind"] == document["kind"]


def test_run_exception_and_spend_kinds_are_accepted(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    client.post("/v1/start", json={"process": "backup"}, headers={"x-hawkflow-api-key": tenant.key})
    for rule in (
        {"condition": "missing", "every": 3600, "grace": 60},
        {"condition": "missing", "schedule": "30 2 * * *"},
        {"condition": "too_long", "max_duration": 600},
        {"condition": "too_short", "min_duration": 1.5},
        {"condition": "too_often", "max_runs": 3, "window": "1h"},
        {"condition": "failed"},
    ):
        made = create(client, tenant, {"name": "r", "kind": "run", "process": "backup", **rule})
        assert made["condition"] == rule["condition"]
    create(client, tenant, {"name": "e", "kind": "exception"})
    made = create(
        client,
        tenant,
        {
            "name": "s",
            "kind": "spend",
            "measure": "cost",
            "per": "user_id",
            "window": "1d",
            "value": 5,
        },
    )
    assert made["per"] == "user_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "nope"}, "kind"),
        ({"name": ""}, "name"),
        ({"window": "5x"}, "window"),
        ({"window": "30s"}, "window"),
        ({"window": "2w"}, "window"),
        ({"operator": "=="}, "operator"),
        ({"value": "high"}, "value"),
        ({"for": -1}, "for"),
        ({"repeat_every": 5}, "repeat_every"),
        ({"channel_ids": ["x"]}, "channel_ids[0]"),
        ({"surprise": 1}, "surprise"),
        ({"stat_id": 0}, "stat_id"),
    ],
)
def test_bad_fields_are_422_naming_the_field(
    client: TestClient, store: Store, change: dict[str, Any], field: str
) -> None:
    tenant = make_tenant(store)
    document = {**threshold(stat(client, tenant)), **change}
    response = client.post("/api/v1/alerts", json=document, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"condition": "missing"}, "every"),
        ({"condition": "missing", "every": 60, "schedule": "* * * * *"}, "every"),
        ({"condition": "missing", "schedule": "every day"}, "schedule"),
        ({"condition": "too_long"}, "max_duration"),
        ({"condition": "too_long", "max_duration": 5, "max_runs": 2}, "max_runs"),
        ({"condition": "too_often", "window": "1h"}, "max_runs"),
        ({"condition": "too_often", "max_runs": 1}, "window"),
        ({"condition": "sometimes"}, "condition"),
    ],
)
def test_run_rules_need_their_own_fields(
    client: TestClient, store: Store, rule: dict[str, Any], field: str
) -> None:
    tenant = make_tenant(store)
    client.post("/v1/start", json={"process": "p"}, headers={"x-hawkflow-api-key": tenant.key})
    response = client.post(
        "/api/v1/alerts",
        json={"name": "r", "kind": "run", "process": "p", **rule},
        headers=tenant.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_another_projects_stat_process_channel_and_alert_are_404(
    client: TestClient, store: Store
) -> None:
    owner, other = make_tenant(store), make_tenant(store)
    their_stat = stat(client, owner)
    their_channel = channel(client, owner)
    client.post("/v1/start", json={"process": "secret"}, headers={"x-hawkflow-api-key": owner.key})
    theirs = create(client, owner, threshold(their_stat))
    for document in (
        threshold(their_stat),
        threshold(stat(client, other), channel_ids=[their_channel]),
        {"name": "r", "kind": "run", "process": "secret", "condition": "failed"},
    ):
        response = client.post("/api/v1/alerts", json=document, headers=other.headers)
        assert response.status_code == 404, response.text
    alert_path = f"/api/v1/alerts/{theirs['id']}"
    assert client.get(alert_path, headers=other.headers).status_code == 404
    assert client.get(f"{alert_path}/events", headers=other.headers).status_code == 404
    assert client.patch(alert_path, json={"value": 1}, headers=other.headers).status_code == 404
    assert client.delete(alert_path, headers=other.headers).status_code == 404
    silence = {"alert_id": theirs["id"], "until": (now_ms() + 60_000) / 1000}
    assert client.post("/api/v1/silences", json=silence, headers=other.headers).status_code == 404
    assert client.get("/api/v1/alerts", headers=other.headers).json()["items"] == []
    assert client.get(alert_path, headers=owner.headers).status_code == 200


def test_scopes_read_lists_write_changes(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    made = create(client, tenant, threshold(stat(client, tenant)))
    reader = {"Authorization": f"Bearer {add_key(store, tenant, 'read')}"}
    assert client.get("/api/v1/alerts", headers=reader).status_code == 200
    assert (
        client.post("/api/v1/alerts", json=threshold(made["stat_id"]), headers=reader).status_code
        == 403
    )
    assert client.delete(f"/api/v1/alerts/{made['id']}", headers=reader).status_code == 403
    assert client.get("/api/v1/alerts").status_code == 401


def test_patch_merges_into_the_rule_and_checks_the_result(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    made = create(client, tenant, threshold(stat(client, tenant)))
    path = f"/api/v1/alerts/{made['id']}"
    response = client.patch(path, json={"value": 250, "name": "very long"}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json()["value"] == 250
    assert response.json()["window"] == "5m"
    assert response.json()["name"] == "very long"
    response = client.patch(path, json={"operator": "~"}, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["field"] == "operator"
    response = client.patch(
        path,
        json={"kind": "deadman", "stat_id": made["stat_id"], "window": "1h"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert "operator" not in response.json()
    assert client.patch(path, json=[1], headers=tenant.headers).status_code == 422


def test_list_pages_newest_first_and_filters_by_state(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat_id = stat(client, tenant)
    ids = [create(client, tenant, threshold(stat_id, name=f"a{n}"))["id"] for n in range(3)]
    first = client.get("/api/v1/alerts?limit=2", headers=tenant.headers).json()
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    rest = client.get(
        f"/api/v1/alerts?limit=2&before={first['next_before']}", headers=tenant.headers
    ).json()
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    firing = client.get("/api/v1/alerts?state=firing", headers=tenant.headers).json()
    assert firing["items"] == []
    bad = client.get("/api/v1/alerts?state=burning", headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["field"] == "state"


def test_delete_removes_the_alert_and_its_history(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    made = create(client, tenant, threshold(stat(client, tenant)))
    path = f"/api/v1/alerts/{made['id']}"
    assert client.delete(path, headers=tenant.headers).status_code == 204
    assert client.get(path, headers=tenant.headers).status_code == 404
    assert client.get(f"{path}/events", headers=tenant.headers).status_code == 404
    assert client.delete(path, headers=tenant.headers).status_code == 404


def test_silences_are_created_listed_and_deleted(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    made = create(client, tenant, threshold(stat(client, tenant)))
    until = (now_ms() + 3_600_000) // 1000
    response = client.post(
        "/api/v1/silences",
        json={"alert_id": made["id"], "until": until, "reason": "deploy"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    silence = response.json()
    assert silence["alert_id"] == made["id"]
    assert silence["reason"] == "deploy"
    listed = client.get("/api/v1/silences", headers=tenant.headers).json()["items"]
    assert [item["id"] for item in listed] == [silence["id"]]
    for body, field in (
        ({"until": "yesterday"}, "until"),
        ({"until": 1}, "until"),
        ({"until": until, "alert_id": -1}, "alert_id"),
        ({}, "until"),
    ):
        bad = client.post("/api/v1/silences", json=body, headers=tenant.headers)
        assert bad.status_code == 422, (body, bad.text)
        assert bad.json()["field"] == field
    other = make_tenant(store)
    assert (
        client.delete(f"/api/v1/silences/{silence['id']}", headers=other.headers).status_code == 404
    )
    assert (
        client.delete(f"/api/v1/silences/{silence['id']}", headers=tenant.headers).status_code
        == 204
    )
    assert client.get("/api/v1/silences", headers=tenant.headers).json()["items"] == []
