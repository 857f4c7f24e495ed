"""``/api/v1/shares`` and the public ``/share/{token}/chart.svg``, on both databases."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.app import create_app
from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import HOUR, MINUTE, now_ms
from roost.services import shares
from roost.settings import Settings
from roost.storage.store import Store

Json = dict[str, Any]
SVG = "{http://www.w3.org/2000/svg}"


def make_stat(
    client: TestClient, tenant: Tenant, name: str, kind: str = "counter", **extra: Any
) -> int:
    document = {"stat": name, "value": 1, "type": kind, **extra}
    response = client.post("/v1/ingest", headers=tenant.headers, json=document)
    assert response.status_code == 202, response.text
    found = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    return int(next(stat["id"] for stat in found if stat["name"] == name))


def share(client: TestClient, tenant: Tenant, document: Json) -> Json:
    response = client.post("/api/v1/shares", headers=tenant.headers, json=document)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def local(client: TestClient, url: str) -> str:
    return url.removeprefix(str(client.base_url))


def svg_texts(body: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(body).iter(f"{SVG}text")]


def test_a_stat_share_gives_three_links_and_an_svg_of_the_stat(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    name = 'latency <ms> & "p95"'
    stat = make_stat(client, tenant, name, "value")
    made = share(client, tenant, {"stat_id": stat})
    assert set(made) == {
        "id",
        "dashboard_id",
        "stat_id",
        "created_at",
        "url",
        "embed_url",
        "svg_url",
    }
    assert made["stat_id"] == stat and made["dashboard_id"] is None
    token = made["url"].rsplit("/", 1)[1]
    assert len(token) >= 32
    assert made["url"] == f"{client.base_url}/share/{token}"
    assert made["embed_url"] == f"{made['url']}/embed"
    assert made["svg_url"] == f"{made['url']}/chart.svg"

    image = client.get(local(client, made["svg_url"]))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/svg+xml"
    assert image.headers["cache-control"] == "public, max-age=60"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert "&lt;ms&gt; &amp;" in image.text and "<ms>" not in image.text
    shown = svg_texts(image.text)
    assert name in shown and "last 24h · UTC" in shown


def test_a_dashboard_share_stacks_its_panels_in_order(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    a, b = make_stat(client, tenant, "alpha"), make_stat(client, tenant, "beta", "value")
    board = client.post(
        "/api/v1/dashboards",
        headers=tenant.headers,
        json={"name": "Ops <board>", "panels": [{"stat_id": b, "title": "Beta!"}, {"stat_id": a}]},
    ).json()
    made = share(client, tenant, {"dashboard_id": board["id"]})
    assert made["dashboard_id"] == board["id"] and made["stat_id"] is None
    shown = svg_texts(client.get(local(client, made["svg_url"])).text)
    assert shown[0] == "Ops <board>"
    assert [text for text in shown if text in ("alpha", "Beta!")] == ["Beta!", "alpha"]
    # The page follows the dashboard's edits.
    client.patch(
        f"/api/v1/dashboards/{board['id']}",
        headers=tenant.headers,
        json={"panels": [{"stat_id": a}, {"stat_id": b, "title": "Beta!"}]},
    )
    shown = svg_texts(client.get(local(client, made["svg_url"])).text)
    assert [text for text in shown if text in ("alpha", "Beta!")] == ["alpha", "Beta!"]


def test_revoking_a_share_makes_its_svg_404_at_once(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    made = share(client, tenant, {"stat_id": make_stat(client, tenant, "s")})
    kept = share(client, tenant, {"stat_id": make_stat(client, tenant, "t")})
    path = local(client, made["svg_url"])
    assert client.get(path).status_code == 200
    response = client.delete(f"/api/v1/shares/{made['id']}", headers=tenant.headers)
    assert response.status_code == 204 and response.content == b""
    gone = client.get(path)
    assert gone.status_code == 404 and gone.json() == {"error": "share not found"}
    assert gone.headers["cache-control"] == "no-store"
    assert client.delete(f"/api/v1/shares/{made['id']}", headers=tenant.headers).status_code == 404
    assert client.get(local(client, kept["svg_url"])).status_code == 200
    with store.read() as conn:
        assert shares.resolve_share(conn, made["url"].rsplit("/", 1)[1]) is None


def test_shares_are_listed_newest_first_with_their_links(client: TestClient, store: Store) -> None:
    tenant, other = make_tenant(store), make_tenant(store)
    first = share(client, tenant, {"stat_id": make_stat(client, tenant, "one")})
    second = share(client, tenant, {"stat_id": make_stat(client, tenant, "two")})
    share(client, other, {"stat_id": make_stat(client, other, "theirs")})
    listed = client.get("/api/v1/shares", headers=tenant.headers)
    assert listed.status_code == 200
    assert listed.json() == {"items": [second, first]}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "dashboard_id"),
        ({"dashboard_id": None, "stat_id": None}, "dashboard_id"),
        ({"dashboard_id": 1, "stat_id": 1}, "dashboard_id"),
        ({"stat_id": "7"}, "stat_id"),
        ({"stat_id": 0}, "stat_id"),
        ({"dashboard_id": 1.5}, "dashboard_id"),
        ({"stat_id": 1, "public": True}, "public"),
    ],
)
def test_a_bad_share_is_refused_naming_the_field(
    client: TestClient, store: Store, document: Json, field: str
) -> None:
    tenant = make_tenant(store)
    response = client.post("/api/v1/shares", headers=tenant.headers, json=document)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert client.get("/api/v1/shares", headers=tenant.headers).json() == {"items": []}


def test_another_projects_stat_dashboard_and_share_are_not_found(
    client: TestClient, store: Store
) -> None:
    tenant, other = make_tenant(store), make_tenant(store)
    theirs = make_stat(client, other, "theirs")
    board = client.post("/api/v1/dashboards", headers=other.headers, json={"name": "Theirs"}).json()
    for document in ({"stat_id": theirs}, {"dashboard_id": board["id"]}, {"stat_id": 2**62}):
        response = client.post("/api/v1/shares", headers=tenant.headers, json=document)
        assert response.status_code == 404, document
    their_share = share(client, other, {"stat_id": theirs})
    assert (
        client.delete(f"/api/v1/shares/{their_share['id']}", headers=tenant.headers).status_code
        == 404
    )
    assert client.get("/api/v1/shares", headers=tenant.headers).json() == {"items": []}
    assert client.get(local(client, their_share["svg_url"])).status_code == 200


def test_shares_need_the_admin_scope(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat = make_stat(client, tenant, "s")
    made = share(client, tenant, {"stat_id": stat})
    writer = {"Authorization": f"Bearer {add_key(store, tenant, 'read,write')}"}
    assert client.post("/api/v1/shares", headers=writer, json={"stat_id": stat}).status_code == 403
    assert client.get("/api/v1/shares", headers=writer).status_code == 403
    assert client.delete(f"/api/v1/shares/{made['id']}", headers=writer).status_code == 403
    assert client.get("/api/v1/shares").status_code == 401
    # The public image needs no key at all.
    assert client.get(local(client, made["svg_url"])).status_code == 200


@pytest.mark.parametrize(
    "token", ["nope", "A" * 32, "A" * 65, "bad token with spaces !!", "%00" * 20, "..%2F..%2Fetc"]
)
def test_an_unknown_or_malformed_token_is_404(client: TestClient, token: str) -> None:
    response = client.get(f"/share/{token}/chart.svg")
    assert response.status_code == 404


def test_the_svg_range_can_be_chosen_and_is_validated(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    path = local(
        client, share(client, tenant, {"stat_id": make_stat(client, tenant, "s")})["svg_url"]
    )
    for chosen, caption in (
        ("1h", "last 1h · UTC"),
        ("7d", "last 7d · UTC"),
        ("30d", "last 30d · UTC"),
    ):
        response = client.get(path, params={"range": chosen})
        assert response.status_code == 200, response.text
        assert caption in svg_texts(response.text)
    for bad in ("bogus", "0h", "1m", "2y", "x" * 17, "-1h"):
        response = client.get(path, params={"range": bad})
        assert response.status_code == 422, bad
        assert response.json()["field"] == "range"
    # An unknown token is 404 whatever its range says.
    assert (
        client.get("/share/" + "Z" * 32 + "/chart.svg", params={"range": "bogus"}).status_code
        == 404
    )


def test_the_chart_reads_bucketed_values_of_the_shared_stat(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    now = now_ms()
    stat = make_stat(client, tenant, "temp", "value", t=(now - 2 * HOUR) / 1000)
    for value in (10, 30):
        response = client.post(
            "/v1/ingest",
            headers=tenant.headers,
            json={"stat": "temp", "value": value, "type": "value", "t": (now - HOUR) / 1000},
        )
        assert response.status_code == 202
    made = share(client, tenant, {"stat_id": stat})
    with store.read() as conn:
        found = shares.resolve_share(conn, made["url"].rsplit("/", 1)[1])
        assert found is not None and found.stat_id == stat
        chart = shares.share_chart(conn, found, span_ms=24 * HOUR, now=now)
    [panel] = chart.panels
    assert panel.title == "temp" and panel.resolution_ms >= MINUTE
    assert panel.end - panel.start >= 24 * HOUR
    known = [value for _, value in panel.values if value is not None]
    assert sorted(known) == [1.0, 20.0]  # one bucket of 1, one bucket averaging 10 and 30


def test_the_service_refuses_two_targets_and_unknown_ones(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat = make_stat(client, tenant, "s")
    with pytest.raises(InvalidInput):
        store.write_now(
            partial(
                shares.create_share,
                project_id=tenant.project_id,
                dashboard_id=1,
                stat_id=stat,
                now=now_ms(),
            )
        )
    with pytest.raises(NotFound):
        store.write_now(
            partial(shares.create_share, project_id=tenant.project_id, dashboard_id=2**62, now=0)
        )
    made = store.write_now(
        partial(shares.create_share, project_id=tenant.project_id, stat_id=stat, now=now_ms())
    )
    with store.read() as conn:
        assert shares.resolve_share(conn, made.token) == made
        assert shares.list_shares(conn, project_id=tenant.project_id) == [made]


def test_share_urls_use_the_public_url_setting(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    assert shares.share_urls("https://roost.example.com/", "tok") == {
        "url": "https://roost.example.com/share/tok",
        "embed_url": "https://roost.example.com/share/tok/embed",
        "svg_url": "https://roost.example.com/share/tok/chart.svg",
    }
    settings = Settings(
        data_dir=tmp_path,
        database_url=fresh_database_url(tmp_path),
        public_url="https://charts.example.com/roost/",
    )
    app = create_app(settings)
    with TestClient(app) as own_client:
        tenant = make_tenant(app.state.store)
        made = share(own_client, tenant, {"stat_id": make_stat(own_client, tenant, "s")})
        assert made["url"].startswith("https://charts.example.com/roost/share/")
        assert made["svg_url"].endswith("/chart.svg")
        token = made["url"].rsplit("/", 1)[1]
        assert own_client.get(f"/share/{token}/chart.svg").status_code == 200
