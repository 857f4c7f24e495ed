"""``/api/v1/dashboards`` and the dashboards service the web pages call, on both databases."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import now_ms
from roost.services import dashboards
from roost.services.dashboards import PanelSpec
from roost.storage.store import Store

Json = dict[str, Any]


def make_stat(client: TestClient, tenant: Tenant, name: str, kind: str = "counter") -> int:
    response = client.post(
        "/v1/ingest", headers=tenant.headers, json={"stat": name, "value": 1, "type": kind}
    )
    assert response.status_code == 202, response.text
    found = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    return int(next(stat["id"] for stat in found if stat["name"] == name))


def create(client: TestClient, tenant: Tenant, document: Json) -> Json:
    response = client.post("/api/v1/dashboards", headers=tenant.headers, json=document)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def panel_ids(board: Json) -> list[int]:
    return [panel["stat_id"] for panel in board["panels"]]


def test_a_dashboard_is_created_read_and_listed_newest_first(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    a, b = make_stat(client, tenant, "jobs.done"), make_stat(client, tenant, "queue.ms", "value")
    first = create(
        client,
        tenant,
        {"name": "  Ops  ", "panels": [{"stat_id": b, "title": "Queue wait"}, {"stat_id": a}]},
    )
    assert first["name"] == "Ops"
    assert first["panels"] == [
        {"stat_id": b, "title": "Queue wait", "position": 0},
        {"stat_id": a, "title": None, "position": 1},
    ]
    assert first["created_at"] == first["updated_at"] and first["created_at"].endswith("Z")
    second = create(client, tenant, {"name": "Empty"})
    assert second["panels"] == []
    shown = client.get(f"/api/v1/dashboards/{first['id']}", headers=tenant.headers)
    assert shown.status_code == 200 and shown.json() == first
    listed = client.get("/api/v1/dashboards", headers=tenant.headers).json()
    assert listed == {"items": [second, first]}


def test_patch_replaces_panels_in_the_order_given_and_keeps_what_is_left_out(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    a, b, c = (make_stat(client, tenant, name) for name in ("a", "b", "c"))
    board = create(client, tenant, {"name": "Board", "panels": [{"stat_id": a}, {"stat_id": b}]})
    url = f"/api/v1/dashboards/{board['id']}"

    reordered = client.patch(
        url, headers=tenant.headers, json={"panels": [{"stat_id": c}, {"stat_id": a, "title": "A"}]}
    )
    assert reordered.status_code == 200, reordered.text
    assert [(p["stat_id"], p["title"], p["position"]) for p in reordered.json()["panels"]] == [
        (c, None, 0),
        (a, "A", 1),
    ]
    assert reordered.json()["name"] == "Board"

    renamed = client.patch(url, headers=tenant.headers, json={"name": "Renamed"}).json()
    assert renamed["name"] == "Renamed" and panel_ids(renamed) == [c, a]
    assert renamed["updated_at"] >= board["updated_at"]
    assert client.get(url, headers=tenant.headers).json() == renamed

    cleared = client.patch(url, headers=tenant.headers, json={"panels": []}).json()
    assert cleared["panels"] == []
    unchanged = client.patch(url, headers=tenant.headers, json={})
    assert unchanged.status_code == 200 and unchanged.json()["name"] == "Renamed"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 7}, "name"),
        ({"name": "ok", "panels": {"stat_id": 1}}, "panels"),
        ({"name": "ok", "panels": [{"stat_id": "one"}]}, "panels[0].stat_id"),
        ({"name": "ok", "panels": [{"stat_id": 1}, {}]}, "panels[1].stat_id"),
        ({"name": "ok", "panels": [{"stat_id": 0}]}, "panels[0].stat_id"),
        ({"name": "ok", "panels": [{"stat_id": 1, "title": "t" * 201}]}, "panels[0].title"),
        ({"name": "ok", "panels": [{"stat_id": 1, "colour": "red"}]}, "panels[0].colour"),
        ({"name": "ok", "panels": [{"stat_id": 1}] * 51}, "panels"),
        ({"name": "ok", "owner": "me"}, "owner"),
    ],
)
def test_a_bad_dashboard_is_refused_naming_the_field(
    client: TestClient, store: Store, document: Json, field: str
) -> None:
    tenant = make_tenant(store)
    response = client.post("/api/v1/dashboards", headers=tenant.headers, json=document)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert response.json()["error"].startswith(field)
    assert client.get("/api/v1/dashboards", headers=tenant.headers).json() == {"items": []}


def test_a_body_that_is_not_json_or_a_null_patch_is_refused(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    broken = client.post("/api/v1/dashboards", headers=tenant.headers, content=b"{name")
    assert broken.status_code == 422 and broken.json()["field"] == "body"
    board = create(client, tenant, {"name": "Board"})
    for field in ("name", "panels"):
        response = client.patch(
            f"/api/v1/dashboards/{board['id']}", headers=tenant.headers, json={field: None}
        )
        assert response.status_code == 422 and response.json()["field"] == field
    bad_id = client.get("/api/v1/dashboards/abc", headers=tenant.headers)
    assert bad_id.status_code == 422 and bad_id.json()["field"] == "dashboard_id"


def test_another_projects_stat_is_not_found_and_nothing_is_written(
    client: TestClient, store: Store
) -> None:
    tenant, other = make_tenant(store), make_tenant(store)
    mine, theirs = make_stat(client, tenant, "mine"), make_stat(client, other, "theirs")
    response = client.post(
        "/api/v1/dashboards",
        headers=tenant.headers,
        json={"name": "Mixed", "panels": [{"stat_id": mine}, {"stat_id": theirs}]},
    )
    assert response.status_code == 404
    assert "panels[1].stat_id" in response.json()["error"]
    assert client.get("/api/v1/dashboards", headers=tenant.headers).json() == {"items": []}

    board = create(client, tenant, {"name": "Mine", "panels": [{"stat_id": mine}]})
    refused = client.patch(
        f"/api/v1/dashboards/{board['id']}",
        headers=tenant.headers,
        json={"name": "Changed", "panels": [{"stat_id": theirs}]},
    )
    assert refused.status_code == 404
    # All or nothing: the name did not change either.
    assert client.get(f"/api/v1/dashboards/{board['id']}", headers=tenant.headers).json() == board


def test_another_projects_dashboard_is_not_found(client: TestClient, store: Store) -> None:
    tenant, other = make_tenant(store), make_tenant(store)
    board = create(client, tenant, {"name": "Private"})
    url = f"/api/v1/dashboards/{board['id']}"
    assert client.get(url, headers=other.headers).status_code == 404
    assert client.patch(url, headers=other.headers, json={"name": "Mine"}).status_code == 404
    assert client.delete(url, headers=other.headers).status_code == 404
    assert client.get("/api/v1/dashboards", headers=other.headers).json() == {"items": []}
    assert client.get(url, headers=tenant.headers).json() == board


def test_reading_needs_the_read_scope_and_changing_the_write_scope(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    board = create(client, tenant, {"name": "Board"})
    url = f"/api/v1/dashboards/{board['id']}"
    reader = {"Authorization": f"Bearer {add_key(store, tenant, 'read')}"}
    assert client.get(url, headers=reader).status_code == 200
    assert client.get("/api/v1/dashboards", headers=reader).status_code == 200
    assert client.post("/api/v1/dashboards", headers=reader, json={"name": "x"}).status_code == 403
    assert client.patch(url, headers=reader, json={"name": "x"}).status_code == 403
    assert client.delete(url, headers=reader).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer rk_nope"}).status_code == 401


def test_deleting_a_dashboard_removes_it_and_its_shares(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat = make_stat(client, tenant, "s")
    board = create(client, tenant, {"name": "Gone", "panels": [{"stat_id": stat}]})
    share = client.post(
        "/api/v1/shares", headers=tenant.headers, json={"dashboard_id": board["id"]}
    ).json()
    svg_path = share["svg_url"].removeprefix(str(client.base_url))
    assert client.get(svg_path).status_code == 200
    url = f"/api/v1/dashboards/{board['id']}"
    response = client.delete(url, headers=tenant.headers)
    assert response.status_code == 204 and response.content == b""
    assert client.get(url, headers=tenant.headers).status_code == 404
    assert client.delete(url, headers=tenant.headers).status_code == 404
    assert client.get(svg_path).status_code == 404
    assert client.get("/api/v1/shares", headers=tenant.headers).json() == {"items": []}


# -- the service, as the web pages call it --


def test_the_service_keeps_the_contract_the_web_pages_use(client: TestClient, store: Store) -> None:
    tenant, other = make_tenant(store), make_tenant(store)
    a, b = make_stat(client, tenant, "a"), make_stat(client, tenant, "b")
    theirs = make_stat(client, other, "theirs")
    project = tenant.project_id
    board = store.write_now(
        partial(
            dashboards.create_dashboard,
            project_id=project,
            name="Web",
            panels=[PanelSpec(a), PanelSpec(b, "Bee")],
            now=now_ms(),
        )
    )
    assert [(p.stat_id, p.title, p.position) for p in board.panels] == [(a, None, 0), (b, "Bee", 1)]
    moved = store.write_now(
        partial(
            dashboards.update_dashboard,
            project_id=project,
            dashboard_id=board.id,
            name=None,
            panels=[PanelSpec(b, "Bee"), PanelSpec(a)],
            now=now_ms(),
        )
    )
    assert [p.stat_id for p in moved.panels] == [b, a] and moved.name == "Web"
    with store.read() as conn:
        assert dashboards.list_dashboards(conn, project_id=project) == [moved]
        assert dashboards.get_dashboard(conn, project_id=project, dashboard_id=board.id) == moved
        with pytest.raises(NotFound):
            dashboards.get_dashboard(conn, project_id=other.project_id, dashboard_id=board.id)
    with pytest.raises(NotFound, match="stat"):
        store.write_now(
            partial(
                dashboards.create_dashboard,
                project_id=project,
                name="x",
                panels=[PanelSpec(theirs)],
                now=now_ms(),
            )
        )
    with pytest.raises(InvalidInput) as refused:
        store.write_now(
            partial(
                dashboards.update_dashboard,
                project_id=project,
                dashboard_id=board.id,
                name=" ",
                panels=None,
                now=now_ms(),
            )
        )
    assert refused.value.field == "name"
    store.write_now(partial(dashboards.delete_dashboard, project_id=project, dashboard_id=board.id))
    with pytest.raises(NotFound):
        store.write_now(
            partial(dashboards.delete_dashboard, project_id=project, dashboard_id=board.id)
        )
