"""HoneyHive and trace routes: keys, scopes, tenant isolation and malformed bodies.

A malformed body is refused with a 4xx in the route's own error shape, never a 500, and
writes nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.storage.store import Store
from tracing import post_event, session_tree, start_session, stored_nothing

SESSION = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
EVENT = {"event_type": "tool", "inputs": {}}
# Every route with a body it accepts, so that only the key decides the answer.
WRITE_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/session/start", {"session": {}}),
    ("POST", "/v1/sessions", {}),
    ("POST", f"/session/{SESSION}/event", EVENT),
    ("POST", f"/session/{SESSION}/traces", {"logs": [EVENT]}),
    ("POST", f"/v1/sessions/{SESSION}/events/batch", {"events": [EVENT]}),
    ("POST", "/events", {"event": EVENT}),
    ("POST", "/v1/events", EVENT),
    ("POST", "/events/model", {"model_event": {}}),
    ("POST", "/events/batch", {"events": [EVENT]}),
    ("POST", "/v1/events/batch", {"events": [EVENT]}),
    ("POST", "/events/model/batch", {"model_events": [{}]}),
    ("PUT", "/events", {"event_id": SESSION, "metadata": {}}),
    ("PUT", f"/v1/events/{SESSION}", {"metadata": {}}),
]
READ_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", f"/session/{SESSION}", None),
    ("GET", f"/v1/sessions/{SESSION}", None),
    ("GET", f"/v1/events/{SESSION}", None),
    ("POST", "/v1/events/export", {"filters": []}),
    ("POST", "/v1/events/search", {}),
    ("GET", "/api/v1/traces/sessions", None),
    ("GET", f"/api/v1/traces/sessions/{SESSION}", None),
    ("GET", "/api/v1/traces/events", None),
    ("GET", f"/api/v1/traces/events/{SESSION}", None),
]


def call(client: TestClient, method: str, path: str, headers: dict[str, str], body: Any = None):  # type: ignore[no-untyped-def]
    # json, not orjson: one malformed body is nested deeper than orjson writes.
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    if method == "GET":
        return client.get(path, headers=headers)
    return client.request(method, path, content=content, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), WRITE_ROUTES + READ_ROUTES)
def test_a_missing_or_unknown_key_is_401(
    client: TestClient, method: str, path: str, body: Any
) -> None:
    for headers in ({}, {"Authorization": "Bearer rk_unknown"}, {"Authorization": "Basic x"}):
        response = call(client, method, path, headers, body)
        assert response.status_code == 401, (path, response.text)
        if not path.startswith("/api/"):
            assert response.json()["errorCode"] == "UNAUTHORIZED"


@pytest.mark.parametrize(("method", "path", "body"), WRITE_ROUTES)
def test_a_read_only_key_cannot_write(
    client: TestClient, store: Store, method: str, path: str, body: Any
) -> None:
    tenant = make_tenant(store)
    reader = {"Authorization": f"Bearer {add_key(store, tenant, 'read')}"}
    response = call(client, method, path, reader, body)
    assert response.status_code == 403, response.text
    assert response.json()["errorCode"] == "FORBIDDEN"
    assert stored_nothing(client, tenant)


@pytest.mark.parametrize(("method", "path", "body"), READ_ROUTES)
def test_a_write_only_key_cannot_read(
    client: TestClient, store: Store, method: str, path: str, body: Any
) -> None:
    tenant = make_tenant(store)
    writer = {"Authorization": f"Bearer {add_key(store, tenant, 'write')}"}
    assert call(client, method, path, writer, body).status_code == 403


def seeded(client: TestClient, tenant: Tenant) -> tuple[str, str]:
    session_id = start_session(client, tenant, session_name="private")["session_id"]
    event_id = post_event(
        client, tenant, event_type="model", session_id=session_id, inputs={"secret": "s3cr3t"}
    )
    return session_id, event_id


def test_another_projects_sessions_and_events_are_invisible_on_every_read(
    client: TestClient, store: Store
) -> None:
    owner, other = make_tenant(store), make_tenant(store)
    session_id, event_id = seeded(client, owner)
    headers = other.headers
    for path in (
        f"/session/{session_id}",
        f"/v1/sessions/{session_id}",
        f"/v1/events/{event_id}",
        f"/v1/events/{session_id}",
        f"/api/v1/traces/sessions/{session_id}",
        f"/api/v1/traces/events/{event_id}",
    ):
        assert client.get(path, headers=headers).status_code == 404, path
    for path in ("/v1/events/export", "/v1/events/search"):
        answer = client.post(
            path,
            json={"filters": [{"field": "session_id", "operator": "is", "value": session_id}]},
            headers=headers,
        ).json()
        assert (answer["events"], answer["totalEvents"]) == ([], 0)
    assert stored_nothing(client, other)
    found = client.get(
        "/api/v1/traces/events", params={"q": "s3cr3t", "session_id": session_id}, headers=headers
    ).json()["events"]
    assert found == []


def test_another_project_cannot_update_or_extend_a_session(
    client: TestClient, store: Store
) -> None:
    owner, other = make_tenant(store), make_tenant(store)
    session_id, event_id = seeded(client, owner)
    for path, body in (
        ("/events", {"event_id": event_id, "metadata": {"hacked": True}}),
        (f"/v1/events/{session_id}", {"metadata": {"hacked": True}}),
    ):
        response = client.put(path, json=body, headers=other.headers)
        assert response.status_code == 404
    # Logging into "the same" session from another project makes that project's own session.
    response = client.post(
        f"/session/{session_id}/event",
        json={"event_type": "tool", "event_name": "intruder"},
        headers=other.headers,
    )
    assert response.status_code == 200
    tree = session_tree(client, owner, session_id)
    assert tree["event_name"] == "private"
    assert "hacked" not in tree["metadata"]
    assert [child["event_id"] for child in tree["children"]] == [event_id]
    assert session_tree(client, other, session_id)["children"][0]["event_name"] == "intruder"


NESTED_TOO_DEEP: Any = {"level": None}
for _ in range(300):
    NESTED_TOO_DEEP = {"level": NESTED_TOO_DEEP}

MALFORMED: list[tuple[str, str, bytes | Any]] = [
    ("POST", "/session/start", b"{not json"),
    ("POST", "/session/start", b"[]"),
    ("POST", "/session/start", {"session": 42}),
    ("POST", "/session/start", {"session": "{not json"}),
    ("POST", "/session/start", {"session": {"metadata": "not an object"}}),
    ("POST", "/session/start", {"session": {"start_time": 1e20}}),
    ("POST", "/session/start", {"session": {"session_name": "x" * 300}}),
    ("POST", "/session/start", {"session": {"inputs": NESTED_TOO_DEEP}}),
    ("POST", "/v1/sessions", b'"a string"'),
    ("POST", f"/session/{SESSION}/event", {"event_type": "session"}),
    ("POST", f"/session/{SESSION}/event", {"event_type": "tool", "children": {"a": 1}}),
    ("POST", f"/session/{SESSION}/event", {"event_type": "tool", "children": [1]}),
    ("POST", f"/session/{SESSION}/event", {"event_type": "tool", "children_ids": ["x"]}),
    ("POST", f"/session/{SESSION}/event", {"event_type": "tool", "error": 5}),
    ("POST", f"/session/{SESSION}/traces", {"logs": "not a list"}),
    ("POST", f"/session/{SESSION}/traces", {"something": []}),
    ("POST", f"/session/{SESSION}/traces", {"logs": [{"event_type": "tool", "inputs": []}]}),
    ("POST", f"/v1/sessions/{SESSION}/events/batch", {"events": [None]}),
    ("POST", "/events", {"event": {"event_type": "tool"}}),
    ("POST", "/events", {"event": {"event_type": "tool", "inputs": "text"}}),
    ("POST", "/events", {"event": {"event_type": 7, "inputs": {}}}),
    ("POST", "/events", {"event": {"event_type": "tool", "inputs": {}, "source": ["x"]}}),
    ("POST", "/events", {"event": {"event_type": "tool", "inputs": NESTED_TOO_DEEP}}),
    ("POST", "/v1/events", b"\xff\xfe"),
    ("POST", "/events/model", {"model_event": []}),
    ("POST", "/events/batch", {"events": {"event_type": "tool"}}),
    ("POST", "/events/batch", {"events": [], "is_single_session": "yes"}),
    ("POST", "/events/batch", {"events": [], "is_single_session": True, "session": 3}),
    ("POST", "/events/batch", {"events": [5, {"inputs": {}}], "is_single_session": True}),
    ("POST", "/events/model/batch", {"model_events": None}),
    ("PUT", "/events", {"event_id": "not-a-uuid", "metadata": {}}),
    ("PUT", "/events", {"event_id": SESSION, "metadata": []}),
    ("PUT", "/events", b"null"),
    ("PUT", f"/v1/events/{SESSION}", {"duration": 1e30}),
]


@pytest.mark.parametrize(("method", "path", "body"), MALFORMED)
def test_malformed_bodies_are_refused_with_a_4xx_and_write_nothing(
    client: TestClient, store: Store, method: str, path: str, body: Any
) -> None:
    tenant = make_tenant(store)
    response = call(client, method, path, tenant.headers, body)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"message", "errorCode"}
    assert response.json()["errorCode"] == "VALIDATION_ERROR"
    assert stored_nothing(client, tenant)


def test_a_body_over_the_limit_is_413(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    limit = store.settings.max_body_bytes
    body = b'{"event": {"event_type": "tool", "inputs": {"x": "' + b"a" * limit + b'"}}}'
    response = client.post("/events", content=body, headers=tenant.headers)
    assert response.status_code == 413
    assert response.json()["errorCode"] == "PAYLOAD_TOO_LARGE"


def test_an_unknown_session_id_in_a_path_is_any_text(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    text_id = f"my-session-{uuid.uuid4().hex[:6]}"
    response = client.post(
        f"/session/{text_id}/event", json={"event_type": "tool"}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert session_tree(client, tenant, text_id)["children"][0]["event_type"] == "tool"
