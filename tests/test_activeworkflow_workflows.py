"""Workflows (API.md §4.4-4.5): read, create, change, delete, export, import of Roost's own
files and Huginn scenarios, and the automatic workflow per trace session name; both databases."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.domain.errors import InvalidInput
from roost.domain.times import now_ms
from roost.domain.workflows import KEEP_MESSAGES_FOR, keep_for_export, parse_import, slug
from roost.storage.store import Store
from test_activeworkflow_api import messages_at, new_user
from tracing import post_event, start_session

# ActiveWorkflow's own fixture shape: a Huginn-style scenario with keys Roost does not use.
SCENARIO: dict[str, Any] = {
    "schema_version": 1,
    "name": "default-workflow",
    "description": "Checks the weather and a site",
    "source_url": False,
    "guid": "ee4299225e6531c401a8bbbce0771ce4",
    "tag_fg_color": "#ffffff",
    "tag_bg_color": "#5bc0de",
    "exported_at": "2016-04-03T18:24:42Z",
    "agents": [
        {
            "type": "Agents::TriggerAgent",
            "name": "Rain Notifier",
            "disabled": False,
            "guid": "361ee2e955d4726b52c8b044d4f75e25",
            "options": {"rules": [{"type": "regex", "value": "rain|storm", "path": "c"}]},
            "keep_messages_for": 0,
            "propagate_immediately": False,
        },
        {
            "type": "Agents::HttpStatusAgent",
            "name": "Site Status Agent",
            "disabled": True,
            "guid": "bdae6dfdf9d01a123ddd513e695fd466",
            "options": {"url": "https://example.com"},
            "schedule": "22h",
            "keep_messages_for": 0,
        },
        {
            "type": "Agents::WeatherAgent",
            "name": "Weather",
            "disabled": False,
            "guid": "a" * 32,
            "options": {},
            "schedule": "midnight",
            "keep_events_for": 86400,
        },
    ],
    "links": [{"source": 2, "receiver": 0}, {"source": 0, "receiver": 1}],
    "control_links": [{"controller": 1, "control_target": 2}],
}


def call(client: TestClient, method: str, path: str, tenant: Tenant, **kwargs: Any) -> Any:
    return client.request(method, f"/api/v1{path}", headers=tenant.headers, **kwargs)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def agent_ids(client: TestClient, tenant: Tenant, *names: str) -> list[int]:
    found = {item["name"]: item["id"] for item in ok(call(client, "GET", "/agents", tenant))}
    return [found[name] for name in names]


def test_slug_follows_activeworkflows_rule() -> None:
    assert slug("Bob's Status Alert Workflow") == "bob-s-status-alert-workflow"
    assert slug("  --Ünïcode__name!! ") == "n-code__name"
    assert slug("***") == "exported-agents"
    assert slug("") == "exported-agents"


def test_exported_keep_messages_for_is_always_a_value_an_import_accepts() -> None:
    day = 86_400
    assert keep_for_export(0) == 0  # kept forever
    assert keep_for_export(30 * day) == 30 * day
    assert keep_for_export(10 * day) == 7 * day
    assert keep_for_export(60) == 3600
    assert all(keep_for_export(days * day) in KEEP_MESSAGES_FOR for days in range(1, 800))


def test_create_read_change_and_delete_a_workflow(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    now = now_ms()
    for name in ("fetch", "parse", "store"):
        store.write_now(messages_at(tenant.project_id, name, [now]))
    fetch, parse, keep = agent_ids(client, tenant, "fetch", "parse", "store")
    body = {
        "name": "Pipeline",
        "description": "Fetch then parse",
        "agent_ids": [fetch, parse],
        "links": [{"source": fetch, "receiver": parse}],
    }
    created = ok(call(client, "POST", "/workflows", tenant, json=body), 201)
    workflow_id = created["id"]
    assert created["name"] == "Pipeline" and created["description"] == "Fetch then parse"
    assert ok(call(client, "GET", "/workflows", tenant)) == [
        {
            "id": workflow_id,
            "name": "Pipeline",
            "description": "Fetch then parse",
            "project_id": tenant.project_id,
        }
    ]
    detail = ok(call(client, "GET", f"/workflows/{workflow_id}", tenant))
    sources = {agent["id"]: agent["sources"] for agent in detail["agents"]}
    assert sources == {fetch: [], parse: [{"id": fetch}]}
    change = {"name": "Renamed", "description": None, "agent_ids": [fetch, parse, keep]}
    changed = ok(call(client, "PATCH", f"/workflows/{workflow_id}", tenant, json=change))
    assert changed["name"] == "Renamed" and changed["description"] is None
    assert sorted(agent["id"] for agent in changed["agents"]) == sorted([fetch, parse, keep])
    assert call(client, "DELETE", f"/workflows/{workflow_id}", tenant).status_code == 204
    gone = call(client, "GET", f"/workflows/{workflow_id}", tenant)
    assert (gone.status_code, gone.json()) == (404, {"error": "404 Record not found"})
    assert len(ok(call(client, "GET", "/agents", tenant))) == 3  # agents outlive the workflow


def test_a_workflow_cannot_hold_another_projects_agent(client: TestClient, store: Store) -> None:
    mine, theirs = make_tenant(store), make_tenant(store)
    store.write_now(messages_at(theirs.project_id, "theirs", [now_ms()]))
    (their_agent,) = agent_ids(client, theirs, "theirs")
    response = call(
        client, "POST", "/workflows", mine, json={"name": "x", "agent_ids": [their_agent]}
    )
    assert (response.status_code, response.json()) == (404, {"error": "404 Record not found"})
    assert ok(call(client, "GET", "/workflows", mine)) == []  # nothing half-made


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "agent_ids": ["a"]}, "agent_ids[0]"),
        ({"name": "x", "colour": 1}, "colour"),
        ({"name": "x", "links": [{"source": 1}]}, "links[0].receiver"),
    ],
)
def test_a_bad_workflow_body_is_422_naming_the_field(
    client: TestClient, store: Store, body: dict[str, Any], field: str
) -> None:
    tenant = make_tenant(store)
    response = call(client, "POST", "/workflows", tenant, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_writes_need_a_member_or_a_write_key(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    viewer = new_user(store, tenant, role="viewer")
    reader = add_key(store, tenant, "read")
    for auth in (viewer, f"Bearer {reader}"):
        response = client.post(
            "/api/v1/workflows", json={"name": "x"}, headers={"Authorization": auth}
        )
        assert (response.status_code, response.json()) == (403, {"error": "403 Forbidden"})
    member = new_user(store, tenant, role="member")
    response = client.post(
        "/api/v1/workflows", json={"name": "by a member"}, headers={"Authorization": member}
    )
    assert response.status_code == 201
    assert response.json()["project_id"] == tenant.project_id


def test_a_user_of_several_projects_names_the_project(client: TestClient, store: Store) -> None:
    first, second = make_tenant(store), make_tenant(store)
    token = new_user(store, first, role="owner")
    from test_activeworkflow_api import users  # the same service the helper uses

    with store.read() as conn:
        email = users.authenticate_token(
            conn, token=token, secret=store.settings.resolved_secret_key()
        ).email
    store.write_now(
        lambda tx: users.grant(
            tx, email=email, project_id=second.project_id, role="member", now=now_ms()
        )
    )
    headers = {"Authorization": token}
    unnamed = client.post("/api/v1/workflows", json={"name": "x"}, headers=headers)
    assert unnamed.status_code == 422 and unnamed.json()["field"] == "project_id"
    named = client.post(
        "/api/v1/workflows", json={"name": "x", "project_id": second.project_id}, headers=headers
    )
    assert named.status_code == 201 and named.json()["project_id"] == second.project_id


def test_export_has_the_slug_file_name_guid_sorted_agents_and_link_indices(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    imported = ok(call(client, "POST", "/workflows/import", tenant, json=SCENARIO))
    ok(call(client, "PATCH", f"/workflows/{imported['id']}", tenant, json={"name": "Bob's Flow"}))
    response = call(client, "GET", f"/workflows/{imported['id']}/export", tenant)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="bob-s-flow.json"'
    document = response.json()
    assert document["schema_version"] == 1
    assert document["name"] == "Bob's Flow"
    assert document["guid"] == SCENARIO["guid"]
    assert document["tag_bg_color"] == "#5bc0de"
    guids = [agent["guid"] for agent in document["agents"]]
    assert guids == sorted(guids)
    by_guid = {agent["guid"]: index for index, agent in enumerate(document["agents"])}
    rain, site, weather = (agent["guid"] for agent in SCENARIO["agents"])
    assert sorted((link["source"], link["receiver"]) for link in document["links"]) == sorted(
        [(by_guid[weather], by_guid[rain]), (by_guid[rain], by_guid[site])]
    )
    assert document["control_links"] == [
        {"controller": by_guid[site], "control_target": by_guid[weather]}
    ]
    site_agent = document["agents"][by_guid[site]]
    assert site_agent["schedule"] == "22h" and site_agent["disabled"] is True
    assert document["agents"][by_guid[weather]]["keep_messages_for"] == 86400
    assert "schedule" not in document["agents"][by_guid[rain]]
    assert document["exported_at"].endswith("Z") and "." not in document["exported_at"]


def test_export_then_import_elsewhere_keeps_agents_and_links(
    client: TestClient, store: Store
) -> None:
    source, target = make_tenant(store), make_tenant(store)
    session_id = start_session(client, source, session_name="triage")["session_id"]
    post_event(
        client, source, session_id=session_id, parent_id=session_id, event_type="tool",
        event_name="lookup", inputs={},
    )  # fmt: skip
    (auto,) = ok(call(client, "GET", "/workflows", source))
    exported = ok(call(client, "GET", f"/workflows/{auto['id']}/export", source))
    assert sorted(agent["type"] for agent in exported["agents"]) == [
        "Agents::SessionEvent",
        "Agents::ToolEvent",
    ]
    assert len(exported["links"]) == 1
    created = ok(call(client, "POST", "/workflows/import", target, json=exported))
    again = ok(call(client, "GET", f"/workflows/{created['id']}/export", target))
    for key in ("name", "description", "guid", "links", "control_links"):
        assert again[key] == exported[key], key
    strip = [{k: a[k] for k in ("type", "name", "disabled", "guid")} for a in again["agents"]]
    assert strip == [
        {k: a[k] for k in ("type", "name", "disabled", "guid")} for a in exported["agents"]
    ]
    # Importing the same file again updates in place: no second workflow, no new agents.
    ok(call(client, "POST", "/workflows/import", target, json=exported))
    assert len(ok(call(client, "GET", "/workflows", target))) == 1
    assert len(ok(call(client, "GET", "/agents", target))) == 2


def test_reimporting_into_the_same_project_updates_roosts_own_agents(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    store.write_now(messages_at(tenant.project_id, "job", [now_ms()]))
    (job,) = agent_ids(client, tenant, "job")
    created = ok(
        call(client, "POST", "/workflows", tenant, json={"name": "w", "agent_ids": [job]}), 201
    )
    exported = ok(call(client, "GET", f"/workflows/{created['id']}/export", tenant))
    exported["agents"][0]["name"] = "job (renamed)"
    ok(call(client, "POST", "/workflows/import", tenant, json=exported))
    (agent,) = ok(call(client, "GET", "/agents", tenant))
    assert agent["id"] == job and agent["name"] == "job (renamed)"
    assert agent["type"] == "Agents::Process"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda doc: doc.pop("guid"), "guid"),
        (lambda doc: doc.pop("agents"), "agents"),
        (lambda doc: doc["agents"][1].update(schedule="every_3m"), "agents[1].schedule"),
        (lambda doc: doc["agents"][0].update(keep_messages_for=7), "agents[0].keep_messages_for"),
        (lambda doc: doc["agents"][0].update(type="Website"), "agents[0].type"),
        (lambda doc: doc["links"].append({"source": 0, "receiver": 9}), "links[2].receiver"),
        (lambda doc: doc.update(tag_fg_color="white"), "tag_fg_color"),
    ],
)
def test_a_bad_import_is_422_naming_the_field_and_writes_nothing(
    client: TestClient, store: Store, change: Any, field: str
) -> None:
    tenant = make_tenant(store)
    document = copy.deepcopy(SCENARIO)
    change(document)
    response = call(client, "POST", "/workflows/import", tenant, json=document)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert ok(call(client, "GET", "/workflows", tenant)) == []
    assert ok(call(client, "GET", "/agents", tenant)) == []


def test_an_import_that_is_not_json_is_422(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = call(client, "POST", "/workflows/import", tenant, content=b"{nope")
    assert response.status_code == 422 and response.json()["field"] == "body"


def test_parse_import_requires_name_guid_and_agents() -> None:
    for missing in ("name", "guid", "agents"):
        document = {key: value for key, value in SCENARIO.items() if key != missing}
        with pytest.raises(InvalidInput) as caught:
            parse_import(document)
        assert caught.value.field == missing


def test_each_session_name_has_an_automatic_workflow_of_its_agents(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    for _ in range(2):
        session_id = start_session(client, tenant, session_name="rag-answer")["session_id"]
        retrieve = post_event(
            client, tenant, session_id=session_id, parent_id=session_id, event_type="tool",
            event_name="retrieve", inputs={},
        )  # fmt: skip
        post_event(
            client, tenant, session_id=session_id, parent_id=retrieve, event_type="model",
            event_name="generate", inputs={},
        )  # fmt: skip
    other = start_session(client, tenant, session_name="summarise")["session_id"]
    post_event(
        client, tenant, session_id=other, parent_id=other, event_type="model",
        event_name="generate", inputs={},
    )  # fmt: skip
    workflows = {item["name"]: item for item in ok(call(client, "GET", "/workflows", tenant))}
    assert set(workflows) == {"rag-answer", "summarise"}
    rag = ok(call(client, "GET", f"/workflows/{workflows['rag-answer']['id']}", tenant))
    names = {agent["name"]: agent for agent in rag["agents"]}
    assert set(names) == {"rag-answer", "retrieve", "generate"}
    assert {"id": names["retrieve"]["id"]} in names["generate"]["sources"]
    summary = ok(call(client, "GET", f"/workflows/{workflows['summarise']['id']}", tenant))
    assert {agent["name"] for agent in summary["agents"]} == {"summarise", "generate"}
    exported = ok(call(client, "GET", f"/workflows/{workflows['rag-answer']['id']}/export", tenant))
    assert len(exported["links"]) == 2  # session → retrieve → generate


def test_workflow_ids_of_other_projects_are_not_found(client: TestClient, store: Store) -> None:
    mine, theirs = make_tenant(store), make_tenant(store)
    theirs_id = ok(call(client, "POST", "/workflows", theirs, json={"name": "t"}), 201)["id"]
    for method, path in (
        ("GET", f"/workflows/{theirs_id}"),
        ("GET", f"/workflows/{theirs_id}/export"),
        ("PATCH", f"/workflows/{theirs_id}"),
        ("DELETE", f"/workflows/{theirs_id}"),
    ):
        kwargs: dict[str, Any] = {"json": {"name": "mine now"}} if method == "PATCH" else {}
        response = call(client, method, path, mine, **kwargs)
        assert (response.status_code, response.json()) == (404, {"error": "404 Record not found"})
