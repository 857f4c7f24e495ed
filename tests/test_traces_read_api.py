"""Roost's own trace read API, ``/api/v1/traces``: filters, order and paging, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from roost.storage.store import Store
from tracing import post_event, sessions, start_session

DAY_MS = 86_400_000
T0 = 1_790_000_000_000.0  # 2026-09-21T14:13:20Z


def session_at(client: TestClient, tenant: Tenant, name: str, day: int, **fields: Any) -> str:
    session_id: str = start_session(
        client, tenant, session_name=name, start_time=T0 + day * DAY_MS, **fields
    )["session_id"]
    return session_id


def seed(client: TestClient, tenant: Tenant) -> dict[str, str]:
    """Three sessions on three days, with events of every kind."""
    ids = {
        "monday": session_at(client, tenant, "monday", 0, user_properties={"tier": "pro"}),
        "tuesday": session_at(client, tenant, "tuesday", 1, user_properties={"tier": "free"}),
        "wednesday": session_at(
            client, tenant, "wednesday", 2, user_properties={"tier": "pro", "seats": 3}
        ),
    }
    post_event(
        client,
        tenant,
        event_type="model",
        event_name="plan",
        session_id=ids["monday"],
        start_time=T0 + 10,
        inputs={"prompt": "Refund order 17"},
        outputs={"text": "ok"},
    )
    post_event(
        client,
        tenant,
        event_type="tool",
        event_name="lookup",
        session_id=ids["tuesday"],
        start_time=T0 + DAY_MS + 10,
        inputs={"order": 17},
        error="timeout",
    )
    post_event(
        client,
        tenant,
        event_type="tool",
        event_name="lookup",
        session_id=ids["wednesday"],
        start_time=T0 + 2 * DAY_MS + 10,
        inputs={"order": 18},
        outputs={"status": "Refunded"},
    )
    return ids


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [row["name"] for row in rows]


def test_sessions_come_newest_first_with_their_totals(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    seed(client, tenant)
    rows = sessions(client, tenant)
    assert names(rows) == ["wednesday", "tuesday", "monday"]
    monday = rows[2]
    assert monday["event_count"] == 1
    assert monday["model_event_count"] == 1
    assert monday["started_at"] == "2026-09-21T14:13:20Z"
    assert monday["user_properties"] == {"tier": "pro"}
    assert rows[1]["error_count"] == 1


def test_sessions_filter_by_time_name_user_property_and_error(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    seed(client, tenant)
    day = 86_400
    start_s = int(T0 // 1000)
    assert names(sessions(client, tenant, **{"from": start_s + day // 2})) == [
        "wednesday",
        "tuesday",
    ]
    assert names(sessions(client, tenant, to="2026-09-22T00:00:00Z")) == ["monday"]
    assert names(sessions(client, tenant, event_name="lookup")) == ["wednesday", "tuesday"]
    assert names(sessions(client, tenant, event_name="tuesday")) == ["tuesday"]
    assert names(sessions(client, tenant, user_property="tier:pro")) == ["wednesday", "monday"]
    both = sessions(client, tenant, user_property=["tier:pro", "seats:3"])
    assert names(both) == ["wednesday"]
    assert names(sessions(client, tenant, error="true")) == ["tuesday"]
    assert names(sessions(client, tenant, error="false")) == ["wednesday", "monday"]


def test_sessions_page_with_a_cursor(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for day in range(5):
        session_at(client, tenant, f"s{day}", day)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/traces/sessions", params=params, headers=tenant.headers).json()
        seen += names(page["sessions"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["s4", "s3", "s2", "s1", "s0"]


def test_one_session_comes_with_its_event_tree(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    ids = seed(client, tenant)
    answer = client.get(f"/api/v1/traces/sessions/{ids['monday']}", headers=tenant.headers)
    assert answer.status_code == 200
    session = answer.json()
    assert session["name"] == "monday"
    assert session["tree"]["event_type"] == "session"
    (plan,) = session["tree"]["children"]
    assert (plan["event_name"], plan["inputs"]) == ("plan", {"prompt": "Refund order 17"})
    assert plan["started_at"] == "2026-09-21T14:13:20.010Z"


def search(client: TestClient, tenant: Tenant, **params: Any) -> list[str]:
    response = client.get("/api/v1/traces/events", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return [event["event_name"] for event in response.json()["events"]]


def test_events_search_by_type_name_time_error_and_text(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    ids = seed(client, tenant)
    assert search(client, tenant, type="tool") == ["lookup", "lookup"]
    assert search(client, tenant, type="MODEL") == ["plan"]
    assert search(client, tenant, name="lookup", error="true") == ["lookup"]
    assert search(client, tenant, error="false", type="tool") == ["lookup"]
    assert search(client, tenant, q="refund") == ["lookup", "plan"]  # in outputs or inputs
    assert search(client, tenant, q='"order":18') == ["lookup"]
    assert search(client, tenant, session_id=ids["tuesday"], type="tool") == ["lookup"]
    start_s = int(T0 // 1000)
    assert search(client, tenant, type="session", to=start_s + 86_400) == ["monday"]
    assert search(client, tenant, **{"from": start_s + 2 * 86_400}) == ["lookup", "wednesday"]


def test_events_page_with_a_cursor_newest_first(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for number in range(7):
        post_event(
            client,
            tenant,
            event_type="tool",
            event_name=f"e{number}",
            inputs={},
            start_time=T0 + number,
        )
    seen: list[str] = []
    params: dict[str, Any] = {"type": "tool", "limit": 3}
    while True:
        page = client.get("/api/v1/traces/events", params=params, headers=tenant.headers).json()
        seen += [event["event_name"] for event in page["events"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [f"e{number}" for number in reversed(range(7))]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/traces/sessions", {"from": "yesterday"}, "from"),
        ("/api/v1/traces/sessions", {"limit": 0}, "limit"),
        ("/api/v1/traces/sessions", {"limit": 501}, "limit"),
        ("/api/v1/traces/sessions", {"cursor": "!!"}, "cursor"),
        ("/api/v1/traces/sessions", {"cursor": "WzEsMl0"}, "cursor"),  # [1,2]
        ("/api/v1/traces/sessions", {"user_property": "no-colon"}, "user_property[0]"),
        ("/api/v1/traces/sessions", {"error": "maybe"}, "error"),
        ("/api/v1/traces/events", {"type": "agent"}, "type"),
        ("/api/v1/traces/events", {"to": "soon"}, "to"),
        ("/api/v1/traces/events", {"q": "x" * 1001}, "q"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    client: TestClient, store: Store, path: str, params: dict[str, Any], field: str
) -> None:
    tenant = make_tenant(store)
    response = client.get(path, params=params, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_unknown_sessions_and_events_are_404(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for path in ("/api/v1/traces/sessions/nope", "/api/v1/traces/events/nope"):
        response = client.get(path, headers=tenant.headers)
        assert response.status_code == 404
        assert "error" in response.json()


def test_the_read_api_is_on_the_openapi_page(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/traces/sessions",
        "/api/v1/traces/sessions/{session_id}",
        "/api/v1/traces/events",
        "/api/v1/traces/events/{event_id}",
        "/session/{session_id}",
        "/v1/events/export",
    ):
        assert path in paths, path
    export_body = paths["/v1/events/export"]["post"]["requestBody"]["content"]
    assert "filters" in export_body["application/json"]["schema"]["properties"]
