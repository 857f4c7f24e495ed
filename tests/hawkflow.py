"""Helpers for the HawkFlow tests: post like a HawkFlow client, read back through /api/v1."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant


def hawk_headers(tenant: Tenant) -> dict[str, str]:
    return {"x-hawkflow-api-key": tenant.key, "content-type": "application/json"}


def post(client: TestClient, tenant: Tenant, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers=hawk_headers(tenant))


def processes(client: TestClient, tenant: Tenant) -> dict[tuple[str, str], dict[str, Any]]:
    response = client.get("/api/v1/processes?limit=1000", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {(item["name"], item["meta"]): item for item in response.json()["items"]}


def process(client: TestClient, tenant: Tenant, name: str, meta: str = "") -> dict[str, Any]:
    return processes(client, tenant)[(name, meta)]


def runs(
    client: TestClient, tenant: Tenant, name: str, meta: str = "", query: str = ""
) -> list[dict[str, Any]]:
    """Every run of the process, newest first."""
    process_id = process(client, tenant, name, meta)["id"]
    response = client.get(
        f"/api/v1/processes/{process_id}/runs?limit=1000{query}", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
