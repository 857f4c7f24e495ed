"""API keys, scopes, annotations and tenant isolation on the StatFlow surface."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import add_key, make_tenant
from roost.domain.keys import KEY_PATTERN
from roost.storage.store import Store


def test_an_admin_key_creates_a_key_that_is_shown_once(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/v1/auth/api-keys", json={"name": "ci", "scopes": ["read"]}, headers=tenant.headers
    )
    assert response.status_code == 201
    created = response.json()
    assert KEY_PATTERN.match(created["key"]) and len(created["key"]) <= 50
    assert created["scopes"] == ["read"]
    listed = client.get("/v1/auth/api-keys", headers=tenant.headers).json()["keys"]
    assert {key["name"] for key in listed} == {"test", "ci"}
    assert all("key" not in key for key in listed)
    assert created["key"].startswith(next(k for k in listed if k["name"] == "ci")["prefix"])
    new_headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/v1/stats", headers=new_headers).status_code == 200


def test_scopes_default_to_read_and_write_and_unknown_scopes_are_refused(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    default = client.post("/v1/auth/api-keys", json={}, headers=tenant.headers).json()
    assert default["scopes"] == ["read", "write"]
    bad = client.post("/v1/auth/api-keys", json={"scopes": ["root"]}, headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["field"] == "scopes"


def test_key_management_needs_the_admin_scope(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    writer = {"Authorization": f"Bearer {add_key(store, tenant, 'read,write')}"}
    assert client.get("/v1/auth/api-keys", headers=writer).status_code == 403
    assert client.post("/v1/auth/api-keys", json={}, headers=writer).status_code == 403
    assert client.delete(f"/v1/auth/api-keys/{tenant.key_id}", headers=writer).status_code == 403


def test_a_revoked_key_stops_working_at_once(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    created = client.post("/v1/auth/api-keys", json={"name": "temp"}, headers=tenant.headers).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (
        client.post("/v1/ingest", json={"stat": "r", "value": 1}, headers=headers).status_code
        == 202
    )
    revoke = client.delete(f"/v1/auth/api-keys/{created['id']}", headers=tenant.headers)
    assert revoke.status_code == 204
    assert (
        client.post("/v1/ingest", json={"stat": "r", "value": 1}, headers=headers).status_code
        == 401
    )
    assert client.get("/v1/stats", headers=headers).status_code == 401
    listed = client.get("/v1/auth/api-keys", headers=tenant.headers).json()["keys"]
    assert next(k for k in listed if k["id"] == created["id"])["revoked_at"] is not None
    again = client.delete(f"/v1/auth/api-keys/{created['id']}", headers=tenant.headers)
    assert again.status_code == 404


def test_another_projects_stat_is_404_as_if_it_did_not_exist(
    client: TestClient, store: Store
) -> None:
    owner, stranger = make_tenant(store), make_tenant(store)
    client.post("/v1/ingest", json={"stat": "secret", "value": 1}, headers=owner.headers)
    stat_id = client.get("/v1/stats", headers=owner.headers).json()["stats"][0]["id"]
    for path in (
        f"/v1/stats/{stat_id}",
        f"/v1/stats/{stat_id}/data",
        f"/v1/stats/{stat_id}/export?format=csv",
    ):
        response = client.get(path, headers=stranger.headers)
        assert response.status_code == 404, path
        assert response.json() == {"error": "stat not found"}
    assert client.get("/v1/stats", headers=stranger.headers).json() == {"stats": []}


def test_the_same_stat_name_in_two_projects_is_two_stats(client: TestClient, store: Store) -> None:
    first, second = make_tenant(store), make_tenant(store)
    client.post(
        "/v1/ingest", json={"stat": "shared", "value": 1, "type": "counter"}, headers=first.headers
    )
    client.post(
        "/v1/ingest", json={"stat": "shared", "value": 5, "type": "value"}, headers=second.headers
    )
    one = client.get("/v1/stats", headers=first.headers).json()["stats"]
    two = client.get("/v1/stats", headers=second.headers).json()["stats"]
    assert one[0]["id"] != two[0]["id"]
    assert (one[0]["type"], two[0]["type"]) == ("counter", "value")


def test_keys_and_annotations_of_another_project_are_invisible(
    client: TestClient, store: Store
) -> None:
    owner, stranger = make_tenant(store), make_tenant(store)
    note = client.post("/v1/annotations", json={"text": "deploy"}, headers=owner.headers).json()
    assert client.get("/v1/annotations", headers=stranger.headers).json() == {"annotations": []}
    assert (
        client.delete(f"/v1/annotations/{note['id']}", headers=stranger.headers).status_code == 404
    )
    assert (
        client.delete(f"/v1/auth/api-keys/{owner.key_id}", headers=stranger.headers).status_code
        == 404
    )
    keys = client.get("/v1/auth/api-keys", headers=stranger.headers).json()["keys"]
    assert [key["id"] for key in keys] == [stranger.key_id]
    stat_of_owner = client.post("/v1/ingest", json={"stat": "s", "value": 1}, headers=owner.headers)
    assert stat_of_owner.status_code == 202
    owner_stat = client.get("/v1/stats", headers=owner.headers).json()["stats"][0]["id"]
    pinned = client.post(
        "/v1/annotations", json={"text": "x", "stat_ids": [owner_stat]}, headers=stranger.headers
    )
    assert pinned.status_code == 422
    assert pinned.json()["field"] == "stat_ids[0]"


def test_annotations_are_created_listed_by_range_and_deleted(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    early = client.post(
        "/v1/annotations",
        json={"text": "old", "time": "2023-01-01T00:00:00Z"},
        headers=tenant.headers,
    )
    assert early.status_code == 201
    assert early.json()["time"] == "2023-01-01T00:00:00Z"
    recent = client.post("/v1/annotations", json={"text": "now"}, headers=tenant.headers).json()
    default = client.get("/v1/annotations", headers=tenant.headers).json()["annotations"]
    assert [note["text"] for note in default] == ["now"]  # the last 30 days by default
    ranged = client.get(
        "/v1/annotations",
        params={"from": "2022-12-31T00:00:00Z", "to": "2023-01-02"},
        headers=tenant.headers,
    ).json()["annotations"]
    assert [note["text"] for note in ranged] == ["old"]
    assert (
        client.delete(f"/v1/annotations/{recent['id']}", headers=tenant.headers).status_code == 204
    )
    assert client.get("/v1/annotations", headers=tenant.headers).json() == {"annotations": []}


def test_annotation_bodies_are_validated(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for body, field in (
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": 5}, "text"),
        ({"text": "x", "time": "soon"}, "time"),
        ({"text": "x", "stat_ids": "1"}, "stat_ids"),
        ({"text": "x" * 5000}, "text"),
    ):
        response = client.post("/v1/annotations", json=body, headers=tenant.headers)
        assert response.status_code == 422, body
        assert response.json()["field"] == field, body
    read_only = {"Authorization": f"Bearer {add_key(store, tenant, 'read')}"}
    assert client.post("/v1/annotations", json={"text": "x"}, headers=read_only).status_code == 403
