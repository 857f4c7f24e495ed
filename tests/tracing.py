"""Small helpers the trace tests share: HoneyHive calls and reads through the test client."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant

__all__ = [
    "find",
    "only_child",
    "post_event",
    "session_tree",
    "sessions",
    "start_session",
    "stored_nothing",
]


def start_session(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    response = client.post("/session/start", json={"session": fields}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def post_event(client: TestClient, tenant: Tenant, **fields: Any) -> str:
    response = client.post("/events", json={"event": fields}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    event_id: str = response.json()["event_id"]
    return event_id


def session_tree(client: TestClient, tenant: Tenant, session_id: str) -> dict[str, Any]:
    response = client.get(f"/session/{session_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    tree: dict[str, Any] = response.json()
    return tree


def sessions(client: TestClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/traces/sessions", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["sessions"]
    return rows


def stored_nothing(client: TestClient, tenant: Tenant) -> bool:
    """No session, no event and no trace series in the tenant's project."""
    events = client.get("/api/v1/traces/events", headers=tenant.headers).json()["events"]
    stats = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    return not sessions(client, tenant) and not events and not stats


def only_child(node: dict[str, Any], name: str) -> dict[str, Any]:
    found = [child for child in node["children"] if child["event_name"] == name]
    assert len(found) == 1, [child["event_name"] for child in node["children"]]
    return found[0]


def find(node: dict[str, Any], event_id: str) -> dict[str, Any] | None:
    """The node of ``event_id`` anywhere in a tree."""
    pending = [node]
    while pending:
        current = pending.pop()
        if current["event_id"] == event_id:
            return current
        pending.extend(current["children"])
    return None
